"""Meetings (Sitzungen): create, list, move, cancel — with their automatic reminders and .ics files.

Each meeting keeps one calendar UID for its whole life; every reschedule bumps SEQUENCE, and a
cancellation is published with METHOD:CANCEL, so calendar programs update the entry they have.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import icalendar
from sqlite_utils import Database

from bot.errors import UserError
from bot.i18n import t
from bot.render import Markdown, escape
from bot.services.reminders import Reminder, ReminderService
from bot.timeparse import When, format_datetime

UID_DOMAIN = "akbot.invalid"
ICS_MIMETYPE = "text/calendar"


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
        return self.status == "abgesagt"


class MeetingService:
    def __init__(
        self,
        db: Database,
        tz: ZoneInfo,
        reminders: ReminderService,
        *,
        offsets: Sequence[timedelta],
        duration: timedelta,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._db = db
        self.tz = tz
        self._reminders = reminders
        self.offsets = list(offsets)
        self.duration = duration
        self._clock = clock or (lambda: datetime.now(tz))
        self._planners: list[Callable[[Meeting], None]] = []
        self._reminder_extras: list[Callable[[Meeting, Reminder, str], Markdown | None]] = []
        reminders.render_kind("meeting", self._render_reminder)

    def on_plan(self, planner: Callable[[Meeting], None]) -> None:
        """Also plan ``planner(meeting)`` whenever a meeting's reminders are (re)made (the agenda's)."""
        self._planners.append(planner)

    def on_reminder_text(self, extra: Callable[[Meeting, Reminder, str], Markdown | None]) -> None:
        """Let another service add to a meeting reminder (the agenda in the 1-day reminder)."""
        self._reminder_extras.append(extra)

    def _render_reminder(self, reminder: Reminder, lang: str) -> Markdown:
        assert reminder.meeting_id is not None
        meeting = self.get(reminder.room_id, reminder.meeting_id)
        parts = [meeting_reminder_markdown(meeting, lang)]
        parts += [
            extra for add in self._reminder_extras if (extra := add(meeting, reminder, lang)) is not None
        ]
        return Markdown("\n\n".join(parts))

    def now(self) -> datetime:
        return self._clock().astimezone(self.tz)

    # ---- commands ------------------------------------------------------------------------------

    def create(self, room_id: str, by: str, when: When, title: str, location: str | None) -> Meeting:
        start = self._one_off(when)
        now = time.time()
        with self._db.conn:
            cursor = self._db.execute(
                "INSERT INTO meetings (room_id, title, location, start_at, start_ts, duration_min, uid, sequence,"
                " status, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'geplant', ?, ?, ?)",
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
        return meeting

    def get(self, room_id: str, meeting_id: int) -> Meeting:
        rows = list(
            self._db.query("SELECT * FROM meetings WHERE id = ? AND room_id = ?", [meeting_id, room_id])
        )
        if not rows:
            raise UserError("meeting.not_found", id=meeting_id)
        return self._from_row(rows[0])

    def upcoming(self, room_id: str) -> list[Meeting]:
        rows = self._db.query(
            "SELECT * FROM meetings WHERE room_id = ? AND status = 'geplant' AND start_ts + duration_min * 60 > ?"
            " ORDER BY start_ts, id",
            [room_id, self.now().timestamp()],
        )
        return [self._from_row(row) for row in rows]

    def next_meeting(self, room_id: str) -> Meeting | None:
        """The next meeting that has not started yet."""
        future = [m for m in self.upcoming(room_id) if m.start > self.now()]
        return future[0] if future else None

    def reschedule(self, room_id: str, meeting_id: int, when: When) -> Meeting:
        meeting = self._open(room_id, meeting_id)
        start = self._one_off(when)
        with self._db.conn:
            self._db.execute(
                "UPDATE meetings SET start_at = ?, start_ts = ?, sequence = sequence + 1, updated_at = ? WHERE id = ?",
                [start.isoformat(), start.timestamp(), time.time(), meeting.id],
            )
        moved = self.get(room_id, meeting_id)
        self._plan_reminders(moved)
        return moved

    def cancel(self, room_id: str, meeting_id: int) -> Meeting:
        meeting = self._open(room_id, meeting_id)
        with self._db.conn:
            self._db.execute(
                "UPDATE meetings SET status = 'abgesagt', sequence = sequence + 1, updated_at = ? WHERE id = ?",
                [time.time(), meeting.id],
            )
        self._reminders.cancel_meeting_reminders(meeting.id)
        return self.get(room_id, meeting_id)

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
        for planner in self._planners:
            planner(meeting)

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


def _nrw_holidays(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("DE", subdiv="NW", years=year, language="de").items())


def _reminder_text(meeting: Meeting) -> str:
    """Stored with the reminder; rendered when due (title and place are escaped there)."""
    return f"meeting:{meeting.id}"


def meeting_reminder_markdown(meeting: Meeting, lang: str) -> Markdown:
    place = t(lang, "meeting.place", location=meeting.location) if meeting.location else Markdown("")
    return t(
        lang,
        "meeting.reminder",
        title=meeting.title,
        when=format_datetime(meeting.start, lang),
        place=place,
    )


def announcement(meeting: Meeting, key: str, lang: str, reminder_times: Sequence[datetime]) -> Markdown:
    """The room's message when a meeting is created or moved: when, where, warnings, reminders."""
    place = t(lang, "meeting.place", location=meeting.location) if meeting.location else Markdown("")
    lines = [
        t(
            lang,
            key,
            id=meeting.id,
            title=meeting.title,
            when=format_datetime(meeting.start, lang),
            place=place,
        )
    ]
    warning = MeetingService.day_warning(meeting.start)
    if warning == "weekend":
        lines.append(t(lang, "meeting.weekend"))
    elif warning is not None:
        lines.append(t(lang, "meeting.holiday", name=warning.removeprefix("holiday:")))
    if reminder_times:
        lines.append(
            t(lang, "meeting.reminders", times="; ".join(format_datetime(at, lang) for at in reminder_times))
        )
    else:
        lines.append(t(lang, "meeting.reminders_none"))
    return Markdown("  \n".join(lines))


def describe(meeting: Meeting, lang: str) -> Markdown:
    """One line: "#3 · Do., 05.06.2025, 10:00 Uhr · „Titel“ · Ort"."""
    parts = [f"#{meeting.id}", escape(format_datetime(meeting.start, lang)), f"**{escape(meeting.title)}**"]
    if meeting.location:
        parts.append(escape(meeting.location))
    return Markdown(" · ".join(parts))


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


def ics_filename(meeting: Meeting) -> str:
    return f"sitzung-{meeting.id}-{meeting.start:%Y-%m-%d}.ics"
