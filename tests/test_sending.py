"""The send queue: an answer's interim edit gives way to a reply on its way into the same room."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

import pytest
from nio import RoomSendResponse

from bot.matrix import sending
from bot.matrix.sending import Outbox

ROOM = "!raum:lvr.de"
OTHER_ROOM = "!anderer:lvr.de"


class Homeserver:
    """``room_send`` that holds every event whose body is in ``held`` until it is released."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.held: dict[str, asyncio.Event] = {}
        self.arrived: dict[str, asyncio.Event] = defaultdict(asyncio.Event)

    async def room_send(
        self, room_id: str, event_type: str, content: dict[str, Any], **_: Any
    ) -> RoomSendResponse:
        body = str(content["body"])
        self.started.append(body)
        self.arrived[body].set()
        if body in self.held:
            await self.held[body].wait()
        return RoomSendResponse(f"${body}", room_id)

    def hold(self, body: str) -> asyncio.Event:
        self.held[body] = asyncio.Event()
        return self.held[body]


class Session:
    def __init__(self, client: Homeserver) -> None:
        self.client = client
        self.fatal: Exception | None = None


@pytest.fixture
async def queue() -> Any:
    homeserver = Homeserver()
    outbox = Outbox(Session(homeserver))  # type: ignore[arg-type]
    outbox.start()
    yield outbox, homeserver
    await outbox.close(drain_timeout=1)


def message(body: str) -> dict[str, Any]:
    return {"msgtype": "m.text", "body": body}


async def test_an_interim_edit_waits_until_the_rooms_reply_is_accepted(queue: Any) -> None:
    outbox, homeserver = queue
    release = homeserver.hold("pong")
    reply = asyncio.create_task(outbox.send_event(ROOM, "m.room.message", message("pong")))
    await homeserver.arrived["pong"].wait()

    edit = asyncio.create_task(outbox.send_event(ROOM, "m.room.message", message("edit"), background=True))
    elsewhere = await outbox.send_event(OTHER_ROOM, "m.room.message", message("other"), background=True)
    assert elsewhere == "$other"  # another room's progress does not wait
    assert "edit" not in homeserver.started and not edit.done()

    release.set()
    assert await reply == "$pong"
    assert await edit == "$edit"
    assert homeserver.started == ["pong", "other", "edit"]


async def test_an_interim_edit_waits_only_so_long(queue: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    outbox, homeserver = queue
    monkeypatch.setattr(sending, "BACKGROUND_WAIT_S", 0.05)
    release = homeserver.hold("slow")
    reply = asyncio.create_task(outbox.send_event(ROOM, "m.room.message", message("slow")))
    await homeserver.arrived["slow"].wait()

    assert await outbox.send_event(ROOM, "m.room.message", message("edit"), background=True) == "$edit"
    assert not reply.done()  # progress went on while the reply still hung
    release.set()
    assert await reply == "$slow"


async def test_replies_never_wait_for_interim_edits(queue: Any) -> None:
    outbox, homeserver = queue
    release = homeserver.hold("edit")
    edit = asyncio.create_task(outbox.send_event(ROOM, "m.room.message", message("edit"), background=True))
    await homeserver.arrived["edit"].wait()

    assert await outbox.send_event(ROOM, "m.room.message", message("pong")) == "$pong"
    release.set()
    assert await edit == "$edit"
