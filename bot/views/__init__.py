"""Views: a service's data → the message a member reads, in the room's language."""

from collections.abc import Callable

Spell = Callable[[str, str, str], str]
"""``spell(path, lang, arguments)``: a command as a member types it in a room of that language
(``Dispatcher.spell``), e.g. ``spell("vote", "de", "#3 1")`` → ``!abstimmen #3 1``."""
