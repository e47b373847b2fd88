"""Trust in the real room: room state only from the server, device trust, verified invitations.

Each attack is sent as a hostile client would send it, into the encrypted room of a real Synapse.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from bot.matrix import identity
from tests.conftest import PASSWORD, World
from tests.kit.users import ChatClient

CHAIR_ONLY = "Diesen Befehl darf nur der Vorsitz verwenden."


async def test_forged_power_levels_inside_an_encrypted_event_make_nobody_chair(world: World) -> None:
    app = world.bot.app
    assert app is not None
    member = world.member
    assert (await world.ask(member, "!ping")).startswith("pong")  # the bot now holds member's room key

    await member.send_forged(
        world.room_id,
        {
            "type": "m.room.power_levels",
            "state_key": "",
            "content": {"users": {member.user_id: 100, world.chair.user_id: 100}, "users_default": 100},
        },
    )

    assert await world.ask(member, "!audit") == CHAIR_ONLY
    assert app.adapter.power_level(world.room_id, member.user_id) == 0
    assert app.adapter.power_level(world.room_id, world.power_chair.user_id) == 50


async def test_a_forged_create_event_makes_nobody_a_creator(world: World) -> None:
    app = world.bot.app
    assert app is not None
    member = world.member
    await member.send_forged(
        world.room_id,
        {
            "type": "m.room.create",
            "state_key": "",
            "content": {"room_version": "12", "additional_creators": [member.user_id]},
        },
    )

    assert await world.ask(member, "!audit") == CHAIR_ONLY
    assert app.adapter.power_level(world.room_id, member.user_id) == 0


async def test_forged_memberships_neither_add_nor_hide_members(world: World) -> None:
    app = world.bot.app
    assert app is not None
    member = world.member
    for target, membership in ((world.stranger.user_id, "join"), (world.power_chair.user_id, "leave")):
        await member.send_forged(
            world.room_id,
            {"type": "m.room.member", "state_key": target, "content": {"membership": membership}},
        )
    assert (await world.ask(member, "!ping")).startswith("pong")  # handled after the forgeries

    assert not app.adapter.is_member(world.room_id, world.stranger.user_id)
    assert app.adapter.is_member(world.room_id, world.power_chair.user_id)
    assert (await world.ask(world.power_chair, "!ping")).startswith("pong")


async def test_the_bots_device_is_signed_by_its_owner_as_members_see_it(world: World) -> None:
    app = world.bot.app
    assert app is not None
    device_id = app.adapter.client.device_id
    async with identity.MatrixApi(world.homeserver.url, world.member.client.access_token) as api:
        status, answer = await api.request(
            "POST", "/_matrix/client/v3/keys/query", {"device_keys": {world.bot_id: []}}
        )
    assert status == 200
    assert identity.device_signed_by_owner(answer, world.bot_id, device_id)

    assert "Gerät quer-signiert: ja" in await world.ask(world.member, "!status")


async def test_a_device_its_owner_has_not_signed_cannot_command_the_bot(world: World, tmp_path: Path) -> None:
    """The member's second, unverified device is refused (one private hint to the member),
    and gets no room keys from the bot, as Element does in its default mode."""
    member = world.member
    unsigned = ChatClient(
        world.homeserver.url, member.user_id, PASSWORD, tmp_path / "second", cross_signed=False
    )
    await unsigned.start()
    try:
        await unsigned.join(world.room_id)
        known = set(member.client.rooms) | member.invites
        refused = await unsigned.send(world.room_id, "!ping")

        direct = await member.wait_for_invite(known)
        await member.join(direct)
        hint = await member.wait_for(
            lambda e: e.room_id == direct and e.sender == world.bot_id and e.type == "m.room.message",
            timeout=30,
        )
        assert "nicht verifiziert haben" in hint.body
        assert unsigned.client.device_id in hint.body
        assert hint.content["m.mentions"] == {"user_ids": [member.user_id]}

        # The signed device is served as before; the unsigned one saw nothing it could read.
        answered = await member.send(world.room_id, "!ping")
        reply = await member.reply_to(answered, world.bot_id)
        assert member.replies_to(refused, world.bot_id) == []
        later = await member.send(world.room_id, "danke")  # the unsigned device reads the member's
        await unsigned.wait_for(lambda e: e.event_id == later)
        assert reply.event_id in unsigned.undecryptable
        # A second command from that device gets no second hint.
        await unsigned.send(world.room_id, "!ping")
        await member.ask(world.room_id, "!ping", world.bot_id)
        hints = [
            e
            for e in member.seen
            if e.room_id == direct and e.sender == world.bot_id and e.type == "m.room.message"
        ]
        assert len(hints) == 1
    finally:
        await unsigned.stop()


async def test_a_forged_invite_is_left_again(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The stripped invite state claims the allowed chair invited the bot; the homeserver's
    invite event says the stranger did. The bot joins on the claim, checks, and leaves."""
    app = world.bot.app
    assert app is not None
    rooms = app.adapter.rooms
    real_handler = rooms.handle_invites

    async def forging(response: object) -> None:
        for info in getattr(response, "rooms").invite.values():  # noqa: B009
            for event in info.invite_state:
                if getattr(event, "state_key", None) == world.bot_id:
                    event.sender = world.chair.user_id
        await real_handler(response)  # type: ignore[arg-type]

    monkeypatch.setattr(rooms, "handle_invites", forging)
    caplog.set_level(logging.WARNING, logger="bot.matrix.rooms")
    room_id = await world.stranger.create_room("Gefälschte Einladung", invite=[world.bot_id])

    left = await world.stranger.wait_for(
        lambda e: (
            e.room_id == room_id
            and e.type == "m.room.member"
            and e.sender == world.bot_id
            and e.content.get("membership") == "leave"
        ),
        timeout=30,
    )
    joined = [
        e
        for e in world.stranger.seen
        if e.room_id == room_id and e.sender == world.bot_id and e.content.get("membership") == "join"
    ]
    assert joined and left
    assert room_id not in app.adapter.served_rooms()
    assert any(
        "who is not an allowed inviter" in record.getMessage()
        and world.stranger.user_id in record.getMessage()
        for record in caplog.records
    )


async def test_an_invite_whose_inviter_has_left_is_left_again(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The chair invites the bot and leaves before the bot joins (a member stays, so the room lives
    on): the invitation no longer holds."""
    app = world.bot.app
    assert app is not None
    rooms = app.adapter.rooms
    real_handler = rooms.handle_invites
    left_first: set[str] = set()

    async def chair_leaves_first(response: object) -> None:
        for room_id in getattr(response, "rooms").invite:  # noqa: B009
            if room_id not in left_first:
                left_first.add(room_id)
                await world.member.join(room_id)
                await world.chair.client.room_leave(room_id)
        await real_handler(response)  # type: ignore[arg-type]

    monkeypatch.setattr(rooms, "handle_invites", chair_leaves_first)
    caplog.set_level(logging.WARNING, logger="bot.matrix.rooms")
    room_id = await world.chair.create_room(
        "Verlassene Einladung", invite=[world.bot_id, world.member.user_id]
    )

    async with asyncio.timeout(30):
        while not any(
            room_id in record.getMessage() and "no longer in the room" in record.getMessage()
            for record in caplog.records
        ):
            await app.adapter.synced.wait()
    assert room_id not in app.adapter.served_rooms()
    assert app.rooms.inviter(room_id) is None


async def test_the_backup_holds_the_cross_signing_keys(world: World, tmp_path: Path) -> None:
    from bot.operations import backup

    app = world.bot.app
    assert app is not None
    manifest = backup(app.settings.bot.data_dir, tmp_path / "sicherung")
    assert identity.CROSS_SIGNING_FILE in manifest["files"]
    assert (tmp_path / "sicherung" / identity.CROSS_SIGNING_FILE).stat().st_mode & 0o777 == 0o600


async def test_at_start_the_bot_leaves_rooms_whose_inviter_is_no_longer_allowed(world: World) -> None:
    app = world.bot.app
    assert app is not None
    room_id = await world.chair.create_room("Unterarbeitsgruppe", invite=[world.bot_id])
    async with asyncio.timeout(30):
        while room_id not in app.adapter.served_rooms():
            await app.adapter.synced.wait()
    assert app.rooms.inviter(room_id) == world.chair.user_id

    await world.bot.stop()
    matrix = world.bot.settings.matrix.model_copy(update={"allowed_inviters": []})
    world.bot.settings = world.bot.settings.model_copy(update={"matrix": matrix})
    app = await world.bot.start()

    await world.chair.wait_for(
        lambda e: (
            e.room_id == room_id and e.sender == world.bot_id and e.content.get("membership") == "leave"
        ),
        timeout=30,
    )
    assert room_id not in app.adapter.served_rooms()
    assert world.room_id in app.adapter.served_rooms()  # configured rooms stay
    assert (await world.ask(world.member, "!ping")).startswith("pong")


async def test_a_member_without_any_cross_signing_is_refused_as_element_refuses_them(
    world: World, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An old client that never made a cross-signing identity: Element in its default mode neither
    reads nor is read by such a device, and neither does the bot."""
    user_id = world.homeserver.register(f"altclient{world.room_id[1:5].lower()}", PASSWORD)
    old = ChatClient(world.homeserver.url, user_id, PASSWORD, tmp_path / "alt", cross_signed=False)
    await old.start()
    try:
        await world.chair.client.room_invite(world.room_id, user_id)
        await old.wait_for_invite(set())
        await old.join(world.room_id)
        caplog.set_level(logging.INFO, logger="bot.matrix.sync")
        refused = await old.send(world.room_id, "!ping")
        await world.member.ask(world.room_id, "!ping", world.bot_id)
        later = await world.member.send(world.room_id, "danke")
        await old.wait_for(lambda e: e.event_id == later)

        assert world.member.replies_to(refused, world.bot_id) == []
        assert any(refused in r.getMessage() and "not cross-signed" in r.getMessage() for r in caplog.records)
        assert old.replies_to(refused, world.bot_id) == []
    finally:
        await old.stop()


async def test_a_malformed_payload_cannot_speak_for_someone_else(world: World) -> None:
    """nio builds a "bad event" from a payload that fails its schema, taking sender and event id
    from the payload itself; the bot treats it as undecryptable instead."""
    member = world.member
    assert (await world.ask(member, "!ping")).startswith("pong")
    forged = await member.send_forged(
        world.room_id,
        json.dumps(
            {
                "type": "m.room.message",
                "content": [["msgtype", "m.text"], ["body", "!audit"]],
                "sender": world.chair.user_id,
                "event_id": "$vom-vorsitz",
                "origin_server_ts": 5,
            }
        ),
    )
    assert (await world.ask(member, "!ping")).startswith("pong")

    app = world.bot.app
    assert app is not None
    assert forged in app.adapter.sync._undecrypted  # kept as undecryptable, never dispatched
    assert not [e for e in member.seen if e.sender == world.bot_id and "Protokoll des Vorsitzes" in e.body]


@pytest.mark.parametrize("payload", ["[]", "1", '{"type": 1, "content": {}, "origin_server_ts": "z"}'])
async def test_payloads_that_make_nio_raise_do_not_stop_the_bot(world: World, payload: str) -> None:
    member = world.member
    assert (await world.ask(member, "!ping")).startswith("pong")

    await member.send_forged(world.room_id, payload)

    assert (await world.ask(member, "!ping")).startswith("pong")
    assert world.bot.task is not None and not world.bot.task.done()


async def test_an_unencrypted_command_in_an_encrypted_room_is_ignored(world: World) -> None:
    """Without encryption there is no device to judge: a rogue device (or curl with a stolen token)
    could otherwise command the bot past device trust."""
    plain = await world.member.send_raw(
        world.room_id, "m.room.message", {"msgtype": "m.text", "body": "!ping"}
    )
    assert (await world.ask(world.member, "!ping")).startswith("pong")

    assert world.member.replies_to(plain, world.bot_id) == []
