"""Per-room settings (language) and which rooms the bot serves."""

from __future__ import annotations

import time

from sqlite_utils import Database

from bot.i18n import Language, as_language


class RoomSettings:
    def __init__(self, db: Database, default_language: Language) -> None:
        self._db = db
        self.default_language = default_language

    def language(self, room_id: str) -> Language:
        row = self._db.execute("SELECT language FROM rooms WHERE room_id = ?", [room_id]).fetchone()
        return as_language(row[0] if row else None, self.default_language)

    def set_language(self, room_id: str, language: Language) -> None:
        self.remember(room_id, "config")
        with self._db.conn:
            self._db.execute("UPDATE rooms SET language = ? WHERE room_id = ?", [language, room_id])

    def remember(self, room_id: str, joined_via: str) -> float:
        """Record a served room once; returns since when the bot serves it (epoch seconds)."""
        with self._db.conn:
            self._db.execute(
                "INSERT OR IGNORE INTO rooms (room_id, language, joined_via, joined_at) VALUES (?, NULL, ?, ?)",
                [room_id, joined_via, time.time()],
            )
        row = self._db.execute("SELECT joined_at FROM rooms WHERE room_id = ?", [room_id]).fetchone()
        return float(row[0])

    def invited_rooms(self) -> list[str]:
        """Rooms joined on an allowed invitation; served like the configured ones."""
        rows = self._db.execute("SELECT room_id FROM rooms WHERE joined_via = 'invite'").fetchall()
        return [str(row[0]) for row in rows]
