"""The agenda as members read it (the chair also sees what waits), as a Markdown file, and the
reminder of the submission deadline."""

from __future__ import annotations

from bot.i18n import format_duration, t, template
from bot.render import Markdown, code, escape, join
from bot.services.agenda import DEFERRED, OPEN_ACTIONS, Agenda, DeadlineNotice
from bot.timeparse import format_datetime
from bot.views import Spell, item_title, person
from bot.views import minutes as minutes_views


def agenda(shown: Agenda, lang: str) -> Markdown:
    """The agenda as members read it."""
    meeting = shown.meeting
    place = t(lang, "meeting.place", location=meeting.location) if meeting.location else Markdown("")
    when = format_datetime(meeting.start, lang)
    lines = [t(lang, "agenda.title", title=meeting.title, when=when, place=place), Markdown("")]
    for number, title, item in shown.numbered():
        line = t(lang, "agenda.top", number=number, title=item_title(title, lang))
        if item is not None:
            details = [f"{escape(person(item.submitter_name, lang))} ({escape(item.affiliation)})"]
            if item.duration_min:
                details.append(escape(format_duration(lang, item.duration_min * 60)))
            if item.status == DEFERRED and item.deferred_from:
                details.append(t(lang, "agenda.deferred_from", meeting=item.deferred_from))
            line = Markdown(f"{line} – {', '.join(details)}")
            if item.description:
                line = Markdown(f"{line}  \n{escape(item.description)}")
        lines.append(Markdown(f"- {line}"))
        if title == OPEN_ACTIONS:
            lines += minutes_views.open_actions_lines(shown.open_actions, lang)
    if not shown.items:
        lines.append(t(lang, "agenda.no_items"))
    if shown.total_minutes:
        lines.append(Markdown(""))
        lines.append(t(lang, "agenda.total", total=format_duration(lang, shown.total_minutes * 60)))
    return join(lines)


def pending(shown: Agenda, lang: str) -> Markdown:
    """For the chair alone: what still waits for a decision."""
    meeting = shown.meeting
    lines = [t(lang, "agenda.pending_title", meeting=meeting.id, title=meeting.title)]
    for item in shown.pending:
        status = t(lang, f"agenda.status.{item.status}")
        lines.append(
            Markdown(
                f"- #{item.id} {escape(item.title)} – {escape(person(item.submitter_name, lang))} ({status})"
            )
        )
    return join(lines)


def markdown_file(shown: Agenda, lang: str) -> bytes:
    """The agenda as a Markdown file for the minutes and the website."""
    meeting = shown.meeting
    lines = [f"# {meeting.title}", "", f"{format_datetime(meeting.start, lang)}"]
    if meeting.location:
        lines.append(meeting.location)
    lines += ["", "| " + " | ".join(_raw(lang, f"agenda.file.{column}") for column in _COLUMNS) + " |"]
    lines.append("|---|---|---|---|")
    for number, title, item in shown.numbered():
        presenter = f"{person(item.submitter_name, lang)} ({item.affiliation})" if item else ""
        duration = f"{item.duration_min} min" if item and item.duration_min else ""
        lines.append(f"| {number} | {_cell(item_title(title, lang))} | {_cell(presenter)} | {duration} |")
    lines += ["", f"{_raw(lang, 'agenda.file.total')}: {shown.total_minutes} min", ""]
    return "\n".join(lines).encode()


_COLUMNS = ("number", "topic", "presenter", "duration")


def deadline_reminder(notice: DeadlineNotice, lang: str, spell: Spell) -> Markdown:
    """ "Items for the meeting … can be submitted until … – with `!top #3 <Titel>`"."""
    meeting = notice.meeting
    command = code(spell("item", lang, f"#{meeting.id} {_raw(lang, 'agenda.title_placeholder')}"))
    deadline = format_datetime(notice.deadline, lang)
    return t(lang, "agenda.deadline_reminder", title=meeting.title, deadline=deadline, command=command)


def _raw(lang: str, key: str) -> str:
    """Catalog text used outside Markdown (a file, a code span): not escaped."""
    return template(lang, key) or key


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
