"""The audit log: who did which chair action when (and forget requests), for the data-protection officer."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlite_utils import Database


@dataclass(frozen=True)
class Entry:
    at: datetime
    actor: str
    action: str
    detail: str


class AuditLog:
    def __init__(self, db: Database, tz: ZoneInfo) -> None:
        self._db = db
        self.tz = tz

    def record(self, room_id: str | None, actor: str, action: str, detail: str = "") -> None:
        with self._db.conn:
            self._db.execute(
                "INSERT INTO audit (ts, room_id, actor, action, detail) VALUES (?, ?, ?, ?, ?)",
                [time.time(), room_id, actor, action, detail],
            )

    def recent(self, room_id: str, limit: int = 20) -> list[Entry]:
        rows = self._db.query(
            "SELECT * FROM audit WHERE room_id = ? OR room_id IS NULL ORDER BY ts DESC, id DESC LIMIT ?",
            [room_id, limit],
        )
        return [
            Entry(datetime.fromtimestamp(r["ts"], self.tz), r["actor"], r["action"], r["detail"] or "")
            for r in rows
        ]
