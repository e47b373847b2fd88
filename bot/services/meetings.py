"""Meetings (Sitzungen): create, list, move, cancel — with their automatic reminders and .ics files.

Each meeting keeps one calendar UID for its whole life; every reschedule bumps SEQUENCE, and a
cancellation is published with METHOD:CANCEL, so calendar programs update the entry they have.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import holidays
import icalendar
from sqlite_utils import Database

from bot.errors import UserError
from bot.services.audit import Action, AuditLog
from bot.services.reminders import Reminder, ReminderService
from bot.timeparse import When, format_datetime

UID_DOMAIN = "akbot.invalid"
ICS_MIMETYPE = "text/calendar"
PLANNED, CANCELLED = "planned", "cancelled"  # meetings.status


@dataclass(frozen=True)
class Meeting:
    id: int
    room_id: str
    title: str
    location: str | None
    start: datetime
    duration: timedelta
    uid: str
    sequence: int
    status: str
    created_by: str

    @property
    def end(self) -> datetime:
        return self.start + self.duration

    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED


class MeetingFollower(Protocol):
    """What else belongs to a meeting: its agenda. Handed to the meetings service at construction,
    which plans, words and cancels it together with the meeting — nothing hooks itself in later."""

    def reminders_due(self, meeting: Meeting) -> list[tuple[str, datetime]]:
        """Its own reminders of ``meeting`` as (kind, when); planned, moved and dropped with the meeting's."""
        ...

    def reminder_kinds(self) -> tuple[str, ...]:
        """The kinds of its own reminders."""
        ...

    def reminder_subject(self, kind: str, meeting: Meeting) -> object:
        """What one of its own reminders is about when it falls due (its view words it)."""
        ...

    def reminder_extra(self, meeting: Meeting, reminder: Reminder) -> object | None:
        """What it adds to one of the meeting's own reminders (None: nothing)."""
        ...

    def hand_over(self, room_id: str, cancelled: Meeting) -> tuple[Sequence[object], Meeting | None]:
        """After a cancellation: what was still open, and the meeting it went to (None: none yet)."""
        ...


@dataclass(frozen=True)
class MeetingReminder:
    """What a meeting's own reminder is about: the meeting, and what its follower adds (the agenda)."""

    meeting: Meeting
    attachment: object | None


@dataclass(frozen=True)
class Cancellation:
    meeting: Meeting
    open_items: int
    """What the meeting's follower still had open (agenda items)."""
    handed_to: Meeting | None
    """The meeting they went to; None when there is none yet (they stay open)."""


class MeetingCalendar:
    """The meetings as they stand, read only: what the agenda needs to know of them."""

    def __init__(self, db: Database, tz: ZoneInfo, *, clock: Callable[[], datetime] | None = None) -> None:
        self._db = db
        self.tz = tz
        self._clock = clock or (lambda: datetime.now(tz))

    def now(self) -> datetime:
        return self._clock().astimezone(self.tz)

    def get(self, room_id: str, meeting_id: int) -> Meeting:
        rows = list(
            self._db.query("SELECT * FROM meetings WHERE id = ? AND room_id = ?", [meeting_id, room_id])
        )
        if not rows:
            raise UserError("meeting.not_found", id=meeting_id)
        return self._from_row(rows[0])

    def upcoming(self, room_id: str) -> list[Meeting]:
        rows = self._db.query(
            "SELECT * FROM meetings WHERE room_id = ? AND status = 'planned' AND start_ts + duration_min * 60 > ?"
            " ORDER BY start_ts, id",
            [room_id, self.now().timestamp()],
        )
        return [self._from_row(row) for row in rows]

    def next_meeting(self, room_id: str) -> Meeting | None:
        """The next meeting that has not started yet."""
        future = [m for m in self.upcoming(room_id) if m.start > self.now()]
        return future[0] if future else None

    def _from_row(self, row: dict[str, Any]) -> Meeting:
        return Meeting(
            id=row["id"],
            room_id=row["room_id"],
            title=row["title"],
            location=row["location"],
            start=datetime.fromisoformat(row["start_at"]).astimezone(self.tz),
            duration=timedelta(minutes=row["duration_min"] or 120),
            uid=row["uid"],
            sequence=row["sequence"],
            status=row["status"],
            created_by=row["created_by"],
        )


class MeetingService(MeetingCalendar):
    def __init__(
        self,
        db: Database,
        tz: ZoneInfo,
        reminders: ReminderService,
        follower: MeetingFollower,
        *,
        offsets: Sequence[timedelta],
        duration: timedelta,
        audit: AuditLog,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(db, tz, clock=clock)
        self._audit = audit
        self._reminders = reminders
        self._follower = follower
        self.offsets = list(offsets)
        self.duration = duration
        # A meeting's reminders — its own and its follower's — are about the meeting.
        reminders.attach("meeting", self._subject)
        for kind in follower.reminder_kinds():
            reminders.attach(kind, functools.partial(self._follower_subject, kind))

    def _of(self, reminder: Reminder) -> Meeting:
        assert reminder.meeting_id is not None
        return self.get(reminder.room_id, reminder.meeting_id)

    def _follower_subject(self, kind: str, reminder: Reminder) -> object:
        return self._follower.reminder_subject(kind, self._of(reminder))

    def _subject(self, reminder: Reminder) -> MeetingReminder:
        meeting = self._of(reminder)
        return MeetingReminder(meeting, self._follower.reminder_extra(meeting, reminder))

    # ---- commands ------------------------------------------------------------------------------

    def create(self, room_id: str, by: str, when: When, title: str, location: str | None) -> Meeting:
        start = self._one_off(when)
        now = time.time()
        with self._db.atomic():
            cursor = self._db.execute(
                "INSERT INTO meetings (room_id, title, location, start_at, start_ts, duration_min, uid, sequence,"
                " status, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'planned', ?, ?, ?)",
                [
                    room_id,
                    title,
                    location,
                    start.isoformat(),
                    start.timestamp(),
                    int(self.duration.total_seconds() // 60),
                    f"{uuid.uuid4()}@{UID_DOMAIN}",
                    by,
                    now,
                    now,
                ],
            )
        meeting = self.get(room_id, int(cursor.lastrowid or 0))
        self._plan_reminders(meeting)
        self._audit.record(room_id, by, Action.MEETING_CREATED, id=meeting.id, start=start.isoformat())
        return meeting

    def reschedule(self, room_id: str, meeting_id: int, when: When, *, by: str) -> Meeting:
        meeting = self._open(room_id, meeting_id)
        start = self._one_off(when)
        with self._db.atomic():
            self._db.execute(
                "UPDATE meetings SET start_at = ?, start_ts = ?, sequence = sequence + 1, updated_at = ? WHERE id = ?",
                [start.isoformat(), start.timestamp(), time.time(), meeting.id],
            )
        moved = self.get(room_id, meeting_id)
        self._plan_reminders(moved)
        self._audit.record(room_id, by, Action.MEETING_MOVED, id=meeting_id, start=start.isoformat())
        return moved

    def cancel(self, room_id: str, meeting_id: int) -> Meeting:
        """The meeting and its reminders; what the follower still has open stays where it is."""
        meeting = self._open(room_id, meeting_id)
        with self._db.atomic():
            self._db.execute(
                "UPDATE meetings SET status = 'cancelled', sequence = sequence + 1, updated_at = ? WHERE id = ?",
                [time.time(), meeting.id],
            )
        self._reminders.cancel_meeting_reminders(meeting.id)
        return self.get(room_id, meeting_id)

    def cancel_and_hand_over(self, room_id: str, meeting_id: int, *, by: str) -> Cancellation:
        """``!sitzung absagen``: cancel, then hand what is still open on to the next meeting (the
        agenda's open items)."""
        cancelled = self.cancel(room_id, meeting_id)
        self._audit.record(room_id, by, Action.MEETING_CANCELLED, id=meeting_id)
        open_items, target = self._follower.hand_over(room_id, cancelled)
        return Cancellation(cancelled, len(open_items), target)

    def reminders_of(self, meeting: Meeting) -> list[datetime]:
        return [r.next_at for r in self._reminders.for_meeting(meeting.id) if r.next_at is not None]

    # ---- rules ---------------------------------------------------------------------------------

    def _one_off(self, when: When) -> datetime:
        if when.rrule is not None:
            raise UserError("meeting.no_series")
        return when.at.astimezone(self.tz)

    def _open(self, room_id: str, meeting_id: int) -> Meeting:
        meeting = self.get(room_id, meeting_id)
        if meeting.cancelled:
            raise UserError("meeting.already_cancelled", id=meeting_id)
        if meeting.start <= self.now():
            raise UserError("meeting.in_the_past", id=meeting_id)
        return meeting

    def _plan_reminders(self, meeting: Meeting) -> None:
        self._reminders.replace_meeting_reminders(
            meeting.room_id,
            meeting.created_by,
            meeting.id,
            start=meeting.start,
            offsets=self.offsets,
            text=_reminder_text(meeting),
        )
        now = self.now()
        for kind, due in self._follower.reminders_due(meeting):
            if due > now:
                when = When(at=due.astimezone(self.tz), rrule=None, text=format_datetime(due, "de"))
                self._reminders.create(
                    meeting.room_id,
                    meeting.created_by,
                    when,
                    f"{kind}:{meeting.id}",
                    kind=kind,
                    meeting_id=meeting.id,
                )

    @staticmethod
    def day_warning(start: datetime) -> str | None:
        """A weekend or an NRW public holiday: worth a warning, never a refusal."""
        day = start.date()
        holiday = _nrw_holidays(day.year).get(day)
        if holiday:
            return f"holiday:{holiday}"
        if day.weekday() >= 5:
            return "weekend"
        return None


def _nrw_holidays(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("DE", subdiv="NW", years=year, language="de").items())


def _reminder_text(meeting: Meeting) -> str:
    """Stored with the reminder; rendered when due (title and place are escaped there)."""
    return f"meeting:{meeting.id}"


def to_ics(meeting: Meeting, *, stamp: datetime | None = None) -> bytes:
    """The meeting as an iCalendar file: PUBLISH while planned, CANCEL once cancelled."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//LVR LWL Facharbeitskreis KI//akbot//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if meeting.cancelled else "PUBLISH")
    event = icalendar.Event()
    event.add("uid", meeting.uid)
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", stamp or datetime.now(ZoneInfo("UTC")))
    event.add("dtstart", meeting.start)
    event.add("dtend", meeting.end)
    event.add("summary", meeting.title)
    if meeting.location:
        event.add("location", meeting.location)
    event.add("status", "CANCELLED" if meeting.cancelled else "CONFIRMED")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
