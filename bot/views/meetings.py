"""Meetings as members read them: the announcement, the one-line listing, the reminder before one —
and how the reminders that belong to a meeting read (its own and its agenda's)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.i18n import t
from bot.render import Markdown, escape
from bot.services.agenda import Agenda, DeadlineNotice
from bot.services.meetings import Meeting, MeetingReminder, MeetingService
from bot.services.reminders import DueReminder
from bot.timeparse import format_datetime
from bot.views import Spell, file_name
from bot.views import agenda as agenda_views
from bot.views.reminders import Wording


def ics_filename(meeting: Meeting, lang: str) -> str:
    return file_name(lang, "meeting_ics", id=meeting.id, date=f"{meeting.start:%Y-%m-%d}")


def place(meeting: Meeting, lang: str) -> Markdown:
    return t(lang, "meeting.place", location=meeting.location) if meeting.location else Markdown("")


def announcement(meeting: Meeting, key: str, lang: str, reminder_times: Sequence[datetime]) -> Markdown:
    """The room's message when a meeting is created or moved: when, where, warnings, reminders."""
    when = format_datetime(meeting.start, lang)
    lines = [t(lang, key, id=meeting.id, title=meeting.title, when=when, place=place(meeting, lang))]
    warning = MeetingService.day_warning(meeting.start)
    if warning == "weekend":
        lines.append(t(lang, "meeting.weekend"))
    elif warning is not None:
        lines.append(t(lang, "meeting.holiday", name=warning.removeprefix("holiday:")))
    if reminder_times:
        times = "; ".join(format_datetime(at, lang) for at in reminder_times)
        lines.append(t(lang, "meeting.reminders", times=times))
    else:
        lines.append(t(lang, "meeting.reminders_none"))
    return Markdown("  \n".join(lines))


def describe(meeting: Meeting, lang: str) -> Markdown:
    """One line: "#3 · Do., 05.06.2025, 10:00 Uhr · **Titel** · Ort"."""
    parts = [f"#{meeting.id}", escape(format_datetime(meeting.start, lang)), f"**{escape(meeting.title)}**"]
    if meeting.location:
        parts.append(escape(meeting.location))
    return Markdown(" · ".join(parts))


def reminder(subject: MeetingReminder, lang: str) -> Markdown:
    """The reminder before a meeting; the one a day before also carries the agenda."""
    meeting = subject.meeting
    when = format_datetime(meeting.start, lang)
    parts = [t(lang, "meeting.reminder", title=meeting.title, when=when, place=place(meeting, lang))]
    if isinstance(subject.attachment, Agenda):
        parts.append(agenda_views.agenda(subject.attachment, lang))
    return Markdown("\n\n".join(parts))


def reminder_wording(spell: Spell) -> dict[str, Wording]:
    """How the reminders that belong to a meeting read, by kind (``DueReminder.subject`` holds what
    the meetings service attached)."""

    def meeting_reminder(due: DueReminder, lang: str) -> Markdown:
        assert isinstance(due.subject, MeetingReminder)
        return reminder(due.subject, lang)

    def deadline(due: DueReminder, lang: str) -> Markdown:
        assert isinstance(due.subject, DeadlineNotice)
        return agenda_views.deadline_reminder(due.subject, lang, spell)

    def publication(due: DueReminder, lang: str) -> Markdown:
        assert isinstance(due.subject, Agenda)
        return agenda_views.agenda(due.subject, lang)

    return {"meeting": meeting_reminder, "agenda_deadline": deadline, "agenda_publish": publication}
