"""The reminders service on shifted clocks: delivery once, late delivery, summaries, DST, recurrence.

The notifier here records what would be posted — the Matrix side is covered end to end in
tests/test_e2e_reminders.py; these tests are about time and the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
import time_machine

from bot.app import ROUTERS
from bot.errors import UserError
from bot.outbox import RoomNotifier
from bot.render import Markdown, render
from bot.router import Dispatcher
from bot.scheduler import Scheduler
from bot.services.reminders import ReminderService
from bot.storage import open_memory_db
from bot.timeparse import When
from bot.views.meetings import reminder_wording
from tests.clock import BERLIN, at, frozen, once

ROOM = "!raum:lvr.de"
ALICE = "@alice:lvr.de"
BOB = "@bob:lwl.org"


@dataclass
class Posted:
    room_id: str
    markdown: str
    mentions: Sequence[str]
    room_mention: bool
    transaction_id: str | None

    @property
    def body(self) -> str:
        """What a member reads (the plain body of the message)."""
        return render(self.markdown)[0]


@dataclass
class RecordingChannel:
    posted: list[Posted] = field(default_factory=list)
    fail: bool = False

    async def notify(
        self,
        room_id: str,
        markdown: Markdown,
        *,
        mentions: Sequence[str] = (),
        room_mention: bool = False,
        transaction_id: str | None = None,
    ) -> str:
        if self.fail:
            raise ConnectionError("homeserver down")
        self.posted.append(Posted(room_id, str(markdown), list(mentions), room_mention, transaction_id))
        return f"$event{len(self.posted)}"


class RecordingNotifier(RoomNotifier):
    """The bot's notifier, wording in German (meeting and agenda reminders too), over a channel that
    records what would be posted."""

    def __init__(self) -> None:
        self.recorder = RecordingChannel()
        spell = Dispatcher(ROUTERS, "!").spell
        super().__init__(self.recorder, lambda _room: "de", lambda _room, user: user, reminder_wording(spell))

    @property
    def posted(self) -> list[Posted]:
        return self.recorder.posted

    @property
    def fail(self) -> bool:
        return self.recorder.fail

    @fail.setter
    def fail(self, value: bool) -> None:
        self.recorder.fail = value


def weekly_monday(moment: datetime) -> When:
    return When(at=moment, rrule="FREQ=WEEKLY;BYDAY=MO", text="jeden Montag")


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    yield from frozen("2026-06-10T10:00:00")


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def service(clock: time_machine.Coordinates, notifier: RecordingNotifier) -> ReminderService:
    return ReminderService(
        open_memory_db(), BERLIN, Scheduler(BERLIN), notifier, late_grace=timedelta(hours=24)
    )


async def test_one_off_reminder_is_posted_once_with_a_mention_and_then_done(
    service: ReminderService, notifier: RecordingNotifier, clock: time_machine.Coordinates
) -> None:
    created = service.create(ROOM, ALICE, once(at("2026-06-10T10:30:00")), "Bericht schicken")
    clock.move_to(at("2026-06-10T10:30:00"))

    await service.deliver(created.id)
    await service.deliver(created.id)  # a second firing (e.g. a stale job) changes nothing

    assert [p.body for p in notifier.posted] == ["Erinnerung für @alice:lvr.de: Bericht schicken"]
    assert "](https://matrix.to/#/@alice:lvr.de)" in notifier.posted[0].markdown
    assert notifier.posted[0].mentions == [ALICE]
    assert notifier.posted[0].room_mention is False
    assert service.get(created.id).state == "done"
    assert service.list_for(ROOM, ALICE, everyone=False) == []


async def test_weekly_reminder_keeps_its_wall_clock_time_across_the_spring_dst_change(
    clock: time_machine.Coordinates, notifier: RecordingNotifier
) -> None:
    clock.move_to(at("2026-03-20T12:00:00"))
    service = ReminderService(
        open_memory_db(), BERLIN, Scheduler(BERLIN), notifier, late_grace=timedelta(hours=24)
    )
    created = service.create(ROOM, ALICE, weekly_monday(at("2026-03-23T09:00:00")), "Wochenplanung")

    clock.move_to(at("2026-03-23T09:00:00"))
    await service.deliver(created.id)
    after_change = service.get(created.id).next_at
    clock.move_to(at("2026-03-30T09:00:00"))
    await service.deliver(created.id)

    assert after_change == at("2026-03-30T09:00:00")
    assert after_change is not None and after_change.utcoffset() == timedelta(hours=2)
    assert service.get(created.id).next_at == at("2026-04-06T09:00:00")
    assert len(notifier.posted) == 2


async def test_weekly_reminder_keeps_its_wall_clock_time_across_the_autumn_dst_change(
    clock: time_machine.Coordinates, notifier: RecordingNotifier
) -> None:
    clock.move_to(at("2026-10-19T12:00:00"))
    service = ReminderService(
        open_memory_db(), BERLIN, Scheduler(BERLIN), notifier, late_grace=timedelta(hours=24)
    )
    created = service.create(ROOM, ALICE, weekly_monday(at("2026-10-19T15:00:00")), "Jour fixe")

    clock.move_to(at("2026-10-19T15:00:00"))
    await service.deliver(created.id)

    following = service.get(created.id).next_at
    assert following == at("2026-10-26T15:00:00")
    assert following is not None and following.utcoffset() == timedelta(hours=1)


async def test_reminder_due_while_the_bot_was_down_is_delivered_late_and_marked(
    service: ReminderService, notifier: RecordingNotifier, clock: time_machine.Coordinates
) -> None:
    created = service.create(ROOM, ALICE, once(at("2026-06-10T11:00:00")), "Raum buchen")
    clock.move_to(at("2026-06-10T13:30:00"))  # the bot was down from 10:45 to 13:30

    await service.catch_up()

    assert [p.body for p in notifier.posted] == [
        "Erinnerung für @alice:lvr.de: Raum buchen (verspätet – fällig war Mi., 10.06.2026, 11:00 Uhr)"
    ]
    assert service.get(created.id).state == "done"


async def test_reminders_overdue_beyond_the_grace_are_listed_in_one_summary(
    service: ReminderService, notifier: RecordingNotifier, clock: time_machine.Coordinates
) -> None:
    old = service.create(ROOM, ALICE, once(at("2026-06-10T11:00:00")), "Alt 1")
    older = service.create(ROOM, BOB, once(at("2026-06-10T10:30:00")), "Alt 2")
    recent = service.create(ROOM, BOB, once(at("2026-06-12T09:00:00")), "Neu")
    clock.move_to(at("2026-06-12T10:00:00"))

    await service.catch_up()

    bodies = [p.body for p in notifier.posted]
    assert bodies == [
        "Erinnerung für @bob:lwl.org: Neu (verspätet – fällig war Fr., 12.06.2026, 09:00 Uhr)",
        "Während der Bot nicht erreichbar war, sind diese Erinnerungen zu lange überfällig geworden (2):\n\n"
        "• Mi., 10.06.2026, 10:30 Uhr: Alt 2\n"
        "• Mi., 10.06.2026, 11:00 Uhr: Alt 1",
    ]
    assert {service.get(r.id).state for r in (old, older, recent)} == {"done"}


async def test_recurring_reminder_fires_once_for_a_missed_period_then_continues(
    service: ReminderService, notifier: RecordingNotifier, clock: time_machine.Coordinates
) -> None:
    daily = When(at=at("2026-06-11T07:00:00"), rrule="FREQ=DAILY", text="täglich")
    created = service.create(ROOM, ALICE, daily, "Postfach prüfen")
    clock.move_to(at("2026-06-11T09:00:00"))  # missed 07:00, within the grace

    await service.catch_up()

    assert len(notifier.posted) == 1
    assert "(verspätet – fällig war Do., 11.06.2026, 07:00 Uhr)" in notifier.posted[0].body
    assert service.get(created.id).next_at == at("2026-06-12T07:00:00")


async def test_a_send_begun_before_a_crash_is_finished_with_the_same_transaction_id(
    service: ReminderService, notifier: RecordingNotifier, clock: time_machine.Coordinates
) -> None:
    created = service.create(ROOM, ALICE, once(at("2026-06-10T10:05:00")), "Protokoll")
    clock.move_to(at("2026-06-10T10:05:00"))
    notifier.fail = True
    await service.deliver(created.id)  # the homeserver is away: pending, still due
    assert service.get(created.id).state == "active"

    notifier.fail = False
    clock.move_to(at("2026-06-12T10:05:00"))  # long after, beyond the grace: still sent, not summarised
    await service.catch_up()

    assert len(notifier.posted) == 1
    assert (
        notifier.posted[0].transaction_id
        == f"akbot-reminder-{created.id}-{int(at('2026-06-10T10:05:00').timestamp() * 1000)}"
    )
    assert service.get(created.id).state == "done"


def test_room_reminder_of_a_chair_pings_the_room(service: ReminderService) -> None:
    created = service.create(
        ROOM, ALICE, once(at("2026-06-10T12:00:00")), "Sitzung vorbereiten", kind="room", mention_room=True
    )

    assert created.mention_room is True
    assert created.kind == "room"


def test_members_delete_only_their_own_reminders_the_chair_any(service: ReminderService) -> None:
    alices = service.create(ROOM, ALICE, once(at("2026-06-10T12:00:00")), "A")

    with pytest.raises(UserError) as refused:
        service.delete(ROOM, alices.id, BOB, is_chair=False)
    assert refused.value.key == "reminder.not_yours"

    assert service.delete(ROOM, alices.id, BOB, is_chair=True).id == alices.id
    with pytest.raises(UserError) as gone:
        service.delete(ROOM, alices.id, ALICE, is_chair=False)
    assert gone.value.key == "reminder.not_found"


def test_listing_shows_own_reminders_and_the_room_for_a_chair(service: ReminderService) -> None:
    first = service.create(ROOM, ALICE, once(at("2026-06-10T12:00:00")), "A")
    second = service.create(ROOM, BOB, once(at("2026-06-10T11:00:00")), "B", kind="room")
    service.create(ROOM, BOB, once(at("2026-06-10T11:30:00")), "Telefonat Herr Schmidt")  # Bob's own
    service.create("!anderer:lvr.de", ALICE, once(at("2026-06-10T11:00:00")), "anderswo")

    assert [r.id for r in service.list_for(ROOM, ALICE, everyone=False)] == [first.id]
    # A personal reminder is its owner's alone, also for a chair (issue 12).
    assert [r.id for r in service.list_for(ROOM, ALICE, everyone=True)] == [second.id, first.id]


def test_rebuild_plans_future_jobs_and_a_catch_up_for_overdue_ones(
    service: ReminderService, clock: time_machine.Coordinates
) -> None:
    future = service.create(ROOM, ALICE, once(at("2026-06-10T12:00:00")), "später")
    overdue = service.create(ROOM, ALICE, once(at("2026-06-10T10:30:00")), "vorbei")
    clock.move_to(at("2026-06-10T11:00:00"))
    scheduler = Scheduler(BERLIN)

    planned = service.rebuild(scheduler)

    assert planned == 2
    assert sorted(scheduler.job_ids()) == sorted([f"reminder:{future.id}", "reminders:catch-up"])
    assert f"reminder:{overdue.id}" not in scheduler.job_ids()
