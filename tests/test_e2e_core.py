"""The core against a real Synapse, in an end-to-end encrypted room, with real nio clients."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import ROUTERS
from bot.errors import UserError
from bot.router import Context, Router
from tests.conftest import World, build_world, close_world

failing = Router(
    "test",
    texts={
        "de": {"cmd.broken.help": "Wirft einen Fehler.", "cmd.usererror.help": "Nutzerfehler."},
        "en": {"cmd.broken.help": "Raises an error.", "cmd.usererror.help": "User error."},
    },
)


@failing.command("kaputt", alias="broken")
async def broken(ctx: Context) -> None:
    raise RuntimeError("secret internal detail")


@failing.command("nutzerfehler", alias="usererror")
async def user_error(ctx: Context) -> None:
    raise UserError("chair_only")


@pytest.fixture(scope="module")
async def shared_world(homeserver, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The world of this module (with the failing commands); each test gets it as ``world``."""
    built = await build_world(homeserver, tmp_path_factory.mktemp("core"), routers=(*ROUTERS, failing))
    yield built
    await close_world(built)


async def test_ping_is_answered_encrypted_as_a_notice_replying_to_the_command(world: World) -> None:
    event_id = await world.member.send(world.room_id, "!ping")
    reply = await world.member.reply_to(event_id, world.bot_id)

    assert reply.encrypted
    assert reply.type == "m.room.message"
    assert reply.content["msgtype"] == "m.notice"
    assert reply.body.startswith("pong – Bearbeitungszeit ")
    assert reply.content["m.mentions"] == {"user_ids": []}
    assert reply.content["m.relates_to"] == {"m.in_reply_to": {"event_id": event_id}}
    assert reply.content["format"] == "org.matrix.custom.html"
    assert not world.member.undecryptable


async def test_help_lists_every_command_in_german(world: World) -> None:
    body = await world.ask(world.member, "!hilfe")

    assert body.startswith("Befehle von akbot")
    for name in ("!hilfe (!help)", "!ping", "!status", "!sprache (!language)"):
        assert name in body


async def test_chair_only_action_refused_for_member_allowed_for_listed_and_power_level_chairs(
    world: World,
) -> None:
    refused = await world.ask(world.member, "!sprache en")
    assert refused == "Diesen Befehl darf nur der Vorsitz verwenden."

    by_list = await world.ask(world.chair, "!sprache en")
    assert by_list == "From now on I answer in English in this room."

    by_power = await world.ask(world.power_chair, "!sprache de")
    assert by_power == "Ich antworte in diesem Raum ab jetzt auf Deutsch."


async def test_member_with_raised_power_level_becomes_chair_at_once(world: World) -> None:
    assert await world.ask(world.member, "!sprache de") == "Diesen Befehl darf nur der Vorsitz verwenden."
    client = world.chair.client
    levels = await client.room_get_state_event(world.room_id, "m.room.power_levels")
    content = dict(levels.content)
    content["users"] = {**content.get("users", {}), world.member.user_id: 50}
    await client.room_put_state(world.room_id, "m.room.power_levels", content)
    try:
        # The bot decides with the power levels of the moment the command arrives.
        await world.member.wait_for(
            lambda e: e.type == "m.room.power_levels" and world.member.user_id in e.content.get("users", {})
        )
        assert (
            await world.ask(world.member, "!sprache de")
            == "Ich antworte in diesem Raum ab jetzt auf Deutsch."
        )
    finally:
        # Back to a plain member, said explicitly: matrix-nio merges the users of a new
        # m.room.power_levels into the old ones, so a user merely dropped from the map would keep
        # level 50 in the bot's view (until it restarts) and stay a chair for the next test.
        content["users"][world.member.user_id] = 0
        await client.room_put_state(world.room_id, "m.room.power_levels", content)
        app = world.bot.app
        assert app is not None
        async with asyncio.timeout(20):
            while app.adapter.power_level(world.room_id, world.member.user_id) != 0:
                await app.adapter.synced.wait()


async def test_unknown_command_gets_a_suggestion_and_wrong_usage_the_usage_line(world: World) -> None:
    assert await world.ask(world.member, "!pnig") == "Den Befehl !pnig kenne ich nicht. Meinten Sie !ping?"
    assert await world.ask(world.member, "!xyzzy") == "Den Befehl !xyzzy kenne ich nicht. Meinten Sie !hilfe?"
    wrong = await world.ask(world.chair, "!sprache fr")
    assert wrong == "„fr“ ist nicht möglich. Erlaubt: de, en.\nAufruf: !sprache [de|en]"


async def test_a_failing_handler_gets_an_error_id_and_the_bot_keeps_answering(world: World) -> None:
    body = await world.ask(world.member, "!kaputt")
    assert "Fehlernummer" in body
    assert "secret internal detail" not in body and "Traceback" not in body

    assert await world.ask(world.member, "!nutzerfehler") == "Diesen Befehl darf nur der Vorsitz verwenden."
    assert (await world.ask(world.member, "!ping")).startswith("pong")


async def test_plain_chat_edits_and_notices_get_no_answer(world: World) -> None:
    chat = await world.member.send(world.room_id, "Guten Morgen zusammen!")
    edit = await world.member.send_event(
        world.room_id,
        "m.room.message",
        {
            "msgtype": "m.text",
            "body": "* !ping",
            "m.new_content": {"msgtype": "m.text", "body": "!ping"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": chat},
        },
    )
    notice = await world.member.send_event(
        world.room_id, "m.room.message", {"msgtype": "m.notice", "body": "!ping"}
    )
    # A command sent after them is answered; by then the three were seen and passed over.
    assert (await world.ask(world.member, "!ping")).startswith("pong")
    for event_id in (chat, edit, notice):
        assert world.member.replies_to(event_id, world.bot_id) == []


async def test_invite_from_a_stranger_is_ignored_but_an_allowed_inviter_is_followed(world: World) -> None:
    stranger_room = await world.stranger.create_room("Werbung", invite=[world.bot_id])
    allowed_room = await world.chair.create_room("Unterarbeitsgruppe", invite=[world.bot_id])

    app = world.bot.app
    assert app is not None
    async with asyncio.timeout(20):
        while not app.adapter.is_served(allowed_room):
            await app.adapter.synced.wait()
    # The stranger's invitation is declined, not joined.
    await world.stranger.wait_for(
        lambda e: (
            e.room_id == stranger_room
            and e.sender == world.bot_id
            and e.type == "m.room.member"
            and e.content.get("membership") == "leave"
        )
    )
    assert stranger_room not in app.adapter.client.rooms
    assert not app.adapter.is_served(stranger_room)


async def test_status_reports_version_encryption_and_rooms(world: World) -> None:
    body = await world.ask(world.member, "!status")
    assert "Version: 0.1.0" in body
    assert "Verschlüsselung: an" in body
    assert "Sprachmodell: nicht eingerichtet" in body
    assert "Geplante Aufgaben: 1" in body  # the daily retention purge
