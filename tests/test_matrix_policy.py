"""Who may invite the bot, and from which servers: the pure part of the invitation policy."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from bot.matrix.rooms import Rooms, server_of
from bot.matrix.session import Session
from bot.services.rooms import RoomSettings
from bot.settings import MatrixSettings
from bot.storage import KeyValue, open_memory_db


def _rooms(**options: object) -> Rooms:
    settings = MatrixSettings(
        homeserver="http://127.0.0.1:8008",
        user_id="@akbot:lvr.de",
        password=SecretStr("x"),
        **options,  # type: ignore[arg-type]
    )
    db = open_memory_db()
    return Rooms(Session(settings, Path("/nonexistent")), RoomSettings(db, "de"), KeyValue(db))


def test_server_of_keeps_a_port() -> None:
    assert server_of("@anna:localhost:48649") == "localhost:48649"
    assert server_of("@anna:lwl.org") == "lwl.org"


def test_inviters_match_by_pattern_and_only_from_allowed_servers() -> None:
    rooms = _rooms(allowed_inviters=["@vorsitz*:*"], allowed_servers=["lvr.de", "lwl.org"])

    assert rooms.inviter_allowed("@vorsitz:lvr.de")
    assert rooms.inviter_allowed("@vorsitzende:lwl.org")
    assert not rooms.inviter_allowed("@vorsitz:example.com")  # pattern fits, server does not
    assert not rooms.inviter_allowed("@mitglied:lvr.de")
    assert not rooms.inviter_allowed(None)


def test_without_allowed_servers_every_server_is_allowed() -> None:
    rooms = _rooms(allowed_inviters=["@vorsitz:*"])

    assert rooms.inviter_allowed("@vorsitz:example.com")
    assert rooms.server_allowed("@anyone:anywhere.org")
