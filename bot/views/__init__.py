"""Views: a service's data → the message a member reads, in the room's language."""

from collections.abc import Callable

from bot.i18n import template
from bot.services.privacy import FORMER_MEMBER

Spell = Callable[[str, str, str], str]
"""``spell(path, lang, arguments)``: a command as a member types it in a room of that language
(``Dispatcher.spell``), e.g. ``spell("vote", "de", "#3 1")`` → ``!abstimmen #3 1``."""


def person(name: str, lang: str) -> str:
    """A name as stored, for reading: a forgotten member ("ehemaliges Mitglied 2", stored so in
    every language) is named in the reader's language."""
    if name == FORMER_MEMBER or name.startswith(f"{FORMER_MEMBER} "):
        number = name.removeprefix(FORMER_MEMBER).strip()
        word = template(lang, "privacy.former_member") or FORMER_MEMBER
        return f"{word} {number}".strip()
    return name


def file_name(lang: str, key: str, **params: object) -> str:
    """A file's name in the reader's language ("sitzung-3-2026-06-16.ics", "meeting-3-…")."""
    return (template(lang, f"file.{key}") or key).format(**params)


def item_title(title: str, lang: str) -> str:
    """A TOP's title as written; a fixed item configured as a catalog key ("agenda.fixed.opening")
    in the reader's language."""
    if title.startswith("agenda.fixed."):
        return template(lang, title) or title
    return title
