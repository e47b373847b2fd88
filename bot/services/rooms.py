"""Per-room settings (language, time zone, general answers) and which rooms the bot serves."""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlite_utils import Database

from bot.errors import UserError
from bot.i18n import Language, as_language


class RoomSettings:
    def __init__(self, db: Database, default_language: Language) -> None:
        self._db = db
        self.default_language = default_language
        self._zones: dict[str, ZoneInfo | None] = {}  # asked for every reminder read: kept

    def timezone(self, room_id: str) -> ZoneInfo | None:
        """The room's own time zone (``!zeitzone``); None: the bot's."""
        if room_id not in self._zones:
            row = self._db.execute("SELECT timezone FROM rooms WHERE room_id = ?", [room_id]).fetchone()
            self._zones[room_id] = ZoneInfo(row[0]) if row and row[0] else None
        return self._zones[room_id]

    def set_timezone(self, room_id: str, name: str | None) -> ZoneInfo | None:
        """Set (or with None, drop) the room's time zone: an IANA name such as "Europe/Berlin",
        matched ignoring case."""
        zone = None if name is None else ZoneInfo(_zone_name(name))
        self.remember(room_id, "config")
        with self._db.atomic():
            self._db.execute(
                "UPDATE rooms SET timezone = ? WHERE room_id = ?", [str(zone) if zone else None, room_id]
            )
        self._zones[room_id] = zone
        return zone

    def language(self, room_id: str) -> Language:
        row = self._db.execute("SELECT language FROM rooms WHERE room_id = ?", [room_id]).fetchone()
        return as_language(row[0] if row else None, self.default_language)

    def set_language(self, room_id: str, language: Language) -> None:
        self.remember(room_id, "config")
        with self._db.atomic():
            self._db.execute("UPDATE rooms SET language = ? WHERE room_id = ?", [language, room_id])

    def general_answers(self, room_id: str) -> bool:
        """Does ``!frage`` answer generally in this room when the record holds nothing on it?"""
        row = self._db.execute("SELECT general_answers FROM rooms WHERE room_id = ?", [room_id]).fetchone()
        return bool(row and row[0])

    def set_general_answers(self, room_id: str, allowed: bool) -> None:
        self.remember(room_id, "config")
        with self._db.atomic():
            self._db.execute(
                "UPDATE rooms SET general_answers = ? WHERE room_id = ?", [int(allowed), room_id]
            )

    def remember(self, room_id: str, joined_via: str, *, inviter: str | None = None) -> float:
        """Record a served room once; returns since when the bot serves it (epoch seconds)."""
        with self._db.atomic():
            self._db.execute(
                "INSERT OR IGNORE INTO rooms (room_id, language, joined_via, joined_at, inviter)"
                " VALUES (?, NULL, ?, ?, ?)",
                [room_id, joined_via, time.time(), inviter],
            )
            # Back after having left: served again from now on.
            self._db.execute(
                "UPDATE rooms SET joined_via = ?, joined_at = ? WHERE room_id = ? AND joined_via = 'left'",
                [joined_via, time.time(), room_id],
            )
            if inviter is not None:
                self._db.execute(
                    "UPDATE rooms SET inviter = ? WHERE room_id = ? AND inviter IS NULL", [inviter, room_id]
                )
        row = self._db.execute("SELECT joined_at FROM rooms WHERE room_id = ?", [room_id]).fetchone()
        return float(row[0])

    def invited_rooms(self) -> list[str]:
        """Rooms joined on an allowed invitation; served like the configured ones."""
        rows = self._db.execute("SELECT room_id FROM rooms WHERE joined_via = 'invite'").fetchall()
        return [str(row[0]) for row in rows]

    def inviter(self, room_id: str) -> str | None:
        """Who invited the bot, as the homeserver's invite event said (None: not known)."""
        row = self._db.execute("SELECT inviter FROM rooms WHERE room_id = ?", [room_id]).fetchone()
        return str(row[0]) if row and row[0] else None

    def forget_room(self, room_id: str) -> None:
        """The bot left: it no longer serves the room (its records stay for their retention)."""
        with self._db.atomic():
            self._db.execute("UPDATE rooms SET joined_via = 'left' WHERE room_id = ?", [room_id])


def _zone_name(text: str) -> str:
    wanted = text.strip()
    names = available_timezones()
    if wanted in names:
        return wanted
    by_case = {name.casefold(): name for name in names}
    found = by_case.get(wanted.casefold())
    if found is None:
        # "Berlin" → Europe/Berlin, when exactly one zone ends so.
        ending = [name for name in names if name.casefold().endswith("/" + wanted.casefold())]
        found = ending[0] if len(ending) == 1 else None
    if found is None:
        raise UserError("timezone.unknown", name=wanted)
    try:
        ZoneInfo(found)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise UserError("timezone.unknown", name=wanted) from error
    return found
