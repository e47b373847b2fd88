"""Meetings: reminders that follow the meeting, calendar files that calendar programs understand."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import icalendar
import pytest
import time_machine

from bot.errors import UserError
from bot.scheduler import Scheduler
from bot.services.audit import AuditLog
from bot.services.meetings import Meeting, MeetingService, to_ics
from bot.services.reminders import Reminder, ReminderService
from bot.storage import open_memory_db
from bot.timeparse import When
from tests.clock import BERLIN, at, frozen, once
from tests.test_reminders_service import RecordingNotifier

ROOM = "!raum:lvr.de"
CHAIR = "@vorsitz:lvr.de"
OFFSETS = [timedelta(days=7), timedelta(days=1), timedelta(hours=1)]


class NoAgenda:
    """A meeting that nothing else follows (the app's meetings have the agenda service)."""

    def reminders_due(self, meeting: Meeting) -> list[tuple[str, datetime]]:
        return []

    def reminder_kinds(self) -> tuple[str, ...]:
        return ()

    def reminder_subject(self, kind: str, meeting: Meeting) -> object:
        raise AssertionError("no reminders of its own")

    def reminder_extra(self, meeting: Meeting, reminder: Reminder) -> object | None:
        return None

    def hand_over(self, room_id: str, cancelled: Meeting) -> tuple[Sequence[object], Meeting | None]:
        return [], None


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    yield from frozen("2026-06-01T10:00:00")


@pytest.fixture
def reminders(clock: time_machine.Coordinates) -> ReminderService:
    return ReminderService(
        open_memory_db(), BERLIN, Scheduler(BERLIN), RecordingNotifier(), late_grace=timedelta(hours=24)
    )


@pytest.fixture
def meetings(reminders: ReminderService) -> MeetingService:
    db = reminders._db  # one database, as in the app
    return MeetingService(
        db,
        BERLIN,
        reminders,
        NoAgenda(),
        offsets=OFFSETS,
        duration=timedelta(hours=2),
        audit=AuditLog(db, BERLIN),
    )


def test_a_meeting_gets_its_three_room_reminders(meetings: MeetingService) -> None:
    meeting = meetings.create(ROOM, CHAIR, once(at("2026-06-16T10:00:00")), "Sitzung FAK KI", "Köln, Raum 3")

    assert meetings.reminders_of(meeting) == [
        at("2026-06-09T10:00:00"),
        at("2026-06-15T10:00:00"),
        at("2026-06-16T09:00:00"),
    ]
    assert meeting.sequence == 0
    assert meeting.end == at("2026-06-16T12:00:00")


def test_reminder_times_already_past_are_skipped(meetings: MeetingService) -> None:
    meeting = meetings.create(ROOM, CHAIR, once(at("2026-06-03T10:00:00")), "Kurzfristig", None)

    assert meetings.reminders_of(meeting) == [at("2026-06-02T10:00:00"), at("2026-06-03T09:00:00")]


def test_reschedule_bumps_the_sequence_and_moves_the_reminders_across_dst(
    clock: time_machine.Coordinates, reminders: ReminderService
) -> None:
    clock.move_to(at("2026-10-01T10:00:00"))
    meetings = MeetingService(
        reminders._db,
        BERLIN,
        reminders,
        NoAgenda(),
        offsets=OFFSETS,
        duration=timedelta(hours=2),
        audit=AuditLog(reminders._db, BERLIN),
    )
    meeting = meetings.create(ROOM, CHAIR, once(at("2026-10-20T10:00:00")), "Herbstsitzung", None)

    moved = meetings.reschedule(ROOM, meeting.id, once(at("2026-10-27T14:00:00")), by=CHAIR)

    assert moved.sequence == 1
    assert moved.uid == meeting.uid
    assert meetings.reminders_of(moved) == [
        at("2026-10-20T14:00:00"),  # CEST, before the change
        at("2026-10-26T14:00:00"),  # CET, after it — same wall clock
        at("2026-10-27T13:00:00"),
    ]
    assert len(reminders.for_meeting(meeting.id)) == 3


def test_cancel_drops_the_reminders_and_refuses_a_second_cancel(
    meetings: MeetingService, reminders: ReminderService
) -> None:
    meeting = meetings.create(ROOM, CHAIR, once(at("2026-06-16T10:00:00")), "Sitzung", None)

    cancelled = meetings.cancel(ROOM, meeting.id)

    assert cancelled.cancelled and cancelled.sequence == 1
    assert reminders.for_meeting(meeting.id) == []
    assert meetings.upcoming(ROOM) == []
    with pytest.raises(UserError) as again:
        meetings.cancel(ROOM, meeting.id)
    assert again.value.key == "meeting.already_cancelled"


def test_a_meeting_needs_a_single_date(meetings: MeetingService) -> None:
    series = When(at=at("2026-06-15T10:00:00"), rrule="FREQ=WEEKLY;BYDAY=MO", text="jeden Montag")

    with pytest.raises(UserError) as refused:
        meetings.create(ROOM, CHAIR, series, "Serie", None)
    assert refused.value.key == "meeting.no_series"


def test_meetings_are_per_room(meetings: MeetingService) -> None:
    meeting = meetings.create(ROOM, CHAIR, once(at("2026-06-16T10:00:00")), "Sitzung", None)

    with pytest.raises(UserError):
        meetings.get("!anderer:lwl.org", meeting.id)


@pytest.mark.parametrize(
    ("moment", "warning"),
    [
        (at("2026-06-04T10:00:00"), "holiday:Fronleichnam"),
        (at("2026-06-06T10:00:00"), "weekend"),
        (at("2026-11-01T10:00:00"), "holiday:Allerheiligen"),
        (at("2026-06-05T10:00:00"), None),
    ],
)
def test_weekends_and_nrw_holidays_are_pointed_out(moment: datetime, warning: str | None) -> None:
    assert MeetingService.day_warning(moment) == warning


def test_calendar_file_parses_back_with_uid_sequence_and_timezone(meetings: MeetingService) -> None:
    meeting = meetings.create(ROOM, CHAIR, once(at("2026-06-16T10:00:00")), "Sitzung FAK KI", "Münster")
    moved = meetings.reschedule(ROOM, meeting.id, once(at("2026-06-17T11:00:00")), by=CHAIR)

    calendar = icalendar.Calendar.from_ical(to_ics(moved))

    assert calendar["METHOD"] == "PUBLISH"
    event = calendar.walk("VEVENT")[0]
    assert str(event["UID"]) == meeting.uid
    assert int(event["SEQUENCE"]) == 1
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event.decoded("DTSTART") == at("2026-06-17T11:00:00")
    assert event.decoded("DTEND") == at("2026-06-17T13:00:00")
    assert str(event["SUMMARY"]) == "Sitzung FAK KI"
    assert str(event["LOCATION"]) == "Münster"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]


def test_cancellation_calendar_file_says_cancel(meetings: MeetingService) -> None:
    meeting = meetings.create(ROOM, CHAIR, once(at("2026-06-16T10:00:00")), "Sitzung", None)

    calendar = icalendar.Calendar.from_ical(to_ics(meetings.cancel(ROOM, meeting.id)))

    assert calendar["METHOD"] == "CANCEL"
    event = calendar.walk("VEVENT")[0]
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1
    assert str(event["UID"]) == meeting.uid
