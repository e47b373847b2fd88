"""Data protection end to end: the notice, a member's data in a direct room, forgetting, the audit log."""

from __future__ import annotations

import json
import re

from tests.conftest import World
from tests.test_e2e_reminders import in_days


async def test_privacy_notice_says_what_where_and_how_long(world: World) -> None:
    notice = await world.ask(world.member, "!datenschutz")

    assert notice.startswith("Datenschutz bei akbot")
    assert "SQLite-Datenbank" in notice and "nie Frage oder Antwort" in notice
    assert "sobald sie älter als 365 Tage sind" in notice


async def test_my_data_arrive_as_a_file_in_an_encrypted_direct_room(world: World) -> None:
    await world.ask(world.member, "!erinnerung übermorgen 9 Uhr; Meine Akte")
    known_rooms = set(world.member.client.rooms) | world.member.invites

    answer = await world.ask(world.member, "!meinedaten")
    assert answer.startswith("Ich schicke Ihnen Ihre Daten")

    direct = await world.member.wait_for_invite(known_rooms)
    await world.member.join(direct)
    file_event = await world.member.wait_for(
        lambda e: e.room_id == direct and e.sender == world.bot_id and e.content.get("msgtype") == "m.file",
        timeout=30,
    )
    assert file_event.encrypted and "file" in file_event.content
    exported = json.loads(await world.member.download(file_event))
    assert exported["user_id"] == world.member.user_id
    assert "Meine Akte" in [r["text"] for r in exported["reminders"]]

    # The direct room is not a room the bot serves: commands there are ignored.
    unserved = await world.member.send(direct, "!ping")
    assert (await world.ask(world.member, "!ping")).startswith("pong")
    assert world.member.replies_to(unserved, world.bot_id) == []


async def test_forgetting_after_confirmation_and_the_chair_log(world: World) -> None:
    await world.ask(world.chair, f"!sitzung {in_days(20, 10)}; Protokollierte Sitzung")
    refused = await world.ask(world.member, "!audit")
    assert refused == "Diesen Befehl darf nur der Vorsitz verwenden."

    assert "bestätigen" in await world.ask(world.power_chair, "!vergessen")
    done = await world.ask(world.power_chair, "!vergessen bestätigen")
    assert re.fullmatch(
        r"Erledigt\. Gelöscht – Erinnerungen: \d+\. Anonymisiert – Stimmen: \d+, TOPs: \d+\.", done
    )
    again = await world.ask(world.power_chair, "!vergessen bestätigen")
    assert again == "Es liegt kein Löschwunsch von Ihnen vor. Beginnen Sie mit !vergessen."

    known_rooms = set(world.chair.client.rooms) | world.chair.invites
    # The chair's log is the chair's: it goes to them alone, not into the shared room.
    assert await world.ask(world.chair, "!audit") == "Das Protokoll habe ich Ihnen privat geschickt."
    direct = await world.chair.wait_for_invite(known_rooms)
    await world.chair.join(direct)
    private = await world.chair.wait_for(
        lambda e: e.room_id == direct and e.sender == world.bot_id and "Protokoll" in e.body, timeout=30
    )
    assert private.encrypted
    log = private.body.splitlines()
    assert log[0] == "Protokoll des Vorsitzes (neueste zuerst)"
    assert "ehemaliges Mitglied · vergessen" in log[2]
    assert any(f"{world.chair.user_id} · Sitzung #" in line and " angelegt für " in line for line in log)
