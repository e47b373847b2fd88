"""Data protection rules: a member's copy, forgetting without breaking tallies, retention."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
import time_machine

from bot.render import render
from bot.scheduler import Scheduler
from bot.services.agenda import AgendaService
from bot.services.audit import AuditLog, Entry
from bot.services.meetings import MeetingCalendar, MeetingService
from bot.services.minutes import ActionRegister
from bot.services.polls import PollService
from bot.services.privacy import FORMER_MEMBER, PURGE_PLAN, PrivacyService
from bot.services.pseudonyms import Pseudonyms
from bot.services.reminders import ReminderService
from bot.storage import open_memory_db
from bot.timeparse import When
from bot.views import meetings as meeting_views
from bot.views import polls as poll_views
from bot.views import privacy as audit_views
from tests.clock import BERLIN, at, frozen, once
from tests.test_polls import Outbox, Roster, directory, poster
from tests.test_reminders_service import RecordingNotifier

ROOM = "!raum:lvr.de"
CHAIR, ANNA, BEN = "@vorsitz:lvr.de", "@anna:lvr.de", "@ben:lwl.org"


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    yield from frozen("2026-06-01T10:00:00")


class Everything:
    def __init__(self) -> None:
        self.db = open_memory_db()
        self.audit = AuditLog(self.db, BERLIN)
        self.pseudonyms = Pseudonyms(self.db)
        scheduler = Scheduler(BERLIN)
        self.reminders = ReminderService(
            self.db, BERLIN, scheduler, RecordingNotifier(), late_grace=timedelta(hours=24)
        )
        self.agenda = AgendaService(
            self.db,
            BERLIN,
            MeetingCalendar(self.db, BERLIN),
            organisations={"lvr.de": "LVR"},
            fixed_items=[],
            submission_deadline=timedelta(days=7),
            deadline_reminder=timedelta(days=2),
            publish_before=timedelta(days=3),
            audit=self.audit,
            actions=ActionRegister(self.db, BERLIN),
        )
        self.meetings = MeetingService(
            self.db,
            BERLIN,
            self.reminders,
            self.agenda,
            offsets=[timedelta(days=1)],
            duration=timedelta(hours=2),
            audit=self.audit,
        )
        self.polls = PollService(
            self.db,
            BERLIN,
            self.meetings,
            scheduler,
            outbox=poster(Outbox()),
            roster=Roster(),
            audit=self.audit,
            pseudonyms=self.pseudonyms,
            groups=directory(self.db),
            nudge_before=timedelta(hours=24),
        )
        self.privacy = PrivacyService(
            self.db,
            BERLIN,
            retention=timedelta(days=365),
            audit=self.audit,
            pseudonyms=self.pseudonyms,
            also_forgetting=[],
        )


@pytest.fixture
async def world(clock: time_machine.Coordinates) -> AsyncIterator[Everything]:
    everything = Everything()
    yield everything
    await everything.polls.shutdown()


async def test_forgetting_keeps_the_tally_and_the_agenda_right(world: Everything) -> None:
    poll = await world.polls.create(ROOM, CHAIR, "Termin; A; B", "de")
    world.polls.vote_text(ROOM, ANNA, None, "1 2?", cast_ts=1.0)
    world.polls.vote_text(ROOM, BEN, None, "1", cast_ts=2.0)
    meeting = world.meetings.create(ROOM, CHAIR, once(at("2026-06-20T10:00:00")), "Sitzung", None)
    item = world.agenda.submit(
        ROOM, ANNA, "Anna", title="Mein TOP", description=None, duration_min=10, meeting_id=None
    )
    world.agenda.accept(ROOM, item.id, CHAIR)
    world.reminders.create(ROOM, ANNA, once(at("2026-06-02T09:00:00")), "Geheimes Vorhaben")
    directory(world.db).set_own_groups(ANNA, "Kliniken")
    before = {o.option.position: (len(o.yes), len(o.maybe)) for o in world.polls.tally(poll).options}

    counts = world.privacy.forget(ANNA, ROOM)

    assert directory(world.db).profile(ANNA).groups == ()
    assert counts == {
        "profile": 1,
        "reminders": 1,
        "votes": 1,
        "agenda_items": 1,
        "minutes_entries": 0,
        "action_items": 0,
        "attendance": 0,
        "documents": 0,
        "model_usage": 0,
        "model_context": 0,
    }
    after = {o.option.position: (len(o.yes), len(o.maybe)) for o in world.polls.tally(poll).options}
    assert after == before
    assert [v.voter for v in world.polls.votes(poll.id)] == [f"{FORMER_MEMBER} 1", BEN]
    shown = world.agenda.agenda(ROOM, meeting.id).items[0]
    assert (shown.title, shown.submitter, shown.submitter_name) == ("Mein TOP", FORMER_MEMBER, FORMER_MEMBER)
    dump = json.dumps([list(world.db[t].rows) for t in world.db.table_names()], default=str)
    assert ANNA not in dump and "Geheimes Vorhaben" not in dump


async def test_two_forgotten_voters_on_one_poll_stay_two_votes(world: Everything) -> None:
    poll = await world.polls.create(ROOM, CHAIR, "Termin; A; B", "de")
    world.polls.vote_text(ROOM, ANNA, None, "1", cast_ts=1.0)
    world.polls.vote_text(ROOM, BEN, None, "1", cast_ts=2.0)

    world.privacy.forget(ANNA, ROOM)
    world.privacy.forget(BEN, ROOM)

    assert len(world.polls.tally(poll).options[0].yes) == 2


async def test_the_export_holds_what_is_stored_about_the_member(world: Everything) -> None:
    await world.polls.create(ROOM, CHAIR, "Termin; A; B", "de")
    world.polls.vote_text(ROOM, ANNA, None, "2?", cast_ts=1.0)
    world.reminders.create(ROOM, ANNA, once(at("2026-06-02T09:00:00")), "Akten")
    world.reminders.create(ROOM, BEN, once(at("2026-06-02T09:00:00")), "Bens Sache")

    exported = json.loads(world.privacy.export_json(ANNA))

    assert exported["user_id"] == ANNA
    assert [r["text"] for r in exported["reminders"]] == ["Akten"]
    assert [(v["question"], json.loads(v["choices"])) for v in exported["votes"]] == [
        ("Termin", {"2": "maybe"})
    ]
    assert "Bens Sache" not in json.dumps(exported)


def test_forgetting_needs_a_confirmation_within_ten_minutes(
    world: Everything, clock: time_machine.Coordinates
) -> None:
    assert not world.privacy.confirmed(ANNA)
    world.privacy.ask_to_forget(ANNA)
    assert world.privacy.confirmed(ANNA)
    assert not world.privacy.confirmed(ANNA)  # one confirmation per request

    world.privacy.ask_to_forget(BEN)
    clock.shift(timedelta(minutes=11))
    assert not world.privacy.confirmed(BEN)


async def test_retention_purges_what_is_old_and_keeps_what_is_current(
    world: Everything, clock: time_machine.Coordinates
) -> None:
    old_poll = await world.polls.create(ROOM, CHAIR, "Alt; A; B", "de")
    world.polls.vote_text(ROOM, ANNA, None, "1", cast_ts=1.0)
    await world.polls.close(ROOM, old_poll.id, by=CHAIR, pick=None)
    old_meeting = world.meetings.create(ROOM, CHAIR, once(at("2026-06-05T10:00:00")), "Alt", None)
    done = world.reminders.create(ROOM, ANNA, once(at("2026-06-01T10:30:00")), "Erledigt")
    world.reminders._finish(done.id, "done")

    clock.move_to(at("2027-07-01T10:00:00"))  # more than 365 days later
    current_poll = await world.polls.create(ROOM, CHAIR, "Neu; A; B", "de")
    current_meeting = world.meetings.create(ROOM, CHAIR, once(at("2027-07-20T10:00:00")), "Neu", None)

    counts = world.privacy.purge(now=time.time())

    assert counts["polls"] == 1 and counts["meetings"] == 1 and counts["reminders"] >= 1
    assert [p.id for p in world.polls.open_polls(ROOM)] == [current_poll.id]
    assert world.db.execute("SELECT count(*) FROM votes WHERE poll_id = ?", [old_poll.id]).fetchone()[0] == 0
    assert [m.id for m in world.meetings.upcoming(ROOM)] == [current_meeting.id]
    assert world.db.execute("SELECT count(*) FROM meetings WHERE id = ?", [old_meeting.id]).fetchone()[0] == 0


async def test_the_chair_log_words_each_action_in_the_rooms_language_with_local_times(
    world: Everything,
) -> None:
    poll = await world.polls.create(ROOM, CHAIR, "Termin; A; B", "de")
    meeting = world.meetings.create(ROOM, CHAIR, once(at("2026-06-20T10:00:00")), "Sitzung", None)
    world.meetings.reschedule(ROOM, meeting.id, once(at("2026-12-05T10:00:00")), by=CHAIR)  # winter time
    await world.polls.withdraw(ROOM, poll.id, by=CHAIR)
    world.privacy.forget(ANNA, ROOM)

    german = lines_of(audit_views.audit_log(world.audit.recent(ROOM), "de"))
    english = lines_of(audit_views.audit_log(world.audit.recent(ROOM), "en"))

    assert german[0] == "Protokoll des Vorsitzes (neueste zuerst)"
    assert german[1].endswith(
        f"· {FORMER_MEMBER} · vergessen. Gelöscht – Erinnerungen: 0. Anonymisiert – Stimmen: 0, TOPs: 0"
    )
    assert german[2].endswith(f"· {CHAIR} · Umfrage #{poll.id} zurückgezogen")
    assert german[3].endswith(f"· {CHAIR} · Sitzung #{meeting.id} verschoben auf Sa., 05.12.2026, 10:00 Uhr")
    assert german[4].endswith(f"· {CHAIR} · Sitzung #{meeting.id} angelegt für Sa., 20.06.2026, 10:00 Uhr")
    assert english[3].endswith(f"· {CHAIR} · Meeting #{meeting.id} moved to Sat, 5 Dec 2026, 10:00")
    assert english[5].endswith(f"· {CHAIR} · Poll #{poll.id} started")


async def test_forgetting_a_chair_keeps_their_actions_theirs_in_the_log(world: Everything) -> None:
    world.meetings.create(ROOM, CHAIR, once(at("2026-06-20T10:00:00")), "Sitzung", None)

    world.privacy.forget(CHAIR, ROOM)

    assert [(e.actor, e.action) for e in world.audit.recent(ROOM)] == [
        (FORMER_MEMBER, "member.forgotten"),
        (CHAIR, "meeting.created"),
    ]


def test_an_entry_the_catalog_cannot_word_is_shown_as_stored() -> None:
    unknown = Entry(at("2026-06-01T10:00:00"), CHAIR, "something.new", {"id": 1})
    old = Entry(at("2026-06-01T10:00:00"), CHAIR, "item.deferred", {}, "so nicht lesbar")

    lines = lines_of(audit_views.audit_log([unknown, old], "de"))

    assert lines[1].endswith(f"· {CHAIR} · something.new")
    assert lines[2].endswith(f"· {CHAIR} · item.deferred – so nicht lesbar")


def lines_of(markdown: str) -> list[str]:
    """The lines a member reads, without the blank ones."""
    return [line for line in render(markdown)[0].splitlines() if line]


async def test_a_forgotten_member_who_votes_again_still_has_one_vote(world: Everything) -> None:
    poll = await world.polls.create(ROOM, CHAIR, "Termin; A; B", "de")
    world.polls.vote_text(ROOM, ANNA, None, "1", cast_ts=1.0)
    world.polls.vote_text(ROOM, BEN, None, "2", cast_ts=2.0)
    world.privacy.forget(ANNA, ROOM)

    # Anna has voted (under a pseudonym): she is not asked to vote, nor named as missing.
    assert ANNA not in world.polls.tally(poll).non_voters

    world.polls.vote_text(ROOM, ANNA, None, "1", cast_ts=3.0)

    tally = world.polls.tally(poll)
    assert {o.option.position: len(o.yes) for o in tally.options} == {1: 1, 2: 1}  # not two for option 1
    assert sorted(tally.voters) == sorted([ANNA, BEN])


async def test_retention_also_ages_the_deliveries_of_an_active_recurring_reminder(
    world: Everything, clock: time_machine.Coordinates
) -> None:
    weekly = When(at=at("2026-06-01T11:00:00"), rrule="FREQ=WEEKLY;BYDAY=MO", text="jeden Montag 11 Uhr")
    reminder = world.reminders.create(ROOM, ANNA, weekly, "Wochenbericht")
    clock.move_to(at("2026-06-01T11:00:00"))
    await world.reminders.deliver(reminder.id)
    assert world.db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 1
    clock.move_to(at("2027-07-05T11:00:00"))  # more than 365 days later; the series still runs

    counts = world.privacy.purge(now=time.time())

    assert counts["deliveries"] == 1
    assert world.db.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0
    assert world.reminders.get(reminder.id).state == "active"


async def test_in_an_english_room_a_forgotten_member_is_a_former_member(world: Everything) -> None:
    poll = await world.polls.create(ROOM, CHAIR, "Termin; A; B", "de")
    world.polls.vote_text(ROOM, ANNA, None, "1", cast_ts=1.0)
    world.privacy.forget(ANNA, ROOM)
    tally = world.polls.tally(poll)

    assert "yes: former member 1" in render(poll_views.standing(tally, "en"))[0]
    assert "ja: ehemaliges Mitglied 1" in render(poll_views.standing(tally, "de"))[0]
    assert (
        "· former member · forgotten." in lines_of(audit_views.audit_log(world.audit.recent(ROOM), "en"))[1]
    )


def test_file_names_are_in_the_readers_language(world: Everything) -> None:
    meeting = world.meetings.create(ROOM, CHAIR, once(at("2026-06-20T10:00:00")), "Sitzung", None)

    assert meeting_views.ics_filename(meeting, "de") == f"sitzung-{meeting.id}-2026-06-20.ics"
    assert meeting_views.ics_filename(meeting, "en") == f"meeting-{meeting.id}-2026-06-20.ics"


async def test_a_large_purge_goes_in_short_steps_and_leaves_nothing_behind(
    world: Everything, clock: time_machine.Coordinates
) -> None:
    sent = 1_234
    with world.db.atomic():
        for number in range(sent):
            world.db.execute(
                "INSERT INTO reminders (room_id, creator, kind, text, first_at, state, created_at)"
                " VALUES (?, ?, 'personal', ?, '2026-06-01T10:00:00+02:00', 'done', ?)",
                [ROOM, ANNA, f"Erinnerung {number}", time.time()],
            )
            world.db.execute(
                "INSERT INTO deliveries (reminder_id, due_ts, transaction_id, late, outcome)"
                " VALUES (?, ?, ?, 0, 'sent')",
                [number + 1, time.time(), f"tx{number}"],
            )
            world.db.execute(
                "INSERT INTO reminder_subscribers (reminder_id, user_id) VALUES (?, ?)", [number + 1, BEN]
            )
    counts: dict[str, int] = {}
    steps = sum(1 for _ in world.privacy.purge_steps(counts, now=time.time() + 366 * 86400))

    assert counts["reminders"] == sent
    # Each step deletes at most PURGE_CHUNK rows: the reminders alone took three, their deliveries
    # and their subscribers three more each.
    assert steps >= 3 * 3 + len(PURGE_PLAN) - 3
    for table in ("reminders", "deliveries", "reminder_subscribers"):
        assert world.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0
