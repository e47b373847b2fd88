"""What only the demo needs: its people create the room the bot is invited to."""

from __future__ import annotations

from collections.abc import Sequence

from nio import JoinError

from bot.matrix.adapter import MatrixAdapter
from bot.matrix.rooms import ENCRYPTION_STATE
from bot.matrix.sending import SendError


async def create_room(
    adapter: MatrixAdapter,
    name: str,
    *,
    invite: Sequence[str] = (),
    encrypted: bool = True,
    power: dict[str, int] | None = None,
) -> str:
    """Create a private room as the adapter's user; it is served as a configured room."""
    # The creator is not listed: from room version 12 on that is an error (creators outrank all).
    override = (
        {"users": {user: level for user, level in power.items() if user != adapter.user_id}}
        if power
        else None
    )
    response = await adapter.client.room_create(
        name=name,
        invite=list(invite),
        initial_state=[ENCRYPTION_STATE] if encrypted else [],
        power_level_override=override,
    )
    adapter.session.raise_for_token(response)
    room_id = getattr(response, "room_id", None)
    if not room_id:
        raise SendError(f"cannot create room {name!r}: {getattr(response, 'message', response)}")
    adapter.rooms.serve(room_id, "config")
    return str(room_id)


async def join_room(adapter: MatrixAdapter, room: str) -> str:
    """Join ``room`` as the adapter's user (a demo member accepting the room); it is served."""
    response = await adapter.rooms.join_with_retry(room)
    if isinstance(response, JoinError):
        raise SendError(f"cannot join {room}: {response.message}")
    adapter.rooms.serve(response.room_id, "config")
    return str(response.room_id)
