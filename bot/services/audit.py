"""The audit log: who did which chair action when (and forget requests), for the data-protection officer.

Each entry is an ``Action`` with its parameters (ids, a time, a model name), so ``!audit`` words it
in the room's language; the services that act record their own entries."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlite_utils import Database


class Action(StrEnum):
    POLL_STARTED = "poll.started"
    POLL_CLOSED = "poll.closed"  # id, winner (option number, 0: none)
    POLL_WITHDRAWN = "poll.withdrawn"
    ITEM_ACCEPTED = "item.accepted"
    ITEM_REJECTED = "item.rejected"
    ITEM_DEFERRED = "item.deferred"  # id, meeting
    ITEM_MOVED = "item.moved"  # id, position
    MEETING_CREATED = "meeting.created"  # id, start (ISO time)
    MEETING_MOVED = "meeting.moved"  # id, start
    MEETING_CANCELLED = "meeting.cancelled"
    MEETING_STARTED = "meeting.started"  # id
    MEETING_ENDED = "meeting.ended"  # id
    MINUTES_CHANGED = "minutes.changed"  # id (of the entry)
    MINUTES_APPROVED = "minutes.approved"  # id (of the meeting)
    TAG_REMOVED = "tag.removed"  # id, kind: the chair took back someone else's entry
    SUMMARY_ACCEPTED = "summary.accepted"  # id (of the meeting)
    DOCUMENT_ADDED = "document.added"  # id
    DOCUMENT_REMOVED = "document.removed"  # id
    MODEL_CHANGED = "model.changed"  # name
    GROUP_ASSIGNED = "group.assigned"  # name, count
    GROUP_REMOVED = "group.removed"  # name, count
    POLL_OPTION_DROPPED = "poll.option_dropped"  # id, option
    TIMEZONE_CHANGED = "room.timezone"  # name
    MEMBER_FORGOTTEN = "member.forgotten"  # reminders, votes, items


Param = str | int


@dataclass(frozen=True)
class Entry:
    at: datetime
    actor: str
    action: str
    params: dict[str, Param] = field(default_factory=dict)
    detail: str = ""
    """Free text of entries written before actions had parameters (m009)."""


class AuditLog:
    def __init__(self, db: Database, tz: ZoneInfo) -> None:
        self._db = db
        self.tz = tz

    def record(self, room_id: str | None, actor: str, action: Action, **params: Param) -> None:
        with self._db.atomic():
            self._db.execute(
                "INSERT INTO audit (ts, room_id, actor, action, params) VALUES (?, ?, ?, ?, ?)",
                [time.time(), room_id, actor, str(action), json.dumps(params)],
            )

    def recent(self, room_id: str, limit: int = 20) -> list[Entry]:
        rows = self._db.query(
            "SELECT * FROM audit WHERE room_id = ? OR room_id IS NULL ORDER BY ts DESC, id DESC LIMIT ?",
            [room_id, limit],
        )
        return [
            Entry(
                datetime.fromtimestamp(r["ts"], self.tz),
                r["actor"],
                r["action"],
                json.loads(r["params"]) if r["params"] else {},
                r["detail"] or "",
            )
            for r in rows
        ]
