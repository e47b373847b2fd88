"""Agenda rules: status, deadline, order, numbering, hand-over, reminders, OParl export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
import time_machine

from bot.errors import UserError
from bot.render import render
from bot.scheduler import Scheduler
from bot.services.agenda import AgendaService, organisation_of
from bot.services.audit import AuditLog
from bot.services.meetings import MeetingCalendar, MeetingService
from bot.services.minutes import ActionRegister
from bot.services.reminders import ReminderService
from bot.storage import open_memory_db
from bot.views.agenda import agenda as render_agenda
from bot.views.agenda import markdown_file as render_markdown_file
from bot.views.agenda import pending
from tests.clock import BERLIN, at, frozen, once
from tests.test_reminders_service import RecordingNotifier

ROOM = "!raum:lvr.de"
CHAIR, ANNA, BEN = "@vorsitz:lvr.de", "@anna:lvr.de", "@ben:lwl.org"
SCHEMA = json.loads((Path(__file__).parent / "oparl_meeting.schema.json").read_text())


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    yield from frozen("2026-06-01T10:00:00")


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def world(
    clock: time_machine.Coordinates, notifier: RecordingNotifier
) -> tuple[AgendaService, MeetingService, ReminderService]:
    db = open_memory_db()
    reminders = ReminderService(db, BERLIN, Scheduler(BERLIN), notifier, late_grace=timedelta(hours=24))
    agenda = AgendaService(
        db,
        BERLIN,
        MeetingCalendar(db, BERLIN),
        organisations={"lvr.de": "LVR", "lwl.org": "LWL"},
        fixed_items=["Begrüßung und Feststellung der Tagesordnung", "Verschiedenes"],
        submission_deadline=timedelta(days=7),
        deadline_reminder=timedelta(days=2),
        publish_before=timedelta(days=3),
        audit=AuditLog(db, BERLIN),
        actions=ActionRegister(db, BERLIN),
    )
    meetings = MeetingService(
        db,
        BERLIN,
        reminders,
        agenda,
        offsets=[timedelta(days=1)],
        duration=timedelta(hours=2),
        audit=AuditLog(db, BERLIN),
    )
    return agenda, meetings, reminders


def submit(
    agenda: AgendaService, who: str, title: str, minutes: int | None = None, meeting: int | None = None
) -> int:
    name = who.split(":", 1)[0].lstrip("@").capitalize()
    return agenda.submit(
        ROOM, who, name, title=title, description=None, duration_min=minutes, meeting_id=meeting
    ).id


@pytest.mark.parametrize(
    ("user", "organisation"),
    [("@anna:lvr.de", "LVR"), ("@ben:LWL.org", "LWL"), ("@caro:firma-x.de", "firma-x.de")],
)
def test_organisation_comes_from_the_homeserver_domain(user: str, organisation: str) -> None:
    assert organisation_of(user, {"lvr.de": "LVR", "lwl.org": "LWL"}) == organisation


def test_no_meeting_ahead_is_a_clear_message(
    world: tuple[AgendaService, MeetingService, ReminderService],
) -> None:
    agenda, _, _ = world
    with pytest.raises(UserError) as error:
        submit(agenda, ANNA, "KI-Leitlinie")
    assert error.value.key == "agenda.no_meeting"


def test_accepted_items_are_numbered_between_the_fixed_items_in_the_chairs_order(
    world: tuple[AgendaService, MeetingService, ReminderService],
) -> None:
    agenda, meetings, _ = world
    meeting = meetings.create(ROOM, CHAIR, once(at("2026-06-20T10:00:00")), "Sitzung FAK KI", "Köln")
    first = submit(agenda, ANNA, "KI-Leitlinie", 30)
    second = submit(agenda, BEN, "Pilot Klinik", 20)
    third = submit(agenda, BEN, "Datenschutz", 15)
    for item in (first, second, third):
        agenda.accept(ROOM, item, CHAIR)

    agenda.move_to(ROOM, third, 2, CHAIR)  # TOP 2, as the agenda shows it (TOP 1 is the opening)

    result = agenda.agenda(ROOM, meeting.id)
    assert [(n, title) for n, title, _ in result.numbered()] == [
        (1, "Begrüßung und Feststellung der Tagesordnung"),
        (2, "Datenschutz"),
        (3, "KI-Leitlinie"),
        (4, "Pilot Klinik"),
        (5, "Verschiedenes"),
    ]
    assert result.total_minutes == 65
    plain = render(render_agenda(result, "de"))[0].splitlines()
    assert plain[0] == "Tagesordnung: Sitzung FAK KI, Sa., 20.06.2026, 10:00 Uhr, Ort: Köln"
    assert plain[3] == "• TOP 2 Datenschutz – Ben (LWL), 15 Min."
    assert plain[-1] == "Geplante Dauer: 1 Std. 5 Min."


def test_pending_items_are_shown_to_the_chair_only(
    world: tuple[AgendaService, MeetingService, ReminderService],
) -> None:
    agenda, meetings, _ = world
    meetings.create(ROOM, CHAIR, once(at("2026-06-20T10:00:00")), "Sitzung", None)
    submit(agenda, ANNA, "Offener Punkt")

    result = agenda.agenda(ROOM, None)
    assert "Offener Punkt" not in render(render_agenda(result, "de"))[0]
    assert "#1 Offener Punkt – Anna (eingereicht)" in render(pending(result, "de"))[0]


def test_after_the_deadline_items_are_late_and_still_need_the_chair(
    world: tuple[AgendaService, MeetingService, ReminderService], clock: time_machine.Coordinates
) -> None:
    agenda, meetings, _ = world
    meetings.create(ROOM, CHAIR, once(at("2026-06-10T10:00:00")), "Sitzung", None)
    on_time = submit(agenda, ANNA, "Rechtzeitig")
    clock.move_to(at("2026-06-03T10:00:01"))  # deadline: 7 days before, 03.06. 10:00
    late = submit(agenda, BEN, "Zu spät")

    assert agenda.get(ROOM, on_time).status == "submitted"
    assert agenda.get(ROOM, late).status == "late"
    assert agenda.accept(ROOM, late, CHAIR).status == "accepted"


def test_status_rules_for_submitters_and_the_chair(
    world: tuple[AgendaService, MeetingService, ReminderService],
) -> None:
    agenda, meetings, _ = world
    meetings.create(ROOM, CHAIR, once(at("2026-06-20T10:00:00")), "Sitzung", None)
    item = submit(agenda, ANNA, "Alt")

    with pytest.raises(UserError) as not_yours:
        agenda.change(ROOM, item, BEN, "Fremd", None)
    assert not_yours.value.key == "agenda.not_yours"
    assert agenda.change(ROOM, item, ANNA, "Neu", "Mit Beschreibung").title == "Neu"

    agenda.accept(ROOM, item, CHAIR)
    with pytest.raises(UserError) as decided:
        agenda.change(ROOM, item, ANNA, "Zu spät geändert", None)
    assert decided.value.key == "agenda.already_decided"
    with pytest.raises(UserError) as twice:
        agenda.accept(ROOM, item, CHAIR)
    assert twice.value.key == "agenda.already_decided"

    assert agenda.withdraw(ROOM, item, ANNA).status == "withdrawn"
    assert agenda.agenda(ROOM, None).items == []


def test_reject_with_reason_and_positions_close_up(
    world: tuple[AgendaService, MeetingService, ReminderService],
) -> None:
    agenda, meetings, _ = world
    meetings.create(ROOM, CHAIR, once(at("2026-06-20T10:00:00")), "Sitzung", None)
    items = [submit(agenda, ANNA, f"Punkt {n}") for n in range(3)]
    for item in items:
        agenda.accept(ROOM, item, CHAIR)

    rejected = agenda.reject(ROOM, items[0], CHAIR, "passt nicht")

    assert (rejected.status, rejected.reason) == ("rejected", "passt nicht")
    assert [i.position for i in agenda.agenda(ROOM, None).items] == [1, 2]
    with pytest.raises(UserError) as bad:
        agenda.move_to(ROOM, items[1], 5, CHAIR)
    assert bad.value.key == "agenda.bad_position"


def test_deferred_items_stand_on_the_next_meeting(
    world: tuple[AgendaService, MeetingService, ReminderService],
) -> None:
    agenda, meetings, _ = world
    june = meetings.create(ROOM, CHAIR, once(at("2026-06-20T10:00:00")), "Juni", None)
    july = meetings.create(ROOM, CHAIR, once(at("2026-07-20T10:00:00")), "Juli", None)
    item = submit(agenda, ANNA, "Später", 10)
    agenda.accept(ROOM, item, CHAIR)

    deferred, target = agenda.defer(ROOM, item, CHAIR, None)

    assert target.id == july.id
    assert (deferred.status, deferred.meeting_id, deferred.deferred_from) == ("deferred", july.id, june.id)
    assert [i.id for i in agenda.agenda(ROOM, july.id).items] == [item]
    assert agenda.agenda(ROOM, june.id).items == []


def test_a_moved_meeting_keeps_its_items_a_cancelled_one_hands_them_on(
    world: tuple[AgendaService, MeetingService, ReminderService],
) -> None:
    agenda, meetings, _ = world
    june = meetings.create(ROOM, CHAIR, once(at("2026-06-20T10:00:00")), "Juni", None)
    july = meetings.create(ROOM, CHAIR, once(at("2026-07-20T10:00:00")), "Juli", None)
    accepted = submit(agenda, ANNA, "Angenommen")
    agenda.accept(ROOM, accepted, CHAIR)
    waiting = submit(agenda, BEN, "Wartet")

    meetings.reschedule(ROOM, june.id, once(at("2026-06-22T10:00:00")), by=CHAIR)
    assert [i.id for i in agenda.agenda(ROOM, june.id).items] == [accepted]

    handed, target = agenda.hand_over(ROOM, meetings.cancel(ROOM, june.id))

    assert target is not None and target.id == july.id
    assert sorted(i.id for i in handed) == [accepted, waiting]
    assert [i.id for i in agenda.agenda(ROOM, july.id).items] == [accepted]
    assert [i.id for i in agenda.agenda(ROOM, july.id).pending] == [waiting]


def test_deadline_reminder_and_publication_are_reminders_that_follow_the_meeting(
    world: tuple[AgendaService, MeetingService, ReminderService],
) -> None:
    _, meetings, reminders = world
    meeting = meetings.create(ROOM, CHAIR, once(at("2026-06-20T10:00:00")), "Sitzung", None)

    def planned() -> dict[str, datetime | None]:
        return {r.kind: r.next_at for r in reminders.for_meeting(meeting.id)}

    assert planned() == {
        "meeting": at("2026-06-19T10:00:00"),
        "agenda_deadline": at("2026-06-11T10:00:00"),  # 2 days before the deadline (7 days before)
        "agenda_publish": at("2026-06-17T10:00:00"),
    }
    meetings.reschedule(ROOM, meeting.id, once(at("2026-06-27T10:00:00")), by=CHAIR)
    assert planned()["agenda_publish"] == at("2026-06-24T10:00:00")
    meetings.cancel(ROOM, meeting.id)
    assert planned() == {}


async def test_the_one_day_reminder_and_the_publication_carry_the_agenda(
    world: tuple[AgendaService, MeetingService, ReminderService],
    clock: time_machine.Coordinates,
    notifier: RecordingNotifier,
) -> None:
    agenda, meetings, reminders = world
    meeting = meetings.create(ROOM, CHAIR, once(at("2026-06-20T10:00:00")), "Sitzung FAK KI", None)
    agenda.accept(ROOM, submit(agenda, ANNA, "KI-Leitlinie", 30), CHAIR)
    due = {r.kind: r for r in reminders.for_meeting(meeting.id)}

    clock.move_to(at("2026-06-17T10:00:00"))
    await reminders.deliver(due["agenda_publish"].id)
    clock.move_to(at("2026-06-19T10:00:00"))
    await reminders.deliver(due["meeting"].id)

    publication, day_before = (render(p.markdown)[0] for p in notifier.posted)
    assert publication.startswith("Tagesordnung: Sitzung FAK KI, Sa., 20.06.2026, 10:00 Uhr")
    assert "TOP 2 KI-Leitlinie – Anna (LVR), 30 Min." in publication
    assert day_before.startswith("@room Erinnerung: Sitzung Sitzung FAK KI am Sa., 20.06.2026, 10:00 Uhr")
    assert "TOP 2 KI-Leitlinie" in day_before


def test_oparl_export_validates_and_markdown_lists_the_items(
    world: tuple[AgendaService, MeetingService, ReminderService],
) -> None:
    agenda, meetings, _ = world
    meeting = meetings.create(
        ROOM, CHAIR, once(at("2026-06-20T10:00:00")), "Sitzung FAK KI", "Münster | Saal 2"
    )
    agenda.accept(ROOM, submit(agenda, ANNA, "KI-Leitlinie", 30), CHAIR)
    result = agenda.agenda(ROOM, meeting.id)

    exported = json.loads(agenda.oparl_json(result))

    jsonschema.validate(exported, SCHEMA)
    assert [(i["number"], i["order"], i["name"]) for i in exported["agendaItem"]] == [
        ("1", 1, "Begrüßung und Feststellung der Tagesordnung"),
        ("2", 2, "KI-Leitlinie"),
        ("3", 3, "Verschiedenes"),
    ]
    assert exported["start"] == "2026-06-20T10:00:00+02:00"
    markdown = render_markdown_file(result, "de").decode()
    assert "| 2 | KI-Leitlinie | Anna (LVR) | 30 min |" in markdown
    assert "Münster | Saal 2" in markdown


def test_the_number_the_chair_gives_is_the_top_number_members_see(
    world: tuple[AgendaService, MeetingService, ReminderService],
) -> None:
    agenda, meetings, _ = world
    meeting = meetings.create(ROOM, CHAIR, once(at("2026-06-20T10:00:00")), "Sitzung", None)
    first, second = submit(agenda, ANNA, "Erster"), submit(agenda, BEN, "Zweiter")
    agenda.accept(ROOM, first, CHAIR)
    accepted = agenda.accept(ROOM, second, CHAIR)
    assert agenda.top_number(accepted) == 3  # TOP 1 is the opening

    moved = agenda.move_to(ROOM, second, 2, CHAIR)

    assert agenda.top_number(moved) == 2
    assert [(n, title) for n, title, _ in agenda.agenda(ROOM, meeting.id).numbered()][1] == (2, "Zweiter")
    with pytest.raises(UserError) as bad:
        agenda.move_to(ROOM, second, 1, CHAIR)  # the opening's place
    assert bad.value.params == {"position": 1, "low": 2, "high": 3}
