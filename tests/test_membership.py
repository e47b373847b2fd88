"""The bot's view of who is in a room, corrected from the homeserver when the sync missed a join.

Seen against a real Synapse pair (tests/kit/federation.py): when the bot and a member of its own
server join a remote room at about the same time, Synapse's sync may never carry the member's join
(it is busy completing the room's state), so nio keeps the member as invited and the bot would
ignore their commands. ``Rooms.refresh_members`` asks ``/joined_members`` and corrects that."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from nio.events import InviteMemberEvent, RoomMemberEvent
from nio.rooms import MatrixRoom

from tests.test_matrix_policy import _rooms

ROOM = "!raum:lwl.org"
BOT, MEMBER, CHAIR, GONE = "@akbot:lvr.de", "@mitglied:lvr.de", "@vorsitz:lwl.org", "@weg:lwl.org"


def _member_event(user: str, membership: str) -> RoomMemberEvent:
    return RoomMemberEvent.from_dict(
        {
            "type": "m.room.member",
            "event_id": f"${user}{membership}",
            "sender": CHAIR,
            "state_key": user,
            "origin_server_ts": 1,
            "content": {"membership": membership},
        }
    )


def _world(joined: dict[str, Any]) -> tuple[Any, MatrixRoom, list[str]]:
    rooms = _rooms()
    room = MatrixRoom(ROOM, BOT, True)  # encrypted
    for user, membership in ((BOT, "join"), (CHAIR, "join"), (GONE, "join"), (MEMBER, "invite")):
        room.handle_membership(_member_event(user, membership))
    rooms._session._client = SimpleNamespace(
        rooms={ROOM: room}, olm=None, invalidate_outbound_session=lambda r: None
    )
    asked: list[str] = []

    async def get(path: str) -> dict[str, Any] | None:
        asked.append(path)
        return {"joined": joined}

    rooms._get = get  # type: ignore[method-assign]
    return rooms, room, asked


async def test_a_join_the_sync_missed_is_taken_from_the_server() -> None:
    joined = {BOT: {}, CHAIR: {}, MEMBER: {"display_name": "Mitglied"}}
    rooms, _, asked = _world(joined)
    assert not rooms.is_member(ROOM, MEMBER)  # as the sync left it: only invited

    assert await rooms.refresh_members(ROOM)

    assert rooms.is_member(ROOM, MEMBER)
    assert not rooms.is_member(ROOM, GONE)  # left, and the sync missed that too
    assert asked == [
        f"/_matrix/client/v3/rooms/{ROOM.replace('!', '%21').replace(':', '%3A')}/joined_members"
    ]


async def test_the_server_is_asked_at_most_every_so_often() -> None:
    rooms, _, asked = _world({BOT: {}, CHAIR: {}})
    await rooms.refresh_members(ROOM)
    assert not await rooms.refresh_members(ROOM)  # within the interval: not asked again
    assert len([a for a in asked if a.startswith("/")]) == 1
    assert await rooms.refresh_members(ROOM, at_most_every=0) is False  # asked, nothing changed
    assert len([a for a in asked if a.startswith("/")]) == 2


def test_nio_alone_keeps_a_member_invited_after_its_own_member_refresh() -> None:
    """Why the correction is ours: nio's handling of /joined_members leaves the invited flag."""
    room = MatrixRoom(ROOM, BOT)
    room.handle_membership(
        InviteMemberEvent.from_dict(
            {
                "type": "m.room.member",
                "sender": CHAIR,
                "state_key": MEMBER,
                "content": {"membership": "invite"},
            }
        )
    )
    room.add_member(MEMBER, "Mitglied", None)  # what nio does per joined member
    assert MEMBER in room.invited_users
