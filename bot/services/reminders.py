"""Reminders: personal, room and meeting reminders, one-off or recurring, delivered exactly once.

The database is the truth; scheduler jobs (``reminder:<id>``) are only a cache rebuilt at start.
A delivery is first recorded as *pending* with a stable transaction id, then sent with that id,
then marked *sent* together with the advance to the next occurrence — one transaction. A crash
in between re-sends with the same transaction id, which the homeserver answers with the event it
already has: the room sees the reminder once.

Items that fell due while the bot was down are delivered marked late when within the grace
period; older ones are listed in one summary message per room. None is silently dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.errors import UserError
from bot.scheduler import Scheduler
from bot.timeparse import When, next_occurrence

log = logging.getLogger(__name__)

LATE_AFTER = timedelta(seconds=15)
"""A delivery this much after its time is marked late (the job itself fires within a second)."""
RETRY_AFTER = timedelta(seconds=10)
"""After a failed send (homeserver away) the reminder is tried again this much later."""
MAX_ACTIVE_PER_USER = 200


@dataclass(frozen=True)
class Reminder:
    id: int
    room_id: str
    creator: str
    kind: str
    """personal | room | meeting | a kind another service attached data to (``attach``)"""
    text: str
    first_at: datetime
    rrule: str | None
    next_at: datetime | None
    mention_room: bool
    meeting_id: int | None
    offset_s: int | None
    state: str


@dataclass(frozen=True)
class DueReminder:
    """One occurrence to post, with all its wording needs (``bot/views/reminders.py`` words it)."""

    reminder: Reminder
    due: datetime
    late: bool
    """Posted after its time: the bot was away, or the homeserver."""
    subject: object | None = None
    """What the reminder is about, from the service that attached its kind (e.g. the meeting);
    ``None`` for personal and room reminders."""
    subscribers: tuple[str, ...] = ()
    """Members who joined it ("ich auch"): mentioned with it."""


class Notifier(Protocol):
    """Posts reminders into their room, worded in the room's language (``bot/outbox.py``).

    ``transaction_id`` is stable per occurrence: a repeated send after a crash is answered with the
    event the homeserver already has. Returns the event id."""

    async def remind(self, due: DueReminder, *, transaction_id: str) -> str: ...

    async def missed(self, room_id: str, reminders: Sequence[Reminder], *, transaction_id: str) -> str:
        """One summary of reminders too long overdue to be posted one by one (``next_at`` is when
        each was due)."""
        ...


class ReminderService:
    def __init__(
        self,
        db: Database,
        tz: ZoneInfo,
        scheduler: Scheduler,
        notifier: Notifier,
        *,
        late_grace: timedelta,
        room_per_member: int = 3,
        zone: Callable[[str], ZoneInfo | None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """Jobs go to ``scheduler`` (which rebuilds them from the database at start), due reminders
        to ``notifier``. ``zone(room_id)``: a room's own time zone, if it has one (else ``tz``);
        a reminder's times are read, shown and repeated in its room's zone."""
        self._db = db
        self.tz = tz
        self.room_per_member = room_per_member
        self._zone = zone
        self.late_grace = late_grace
        self._clock = clock or (lambda: datetime.now(tz))
        self._scheduler = scheduler
        self._notifier = notifier
        self._lock = asyncio.Lock()
        self._subjects: dict[str, Callable[[Reminder], object]] = {}
        scheduler.on_rebuild(self.rebuild)

    def attach(self, kind: str, subject: Callable[[Reminder], object]) -> None:
        """Let another service hand over what its own kind of reminder is about — data, not words:
        ``subject(reminder)`` is called when one falls due and travels as ``DueReminder.subject``."""
        self._subjects[kind] = subject

    def now(self, room_id: str | None = None) -> datetime:
        return self._clock().astimezone(self.tz if room_id is None else self.zone_of(room_id))

    def zone_of(self, room_id: str) -> ZoneInfo:
        return (self._zone(room_id) if self._zone else None) or self.tz

    # ---- creating, listing, deleting ----------------------------------------------------------

    def create(
        self,
        room_id: str,
        creator: str,
        when: When,
        text: str,
        *,
        kind: str = "personal",
        mention_room: bool = False,
        meeting_id: int | None = None,
        offset_s: int | None = None,
        limited: bool = False,
    ) -> Reminder:
        """``limited``: a member's room reminder, of which they may have ``room_per_member`` here."""
        if kind != "meeting" and self._active_count(creator) >= MAX_ACTIVE_PER_USER:
            raise UserError("reminder.too_many", limit=MAX_ACTIVE_PER_USER)
        if limited and kind == "room":
            row = self._db.execute(
                "SELECT count(*) FROM reminders WHERE room_id = ? AND creator = ? AND kind = 'room'"
                " AND state = 'active'",
                [room_id, creator],
            ).fetchone()
            if int(row[0]) >= self.room_per_member:
                raise UserError("reminder.too_many_room", limit=self.room_per_member)
        with self._db.atomic():
            cursor = self._db.execute(
                "INSERT INTO reminders (room_id, creator, kind, text, first_at, rrule, next_ts, mention_room,"
                " meeting_id, offset_s, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)",
                [
                    room_id,
                    creator,
                    kind,
                    text,
                    when.at.isoformat(),
                    when.rrule,
                    when.at.timestamp(),
                    int(mention_room),
                    meeting_id,
                    offset_s,
                    time.time(),
                ],
            )
        reminder = self.get(int(cursor.lastrowid or 0))
        self._schedule(reminder)
        return reminder

    def get(self, reminder_id: int) -> Reminder:
        found = self._rows("SELECT * FROM reminders WHERE id = ?", [reminder_id])
        if not found:
            raise UserError("reminder.not_found", id=reminder_id)
        return found[0]

    def list_for(
        self, room_id: str, user: str, *, everyone: bool, limit: int | None = None
    ) -> list[Reminder]:
        """Active reminders of ``user`` in the room, soonest first; with ``everyone`` (a chair) also
        the room's others — but never someone else's personal reminder: those are the owner's alone.
        ``limit``: at most this many (``count_for`` says how many there are)."""
        where, params = self._listed(room_id, user, everyone=everyone)
        tail = " ORDER BY next_ts, id" + (f" LIMIT {int(limit)}" if limit is not None else "")
        return self._rows(f"SELECT * FROM reminders WHERE {where}{tail}", params)  # noqa: S608 — our own SQL

    def count_for(self, room_id: str, user: str, *, everyone: bool) -> int:
        where, params = self._listed(room_id, user, everyone=everyone)
        return int(self._db.execute(f"SELECT count(*) FROM reminders WHERE {where}", params).fetchone()[0])  # noqa: S608

    @staticmethod
    def _listed(room_id: str, user: str, *, everyone: bool) -> tuple[str, list[Any]]:
        where = "room_id = ? AND state = 'active'"
        if everyone:
            where += " AND (creator = ? OR kind != 'personal')"
        else:
            where += " AND creator = ? AND meeting_id IS NULL"
        return where, [room_id, user]

    def delete(self, room_id: str, reminder_id: int, by: str, *, is_chair: bool) -> Reminder:
        matches = self._rows(
            "SELECT * FROM reminders WHERE id = ? AND room_id = ? AND state = 'active'",
            [reminder_id, room_id],
        )
        if not matches:
            raise UserError("reminder.not_found", id=reminder_id)
        found = matches[0]
        if found.meeting_id is not None:
            raise UserError("reminder.belongs_to_meeting", id=reminder_id, meeting=found.meeting_id)
        if found.creator != by and not is_chair:
            raise UserError("reminder.not_yours", id=reminder_id)
        self._finish(reminder_id, "deleted")
        return found

    def cancel(self, reminder_ids: Sequence[int]) -> None:
        """Drop reminders another service planned (an action item done or taken back)."""
        for reminder_id in reminder_ids:
            self._finish(reminder_id, "deleted")

    # ---- the messages about a reminder: "ich auch", "später" --------------------------------------

    def remember_messages(self, reminder_id: int, event_ids: Sequence[str]) -> None:
        """The command and the confirmation of a reminder: replying "ich auch" to them joins it."""
        with self._db.atomic():
            for event_id in event_ids:
                self._db.execute(
                    "INSERT OR IGNORE INTO reminder_messages (event_id, reminder_id) VALUES (?, ?)",
                    [event_id, reminder_id],
                )

    def by_message(self, room_id: str, event_id: str | None) -> tuple[Reminder, bool] | None:
        """The reminder a message is about, and whether the message is the reminder itself (posted
        when due), else its command or confirmation."""
        if event_id is None:
            return None
        row = self._db.execute(
            "SELECT reminder_id FROM reminder_messages WHERE event_id = ?", [event_id]
        ).fetchone()
        posted = False
        if row is None:
            row = self._db.execute(
                "SELECT reminder_id FROM deliveries WHERE event_id = ?", [event_id]
            ).fetchone()
            posted = True
        if row is None:
            return None
        found = self._rows("SELECT * FROM reminders WHERE id = ? AND room_id = ?", [row[0], room_id])
        return (found[0], posted) if found else None

    def join(self, room_id: str, user: str, replied_to: str | None) -> Reminder:
        """``!ich auch`` as a reply to a reminder: ``user`` is mentioned with it when it is due."""
        found = self.by_message(room_id, replied_to)
        if found is None:
            raise UserError("reminder.reply_to_join")
        reminder = found[0]
        if reminder.state != "active":
            raise UserError("reminder.join_over")
        if reminder.creator == user and reminder.kind in ("personal", "action"):
            raise UserError("reminder.join_own", id=reminder.id)
        with self._db.atomic():
            self._db.execute(
                "INSERT OR IGNORE INTO reminder_subscribers (reminder_id, user_id) VALUES (?, ?)",
                [reminder.id, user],
            )
        return reminder

    def subscribers(self, reminder_id: int) -> tuple[str, ...]:
        rows = self._db.execute(
            "SELECT user_id FROM reminder_subscribers WHERE reminder_id = ? ORDER BY rowid", [reminder_id]
        ).fetchall()
        return tuple(str(row[0]) for row in rows)

    def snooze(self, room_id: str, user: str, replied_to: str | None, when: When) -> Reminder:
        """``!später`` as a reply to a reminder that just came: the same text again for ``user``
        alone, at ``when`` (its own personal reminder: the others are not reminded twice)."""
        found = self.by_message(room_id, replied_to)
        if found is None or not found[1]:
            raise UserError("reminder.reply_to_snooze")
        if when.rrule is not None:
            raise UserError("reminder.snooze_once")
        return self.create(room_id, user, when, found[0].text, kind="personal")

    def _active_count(self, creator: str) -> int:
        row = self._db.execute(
            "SELECT count(*) FROM reminders WHERE creator = ? AND state = 'active'", [creator]
        ).fetchone()
        return int(row[0])

    def _finish(self, reminder_id: int, state: str) -> None:
        with self._db.atomic():
            self._db.execute(
                "UPDATE reminders SET state = ?, next_ts = NULL WHERE id = ?", [state, reminder_id]
            )
        self._scheduler.cancel(f"reminder:{reminder_id}")

    # ---- meeting reminders (the meetings service keeps them in step) --------------------------

    def for_meeting(self, meeting_id: int) -> list[Reminder]:
        return self._rows(
            "SELECT * FROM reminders WHERE meeting_id = ? AND state = 'active' ORDER BY next_ts", [meeting_id]
        )

    def replace_meeting_reminders(
        self,
        room_id: str,
        creator: str,
        meeting_id: int,
        *,
        start: datetime,
        offsets: Sequence[timedelta],
        text: str,
    ) -> list[Reminder]:
        """(Re)create the automatic reminders of a meeting; offsets already past are skipped."""
        self.cancel_meeting_reminders(meeting_id)
        now = self.now()
        created = []
        for offset in offsets:
            due = (start.astimezone(self.tz) - offset).astimezone(self.tz)
            if due <= now:
                continue
            when = When(at=due, rrule=None, text=due.isoformat())
            created.append(
                self.create(
                    room_id,
                    creator,
                    when,
                    text,
                    kind="meeting",
                    mention_room=True,
                    meeting_id=meeting_id,
                    offset_s=int(offset.total_seconds()),
                )
            )
        return created

    def cancel_meeting_reminders(self, meeting_id: int) -> None:
        for reminder in self.for_meeting(meeting_id):
            self._finish(reminder.id, "deleted")

    # ---- scheduling and delivery -------------------------------------------------------------

    def rebuild(self, scheduler: Scheduler) -> int:
        """Recreate all jobs from the database; anything overdue is caught up right away."""
        rows = self._db.execute(
            "SELECT id, next_ts FROM reminders WHERE state = 'active' AND next_ts IS NOT NULL"
        )
        now_ts = self.now().timestamp()
        count = 0
        overdue = False
        for reminder_id, next_ts in rows.fetchall():
            if next_ts <= now_ts:
                overdue = True
                continue
            scheduler.at(
                f"reminder:{reminder_id}", datetime.fromtimestamp(next_ts, self.tz), self.deliver, reminder_id
            )
            count += 1
        if overdue:
            scheduler.at("reminders:catch-up", self.now(), self.catch_up)
            count += 1
        return count

    def _schedule(self, reminder: Reminder) -> None:
        if reminder.next_at is None or reminder.state != "active":
            return
        self._scheduler.at(f"reminder:{reminder.id}", reminder.next_at, self.deliver, reminder.id)

    async def deliver(self, reminder_id: int) -> None:
        """The job of one reminder: post it (once), then move it to its next occurrence."""
        async with self._lock:
            try:
                reminder = self.get(reminder_id)
            except UserError:
                return
            if reminder.state != "active" or reminder.next_at is None:
                return
            now = self.now()
            if reminder.next_at > now + timedelta(seconds=1):
                self._schedule(reminder)  # moved since the job was planned
                return
            if now - reminder.next_at > self.late_grace:
                await self._summarise(reminder.room_id, [reminder])
                return
            await self._send(reminder, late=now - reminder.next_at > LATE_AFTER)

    async def catch_up(self) -> None:
        """At start: deliver what fell due while the bot was away (late), summarise the too-old."""
        async with self._lock:
            now = self.now()
            overdue = self._rows(
                "SELECT * FROM reminders WHERE state = 'active' AND next_ts <= ? ORDER BY next_ts, id",
                [now.timestamp()],
            )
            too_old: dict[str, list[Reminder]] = {}
            for reminder in overdue:
                assert reminder.next_at is not None
                if now - reminder.next_at > self.late_grace and not self._pending(reminder):
                    too_old.setdefault(reminder.room_id, []).append(reminder)
                else:
                    # It fell due while the bot was away: late by definition, however few seconds.
                    await self._send(reminder, late=True)
            for room_id, reminders in too_old.items():
                await self._summarise(room_id, reminders)

    def _pending(self, reminder: Reminder) -> bool:
        """Was a send of this very occurrence begun but not confirmed (crash)? Then finish it."""
        assert reminder.next_at is not None
        row = self._db.execute(
            "SELECT 1 FROM deliveries WHERE reminder_id = ? AND due_ts = ? AND outcome = 'pending'",
            [reminder.id, reminder.next_at.timestamp()],
        ).fetchone()
        return row is not None

    async def _send(self, reminder: Reminder, *, late: bool) -> None:
        assert reminder.next_at is not None
        due_ts = reminder.next_at.timestamp()
        transaction_id = f"akbot-reminder-{reminder.id}-{int(due_ts * 1000)}"
        with self._db.atomic():
            self._db.execute(
                "INSERT OR IGNORE INTO deliveries (reminder_id, due_ts, transaction_id, late, outcome)"
                " VALUES (?, ?, ?, ?, 'pending')",
                [reminder.id, due_ts, transaction_id, int(late)],
            )
        subject = self._subjects[reminder.kind](reminder) if reminder.kind in self._subjects else None
        due = DueReminder(reminder, reminder.next_at, late, subject, self.subscribers(reminder.id))
        try:
            event_id = await self._notifier.remind(due, transaction_id=transaction_id)
        except Exception:
            # Stays pending and due: the next start (or the retry job) sends it with the same id.
            log.warning("reminder %d could not be delivered; retrying in %s", reminder.id, RETRY_AFTER)
            self._scheduler.at(f"reminder:{reminder.id}", self.now() + RETRY_AFTER, self.deliver, reminder.id)
            return
        self._advance(reminder, outcome="sent", event_id=event_id)

    async def _summarise(self, room_id: str, reminders: list[Reminder]) -> None:
        key = ",".join(f"{r.id}@{r.next_at.timestamp() if r.next_at else 0}" for r in reminders)
        transaction_id = "akbot-missed-" + hashlib.sha256(key.encode()).hexdigest()[:24]
        try:
            event_id = await self._notifier.missed(room_id, reminders, transaction_id=transaction_id)
        except Exception:
            log.exception("summary of %d missed reminders could not be sent", len(reminders))
            return
        for reminder in reminders:
            assert reminder.next_at is not None
            with self._db.atomic():
                self._db.execute(
                    "INSERT OR IGNORE INTO deliveries (reminder_id, due_ts, transaction_id, late, outcome)"
                    " VALUES (?, ?, ?, 1, 'pending')",
                    [reminder.id, reminder.next_at.timestamp(), f"{transaction_id}-{reminder.id}"],
                )
            self._advance(reminder, outcome="summarised", event_id=event_id)

    def _advance(self, reminder: Reminder, *, outcome: str, event_id: str) -> None:
        """Mark this occurrence delivered and move to the next one — in one transaction."""
        assert reminder.next_at is not None
        following = None
        if reminder.rrule:
            # A recurring reminder fires once for a missed period, then continues from now.
            after = max(self.now(), reminder.next_at)
            following = next_occurrence(reminder.rrule, reminder.first_at, after)
        with self._db.atomic():
            self._db.execute(
                "UPDATE deliveries SET outcome = ?, event_id = ?, sent_ts = ? WHERE reminder_id = ? AND due_ts = ?",
                [outcome, event_id, time.time(), reminder.id, reminder.next_at.timestamp()],
            )
            self._db.execute(
                "UPDATE reminders SET next_ts = ?, state = ? WHERE id = ?",
                [
                    following.timestamp() if following else None,
                    "active" if following else "done",
                    reminder.id,
                ],
            )
        if following is not None:
            self._schedule(self.get(reminder.id))

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Reminder]:
        return [self._from_row(row) for row in self._db.query(sql, params)]

    def _from_row(self, row: dict[str, Any]) -> Reminder:
        next_ts = row["next_ts"]
        zone = self.zone_of(row["room_id"])
        return Reminder(
            id=row["id"],
            room_id=row["room_id"],
            creator=row["creator"],
            kind=row["kind"],
            text=row["text"],
            first_at=datetime.fromisoformat(row["first_at"]).astimezone(zone),
            rrule=row["rrule"],
            next_at=datetime.fromtimestamp(next_ts, zone) if next_ts is not None else None,
            mention_room=bool(row["mention_room"]),
            meeting_id=row["meeting_id"],
            offset_s=row["offset_s"],
            state=row["state"],
        )
