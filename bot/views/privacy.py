"""The chair's audit log as members read it: each action in words, times local."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.i18n import t, template
from bot.render import Markdown, escape, join
from bot.services.audit import Entry
from bot.timeparse import format_datetime
from bot.views import person

_TIMES = frozenset({"start"})
"""Parameters that are times (ISO), shown as the room reads a date."""


def audit_log(entries: Sequence[Entry], lang: str) -> Markdown:
    """``!audit``: newest first, "time · who · what"."""
    if not entries:
        return t(lang, "audit.empty")
    lines = [t(lang, "audit.title")]
    for entry in entries:
        when = escape(format_datetime(entry.at, lang))
        lines.append(Markdown(f"- {when} · {escape(person(entry.actor, lang))} · {action(entry, lang)}"))
    return join(lines)


def action(entry: Entry, lang: str) -> Markdown:
    """The action in words; an entry the catalog cannot word (unknown, or an old one whose details
    did not parse) shows as stored, so nothing in the log is hidden."""
    key = f"audit.action.{entry.action}"
    params: dict[str, object] = {
        name: format_datetime(datetime.fromisoformat(str(value)), lang) if name in _TIMES else value
        for name, value in entry.params.items()
    }
    worded: Markdown | None = None
    if template(lang, key) is not None:
        try:
            worded = t(lang, key, **params)
        except KeyError:
            worded = None
    if worded is None:
        worded = escape(entry.action)
    return Markdown(f"{worded} – {escape(entry.detail)}") if entry.detail else worded
