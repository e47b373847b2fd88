"""Exceptions of akbot.

    AkbotError
    ├── ConfigError          invalid or missing configuration; the CLI prints one line and exits 2
    ├── FatalMatrixError     the homeserver refuses us for good (token revoked); the bot exits 1
    └── UserError            a member did something we can explain to them; shown in the room
        └── UsageError       wrong arguments for a command; the room sees the usage line

A UserError carries a message key and parameters, not text: the router renders it in the
room's language, so services never need to know who reads their errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class AkbotError(Exception):
    """Base of every error akbot raises on purpose."""


class ConfigError(AkbotError):
    """The configuration is invalid; ``str(error)`` is one line that names the key."""


class FatalMatrixError(AkbotError):
    """The homeserver will not serve this bot any more (e.g. ``M_UNKNOWN_TOKEN``)."""


class UserError(AkbotError):
    """An error to be explained to the member, in their language."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Term:
    """A parameter of a message that is itself a catalog entry (a status, a kind), worded in the
    reader's language when the message is."""

    key: str


class UsageError(UserError):
    """A command was called with arguments it cannot take."""

    def __init__(self, detail_key: str = "usage.generic", **params: Any) -> None:
        super().__init__(detail_key, **params)
