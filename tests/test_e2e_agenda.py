"""The agenda end to end: submit, decide, order, show, export — in the encrypted room."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema

from tests.conftest import World
from tests.test_e2e_reminders import in_days

SCHEMA = json.loads((Path(__file__).parent / "oparl_meeting.schema.json").read_text())


async def test_submit_decide_order_and_export_the_agenda(world: World) -> None:
    no_meeting = await world.ask(world.member, "!top KI-Leitlinie")
    assert no_meeting == "Es ist keine Sitzung geplant, für die Sie einen TOP einreichen könnten."
    created = await world.ask(world.chair, f"!sitzung {in_days(10, 10)}; Sitzung FAK KI; Münster")
    meeting_id = re.search(r"Sitzung #(\d+) angelegt", created).group(1)  # type: ignore[union-attr]

    first = await world.ask(world.member, "!top KI-Leitlinie; Entwurf der Arbeitsgruppe; 30 min")
    first_id = re.search(r"TOP #(\d+)", first).group(1)  # type: ignore[union-attr]
    assert f"für Sitzung #{meeting_id} (" in first and first.endswith("eingereicht. Der Vorsitz entscheidet.")
    second = await world.ask(world.power_chair, "!top Ändern der Geschäftsordnung; 15 min")
    second_id = re.search(r"TOP #(\d+)", second).group(1)  # type: ignore[union-attr]
    assert "„Ändern der Geschäftsordnung“" in second

    refused = await world.ask(world.member, f"!top annehmen {first_id}")
    assert refused == "Diesen Befehl darf nur der Vorsitz verwenden."

    accepted = await world.chair.ask(world.room_id, f"!top annehmen {first_id}", world.bot_id)
    assert accepted.body.endswith(f"TOP #{first_id} „KI-Leitlinie“ ist angenommen (TOP 2 der Tagesordnung).")
    assert accepted.content["m.mentions"] == {"user_ids": [world.member.user_id]}
    await world.ask(world.chair, f"!top annehmen {second_id}")
    moved = await world.ask(world.chair, f"!top position {second_id} 2")  # TOP 2, as members see it
    assert moved == f"TOP #{second_id} „Ändern der Geschäftsordnung“ ist jetzt TOP 2 der Tagesordnung."

    shown = (await world.ask(world.member, "!tagesordnung")).splitlines()
    assert shown[0].startswith("Tagesordnung: Sitzung FAK KI, ") and shown[0].endswith(", Ort: Münster")
    assert shown[2] == "• TOP 1 Begrüßung und Feststellung der Tagesordnung"
    assert shown[3].startswith("• TOP 2 Ändern der Geschäftsordnung – ") and shown[3].endswith(", 15 Min.")
    assert shown[4].startswith("• TOP 3 KI-Leitlinie – ") and shown[4].endswith(", 30 Min.")
    assert shown[5] == "Entwurf der Arbeitsgruppe"
    assert shown[6] == "• TOP 4 Verschiedenes"
    assert shown[-1] == "Geplante Dauer: 45 Min."

    seen = {e.event_id for e in world.member.seen}
    await world.ask(world.chair, f"!tagesordnung export #{meeting_id}")
    files = [
        await world.member.wait_for(
            lambda e, name=name: e.sender == world.bot_id and e.event_id not in seen and e.body.endswith(name)
        )
        for name in (".md", ".json")
    ]
    exported = json.loads(await world.member.download(files[1]))
    jsonschema.validate(exported, SCHEMA)
    assert [item["name"] for item in exported["agendaItem"]] == [
        "Begrüßung und Feststellung der Tagesordnung",
        "Ändern der Geschäftsordnung",
        "KI-Leitlinie",
        "Verschiedenes",
    ]
    assert "| 3 | KI-Leitlinie |" in (await world.member.download(files[0])).decode()


async def test_a_late_item_is_marked_and_waits_for_the_chair(world: World) -> None:
    created = await world.ask(world.chair, f"!sitzung {in_days(3, 9)}; Kurzfristige Sitzung")
    meeting_id = re.search(r"Sitzung #(\d+) angelegt", created).group(1)  # type: ignore[union-attr]

    late = await world.ask(world.member, f"!top #{meeting_id} Nachzügler")

    assert f"für Sitzung #{meeting_id}" in late and "nachgereicht – die Einreichfrist endete am" in late
    known_rooms = set(world.chair.client.rooms) | world.chair.invites
    chair_view = await world.ask(world.chair, f"!tagesordnung #{meeting_id}")
    # What waits for the chair's decision is not the room's: it goes to the chair alone.
    assert "Nachzügler" not in chair_view
    assert chair_view.endswith(
        "Die noch nicht entschiedenen Einreichungen (1) habe ich Ihnen privat geschickt."
    )
    direct = await world.chair.wait_for_invite(known_rooms)
    await world.chair.join(direct)
    private = await world.chair.wait_for(
        lambda e: e.room_id == direct and e.sender == world.bot_id and "Nachzügler" in e.body, timeout=30
    )
    assert private.encrypted
    assert f"Sitzung #{meeting_id} Kurzfristige Sitzung (nur für Sie als Vorsitz)" in private.body
    assert "(nachgereicht)" in private.body
    assert "Nachzügler" not in await world.ask(world.member, f"!tagesordnung #{meeting_id}")
