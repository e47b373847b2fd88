"""A room key rotation that a trust verdict asks for is not lost to a share on its way."""

from __future__ import annotations

import asyncio

from bot.matrix.trust import rotate_room_key

ROOM = "!raum:lvr.de"


class Client:
    """nio's part in a rotation: the shares on their way, and what invalidating does to them."""

    def __init__(self) -> None:
        self.sharing_session: dict[str, asyncio.Event] = {}
        self.shared = False
        self.invalidated: list[bool] = []  # was the session marked shared when it was invalidated?

    def invalidate_outbound_session(self, room_id: str) -> None:
        self.invalidated.append(self.shared)  # nio keeps a session that is not marked shared yet


async def test_a_rotation_waits_for_the_share_on_its_way_and_then_happens() -> None:
    client = Client()
    client.sharing_session[ROOM] = asyncio.Event()

    rotation = asyncio.create_task(rotate_room_key(client, ROOM))
    await asyncio.sleep(0)
    assert client.invalidated == [] and not rotation.done()

    client.shared = True  # what nio does when the share's to-device messages are out
    client.sharing_session.pop(ROOM).set()
    await rotation
    assert client.invalidated == [True]  # a real rotation: the next message gets a fresh key


async def test_without_a_share_on_its_way_the_rotation_is_at_once() -> None:
    client = Client()
    client.shared = True
    await rotate_room_key(client, ROOM)
    assert client.invalidated == [True]
