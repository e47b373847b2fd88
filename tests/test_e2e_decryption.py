"""Decryption that recovers: a command whose room key arrives late is still carried out; one that
stays undecryptable earns its sender one private hint; a withheld key is logged with its reason."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
from nio import ToDeviceError
from nio.event_builders import ToDeviceMessage

from bot.matrix import sync
from tests.conftest import World
from tests.kit.users import ChatClient


async def _send_with_a_key_the_bot_lacks(
    member: ChatClient, room_id: str, body: str
) -> tuple[str, dict[str, Any]]:
    """A command encrypted with a fresh session that has not been shared with anyone yet; and
    the room key as it would have been shared (the session's first index)."""
    olm = member.client.olm
    olm.create_outbound_group_session(room_id)
    session = olm.outbound_group_sessions[room_id]
    room_key = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "room_id": room_id,
        "session_id": session.id,
        "session_key": session.session_key,
    }
    session.shared = True  # lets nio encrypt with it before sharing
    event_id = await member.send_forged(
        room_id, {"type": "m.room.message", "content": {"msgtype": "m.text", "body": body}}
    )
    return event_id, room_key


async def _deliver_room_key(
    member: ChatClient, user_id: str, device_id: str, room_key: dict[str, Any]
) -> None:
    """Send ``room_key`` to one device over Olm, as a (late) key share does."""
    olm = member.client.olm
    device = member.client.device_store[user_id][device_id]
    payload = olm._olm_encrypt(olm.session_store.get(device.curve25519), device, "m.room_key", room_key)
    response = await member.client.to_device(ToDeviceMessage("m.room.encrypted", user_id, device_id, payload))
    assert not isinstance(response, ToDeviceError), response


async def test_a_command_whose_room_key_comes_late_is_carried_out(world: World) -> None:
    member = world.member
    assert (await world.ask(member, "!ping")).startswith("pong")
    event_id, room_key = await _send_with_a_key_the_bot_lacks(member, world.room_id, "!ping")
    app = world.bot.app
    assert app is not None
    # The member's own later messages would use the same session; another member's reply tells
    # that the bot has seen the event.
    await world.power_chair.ask(world.room_id, "!ping", world.bot_id)
    assert event_id in app.adapter.sync._undecrypted
    assert member.replies_to(event_id, world.bot_id) == []

    # Now the key arrives (as a slow to-device delivery would bring it).
    await _deliver_room_key(member, world.bot_id, app.adapter.client.device_id, room_key)
    member.client.olm.outbound_group_sessions.pop(world.room_id)  # back to sessions the bot gets

    reply = await member.reply_to(event_id, world.bot_id, timeout=30)
    assert reply.body.startswith("pong")
    assert event_id not in app.adapter.sync._undecrypted


async def test_a_message_that_stays_undecryptable_gets_one_private_hint(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync, "UNDECRYPTED_GRACE_S", 0.0)  # the grace period is 60 s in production
    member = world.power_chair
    assert (await world.ask(member, "!ping")).startswith("pong")
    known = set(member.client.rooms) | member.invites

    await _send_with_a_key_the_bot_lacks(member, world.room_id, "!ping")

    direct = await member.wait_for_invite(known)
    await member.join(direct)
    hint = await member.wait_for(
        lambda e: e.room_id == direct and e.sender == world.bot_id and e.type == "m.room.message", timeout=30
    )
    assert hint.body.startswith("Ihre Nachricht im Raum konnte nicht entschlüsselt werden")
    # A second undecryptable message from the same device earns no second hint.
    await _send_with_a_key_the_bot_lacks(member, world.room_id, "!ping")
    member.client.olm.outbound_group_sessions.pop(world.room_id)  # back to sessions the bot gets
    await member.ask(world.room_id, "!ping", world.bot_id)
    hints = [e for e in member.seen if e.room_id == direct and e.type == "m.room.message"]
    assert len(hints) == 1


class MovableClock:
    """Monotonic seconds that a test moves forward instead of waiting."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


async def test_no_hint_before_the_grace_period_and_keys_asked_for_again(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = world.bot.app
    assert app is not None
    clock = MovableClock()
    monkeypatch.setattr(app.adapter.sync, "_clock", clock)
    member, other = world.member, world.power_chair

    async def one_more_batch() -> None:
        """Another member's command answered and a whole sync batch handled after it."""
        await other.ask(world.room_id, "!ping", world.bot_id)
        await asyncio.wait_for(app.adapter.synced.wait(), timeout=30)

    known = set(member.client.rooms) | member.invites
    event_id, _ = await _send_with_a_key_the_bot_lacks(member, world.room_id, "!ping")
    member.client.olm.outbound_group_sessions.pop(world.room_id)  # back to sessions the bot gets
    await one_more_batch()
    waiting = app.adapter.sync._undecrypted[event_id]
    assert waiting.requests == 0

    first_again, second_again = sync.KEY_REQUEST_AGAIN_S
    clock.offset = first_again + 1  # the key is asked for again
    await one_more_batch()
    assert waiting.requests == 1
    clock.offset = sync.UNDECRYPTED_GRACE_S - 1  # and again; still no hint just before the grace ends
    assert second_again < clock.offset
    await one_more_batch()
    assert waiting.requests == 2
    assert member.invites - known == set()

    clock.offset = sync.UNDECRYPTED_GRACE_S + 1
    await one_more_batch()
    direct = await member.wait_for_invite(known)
    await member.join(direct)
    hint = await member.wait_for(
        lambda e: e.room_id == direct and e.sender == world.bot_id and e.type == "m.room.message", timeout=30
    )
    assert hint.body.startswith("Ihre Nachricht im Raum konnte nicht entschlüsselt werden")


async def test_a_withheld_room_key_is_logged_with_its_reason(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    app = world.bot.app
    assert app is not None
    caplog.set_level(logging.WARNING, logger="bot.matrix.sync")
    content = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "room_id": world.room_id,
        "session_id": "eine-sitzung",
        "sender_key": world.member.client.olm.account.identity_keys["curve25519"],
        "code": "m.unverified",
        "reason": "Device not verified",
    }
    await world.member.client.to_device(
        ToDeviceMessage("m.room_key.withheld", world.bot_id, app.adapter.client.device_id, content)
    )
    await world.member.ask(world.room_id, "!ping", world.bot_id)  # a sync later

    assert any(
        "room key withheld" in record.getMessage()
        and "m.unverified" in record.getMessage()
        and "Device not verified" in record.getMessage()
        for record in caplog.records
    )
