"""The rooms the bot is in: joins, invitations, membership and power levels.

Everything a permission check reads comes from state the homeserver sent as state (the nio
client never lets a decrypted event change room state, see ``session.BotClient``). Invitations
are followed only from allowed inviters, and the inviter is taken from the invite event as the
homeserver stored and validated it, not from the stripped invite state a remote server supplies.
"""

from __future__ import annotations

import asyncio
import fnmatch
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
from nio import JoinError, RoomCreateEvent, RoomResolveAliasResponse, SyncResponse, WhoamiResponse
from nio.events import InviteMemberEvent

from bot.errors import FatalMatrixError
from bot.matrix.sending import SendError
from bot.matrix.session import Session
from bot.services.rooms import RoomSettings
from bot.storage import KeyValue

log = logging.getLogger(__name__)

CREATOR_POWER_LEVEL = 2**31  # "infinite": above any power level a room can set
ENCRYPTION_STATE = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}
# A remote invite can reach the inviting server's room before ours knows it: join again briefly.
JOIN_ATTEMPTS = 5
JOIN_RETRY_S = 1.0
# How long a private message waits for the member to accept the direct room.
DIRECT_JOIN_WAIT_S = 600.0


MEMBERS_ASK_INTERVAL_S = 30.0
"""An event from someone the bot does not know as a member makes it ask the server, at most this often."""
NEW_ROOM_S = 300.0
NEW_ROOM_ASK_INTERVAL_S = 10.0


def creators_privileged(room_version: str) -> bool:
    """Room versions in which creators have unlimited power (MSC4289)."""
    if room_version.isdecimal():
        return int(room_version) >= 12
    return "hydra" in room_version


def server_of(user_id: str) -> str:
    return user_id.split(":", 1)[1] if ":" in user_id else ""


@dataclass(frozen=True)
class InviteCheck:
    """What the homeserver says about how the bot came into a room."""

    inviter: str | None
    problem: str | None


class Rooms:
    def __init__(self, session: Session, room_settings: RoomSettings, kv: KeyValue) -> None:
        self._session = session
        self._settings = session.settings
        self._room_settings = room_settings
        self._kv = kv
        self.configured_ids: set[str] = set()
        self.served_since: dict[str, float] = {}
        self._creators: dict[str, tuple[str, set[str]]] = {}
        self._members_asked: dict[str, float] = {}

    @property
    def _client(self) -> Any:
        return self._session.client

    # ---- policy -------------------------------------------------------------------------------

    def inviter_allowed(self, inviter: str | None) -> bool:
        if inviter is None:
            return False
        if not any(fnmatch.fnmatchcase(inviter, pattern) for pattern in self._settings.allowed_inviters):
            return False
        return self.server_allowed(inviter)

    def server_allowed(self, user_id: str) -> bool:
        servers = self._settings.allowed_servers
        return not servers or server_of(user_id) in servers

    def serve(self, room_id: str, via: str, inviter: str | None = None) -> None:
        """From now on, events of this room reach the app ("config" or "invite")."""
        if via == "config":
            self.configured_ids.add(room_id)
        self.served_since.setdefault(room_id, self._room_settings.remember(room_id, via, inviter=inviter))

    # ---- configured rooms ---------------------------------------------------------------------

    async def resolve_configured(self) -> None:
        for room in self._settings.rooms:
            if room.startswith("!"):
                self.configured_ids.add(room)
                continue
            response = await self._client.room_resolve_alias(room)
            self._session.raise_for_token(response)
            if isinstance(response, RoomResolveAliasResponse):
                self.configured_ids.add(response.room_id)
            else:
                log.warning(
                    "room alias %s cannot be resolved: %s", room, getattr(response, "message", response)
                )
        for room_id in list(self.configured_ids):
            self.serve(room_id, "config")
        for room_id in self._room_settings.invited_rooms():
            self.serve(room_id, "invite")

    async def join_configured(self) -> None:
        joined = set(self._client.rooms)
        for room in self._settings.rooms:
            if room in joined or (not room.startswith("!") and self._alias_joined(room)):
                continue
            try:
                response = await self.join_with_retry(room)
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                log.error(
                    "cannot join configured room %s now (%s); it is tried again at the next start",
                    room,
                    error,
                )
                continue
            if isinstance(response, JoinError):
                log.error("cannot join configured room %s: %s", room, response.message)
            else:
                self.serve(response.room_id, "config")
                log.info("joined configured room %s (%s)", room, response.room_id)

    def _alias_joined(self, alias: str) -> bool:
        return any(
            alias == room.canonical_alias or alias in getattr(room, "aliases", ())
            for room in self._client.rooms.values()
        )

    async def join_with_retry(self, room: str) -> Any:
        response: Any = None
        for attempt in range(JOIN_ATTEMPTS):
            response = await self._client.join(room)
            self._session.raise_for_token(response)
            not_invited_yet = isinstance(response, JoinError) and response.status_code == "M_FORBIDDEN"
            if not not_invited_yet or attempt == JOIN_ATTEMPTS - 1:
                break
            await self._session.sleep_unless_stopped(JOIN_RETRY_S)
        return response

    # ---- invitations --------------------------------------------------------------------------

    async def handle_invites(self, response: SyncResponse) -> None:
        for room_id, info in response.rooms.invite.items():
            try:
                await self._handle_invite(room_id, info.invite_state)
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                log.warning("invite to %s: %s; it stays open for a later sync", room_id, error)

    async def _handle_invite(self, room_id: str, invite_state: list[Any]) -> None:
        # Only a first filter: the stripped state comes from the inviting server and may lie. Of
        # the bot's own invite events, the last one with an event id is our server's own copy.
        own = [
            event
            for event in invite_state
            if isinstance(event, InviteMemberEvent)
            and event.state_key == self._session.user_id
            and event.membership == "invite"
        ]
        own.sort(key=lambda event: "event_id" in (getattr(event, "source", None) or {}))
        claimed = own[-1].sender if own else None
        configured = room_id in self.configured_ids
        if not (configured or self.inviter_allowed(claimed)):
            log.info("declining invite to %s from %s (not configured, inviter not allowed)", room_id, claimed)
            self._session.raise_for_token(await self._client.room_leave(room_id))
            return
        joined = await self.join_with_retry(room_id)
        if isinstance(joined, JoinError):
            log.warning("cannot join %s after invite from %s: %s", room_id, claimed, joined.message)
            return
        if not configured:
            check = await self.check_invite(room_id)
            if check.problem is not None:
                log.warning("left %s again: %s", room_id, check.problem)
                await self.leave(room_id)
                return
            claimed = check.inviter
        self.serve(room_id, "config" if configured else "invite", inviter=claimed)
        log.info("joined %s on invite from %s", room_id, claimed)

    async def check_invite(self, room_id: str) -> InviteCheck:
        """Who invited the bot, by the invite event the homeserver stored, and does that hold?

        Our own membership event's ``replaces_state`` names the invite it followed; the server
        stored that event after checking the inviting server's signature and the room's rules.
        """
        own = await self._state_event(room_id, "m.room.member", self._session.user_id)
        invite_id = (own or {}).get("unsigned", {}).get("replaces_state") if own else None
        invite = await self._event(room_id, invite_id) if isinstance(invite_id, str) else None
        if (
            invite is None
            or invite.get("type") != "m.room.member"
            or invite.get("state_key") != self._session.user_id
            or (invite.get("content") or {}).get("membership") != "invite"
        ):
            return InviteCheck(None, "the homeserver knows no invite that brought the bot here")
        inviter = str(invite.get("sender"))
        if not self.inviter_allowed(inviter):
            return InviteCheck(inviter, f"invited by {inviter}, who is not an allowed inviter")
        membership = await self._state_event(room_id, "m.room.member", inviter)
        if (membership or {}).get("content", {}).get("membership") != "join":
            return InviteCheck(inviter, f"the inviter {inviter} is no longer in the room")
        if self._settings.allowed_servers:
            creator = await self._state_event(room_id, "m.room.create", "")
            if creator is None:
                # Fail closed: a room whose origin cannot be read is not served.
                return InviteCheck(inviter, "the room's create event cannot be read to check its server")
            if not self.server_allowed(str(creator.get("sender", ""))):
                return InviteCheck(
                    inviter, f"the room was created on a server that is not allowed ({creator.get('sender')})"
                )
        return InviteCheck(inviter, None)

    async def recheck_invited_rooms(self) -> None:
        """At start: leave rooms joined on an invitation that no longer holds."""
        for room_id in list(self._room_settings.invited_rooms()):
            if room_id in self.configured_ids or room_id not in self._client.rooms:
                continue
            stored = self._room_settings.inviter(room_id)
            problem: str | None
            if stored is not None:
                problem = (
                    None if self.inviter_allowed(stored) else f"{stored} is no longer an allowed inviter"
                )
            else:
                problem = (await self.check_invite(room_id)).problem
            if problem is not None:
                log.warning("leaving %s: %s", room_id, problem)
                await self.leave(room_id)

    async def leave(self, room_id: str) -> None:
        response = await self._client.room_leave(room_id)
        self._session.raise_for_token(response)
        self.served_since.pop(room_id, None)
        self._room_settings.forget_room(room_id)

    async def _state_event(self, room_id: str, event_type: str, state_key: str) -> dict[str, Any] | None:
        path = (
            f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/state/"
            f"{quote(event_type, safe='')}/{quote(state_key, safe='')}?format=event"
        )
        return await self._get(path)

    async def _event(self, room_id: str, event_id: str) -> dict[str, Any] | None:
        return await self._get(
            f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/event/{quote(event_id, safe='')}"
        )

    async def _get(self, path: str) -> dict[str, Any] | None:
        client = self._client
        response = await client.send("GET", path, headers={"Authorization": f"Bearer {client.access_token}"})
        try:
            if response.status == 401:
                raise FatalMatrixError("the homeserver no longer accepts the bot's access token")
            if response.status != 200:
                return None
            body = await response.json()
        finally:
            response.release()
        return body if isinstance(body, dict) else None

    # ---- a thread, read back ---------------------------------------------------------------------

    async def thread_events(self, room_id: str, root: str, *, limit: int = 200) -> list[dict[str, Any]]:
        """A thread's root and its messages as the homeserver stores them, oldest first (still
        encrypted in an encrypted room)."""
        room = quote(room_id, safe="")
        first = await self._event(room_id, root)
        found = await self._get(
            f"/_matrix/client/v1/rooms/{room}/relations/{quote(root, safe='')}/m.thread?limit={limit}&dir=f"
        )
        chunk = found.get("chunk") if found else None
        replies = [event for event in chunk if isinstance(event, dict)] if isinstance(chunk, list) else []
        return ([first] if first else []) + replies

    # ---- membership, asked again ----------------------------------------------------------------

    async def refresh_members(self, room_id: str, *, at_most_every: float = MEMBERS_ASK_INTERVAL_S) -> bool:
        """Ask the homeserver who has joined and correct what the sync told us; True when that
        changed anything. The sync can miss a join: Synapse, while it completes a remote room's
        state after joining it (a "faster join"), does not send a member's join that happened
        meanwhile — the bot would take a member for merely invited and ignore them."""
        now = time.monotonic()
        if now - self._members_asked.get(room_id, float("-inf")) < at_most_every:
            return False
        self._members_asked[room_id] = now
        room = self._client.rooms.get(room_id)
        try:
            found = await self._get(f"/_matrix/client/v3/rooms/{quote(room_id, safe='')}/joined_members")
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            log.warning("members of %s could not be asked: %s", room_id, error)
            return False
        if room is None or found is None or not isinstance(found.get("joined"), dict):
            return False
        changed = False
        for user_id, profile in found["joined"].items():
            if not isinstance(user_id, str):
                continue
            if user_id not in room.users:
                details = profile if isinstance(profile, dict) else {}
                room.add_member(user_id, details.get("display_name"), details.get("avatar_url"))
                changed = True
            elif user_id in room.invited_users:
                # nio's own member refresh leaves an invited flag as it is: lift it here.
                room.users[user_id].invited = False
                del room.invited_users[user_id]
                changed = True
        for user_id in list(room.users):
            if user_id not in found["joined"] and user_id not in room.invited_users:
                room.remove_member(user_id)
                changed = True
        if changed:
            log.info("membership of %s corrected from the homeserver", room_id)
            if room.encrypted and self._client.olm is not None:
                self._client.olm.update_tracked_users(room)
                # As nio does for a membership event: the next message gets a fresh room key,
                # shared with the members as they are now (the join event that would have rotated
                # it will find the member known already).
                self._client.invalidate_outbound_session(room_id)
        return changed

    async def refresh_new_rooms(self) -> None:
        """In the first minutes of serving a room, its members are asked again now and then."""
        recent = time.time() - NEW_ROOM_S
        for room_id, since in list(self.served_since.items()):
            if since >= recent and room_id in self._client.rooms:
                await self.refresh_members(room_id, at_most_every=NEW_ROOM_ASK_INTERVAL_S)

    # ---- state as the homeserver sent it ------------------------------------------------------

    def note_creators(self, response: SyncResponse) -> None:
        # From room version 12 on, creators outrank every power level and are absent from
        # m.room.power_levels; nio does not model that, so we remember them ourselves. Only
        # events the server sent in the clear count: a decrypted "create event" is a forgery.
        for room_id, room in response.rooms.join.items():
            for event in [*room.state, *room.timeline.events]:
                if isinstance(event, RoomCreateEvent) and not getattr(event, "decrypted", False):
                    content = event.source.get("content", {})
                    extra = content.get("additional_creators", [])
                    creators = {event.sender, *(c for c in extra if isinstance(c, str))}
                    self._creators[room_id] = (str(content.get("room_version", "1")), creators)

    def served(self) -> list[str]:
        joined = set(self._client.rooms) if self._session.connected else set()
        return sorted(room for room in self.served_since if room in joined)

    def is_served(self, room_id: str) -> bool:
        return room_id in self.served_since and self._session.connected and room_id in self._client.rooms

    def power_level(self, room_id: str, user_id: str) -> int:
        room = self._client.rooms.get(room_id)
        if room is None:
            return 0
        version, creators = self._creators.get(room_id, ("1", set()))
        if user_id in creators and creators_privileged(version):
            return CREATOR_POWER_LEVEL
        return int(room.power_levels.get_user_level(user_id))

    def is_member(self, room_id: str, user_id: str) -> bool:
        """Joined (an invited user is not a member yet)."""
        return self._joined(room_id, user_id)

    def is_encrypted(self, room_id: str) -> bool:
        room = self._client.rooms.get(room_id)
        return bool(room and room.encrypted)

    def display_name(self, room_id: str, user_id: str) -> str:
        room = self._client.rooms.get(room_id)
        if room is None:
            return user_id
        return str(room.user_name(user_id) or user_id)

    def members(self, room_id: str) -> list[str]:
        room = self._client.rooms.get(room_id)
        return sorted(set(room.users) - set(room.invited_users)) if room else []

    # ---- direct rooms -------------------------------------------------------------------------

    async def direct_room(self, user_id: str, synced: asyncio.Event) -> str:
        """The encrypted direct room with ``user_id`` (created once, then reused), once they joined.

        nio shares room keys only with joined members: a message sent while the member is still
        invited could never be read, so this waits (bounded) for the join.
        """
        key = f"direct:{user_id}"
        room_id = self._kv.get(key)
        room = self._client.rooms.get(room_id) if room_id else None
        if room is None or user_id not in room.users:
            initial_state = [ENCRYPTION_STATE] if self._settings.encryption else []
            response = await self._client.room_create(
                is_direct=True, invite=[user_id], initial_state=initial_state
            )
            self._session.raise_for_token(response)
            room_id = getattr(response, "room_id", None)
            if not room_id:
                raise SendError(
                    f"cannot create a direct room with {user_id}: {getattr(response, 'message', response)}"
                )
            self._kv.set(key, room_id)
        assert room_id is not None
        async with asyncio.timeout(DIRECT_JOIN_WAIT_S):
            while not self._joined(room_id, user_id):
                await synced.wait()
        return room_id

    def _joined(self, room_id: str, user_id: str) -> bool:
        room = self._client.rooms.get(room_id)
        return room is not None and user_id in room.users and user_id not in room.invited_users

    # ---- for akbot check ----------------------------------------------------------------------

    async def check(self) -> dict[str, tuple[bool, bool]]:
        """Per configured room, (joined, encrypted), asked without syncing."""
        client = self._client
        who = await client.whoami()
        self._session.raise_for_token(who)
        if not isinstance(who, WhoamiResponse):
            raise FatalMatrixError(f"whoami failed: {getattr(who, 'message', who)}")
        joined_response = await client.joined_rooms()
        joined = set(getattr(joined_response, "rooms", []))
        result: dict[str, tuple[bool, bool]] = {}
        for room in self._settings.rooms:
            room_id = room
            if room.startswith("#"):
                resolved = await client.room_resolve_alias(room)
                room_id = getattr(resolved, "room_id", room)
            state = await client.room_get_state_event(room_id, "m.room.encryption")
            encrypted = isinstance(getattr(state, "content", None), dict) and "algorithm" in state.content
            result[room] = (room_id in joined, encrypted)
        return result
