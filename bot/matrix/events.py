"""What the adapter hands to the app: room events stripped of nio types."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class IncomingEvent:
    """A decrypted room event, stripped of nio types."""

    room_id: str
    event_id: str
    sender: str
    type: str
    content: dict[str, Any]
    timestamp_ms: int
    received_at: float = field(default_factory=time.monotonic)
    """When the sync that carried the event arrived (monotonic clock): processing starts here."""

    @property
    def body(self) -> str:
        body = self.content.get("body")
        return body if isinstance(body, str) else ""

    @property
    def msgtype(self) -> str | None:
        msgtype = self.content.get("msgtype")
        return msgtype if isinstance(msgtype, str) else None

    @property
    def relation(self) -> dict[str, Any]:
        relates = self.content.get("m.relates_to")
        return relates if isinstance(relates, dict) else {}

    @property
    def mentioned_users(self) -> tuple[str, ...]:
        """The users in ``m.mentions`` (what clients put there for a pill), well-formed IDs only."""
        mentions = self.content.get("m.mentions")
        users = mentions.get("user_ids") if isinstance(mentions, dict) else None
        if not isinstance(users, list):
            return ()
        return tuple(u for u in users if isinstance(u, str) and u.startswith("@") and ":" in u)[:20]

    @property
    def is_edit(self) -> bool:
        return self.relation.get("rel_type") == "m.replace" or "m.new_content" in self.content


EventHandler = Callable[[IncomingEvent], Awaitable[None]]


@dataclass(frozen=True)
class PrivateHint:
    """Something a member should be told privately about their device, not in the room.

    ``kind`` is "unsigned_device" (a command from a device its owner has not cross-signed) or
    "undecryptable" (a message the bot could not decrypt within the grace period).
    """

    kind: str
    user_id: str
    room_id: str
    device_id: str | None = None
    withheld: str | None = None
    body: str = ""
    """What the refused event said (for "unsigned_device"): the app hints only at commands."""
