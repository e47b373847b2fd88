"""The bot across two federating homeservers, in an encrypted room.

LVR's server ("lvr", A) is home to the bot and ``mitglied``; LWL's ("lwl", B) to the chair
``vorsitz``, ``kollegin`` and ``fremd``. The chair on B creates the room and invites the bot, who
follows the remote chair's invitation (the room is not configured). ``bot.chairs`` is empty: the
chair's rights come from her power in the room (room version 12: as its creator she outranks
every power level; a member given power 100 is a chair as well). A third server carries a
namesake of the chair, whose invitation the bot must refuse. One world serves the module; each
test starts from ``fresh_start`` and leaves the servers running as it found them.
"""

from __future__ import annotations

import asyncio
import logging
import re
import statistics
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import icalendar
import pytest
from nio import RoomInviteResponse

from bot.app import App
from bot.matrix.rooms import CREATOR_POWER_LEVEL
from bot.modelserver import MODEL_NAME, ModelServer
from bot.settings import LlmSettings
from tests.conftest import PASSWORD, close_world
from tests.kit.federation import RETRY_CAP, FederatedWorld, build_federated_world, start_servers
from tests.kit.stats import Sample, breakdown
from tests.kit.users import ChatClient, Seen, reply_from, round_trip
from tests.test_e2e_ask import LABEL, edit_of, in_thread
from tests.test_e2e_reminders import BERLIN, in_days
from tests.test_minutes import pdf_text

CHAIR_ONLY = "Diesen Befehl darf nur der Vorsitz verwenden."
PING_ROUNDS = 5
# Federation on loopback takes well under a second per hop; these only bound a hang.
ANSWER_S = 30.0
OUTAGE_S = 20.0


@pytest.fixture(scope="module")
async def shared_world(
    model_server: ModelServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FederatedWorld]:
    """The module's world, with the small model for ``!frage``."""
    llm = LlmSettings(
        base_url=model_server.base_url,
        model=MODEL_NAME,
        max_tokens=48,
        edit_interval=0.2,
        frequency_penalty=1.0,
    )
    roots = [tmp_path_factory.mktemp(name) for name in ("hs_lvr", "hs_lwl", "hs_outside")]
    began = time.monotonic()
    lvr, lwl, outside = await asyncio.to_thread(start_servers, roots)
    started = time.monotonic()
    try:
        built = await build_federated_world(
            lvr, lwl, tmp_path_factory.mktemp("world"), outside=outside, llm=llm
        )
        print(
            f"\nthree federating servers started in {started - began:.1f} s, "
            f"world built (invite followed, room settled) in {time.monotonic() - started:.1f} s"
        )
        yield built
        await close_world(built)
    finally:
        for server in (lvr, lwl, outside):
            server.stop()


def from_bot(world: FederatedWorld, check: Callable[[Seen], bool]) -> Callable[[Seen], bool]:
    return lambda e: e.sender == world.bot_id and check(e)


def reminder_text(text: str) -> Callable[[Seen], bool]:
    return lambda e: "Erinnerung" in e.body.split(":")[0] and text in e.body


async def count_in_history(client: ChatClient, room_id: str, predicate: Callable[[Seen], bool]) -> int:
    """How often the room holds a matching event, as the client's own homeserver keeps it."""
    return sum(1 for event in await client.history(room_id) if predicate(event))


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} ms"


# ---- 1: ping from both servers -------------------------------------------------------------------


async def test_ping_is_answered_for_local_and_remote_members(world: FederatedWorld) -> None:
    timings: dict[str, list[Sample]] = {}
    for label, who in (("local (LVR, the bot's server)", world.member), ("remote (LWL)", world.colleague)):
        samples = []
        for _ in range(PING_ROUNDS):
            sample = await round_trip(who, world.room_id, "!ping", reply_from(world.bot_id), ANSWER_S)
            assert sample is not None, f"{who.user_id}: no pong within {ANSWER_S} s"
            samples.append(sample)
        timings[label] = samples
    pongs = [e for e in world.colleague.seen if e.sender == world.bot_id and e.body.startswith("pong")]
    assert len(pongs) >= PING_ROUNDS and all(e.encrypted and e.in_reply_to for e in pongs)
    print()
    for label, samples in timings.items():
        totals = [s.total_ms for s in samples]
        parts = breakdown(samples)
        print(
            f"!ping round trip {label}: median {statistics.median(totals):.0f} ms, "
            f"min {min(totals):.0f} ms, max {max(totals):.0f} ms "
            f"({', '.join(f'{t:.0f}' for t in totals)}); medians by server timestamps: "
            f"command to reply {ms(parts['turn'])}, reply to reader {ms(parts['back'])}, "
            f"bot's own processing {ms(parts['self'])}"
        )


# ---- 2: the chair by power level -----------------------------------------------------------------


async def test_remote_chair_by_power_level_may_schedule_members_may_not(world: FederatedWorld) -> None:
    app = world.bot.app
    assert app is not None
    assert app.settings.bot.chairs == []
    # Room version 12: the creator's power is above any level (MSC4289), as the bot reads it.
    assert app.adapter.power_level(world.room_id, world.chair.user_id) == CREATOR_POWER_LEVEL
    assert app.adapter.power_level(world.room_id, world.colleague.user_id) == 0

    command = "!sitzung in 30 Tagen 10 Uhr; Sitzung"
    created = await world.ask(world.chair, command, ANSWER_S)
    assert re.search(r"Sitzung #\d+ angelegt", created), created
    assert await world.ask(world.member, command, ANSWER_S) == CHAIR_ONLY
    assert await world.ask(world.colleague, command, ANSWER_S) == CHAIR_ONLY

    # The classic way: the chair gives her colleague power 100 in m.room.power_levels, and 0 again.
    await set_power(world, world.colleague.user_id, 100)
    try:
        created = await world.ask(world.colleague, command, ANSWER_S)
        assert re.search(r"Sitzung #\d+ angelegt", created), created
    finally:
        await set_power(world, world.colleague.user_id, 0)
    assert await world.ask(world.colleague, command, ANSWER_S) == CHAIR_ONLY


async def test_a_chair_removed_from_the_power_levels_is_no_chair_any_more(world: FederatedWorld) -> None:
    # nio merges new power levels into the old ones; the bot's client replaces them (client.py).
    command = "!sitzung in 31 Tagen 10 Uhr; Sitzung"
    await set_power(world, world.colleague.user_id, 100)
    try:
        # Back to users_default the way the spec allows: the entry is gone from the map.
        await set_power(world, world.colleague.user_id, None, bot_sees=0)
        # The bot handles the command after the power levels that came before it.
        assert await world.ask(world.colleague, command, ANSWER_S) == CHAIR_ONLY
    finally:
        await set_power(world, world.colleague.user_id, 0)  # an explicit 0 reaches the bot


async def set_power(
    world: FederatedWorld, user_id: str, level: int | None, *, bot_sees: int | None = -1
) -> None:
    """The chair sets ``user_id``'s power level (None: removes the entry), then waits until the bot
    sees ``bot_sees`` (by default the level set; None: does not wait)."""
    client = world.chair.client
    current = await client.room_get_state_event(world.room_id, "m.room.power_levels")
    content = dict(current.content)
    users = dict(content.get("users", {}))
    if level is None:
        users.pop(user_id, None)
    else:
        users[user_id] = level
    content["users"] = users
    response = await client.room_put_state(world.room_id, "m.room.power_levels", content)
    assert getattr(response, "event_id", None), response
    expected = level if bot_sees == -1 else bot_sees
    if expected is None:
        return
    app = world.bot.app
    assert app is not None
    deadline = time.monotonic() + ANSWER_S
    while app.adapter.power_level(world.room_id, user_id) != expected:
        assert time.monotonic() < deadline, f"the bot never saw {user_id} at power {expected}"
        await asyncio.sleep(0.1)


# ---- 3: a date poll with votes from both servers -------------------------------------------------


async def test_poll_counts_text_votes_from_both_servers(world: FederatedWorld) -> None:
    created = await world.ask(
        world.chair, f"!umfrage Nächste Sitzung; {in_days(20, 10)}; {in_days(21, 14)}", ANSWER_S
    )
    found = re.search(r"Umfrage #(\d+) ist gestartet", created)
    assert found, created
    poll_id = found.group(1)

    assert (await world.ask(world.member, "!abstimmen 1", ANSWER_S)).startswith(
        f"Ihre Stimme zu Umfrage #{poll_id}: 1 ("
    )
    assert (await world.ask(world.colleague, "!abstimmen 2?", ANSWER_S)).endswith("): wenn nötig")

    standing = await world.ask(world.chair, "!umfrage stand", ANSWER_S)
    lines = standing.splitlines()
    assert lines[0] == f"Stand der Umfrage #{poll_id}: Nächste Sitzung"
    first = next(line for line in lines if "Option 1: " in line)
    second = next(line for line in lines if "Option 2: " in line)
    member_name = world.member.user_id[1:].split(":")[0]  # the display name Synapse gave
    colleague_name = world.colleague.user_id[1:].split(":")[0]
    assert "1 ja, 0 wenn nötig" in first and member_name in first, standing
    assert "0 ja, 1 wenn nötig" in second and colleague_name in second, standing
    assert lines[-1].startswith("Noch nicht abgestimmt: "), standing
    print(f"\n{standing}")


# ---- 4: invitations the bot must refuse ----------------------------------------------------------


async def declined(world: FederatedWorld, inviter: ChatClient, caplog: pytest.LogCaptureFixture) -> str:
    """``inviter`` creates an encrypted room and invites the bot; the room, once the bot declined.

    The decision is read off the bot's log: a declined invitation leaves no trace the inviter can
    be sure to see (see ``leave_reaches_inviter``).
    """
    room_id = await inviter.create_room("Privatrunde", invite=[world.bot_id])
    # createRoom returns once the bot's server has taken the invitation (a federation request).
    wanted = f"declining invite to {room_id} from {inviter.user_id}"
    deadline = time.monotonic() + ANSWER_S
    while not any(wanted in record.getMessage() for record in caplog.records):
        assert time.monotonic() < deadline, f"the bot did not decline {room_id} within {ANSWER_S} s"
        await asyncio.sleep(0.1)
    return room_id


async def joined_rooms(world: FederatedWorld) -> set[str]:
    """The bot's rooms as its homeserver lists them (stateless; the bot's sync is undisturbed)."""
    app = world.bot.app
    assert app is not None
    headers = {"Authorization": f"Bearer {app.adapter.client.access_token}"}
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        response = await http.get(f"{world.lvr.url}/_matrix/client/v3/joined_rooms", headers=headers)
    assert response.status_code == 200, response.text
    return set(response.json()["joined_rooms"])


async def leave_reaches_inviter(world: FederatedWorld, inviter: ChatClient, room_id: str) -> bool:
    """Does the inviter see the bot's rejection (a leave) within a few seconds?"""

    def is_leave(e: Seen) -> bool:
        return (
            e.room_id == room_id
            and e.type == "m.room.member"
            and e.sender == world.bot_id
            and e.content.get("membership") == "leave"
        )

    try:
        await inviter.wait_for(is_leave, 5)
    except AssertionError:
        return False
    return True


async def test_invitations_from_outside_the_allowed_inviters_or_servers_are_refused(
    world: FederatedWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.matrix.rooms")
    app = world.bot.app
    assert app is not None and world.namesake is not None and world.outside is not None
    # The room of the world came by invitation, from the chair on the other server.
    assert app.rooms.inviter(world.room_id) == world.chair.user_id
    assert world.room_id not in app.settings.matrix.rooms

    # A namesake of the chair on a third server: the inviter pattern fits, the server does not.
    assert world.namesake.user_id.split(":", 1)[0] == world.chair.user_id.split(":", 1)[0]
    from_outside = await declined(world, world.namesake, caplog)
    # Someone on the chair's own server who is no allowed inviter.
    from_lwl = await declined(world, world.stranger, caplog)

    joined = await joined_rooms(world)
    assert world.room_id in joined
    print()
    for room_id, inviter in ((from_outside, world.namesake), (from_lwl, world.stranger)):
        assert room_id not in joined
        assert room_id not in app.adapter.client.rooms
        assert not app.adapter.is_served(room_id)
        assert app.rooms.inviter(room_id) is None
        assert not any(
            e.room_id == room_id and e.sender == world.bot_id and e.content.get("membership") == "join"
            for e in inviter.seen
        )
        # Declining a remote invitation is a federated leave (make_leave/send_leave). When the
        # inviting server has not yet stored its own invite event (the bot is that quick), it
        # answers 403 and the bot's server rejects only locally: the inviter then sees the bot as
        # invited for good. Seen once in about ten runs; so this is reported, not asserted.
        seen = await leave_reaches_inviter(world, inviter, room_id)
        print(
            f"declined: invitation from {inviter.user_id}; the rejection "
            f"{'reached' if seen else 'did NOT reach'} the inviter"
        )


# ---- 5: a room reminder reaches both servers exactly once ----------------------------------------


async def test_room_reminder_reaches_members_on_both_servers_once(world: FederatedWorld) -> None:
    confirmation = await world.ask(world.chair, "!erinnerung raum in 5 Sekunden; Hallo beide", ANSWER_S)
    assert confirmation.startswith("Ich erinnere den Raum am "), confirmation
    is_reminder = from_bot(world, reminder_text("Hallo beide"))

    arrived = await asyncio.gather(*(c.wait_for(is_reminder, ANSWER_S) for c in world.in_room))
    assert all(seen.encrypted for seen in arrived)
    assert len({seen.event_id for seen in arrived}) == 1
    # Set by the chair: the whole room is notified, on either server.
    assert arrived[0].body.startswith("@room Erinnerung von ") and arrived[0].body.endswith(": Hallo beide")
    assert arrived[0].content.get("m.mentions", {}).get("room") is True
    # Anything after the reminder would have arrived before the answer to a later command.
    await asyncio.gather(
        world.ask(world.member, "!ping", ANSWER_S), world.ask(world.colleague, "!ping", ANSWER_S)
    )
    for client in world.in_room:
        assert sum(1 for e in client.seen if is_reminder(e)) == 1, client.user_id
    # As each homeserver keeps the room: once on LVR (member) and once on LWL (colleague).
    assert await count_in_history(world.member, world.room_id, is_reminder) == 1
    assert await count_in_history(world.colleague, world.room_id, is_reminder) == 1


# ---- optional: LWL's server is down while a reminder falls due -----------------------------------


async def event_on_server(client: ChatClient, room_id: str, event_id: str, timeout: float) -> float:
    """Poll the client's homeserver until it holds ``event_id``; the wall-clock time it did."""
    url = f"{client.homeserver}/_matrix/client/v3/rooms/{quote(room_id)}/event/{quote(event_id)}"
    headers = {"Authorization": f"Bearer {client.client.access_token}"}
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        while True:
            response = await http.get(url, headers=headers)
            if response.status_code == 200:
                return time.time()
            assert time.monotonic() < deadline, f"{event_id} not on {client.homeserver} within {timeout} s"
            await asyncio.sleep(0.1)


async def test_reminder_due_while_the_remote_server_is_down_arrives_there_once(
    world: FederatedWorld,
) -> None:
    text = "Während LWL schläft"
    is_reminder = from_bot(world, reminder_text(text))
    lead_s = 8  # LWL goes down now and is still down when the reminder falls due
    confirmation = await world.ask(world.member, f"!erinnerung raum in {lead_s} Sekunden; {text}", ANSWER_S)
    assert confirmation.startswith("Ich erinnere den Raum am "), confirmation

    down_at = time.monotonic()
    down_wall = time.time()
    await asyncio.to_thread(world.lwl.stop)
    try:
        # The local member goes on: the bot answers, and the reminder comes, on LVR.
        began = time.perf_counter()
        await world.ask(world.member, "!ping", ANSWER_S)
        ping_ms = (time.perf_counter() - began) * 1000
        local = await world.member.wait_for(is_reminder, lead_s + ANSWER_S)
        assert not any(is_reminder(e) for c in world.lwl_people for e in c.seen)
        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))  # the outage itself
    finally:
        await asyncio.to_thread(world.lwl.start)
    up_wall = time.time()
    due_wall = local.origin_ts / 1000  # when LVR took the reminder from the bot
    print(
        f"\nLWL down for {up_wall - down_wall:.1f} s (restart included); local !ping during the "
        f"outage {ping_ms:.0f} ms; the reminder fell due {due_wall - down_wall:.1f} s into the outage"
    )

    on_lwl = await event_on_server(world.colleague, world.room_id, local.event_id, 120)
    print(
        f"reminder on LWL's server {on_lwl - up_wall:.1f} s after the restart "
        f"(LVR retries its federation transaction at most every {RETRY_CAP})"
    )
    arrived = await asyncio.gather(*(c.wait_for(is_reminder, 120) for c in world.lwl_people))
    for client, seen in zip(world.lwl_people, arrived, strict=True):
        assert seen.event_id == local.event_id
        print(
            f"{client.user_id} read it {seen.seen_wall - due_wall:.1f} s after it fell due, "
            f"{seen.seen_wall - up_wall:.1f} s after the restart"
        )
    await asyncio.gather(*(world.ask(c, "!ping", ANSWER_S) for c in world.lwl_people))
    for client in world.in_room:
        assert sum(1 for e in client.seen if is_reminder(e)) == 1, client.user_id
    assert await count_in_history(world.colleague, world.room_id, is_reminder) == 1
    assert await count_in_history(world.member, world.room_id, is_reminder) == 1


# ---- 6: native poll responses from both servers --------------------------------------------------


def poll_response(start_event_id: str, answers: list[str]) -> dict[str, object]:
    """The content of a native (MSC3381) poll response, as Element sends it."""
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start_event_id},
        "org.matrix.msc3381.poll.response": {"answers": answers},
    }


async def test_poll_counts_native_votes_from_both_servers(world: FederatedWorld) -> None:
    created = await world.ask(
        world.chair, f"!umfrage Föderierte Umfrage; {in_days(22, 10)}; {in_days(23, 14)}", ANSWER_S
    )
    found = re.search(r"Umfrage #(\d+) ist gestartet", created)
    assert found, created
    poll_id = found.group(1)

    def is_start(e: Seen) -> bool:
        return (
            e.sender == world.bot_id
            and e.type == "org.matrix.msc3381.poll.start"
            and f"#{poll_id} " in str(e.content.get("org.matrix.msc1767.text", ""))
        )

    # The native poll reaches either server, encrypted, as one event.
    starts = await asyncio.gather(
        world.member.wait_for(is_start, ANSWER_S), world.colleague.wait_for(is_start, ANSWER_S)
    )
    assert starts[0].event_id == starts[1].event_id and all(s.encrypted for s in starts)
    start_id = starts[0].event_id

    await world.member.send_event(
        world.room_id, "org.matrix.msc3381.poll.response", poll_response(start_id, ["1"])
    )
    await world.colleague.send_event(
        world.room_id, "org.matrix.msc3381.poll.response", poll_response(start_id, ["2"])
    )
    # Each voter's next command is handled after her vote (the bot keeps a sender's order).
    await asyncio.gather(
        world.ask(world.member, "!ping", ANSWER_S), world.ask(world.colleague, "!ping", ANSWER_S)
    )

    standing = await world.ask(world.chair, f"!umfrage stand #{poll_id}", ANSWER_S)
    lines = standing.splitlines()
    assert lines[0] == f"Stand der Umfrage #{poll_id}: Föderierte Umfrage", standing
    first = next(line for line in lines if "Option 1: " in line)
    second = next(line for line in lines if "Option 2: " in line)
    member_name = world.member.user_id[1:].split(":")[0]
    colleague_name = world.colleague.user_id[1:].split(":")[0]
    assert "1 ja, 0 wenn nötig" in first and member_name in first and colleague_name not in first, standing
    assert "1 ja, 0 wenn nötig" in second and colleague_name in second and member_name not in second, standing
    print(f"\n{standing}")


# ---- 7: the organisation of an agenda item comes from the submitter's server ---------------------


async def test_agenda_items_carry_the_organisation_of_each_members_server(world: FederatedWorld) -> None:
    created = await world.ask(world.chair, f"!sitzung {in_days(50, 10)}; Föderierte Sitzung", ANSWER_S)
    found = re.search(r"Sitzung #(\d+) angelegt", created)
    assert found, created
    meeting_id = found.group(1)

    remote = await world.ask(world.colleague, f"!top #{meeting_id} Föderation; 20 min", ANSWER_S)
    local = await world.ask(world.member, f"!top #{meeting_id} Datenschutz; 10 min", ANSWER_S)
    item_ids = []
    for answer in (remote, local):
        item = re.search(r"TOP #(\d+)", answer)
        assert item and f"für Sitzung #{meeting_id} (" in answer, answer
        item_ids.append(item.group(1))
    for item_id in item_ids:
        accepted = await world.ask(world.chair, f"!top annehmen {item_id}", ANSWER_S)
        assert f"TOP #{item_id} " in accepted and "ist angenommen" in accepted, accepted

    colleague_name = world.colleague.user_id[1:].split(":")[0]
    member_name = world.member.user_id[1:].split(":")[0]
    for reader in (world.member, world.colleague):
        shown = (await world.ask(reader, f"!tagesordnung #{meeting_id}", ANSWER_S)).splitlines()
        remote_line = next(line for line in shown if " Föderation – " in line)
        local_line = next(line for line in shown if " Datenschutz – " in line)
        assert f"{colleague_name} (LWL)" in remote_line, shown
        assert f"{member_name} (LVR)" in local_line, shown
    print(f"\n{remote_line}\n{local_line}")


# ---- 8: the meeting's calendar file reaches and decrypts on both servers -------------------------


async def test_meeting_calendar_file_decrypts_for_members_on_both_servers(world: FederatedWorld) -> None:
    created = await world.ask(world.chair, f"!sitzung {in_days(55, 9)}; Kalender-Sitzung", ANSWER_S)
    found = re.search(r"Sitzung #(\d+) angelegt", created)
    assert found, created
    meeting_id = found.group(1)

    def is_ics(e: Seen) -> bool:
        return (
            e.sender == world.bot_id
            and e.content.get("msgtype") == "m.file"
            and e.body.startswith(f"sitzung-{meeting_id}-")
            and e.body.endswith(".ics")
        )

    files = await asyncio.gather(*(c.wait_for(is_ics, ANSWER_S) for c in (world.member, world.colleague)))
    assert files[0].event_id == files[1].event_id
    events = []
    for client, seen in zip((world.member, world.colleague), files, strict=True):
        assert seen.encrypted and "file" in seen.content, client.user_id
        calendar = icalendar.Calendar.from_ical(await client.download(seen))
        events.append(calendar.walk("VEVENT")[0])
    uids = {str(event["UID"]) for event in events}
    assert len(uids) == 1 and all(uids), uids
    expected = datetime.now(BERLIN).date() + timedelta(days=55)
    for event in events:
        start = event.decoded("DTSTART")
        assert (start.date(), start.hour) == (expected, 9), start
        assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
        assert str(event["SUMMARY"]) == "Kalender-Sitzung"


# ---- 9: a member of LWL who joins late gets the room keys ----------------------------------------


async def test_a_remote_member_who_joins_late_can_read_the_bot(world: FederatedWorld, tmp_path: Path) -> None:
    app = world.bot.app
    assert app is not None
    localpart = f"spaet{uuid.uuid4().hex[:8]}"
    user_id = await asyncio.to_thread(world.lwl.register, localpart, PASSWORD)
    late = ChatClient(world.lwl.url, user_id, PASSWORD, tmp_path / "late")
    await late.start()  # logs in and cross-signs her device, as the others did
    try:
        response = await world.chair.client.room_invite(world.room_id, user_id)
        assert isinstance(response, RoomInviteResponse), response
        assert await late.wait_for_invite(set(), ANSWER_S) == world.room_id
        await late.join(world.room_id)
        device_id = late.client.device_id
        deadline = time.monotonic() + ANSWER_S
        while not (
            app.adapter.is_member(world.room_id, user_id) and app.adapter.trust.trusted(user_id, device_id)
        ):
            assert time.monotonic() < deadline, "the bot never saw the late member's trusted device"
            await asyncio.sleep(0.1)

        own = await late.ask(world.room_id, "!ping", world.bot_id, ANSWER_S)
        assert own.encrypted and own.body.startswith("pong"), own
        other_ping = await world.member.send(world.room_id, "!ping")
        # The answer to someone else, read by her device too.
        other = await late.reply_to(other_ping, world.bot_id, ANSWER_S)
        assert other.encrypted and other.body.startswith("pong"), other
        # Before her join the room's history stays closed to her; nothing the bot sent after it.
        history = await late.history(world.room_id)
        joined_at = max(
            i
            for i, e in enumerate(history)
            if e.type == "m.room.member" and e.sender == user_id and e.content.get("membership") == "join"
        )
        from_bot_after = [e for e in history[joined_at:] if e.sender == world.bot_id]
        unread = [e for e in from_bot_after if e.type != "m.room.message"]
        assert len(from_bot_after) >= 2 and not unread, (
            [(e.type, e.body) for e in from_bot_after],
            f"joined at {history[joined_at].origin_ts}",
            await what_the_bot_sent(app, world.room_id, unread),
        )
    finally:
        await late.client.room_leave(world.room_id)
        deadline = time.monotonic() + ANSWER_S
        while app.adapter.is_member(world.room_id, user_id) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await late.stop()


async def what_the_bot_sent(app: App, room_id: str, events: list[Seen]) -> list[tuple[int, str]]:
    """The bot's own reading of its events that a member could not decrypt (for the failure)."""
    client = app.adapter.session.client
    response = await client.room_messages(room_id, limit=200)
    wanted = {e.event_id for e in events}
    return [
        (int(getattr(event, "server_timestamp", 0)), str(getattr(event, "body", type(event).__name__)))
        for event in getattr(response, "chunk", [])
        if getattr(event, "event_id", None) in wanted
    ]


# ---- 10: a question from the remote member, answered in a thread --------------------------------


async def test_question_from_the_remote_member_is_answered_in_a_thread(world: FederatedWorld) -> None:
    question = await world.colleague.send(
        world.room_id, "!frage allgemein Was ist Matrix? Antworte in einem Satz."
    )
    first = await world.colleague.wait_for(
        lambda e: e.sender == world.bot_id and in_thread(e, question), timeout=60
    )
    assert first.encrypted and first.content["m.relates_to"]["m.in_reply_to"] == {"event_id": question}
    final = await world.colleague.wait_for(
        lambda e: edit_of(e, first.event_id) and LABEL in e.content["m.new_content"]["body"], timeout=120
    )
    assert final.encrypted
    answer = final.content["m.new_content"]["body"].removesuffix(LABEL).strip()
    assert answer and answer != "…", final.content
    # The local member reads the same thread.
    seen_locally = await world.member.wait_for(lambda e: e.event_id == final.event_id, ANSWER_S)
    assert seen_locally.content["m.new_content"]["body"] == final.content["m.new_content"]["body"]


# ---- 11: a meeting with members of both organisations becomes released minutes -------------------


async def test_a_meeting_with_both_organisations_becomes_released_minutes(world: FederatedWorld) -> None:
    """Issue 14's run: three TOPs, members of LVR and LWL, two decisions, two action items; the draft,
    the release as Markdown and PDF on both servers, the owners reminded, the register."""
    created = await world.ask(world.chair, f"!sitzung {in_days(40, 10)}; Protokollierte Sitzung", ANSWER_S)
    found = re.search(r"Sitzung #(\d+) angelegt", created)
    assert found, created
    meeting_id = found.group(1)
    for who, title in (
        (world.colleague, "Föderation"),
        (world.member, "Datenschutz"),
        (world.chair, "Leitlinie"),
    ):
        answer = await world.ask(who, f"!top #{meeting_id} {title}", ANSWER_S)
        item = re.search(r"TOP #(\d+)", answer)
        assert item, answer
        assert "ist angenommen" in await world.ask(world.chair, f"!top annehmen {item.group(1)}", ANSWER_S)

    started = await world.ask(world.chair, f"!sitzung beginnen {meeting_id}", ANSWER_S)
    assert "hat begonnen" in started and "TOP 1: Begrüßung" in started, started
    await world.member.send(world.room_id, "Guten Morgen aus Köln")  # writing is attending
    assert "anwesend" in await world.ask(world.colleague, "!anwesend", ANSWER_S)

    member, colleague = world.member.user_id, world.colleague.user_id
    assert "TOP 2: Föderation" in await world.ask(world.chair, "!top weiter", ANSWER_S)
    first = await world.ask(world.chair, "!beschluss Beide Server föderieren; 5 ja, 1 nein", ANSWER_S)
    assert re.search(r"Beschluss \d{4}/01 festgehalten unter TOP 2 \(5 ja, 1 nein\)", first), first
    action = await world.ask(world.chair, f"!aufgabe {member} Bericht schreiben bis in 40 Sekunden", ANSWER_S)
    assert "fällig" in action, action
    assert "TOP 3: Datenschutz" in await world.ask(world.chair, "!top weiter", ANSWER_S)
    second = await world.ask(
        world.chair, "!beschluss Die Datenschutzfolgenabschätzung wird beauftragt (einstimmig)", ANSWER_S
    )
    assert re.search(r"Beschluss \d{4}/02 festgehalten unter TOP 3 \(einstimmig\)", second), second
    action = await world.ask(
        world.chair, f"!aufgabe {colleague} Stellungnahme einholen bis in 50 Sekunden", ANSWER_S
    )
    assert "fällig" in action, action
    assert "TOP 4: Leitlinie" in await world.ask(world.chair, "!top weiter", ANSWER_S)
    await world.ask(world.member, "!info Der Entwurf kommt im Januar.", ANSWER_S)

    draft = await world.ask(world.chair, "!sitzung beenden", ANSWER_S)
    assert draft.startswith("Niederschrift (Entwurf)"), draft
    assert re.search(r"LVR: .*mitglied", draft) and re.search(r"LWL: .*kollegin", draft), draft
    assert "Guten Morgen" not in draft
    assert "TOP 5: Verschiedenes" in draft, draft  # actions of this meeting are not its own agenda's

    released = await world.ask(world.chair, "!protokoll freigeben", ANSWER_S)
    assert "(freigegeben)" in released, released

    def minutes_file(suffix: str) -> Callable[[Seen], bool]:
        return lambda e: (
            e.sender == world.bot_id
            and e.content.get("msgtype") == "m.file"
            and e.body.startswith(f"niederschrift-{meeting_id}-")
            and e.body.endswith(suffix)
        )

    for reader in (world.member, world.colleague):  # LVR and LWL
        pdf = await reader.wait_for(minutes_file(".pdf"), ANSWER_S)
        markdown = await reader.wait_for(minutes_file(".md"), ANSWER_S)
        assert pdf.encrypted and markdown.encrypted
        text = " ".join(pdf_text(await reader.download(pdf)).split())
        assert "Niederschrift über die Sitzung des Facharbeitskreises KI am" in text, text
        assert "„Beide Server föderieren“ (5 ja, 1 nein)" in text and "Datenschutzfolgenabschätzung" in text
        assert "TOP 4: Leitlinie" in (await reader.download(markdown)).decode()

    # Each owner is reminded, mentioned, on their own server.
    for owner, task in ((world.member, "Bericht schreiben"), (world.colleague, "Stellungnahme einholen")):
        reminded = await owner.wait_for(
            from_bot(
                world,
                lambda e, task=task: (
                    f"„{task}“ ist morgen fällig" in e.body or f"„{task}“ ist jetzt fällig" in e.body
                ),
            ),
            90.0,  # type: ignore[misc]
        )
        assert reminded.content["m.mentions"] == {"user_ids": [owner.user_id]}, reminded.content

    register = await world.ask(world.colleague, "!beschlüsse", ANSWER_S)
    assert "Beide Server föderieren" in register and "Datenschutzfolgenabschätzung" in register, register
    assert "TOP 3: Datenschutz" in await world.ask(world.member, "!beschlüsse datenschutz", ANSWER_S)
    print(f"\n{released}\n{register}")
