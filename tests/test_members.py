"""Members and stakeholder groups through the whole app without a homeserver (tests/kit/offline.py):
profiles, the chair's assignments, the room by group, polls per group, the groups absent when a
meeting begins, the participation report, and what members of peer bots asked for: a room time
zone, snooze, "me too", a reminder that names its setter and a limit on members' room reminders."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import time_machine

from bot.app import App
from bot.render import render
from bot.timeparse import next_occurrence
from tests.clock import at
from tests.kit import offline
from tests.kit.offline import CHAIR, MEMBER, ROOM, Recorder, dispatch, hear, running
from tests.test_minutes import say
from tests.test_polls import VirtualTime, as_module

CLINIC = "@klinik:lvr.de"
SCHOOL = "@schule:lwl.org"


@pytest.fixture
async def world(tmp_path: Path, clock: time_machine.Coordinates) -> AsyncIterator[tuple[App, Recorder]]:
    async with running(tmp_path, members=(CHAIR, MEMBER, CLINIC, SCHOOL)) as started:
        yield started


async def groups(app: App) -> None:
    """Vorsitz: Verwaltung; Mitglied: IT; Klinik: Kliniken; Schule: Förderschulen."""
    assert "gespeichert" in await say(app, "!profil Verwaltung", CHAIR)
    assert "IT" in await say(app, "!profil it", MEMBER)
    await say(app, f"!gruppe Kliniken {CLINIC}")
    await say(app, "!gruppe förder", mentioned=[SCHOOL])  # a pill: its user is in m.mentions


async def test_a_member_sets_their_groups_and_the_chair_assigns_others(world: tuple[App, Recorder]) -> None:
    app, _ = world

    shown = await say(app, "!profil", MEMBER)
    assert "Organisation: LWL (nach Ihrem Homeserver)" in shown
    assert "Interessengruppen: noch keine angegeben" in shown
    assert "Verwaltung, IT, Kliniken, Förderschulen, Personalvertretung, Unternehmen, Politik" in shown

    saved = await say(app, "!profil Kliniken, personal", MEMBER)
    assert "Interessengruppen: Kliniken, Personalvertretung" in saved
    assert "Eine Gruppe „Klinikum“ gibt es nicht" in await say(app, "!profil Klinikum", MEMBER)
    assert "Interessengruppen: Kliniken, Personalvertretung" in await say(app, "!profil", MEMBER)  # kept
    assert "noch keine angegeben" in await say(app, "!profil keine", MEMBER)

    assert "nur der Vorsitz" in await say(app, f"!gruppe IT {CLINIC}", MEMBER)
    assert f"{CLINIC}: jetzt in der Gruppe Kliniken" in await say(app, f"!gruppe Kliniken {CLINIC}")
    assert "Nicht in diesem Raum: @fremd:lvr.de" in await say(app, "!gruppe Kliniken @fremd:lvr.de")
    assert "weder eine Interessengruppe" in await say(app, f"!gruppe Vorstand {CLINIC}")
    assert "Bitte nennen Sie die Personen" in await say(app, "!gruppe Kliniken")
    # An organisation by the chair's word: an external company's member belongs to LWL's project.
    assert "Organisation jetzt LWL" in await say(app, f"!gruppe lwl {CLINIC}")
    assert "Organisation: LWL (vom Vorsitz eingetragen)" in await say(app, "!profil", CLINIC)
    await say(app, f"!gruppe entfernen LWL {CLINIC}")
    assert "Organisation: LVR (nach Ihrem Homeserver)" in await say(app, "!profil", CLINIC)
    assert "nicht mehr in der Gruppe Kliniken" in await say(app, f"!gruppe entfernen Kliniken {CLINIC}")

    await groups(app)
    listing = (await say(app, "!mitglieder", MEMBER)).split("\n")
    assert "Mitglieder des Raums (4)" in listing[0]
    assert "• Verwaltung (1): @vorsitz:lvr.de" in listing
    assert "• Kliniken (1): @klinik:lvr.de" in listing
    assert "• LVR (2): @klinik:lvr.de, @vorsitz:lvr.de" in listing
    assert "• LWL (2): @mitglied:lwl.org, @schule:lwl.org" in listing

    data = json.loads(app.privacy.export_json(CLINIC))
    assert [json.loads(row["groups"]) for row in data["profile"]] == [["Kliniken"]]


async def test_a_poll_is_tallied_per_group_and_the_chair_is_told_when_everyone_voted(
    world: tuple[App, Recorder], monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.services.polls as polls_module

    app, recorder = world
    virtual = VirtualTime()  # the summary's 2 s between edits, without waiting them
    monkeypatch.setattr(polls_module, "time", as_module(time, monotonic=virtual.monotonic))
    monkeypatch.setattr(polls_module, "asyncio", as_module(asyncio, sleep=virtual.sleep))
    await groups(app)
    await say(app, "!umfrage Sitzung im Juni; Di 16.06. 10 Uhr; Mi 17.06. 14 Uhr; Do 18.06. 9 Uhr")

    await say(app, "!abstimmen 1 2", CHAIR)
    await say(app, "!abstimmen 1", MEMBER)
    standing = (await say(app, "!umfrage stand", MEMBER)).split("\n")
    assert "• Verwaltung: 1 von 1 abgestimmt" in standing
    assert "• Kliniken: 0 von 1 abgestimmt" in standing
    assert "3. Option 3: Do., 18.06.2026, 09:00 Uhr – nur Absagen" in standing

    await app.polls.nudge(ROOM, 1)
    nudge = recorder.contents[-1]
    assert "Noch nicht gehört: Kliniken, Förderschulen." in nudge["body"]
    assert sorted(nudge["m.mentions"]["user_ids"]) == [CLINIC, SCHOOL]

    def told() -> list[dict[str, object]]:
        return [c for c in recorder.contents if "Alle 4 Mitglieder" in str(c.get("body"))]

    await say(app, "!abstimmen 2", CLINIC)
    await virtual.advance(2.0)
    assert told() == []
    await say(app, "!abstimmen 2", SCHOOL)
    await virtual.advance(2.0)
    assert len(told()) == 1
    message = told()[0]
    assert message["m.mentions"] == {"user_ids": [CHAIR]}
    assert (
        "Option 3 (Do., 18.06.2026, 09:00 Uhr) hat nur Absagen; streichen mit !umfrage streichen 1 3"
        in str(message["body"])
    )
    assert "Beenden mit !umfrage schließen 1" in str(message["body"])
    await say(app, "!abstimmen 1 2", SCHOOL)  # a changed vote: the chair is not told again
    await virtual.advance(2.0)
    assert len(told()) == 1

    assert "Option 3 (Do., 18.06.2026, 09:00 Uhr) ist aus Umfrage #1 gestrichen" in await say(
        app, "!umfrage streichen 1 3"
    )
    assert "Option 3 ist gestrichen" in await say(app, "!abstimmen 3", MEMBER)
    assert "Option 3 ist gestrichen" in await say(app, "!umfrage schließen 1 3")
    await say(app, "!umfrage schließen 1 2")
    outcome = next(body for body in recorder.sent_to(ROOM) if body.startswith("Ergebnis"))
    assert "• Kliniken: 1 von 1 abgestimmt" in outcome.split("\n")
    assert "Gewählt: Option 2: Mi., 17.06.2026, 14:00 Uhr" in outcome
    assert "Hinweis: An diesem Termin kann niemand aus IT." in outcome  # the member said only 1
    assert "gestrichen: Option 3: Do., 18.06.2026, 09:00 Uhr" in outcome


async def test_a_meeting_start_names_the_groups_not_present(world: tuple[App, Recorder]) -> None:
    app, _ = world
    await groups(app)
    await say(app, "!sitzung 01.06.2026 10 Uhr; Sitzung des FAK KI")
    await hear(app, "Guten Morgen, ich bin da", CLINIC)  # before the meeting: present when it begins

    started = await say(app, "!sitzung beginnen")
    assert "Nicht anwesend sind bisher: IT, Förderschulen." in started
    assert "Ohne Mitglied im Raum: Personalvertretung, Unternehmen, Politik." in started

    await hear(app, "Hallo aus der Förderschule", SCHOOL)
    await say(app, "!sitzung beenden")
    draft = await say(app, "!protokoll")
    assert "@klinik:lvr.de (Kliniken)" in draft and "@schule:lwl.org (Förderschulen)" in draft


async def test_the_report_shows_which_group_is_not_heard(
    world: tuple[App, Recorder], clock: time_machine.Coordinates
) -> None:
    app, _ = world
    await groups(app)
    await say(app, "!sitzung 01.06.2026 10 Uhr; Erste Sitzung")
    await say(app, "!top Klinik-Pilot", CLINIC)
    await say(app, "!top annehmen 1")
    clock.move_to(at("2026-06-01T10:00:00"))
    await say(app, "!sitzung beginnen")
    await hear(app, "Moin", CLINIC)
    await say(app, "!sitzung beenden")
    await say(app, "!umfrage Nächster Termin; Di 16.06. 10 Uhr; Mi 17.06. 14 Uhr")
    await say(app, "!abstimmen 1", CLINIC)
    await say(app, "!abstimmen 2", CHAIR)

    assert "nur der Vorsitz" in await say(app, "!bericht", MEMBER)
    lines = (await say(app, "!bericht")).split("\n")
    assert "Sitzungen seit Mo., 01.06.2026: 1; Umfragen: 1" in lines[0]
    assert (
        "• Kliniken – Mitglieder im Raum: 1; vertreten in 1 von 1 Sitzungen; eingereichte TOPs: 1; Stimmen: 1"
        in lines
    )
    assert "• Politik: kein Mitglied im Raum" in lines
    assert lines[-1] == "Nicht gehört: IT, Förderschulen."


async def test_room_reminders_name_their_setter_and_members_have_a_limit(
    world: tuple[App, Recorder], clock: time_machine.Coordinates
) -> None:
    app, recorder = world
    for number in range(3):
        await say(app, f"!erinnerung raum morgen 9 Uhr; Unterlagen lesen {number}", MEMBER)
    refused = await say(app, "!erinnerung raum morgen 9 Uhr; noch eine", MEMBER)
    assert "bereits 3 aktive Raum-Erinnerungen" in refused
    await say(app, "!erinnerung raum morgen 9 Uhr; vom Vorsitz")  # the chair has no such limit
    assert "bereits" not in await say(app, "!erinnerung morgen 9 Uhr; persönlich", MEMBER)

    reminder = app.reminders.list_for(ROOM, MEMBER, everyone=False)[0]
    await app.reminders.deliver(reminder.id)  # due now? not yet: nothing is posted
    assert not any("Unterlagen lesen 0" in body for body in recorder.sent_to(ROOM))
    app.reminders._clock = lambda: at("2026-06-02T09:00:00")
    await app.reminders.deliver(reminder.id)
    assert recorder.sent_to(ROOM)[-1] == "Erinnerung von @mitglied:lwl.org: Unterlagen lesen 0"


async def test_me_too_and_snooze_as_replies_to_a_reminder(
    world: tuple[App, Recorder], clock: time_machine.Coordinates
) -> None:
    app, recorder = world
    command = "$erinnerung-anna"
    await dispatch(app, "!erinnerung morgen 9 Uhr; Bericht lesen", MEMBER, event_id=command)
    confirmation = offline.last_reply_id

    joined = await dispatch(app, "!ich auch", CLINIC, replied_to=confirmation)
    assert "Sie werden mit erinnert: #1 am Di., 02.06.2026, 09:00 Uhr – Bericht lesen" in render(joined[0])[0]
    assert "!me too" not in render((await dispatch(app, "!me too", SCHOOL, replied_to=command))[0])[0]
    assert "Ihre eigene" in render((await dispatch(app, "!ich auch", MEMBER, replied_to=command))[0])[0]
    assert "Bitte antworten Sie mit" in render((await dispatch(app, "!ich auch", CLINIC))[0])[0]

    clock.move_to(at("2026-06-02T09:00:00"))
    await app.reminders.deliver(1)
    posted = recorder.contents[-1]
    assert (
        posted["body"]
        == "Erinnerung für @mitglied:lwl.org: Bericht lesen\nAuch für: @klinik:lvr.de, @schule:lwl.org"
    )
    assert sorted(posted["m.mentions"]["user_ids"]) == sorted([MEMBER, CLINIC, SCHOOL])
    fired = f"$e{len(recorder.contents)}"

    assert "Bitte antworten Sie mit `!später`" not in await say(
        app, "!später 15 min", CLINIC, replied_to=fired
    )
    snoozed = app.reminders.list_for(ROOM, CLINIC, everyone=False)
    assert [(r.text, r.next_at) for r in snoozed] == [("Bericht lesen", at("2026-06-02T09:15:00"))]
    assert "10:00 Uhr" in await say(app, "!später morgen 10 Uhr", SCHOOL, replied_to=fired)
    assert "Bitte antworten Sie mit" in await say(app, "!später", SCHOOL, replied_to=confirmation)

    clock.move_to(at("2026-06-02T09:15:00"))
    await app.reminders.deliver(snoozed[0].id)
    again = recorder.contents[-1]  # the clinic's alone: the others are not reminded twice
    assert again["body"] == "Erinnerung für @klinik:lvr.de: Bericht lesen"
    assert again["m.mentions"] == {"user_ids": [CLINIC]}


async def test_a_room_time_zone_reads_shows_and_repeats_reminders_there(
    world: tuple[App, Recorder], clock: time_machine.Coordinates
) -> None:
    app, _ = world
    assert "Europe/Berlin (die des Bots)" in await say(app, "!zeitzone", MEMBER)
    assert "nur der Vorsitz" in await say(app, "!zeitzone Europe/London", MEMBER)
    assert "kenne ich nicht" in await say(app, "!zeitzone Mars/Olympus")
    assert "Europe/London" in await say(app, "!zeitzone london")  # the city alone, any case

    confirmed = await say(app, "!erinnerung jeden Montag 9 Uhr; Wochenplanung", MEMBER)
    assert "09:00 Uhr" in confirmed
    reminder = app.reminders.list_for(ROOM, MEMBER, everyone=False)[0]
    assert reminder.next_at is not None
    # 08:00 in London while it is 09:00 in Berlin: today's 09:00 is still to come there.
    assert reminder.next_at.isoformat() == "2026-06-01T09:00:00+01:00"
    assert "Mo., 01.06.2026, 09:00 Uhr" in await say(app, "!erinnerungen", MEMBER)

    # Across the change to winter time (25.10.) the series stays at 09:00 in London: at 09:30 in
    # Berlin on the Monday after, it is 08:30 there, and 09:00 London time is still to come.
    stored = app.reminders.get(reminder.id)
    assert stored.rrule is not None
    after = next_occurrence(stored.rrule, stored.first_at, at("2026-10-26T09:30:00"))
    assert after is not None and after.isoformat() == "2026-10-26T09:00:00+00:00"

    assert "Europe/Berlin" in await say(app, "!zeitzone standard")


async def test_a_busy_rooms_reminder_list_shows_the_soonest_and_says_how_many_more(
    world: tuple[App, Recorder],
) -> None:
    app, _ = world
    for day in range(1, 31):
        await say(app, f"!erinnerung raum in {day} Tagen; Punkt {day}")
    lines = (await say(app, "!erinnerungen")).split("\n")
    assert sum(1 for line in lines if line.startswith("• #")) == 25
    assert "Punkt 25" in lines[-2] and lines[-1] == "… und 5 weitere, die später fällig sind."
