"""Date polls end to end: native poll events and text votes in the encrypted room, close → meeting."""

from __future__ import annotations

import re

from tests.conftest import World
from tests.test_e2e_reminders import in_days


async def test_poll_with_text_and_native_votes_closes_into_a_meeting(world: World) -> None:
    first, second = in_days(10, 10), in_days(11, 14)
    refused = await world.ask(world.member, f"!umfrage Nächste Sitzung; {first}; {second}")
    assert refused == "Diesen Befehl darf nur der Vorsitz verwenden."

    created = await world.ask(world.chair, f"!umfrage Nächste Sitzung; {first}; {second}; lieber online")
    poll_id = re.search(r"Umfrage #(\d+) ist gestartet", created).group(1)  # type: ignore[union-attr]
    start = await world.member.wait_for(
        lambda e: e.sender == world.bot_id and e.type == "org.matrix.msc3381.poll.start"
    )
    body = start.content["org.matrix.msc3381.poll.start"]
    assert start.encrypted
    assert body["kind"] == "org.matrix.msc3381.poll.disclosed"
    assert body["max_selections"] == 3
    assert body["question"] == {"org.matrix.msc1767.text": "Nächste Sitzung"}
    assert [a["id"] for a in body["answers"]] == ["1", "2", "3"]
    assert body["answers"][2]["org.matrix.msc1767.text"] == "lieber online"
    assert "Uhr" in body["answers"][0]["org.matrix.msc1767.text"]
    assert f"!abstimmen #{poll_id} 1 2?" in start.content["org.matrix.msc1767.text"]

    member_vote = await world.ask(world.member, "!abstimmen 1 2?")
    assert member_vote.startswith(f"Ihre Stimme zu Umfrage #{poll_id}: 1 (")
    assert member_vote.endswith("): wenn nötig")
    assert (await world.ask(world.power_chair, f"!abstimmen #{poll_id} 1")).endswith("): ja")
    await world.chair.send_event(
        world.room_id,
        "org.matrix.msc3381.poll.response",
        {
            "m.relates_to": {"rel_type": "m.reference", "event_id": start.event_id},
            "org.matrix.msc3381.poll.response": {"answers": ["2"]},
        },
    )

    standing = await world.ask(world.member, "!umfrage stand")
    lines = standing.splitlines()
    assert lines[0] == f"Stand der Umfrage #{poll_id}: Nächste Sitzung"
    assert lines[2].startswith("1. Option 1: ") and "– 2 ja, 0 wenn nötig" in lines[2]
    assert lines[3].startswith("2. Option 2: ") and "– 1 ja, 1 wenn nötig" in lines[3]
    assert lines[4] == "3. Option 3: lieber online – nur Absagen"
    assert lines[-1] == "Alle haben abgestimmt."

    assert (
        await world.ask(world.member, f"!umfrage schließen {poll_id}")
        == "Diesen Befehl darf nur der Vorsitz verwenden."
    )
    closed = await world.ask(world.chair, f"!umfrage schließen {poll_id}")
    meeting_id = re.search(r"Sitzung #(\d+)", closed).group(1)  # type: ignore[union-attr]

    end = await world.member.wait_for(
        lambda e: e.sender == world.bot_id and e.type == "org.matrix.msc3381.poll.end"
    )
    assert end.content["m.relates_to"] == {"rel_type": "m.reference", "event_id": start.event_id}
    assert end.content["org.matrix.msc1767.text"].startswith("Gewählt: Option 1: ")
    result = await world.member.wait_for(
        lambda e: e.sender == world.bot_id and e.body.startswith(f"Ergebnis der Umfrage #{poll_id}")
    )
    assert "Gewählt: Option 1: " in result.body

    meetings = await world.ask(world.member, "!sitzungen")
    assert f"#{meeting_id} · " in meetings and "Nächste Sitzung" in meetings
    reminders = await world.ask(world.chair, "!erinnerungen")
    assert reminders.count(f"· Sitzung #{meeting_id}") == 3

    too_late = await world.ask(world.member, f"!abstimmen #{poll_id} 2")
    assert too_late == f"Umfrage #{poll_id} ist bereits beendet; Stimmen zählen nicht mehr."


async def test_summary_message_is_kept_current_by_edits(world: World) -> None:
    created = await world.ask(world.chair, "!umfrage Mittagessen?; Pizza; Salat")
    poll_id = re.search(r"Umfrage #(\d+) ist gestartet", created).group(1)  # type: ignore[union-attr]
    summary = await world.member.wait_for(
        lambda e: e.sender == world.bot_id and e.body.startswith(f"Umfrage #{poll_id}: Mittagessen?")
    )
    await world.ask(world.member, f"!abstimmen #{poll_id} 2")

    edit = await world.member.wait_for(
        lambda e: (
            e.sender == world.bot_id
            and (e.content.get("m.relates_to") or {}).get("event_id") == summary.event_id
        )
    )
    assert edit.content["m.relates_to"]["rel_type"] == "m.replace"
    assert "Option 2: Salat – 1 ja, 0 wenn nötig" in edit.content["m.new_content"]["body"]
    assert edit.content["m.new_content"]["m.mentions"] == {"user_ids": []}
