"""Reminders as members read them: the reminder itself when due, the summary of missed ones, the
confirmation of a new one and the list."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from bot.i18n import t
from bot.render import Markdown, escape, join, mention
from bot.services.reminders import DueReminder, Reminder
from bot.timeparse import When, describe_rrule, format_datetime

Wording = Callable[[DueReminder, str], Markdown]
"""How a kind of reminder that belongs to another service reads (given its ``subject``), by language."""

OWN_KINDS = frozenset({"action"})
"""Kinds of reminder that are their creator's own (an action item's owner): they mention them."""

_MEETING_KINDS = {
    "agenda_deadline": "reminder.kind_agenda_deadline",
    "agenda_publish": "reminder.kind_agenda",
}


def due_message(
    due: DueReminder,
    lang: str,
    *,
    name: str,
    wording: Mapping[str, Wording],
    subscriber_names: Mapping[str, str] | None = None,
) -> tuple[Markdown, list[str]]:
    """The reminder as posted when due, and whom it mentions; ``name`` is the creator's display name."""
    subscriber_names = subscriber_names or {}
    reminder = due.reminder
    mentions: list[str] = []
    if reminder.kind == "personal":
        markdown = t(lang, "reminder.personal", who=mention(reminder.creator, name), text=reminder.text)
        mentions.append(reminder.creator)
    elif reminder.kind in wording:
        markdown = wording[reminder.kind](due, lang)
        if reminder.kind in OWN_KINDS:
            mentions.append(reminder.creator)
    else:
        # A member's room reminder names who set it: it must not read as the bot's own announcement.
        markdown = t(lang, "reminder.room_by", who=name, text=reminder.text)
    if due.subscribers:
        pills = ", ".join(mention(user, subscriber_names.get(user, user)) for user in due.subscribers)
        markdown = Markdown(f"{markdown}  \n{t(lang, 'reminder.also_for', who=Markdown(pills))}")
        mentions.extend(user for user in due.subscribers if user not in mentions)
    if reminder.mention_room:
        markdown = Markdown("@room " + markdown)
    if due.late:
        markdown = Markdown(markdown + " " + t(lang, "reminder.late", due=format_datetime(due.due, lang)))
    return markdown, mentions


def snoozed(found: Reminder, when: When, lang: str, *, delete: Markdown) -> Markdown:
    """The answer to ``!später``: when it comes again, and how to drop it."""
    return join(
        [
            t(lang, "reminder.snoozed", when=when.text, text=found.text),
            t(lang, "reminder.id_note", id=found.id, command=delete),
        ],
        "  \n",
    )


def joined(found: Reminder, lang: str) -> Markdown:
    """The answer to ``!ich auch``."""
    assert found.next_at is not None
    return t(lang, "reminder.joined", id=found.id, when=format_datetime(found.next_at, lang), text=found.text)


def missed_message(reminders: Sequence[Reminder], lang: str) -> Markdown:
    """The one summary of reminders too long overdue to be posted one by one."""
    lines = [t(lang, "reminder.missed_title", count=len(reminders))]
    for reminder in reminders:
        assert reminder.next_at is not None
        lines.append(
            Markdown(f"- {escape(format_datetime(reminder.next_at, lang))}: {escape(reminder.text)}")
        )
    return join(lines)


def confirmation(found: Reminder, when: When, lang: str, *, room: bool, delete: Markdown) -> Markdown:
    """ "I will remind you on …: text (no. 4 – delete with `!remind delete 4`)"; ``delete`` is that
    command as typed in the room."""
    key = "reminder.confirm_room" if room else "reminder.confirm"
    key += "_series" if when.rrule else "_once"
    lines = [
        t(lang, key, when=when.text, text=found.text),
        t(lang, "reminder.id_note", id=found.id, command=delete),
    ]
    return join(lines, "  \n")


def room_confirmation(
    found: Reminder, when: When, lang: str, *, delete: Markdown, pings_room: bool
) -> Markdown:
    """The confirmation of a room reminder, with a note when it comes without @room."""
    answer = confirmation(found, when, lang, room=True, delete=delete)
    if not pings_room:
        answer = join([answer, t(lang, "reminder.no_room_ping")], "  \n")
    return answer


LISTED = 25
"""Reminders listed at most (the soonest): a busy room's list must stay a message one reads."""


def listing(reminders: Sequence[Reminder], lang: str, *, chair: bool, total: int | None = None) -> Markdown:
    """Own reminders (a chair: all of the room's), one line each; ``total``: how many there are
    when only the soonest are given."""
    if not reminders:
        return t(lang, "reminder.list_empty_room" if chair else "reminder.list_empty_own")
    lines = [t(lang, "reminder.list_room" if chair else "reminder.list_own")]
    lines += [Markdown(f"- {describe(item, lang, chair=chair)}") for item in reminders]
    if total is not None and total > len(reminders):
        lines.append(t(lang, "reminder.list_more", count=total - len(reminders)))
    return join(lines)


def describe(item: Reminder, lang: str, *, chair: bool) -> Markdown:
    """ "#4 · Mo., 08.06.2025, 09:00 Uhr · jeden Montag, 09:00 Uhr · Text"."""
    assert item.next_at is not None
    parts = [f"#{item.id}", escape(format_datetime(item.next_at, lang))]
    if item.rrule:
        parts.append(escape(describe_rrule(item.rrule, item.first_at, lang)))
    if item.meeting_id is not None:
        label = t(lang, _MEETING_KINDS[item.kind]) + " – " if item.kind in _MEETING_KINDS else ""
        parts.append(f"{label}{t(lang, 'reminder.kind_meeting')} #{item.meeting_id}")
    else:
        if item.kind in ("room", "action"):
            parts.append(t(lang, f"reminder.kind_{item.kind}"))
        parts.append(escape(item.text))
    if chair and item.meeting_id is None:
        parts.append(escape(item.creator))
    return Markdown(" · ".join(parts))
