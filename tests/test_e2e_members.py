"""Stakeholder groups and what peers' members asked for, end to end: real Synapse, encrypted room, real
clients. A poll tallied per group with a native and text votes, the chair told when everyone has
voted, a meeting start that names the groups not present; a reminder joined with "ich auch" and one
snoozed with "später", both as replies."""

from __future__ import annotations

import re

from tests.conftest import World
from tests.kit.users import Seen
from tests.test_e2e_federation import poll_response
from tests.test_e2e_reminders import in_days


async def test_a_poll_per_group_the_chair_told_when_all_voted_and_the_absent_groups_at_the_start(
    world: World,
) -> None:
    # Vorsitz: Verwaltung (own profile); Leitung: IT (by the chair); Mitglied: Kliniken (own profile).
    assert "Verwaltung" in await world.ask(world.chair, "!profil Verwaltung")
    assigned = await world.ask(world.chair, f"!gruppe IT {world.power_chair.user_id}")
    assert assigned.endswith("jetzt in der Gruppe IT."), assigned
    assert "Kliniken" in await world.ask(world.member, "!profil kliniken")
    listing = await world.ask(world.member, "!mitglieder")
    assert "Mitglieder des Raums (3)" in listing and "• Kliniken (1): " in listing, listing

    created = await world.ask(world.chair, f"!umfrage Nächste Sitzung; {in_days(20, 10)}; {in_days(21, 14)}")
    poll_id = re.search(r"Umfrage #(\d+) ist gestartet", created).group(1)  # type: ignore[union-attr]
    start = await world.power_chair.wait_for(
        lambda e: (
            e.sender == world.bot_id
            and e.type == "org.matrix.msc3381.poll.start"
            and f"#{poll_id} " in str(e.content.get("org.matrix.msc1767.text", ""))
        )
    )
    assert (await world.ask(world.member, f"!abstimmen #{poll_id} 1")).endswith("): ja")
    # Leitung votes in Element's poll (no message of hers in the room: she stays "not present").
    await world.power_chair.send_event(
        world.room_id, "org.matrix.msc3381.poll.response", poll_response(start.event_id, ["1"])
    )
    await world.power_chair.wait_for(
        lambda e: e.sender == world.bot_id and "Nach Gruppe: " in e.body and "IT: 1 von 1" in e.body,
        timeout=20,
    )  # the live summary, edited
    standing = (await world.ask(world.member, f"!umfrage stand #{poll_id}")).splitlines()
    assert "• Kliniken: 1 von 1 abgestimmt" in standing, standing
    assert "• IT: 1 von 1 abgestimmt" in standing, standing
    assert "• Verwaltung: 0 von 1 abgestimmt" in standing, standing
    assert any(line.startswith("2. Option 2: ") and line.endswith("nur Absagen") for line in standing)

    # The last vote: the chair is told, once, by a mention, with the date nobody can make.
    await world.ask(world.chair, f"!abstimmen #{poll_id} 1")
    told: Seen = await world.chair.wait_for(
        lambda e: e.sender == world.bot_id and f"in Umfrage #{poll_id} " in e.body and "Alle 3" in e.body,
        timeout=20,
    )
    assert told.encrypted
    assert told.content["m.mentions"] == {"user_ids": [world.chair.user_id]}
    assert f"streichen mit !umfrage streichen {poll_id} 2" in told.body, told.body
    struck = await world.ask(world.chair, f"!umfrage streichen {poll_id} 2")
    assert "gestrichen" in struck, struck

    await world.ask(world.chair, f"!sitzung {in_days(30, 10)}; Sitzung mit Gruppen")
    await world.member.send(world.room_id, "Guten Morgen, ich bin dabei")  # present when it begins
    started = await world.ask(world.chair, "!sitzung beginnen")
    assert "Nicht anwesend sind bisher: IT." in started, started
    assert "Ohne Mitglied im Raum: Förderschulen, Personalvertretung, Unternehmen, Politik." in started
    ended = await world.ask(world.chair, "!sitzung beenden")
    assert "(Kliniken)" in ended and "(Verwaltung)" in ended, ended


async def test_a_reminder_joined_with_me_too_and_snoozed_by_reply(world: World) -> None:
    confirmation = await world.member.ask(
        world.room_id, "!erinnerung in 4 Sekunden; Tee aufsetzen", world.bot_id
    )
    assert confirmation.body.startswith("Ich erinnere Sie am "), confirmation.body
    joined = await world.power_chair.ask_reply(
        world.room_id, confirmation.event_id, "!ich auch", world.bot_id
    )
    assert joined.body.startswith("Sie werden mit erinnert: #"), joined.body

    due = await world.member.wait_for(
        lambda e: (
            e.sender == world.bot_id and e.body.startswith("Erinnerung für ") and "Tee aufsetzen" in e.body
        ),
        timeout=20,
    )
    assert due.encrypted
    assert sorted(due.content["m.mentions"]["user_ids"]) == sorted(
        [world.member.user_id, world.power_chair.user_id]
    )
    assert "Auch für: " in due.body

    snoozed = await world.power_chair.ask_reply(
        world.room_id, due.event_id, "!später in 3 Sekunden", world.bot_id
    )
    assert snoozed.body.startswith("Ich erinnere Sie noch einmal am "), snoozed.body
    again = await world.power_chair.wait_for(
        lambda e: (
            e.sender == world.bot_id
            and e.event_id != due.event_id
            and e.body.startswith("Erinnerung für ")
            and "Tee aufsetzen" in e.body
        ),
        timeout=20,
    )
    assert again.content["m.mentions"] == {"user_ids": [world.power_chair.user_id]}  # hers alone
    refused = await world.member.ask_reply(world.room_id, confirmation.event_id, "!später", world.bot_id)
    assert refused.body.startswith("Bitte antworten Sie mit !später"), refused.body
