"""The people in the rooms of the tests and benchmarks, independent of the bot's adapter.

* :class:`ChatClient` - a member on matrix-nio with E2EE and (like an Element user) a cross-signing
  identity; it syncs in the background, decrypts and records every room event, so a test can send
  a command and wait for the bot's reply (or make sure there is none). A benchmark gives it a long
  poll and a sync filter of its own.
* :class:`RawClient` - a lean client on httpx: one room, a long-poll ``/sync`` loop, no nio, no
  encryption; what a benchmark's floor and its crowds are made of.

Both record what they see in a :class:`Timeline` of :class:`Seen` events, with the moment their
sync delivered each, so that :func:`round_trip` can time a command and its answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import quote

import httpx
from nio import (
    Api,
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    MegolmEvent,
    RoomCreateResponse,
    RoomMessagesResponse,
    RoomSendResponse,
    SyncResponse,
)

from bot.matrix.content import download_file
from bot.matrix.identity import CROSS_SIGNING_FILE, MatrixApi, ensure
from tests.kit.stats import Sample

LONG_POLL_MS = 30_000
SELF_REPORTED = re.compile(r"(\d+(?:[.,]\d+)?) ms")  # the processing time in a pong ("0,9 ms" in German)
ENCRYPTION_STATE = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}

log = logging.getLogger(__name__)
T = TypeVar("T")


# ---- what a user sees -------------------------------------------------------------------------


@dataclass
class Seen:
    """A room event as a client saw it: in its sync (with the moments it arrived) or in the room's
    history. Two are equal when the event is; the timing fields do not count."""

    room_id: str
    event_id: str
    sender: str
    type: str
    content: dict[str, Any]
    encrypted: bool = False
    origin_ts: int = field(default=0, compare=False)  # origin_server_ts
    seen_perf: float = field(default=0.0, compare=False)  # perf_counter when the sync delivered it
    seen_wall: float = field(default=0.0, compare=False)  # time.time() then

    @classmethod
    def from_nio(cls, room_id: str, event: Any, seen_perf: float = 0.0, seen_wall: float = 0.0) -> Seen:
        source: dict[str, Any] = getattr(event, "source", None) or {}
        return cls(
            room_id,
            event.event_id,
            event.sender,
            source.get("type", ""),
            source.get("content", {}),
            bool(getattr(event, "decrypted", False)),
            int(getattr(event, "server_timestamp", 0) or 0),
            seen_perf,
            seen_wall,
        )

    @classmethod
    def from_json(cls, room_id: str, event: dict[str, Any], seen_perf: float, seen_wall: float) -> Seen:
        return cls(
            room_id,
            str(event["event_id"]),
            str(event.get("sender", "")),
            str(event.get("type", "")),
            event.get("content") or {},
            origin_ts=int(event.get("origin_server_ts", 0)),
            seen_perf=seen_perf,
            seen_wall=seen_wall,
        )

    @property
    def body(self) -> str:
        return str(self.content.get("body", ""))

    @property
    def relates_to(self) -> dict[str, Any]:
        """``m.relates_to`` of the content; empty when there is none."""
        relates = self.content.get("m.relates_to")
        return relates if isinstance(relates, dict) else {}

    @property
    def in_reply_to(self) -> str | None:
        reply = self.relates_to.get("m.in_reply_to")
        return reply.get("event_id") if isinstance(reply, dict) else None

    @property
    def replaces(self) -> str | None:
        """The event an ``m.replace`` edits, else None."""
        relates = self.relates_to
        target = relates.get("event_id") if relates.get("rel_type") == "m.replace" else None
        return target if isinstance(target, str) else None


class Timeline:
    """Every event a client's sync loop delivered, in order, with a way to wait for one."""

    def __init__(self) -> None:
        self.events: list[Seen] = []
        self.by_id: dict[str, Seen] = {}
        self._changed = asyncio.Condition()

    def mark(self) -> int:
        return len(self.events)

    async def add(self, fresh: list[Seen]) -> None:
        if not fresh:
            return
        self.events.extend(fresh)
        self.by_id.update((seen.event_id, seen) for seen in fresh)
        await self.notify()

    async def notify(self) -> None:
        """Wake whoever waits: the timeline (or what the client keeps beside it) has changed."""
        async with self._changed:
            self._changed.notify_all()

    async def until(self, check: Callable[[], T | None], timeout: float) -> T:
        """What ``check`` returns once it is not None, checked after every change; TimeoutError."""
        async with asyncio.timeout(timeout), self._changed:
            while (found := check()) is None:
                await self._changed.wait()
            return found

    async def wait_for(self, predicate: Callable[[Seen], bool], start: int, timeout: float) -> Seen:
        """The first event from index ``start`` on that matches; TimeoutError after ``timeout``."""
        position = start

        def first() -> Seen | None:
            nonlocal position
            found = next((seen for seen in self.events[position:] if predicate(seen)), None)
            position = len(self.events)
            return found

        return await self.until(first, timeout)


class User(Protocol):
    """The sending side of a round trip: a client with a live sync loop."""

    user_id: str
    timeline: Timeline

    async def send(self, room_id: str, body: str) -> str: ...


async def round_trip(
    user: User, room_id: str, body: str, is_answer: Callable[[Seen, str], bool], timeout: float
) -> Sample | None:
    """Send ``body`` and wait for the answer on the user's own sync; None if none came."""
    start = user.timeline.mark()
    t0 = time.perf_counter()
    event_id = await user.send(room_id, body)
    sent = time.perf_counter()
    try:
        answer = await user.timeline.wait_for(lambda seen: is_answer(seen, event_id), start, timeout)
    except TimeoutError:
        return None
    ping = user.timeline.by_id.get(event_id)  # our own event, echoed before the answer
    turn = float(answer.origin_ts - ping.origin_ts) if ping else None
    back = answer.seen_wall * 1000 - answer.origin_ts
    return Sample(
        total_ms=(answer.seen_perf - t0) * 1000,
        send_ms=(sent - t0) * 1000,
        turn_ms=turn,
        back_ms=back,
        self_ms=self_reported(answer.body) if answer.in_reply_to else None,
    )


def self_reported(body: str) -> float | None:
    """The processing time (ms) the bot wrote into a pong, in either language's decimal mark."""
    found = SELF_REPORTED.search(body)
    return float(found.group(1).replace(",", ".")) if found else None


def reply_from(bot_id: str) -> Callable[[Seen, str], bool]:
    return lambda seen, event_id: seen.sender == bot_id and seen.in_reply_to == event_id


async def until(
    check: Callable[[], Awaitable[bool]], timeout: float = 60.0, what: str = "", interval: float = 0.5
) -> None:
    """Check every ``interval`` seconds until ``check`` is true; AssertionError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(interval)
    log.info("%s", what)


async def cancelled(task: asyncio.Task[None] | None) -> None:
    """Cancel ``task`` (a sync loop; None: none started) and wait until it has ended."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# ---- the member on matrix-nio -----------------------------------------------------------------


class ChatClient:
    """A member on matrix-nio. ``cross_signed`` gives it a cross-signing identity, as Element
    makes one for every new account (an old client without one: ``cross_signed=False``); the bot
    neither shares room keys with nor obeys devices that their owner has not cross-signed.

    ``poll_ms`` is the long poll of its sync (a test's member wakes up every second, a
    benchmark's waits on the server), ``sync_filter`` what its sync asks for.
    """

    def __init__(
        self,
        homeserver: str,
        user_id: str,
        password: str,
        store: Path,
        *,
        cross_signed: bool = True,
        device_name: str = "test",
        poll_ms: int = 1000,
        sync_filter: dict[str, Any] | None = None,
    ) -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.homeserver = homeserver
        self.user_id = user_id
        self.password = password
        self.store = store
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False, max_limit_exceeded=0)
        self.client = AsyncClient(homeserver, user_id, store_path=str(store), config=config)
        self.cross_signed = cross_signed
        self.device_name = device_name
        self.poll_ms = poll_ms
        self.sync_filter = sync_filter
        self.timeline = Timeline()
        self.undecryptable: list[str] = []  # event ids
        self.invites: set[str] = set()
        self.limited_syncs = 0  # syncs that left a gap in a room already known
        self._task: asyncio.Task[None] | None = None

    @property
    def seen(self) -> list[Seen]:
        return self.timeline.events

    async def start(self) -> None:
        response = await self.client.login(self.password, device_name=self.device_name)
        assert isinstance(response, LoginResponse), response
        await self._sync_once(timeout=0)
        if self.cross_signed:
            await self.cross_sign()
        self._task = asyncio.create_task(self._loop(), name=f"sync {self.user_id}")

    async def cross_sign(self) -> None:
        """Create (or reuse) this user's cross-signing identity and sign the current device."""
        client = self.client
        if client.should_upload_keys:  # the device keys must be published before they are signed
            await client.keys_upload()
        async with MatrixApi(self.homeserver, client.access_token) as api:
            status = await ensure(
                api, self.user_id, client.device_id, self.store / CROSS_SIGNING_FILE, self.password
            )
        assert status.cross_signed, status

    async def _loop(self) -> None:
        while True:
            try:
                await self._sync_once(timeout=self.poll_ms)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a member keeps listening, like a real one
                log.warning("%s: sync failed (%s); retrying", self.user_id, error)
                await asyncio.sleep(0.2)

    async def _sync_once(self, timeout: int) -> None:
        client = self.client
        known = set(client.rooms)
        response = await client.sync(
            timeout=timeout, sync_filter=self.sync_filter, full_state=client.next_batch is None
        )
        seen_perf, seen_wall = time.perf_counter(), time.time()
        if not isinstance(response, SyncResponse):
            await asyncio.sleep(0.2)
            return
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()
        if response.rooms.invite:
            self.invites.update(response.rooms.invite)
            await self.timeline.notify()
        fresh = []
        for room_id, room in response.rooms.join.items():
            # A room's first appearance may be "limited"; later ones leave a gap when they are.
            self.limited_syncs += room_id in known and bool(room.timeline.limited)
            for event in room.timeline.events:
                if isinstance(event, MegolmEvent):
                    self.undecryptable.append(event.event_id)
                    continue
                fresh.append(Seen.from_nio(room_id, event, seen_perf, seen_wall))
        await self.timeline.add(fresh)

    async def stop(self) -> None:
        await cancelled(self._task)
        await self.client.close()

    # ---- acting -------------------------------------------------------------------------------

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        for _ in range(20):
            response = await self.client.room_send(
                room_id, event_type, content, ignore_unverified_devices=True
            )
            if isinstance(response, RoomSendResponse):
                return str(response.event_id)
            await asyncio.sleep((getattr(response, "retry_after_ms", None) or 200) / 1000)
        raise AssertionError(f"could not send to {room_id}: {response}")

    async def send_forged(self, room_id: str, payload: dict[str, Any] | str) -> str:
        """An encrypted event whose hidden payload is ``payload`` (a dict, or any text at all) —
        what a hostile client can send. The room key must have been shared already (send an
        ordinary message first)."""
        olm = self.client.olm
        if isinstance(payload, dict):
            encrypted = olm.group_encrypt(room_id, dict(payload))
        else:
            session = olm.outbound_group_sessions[room_id]
            encrypted = {
                "algorithm": "m.megolm.v1.aes-sha2",
                "sender_key": olm.account.identity_keys["curve25519"],
                "ciphertext": session.encrypt(payload),
                "session_id": session.id,
                "device_id": self.client.device_id,
            }
        return await self.send_raw(room_id, "m.room.encrypted", encrypted)

    async def send_raw(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        """Sent as it is: no encryption even in an encrypted room (as curl or a broken client can)."""
        method, path, data = Api.room_send(
            self.client.access_token, room_id, event_type, content, uuid.uuid4().hex
        )
        response = await self.client._send(RoomSendResponse, method, path, data, (room_id,))
        assert isinstance(response, RoomSendResponse), response
        return str(response.event_id)

    async def send_file(
        self, room_id: str, name: str, data: bytes, mimetype: str, *, reply_to: str | None = None
    ) -> str:
        """An m.file, encrypted (the room is), as Element sends one; optionally as a reply."""
        response, keys = await self.client.upload(
            io.BytesIO(data), content_type=mimetype, filename=name, encrypt=True, filesize=len(data)
        )
        assert keys is not None, response
        content: dict[str, Any] = {
            "msgtype": "m.file",
            "body": name,
            "filename": name,
            "info": {"mimetype": mimetype, "size": len(data)},
            "file": {"url": response.content_uri, **keys},
        }
        if reply_to is not None:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        return await self.send_event(room_id, "m.room.message", content)

    async def ask_reply(
        self, room_id: str, event_id: str, text: str, bot: str, timeout: float = 20.0
    ) -> Seen:
        """Send ``text`` as a reply to ``event_id`` (no fallback, as modern clients); the bot's answer."""
        content = {
            "msgtype": "m.text",
            "body": text,
            "m.relates_to": {"m.in_reply_to": {"event_id": event_id}},
        }
        sent = await self.send_event(room_id, "m.room.message", content)
        return await self.reply_to(sent, bot, timeout)

    async def send(self, room_id: str, text: str) -> str:
        return await self.send_event(room_id, "m.room.message", {"msgtype": "m.text", "body": text})

    async def send_in_thread(self, room_id: str, root: str, text: str) -> str:
        """``text`` in the thread of ``root`` (without a reply fallback)."""
        content = {
            "msgtype": "m.text",
            "body": text,
            "m.relates_to": {"rel_type": "m.thread", "event_id": root},
        }
        return await self.send_event(room_id, "m.room.message", content)

    async def create_room(
        self, name: str, invite: list[str], power: dict[str, int] | None = None, encrypted: bool = True
    ) -> str:
        override = {"users": power} if power else None
        response = await self.client.room_create(
            name=name,
            invite=invite,
            initial_state=[ENCRYPTION_STATE] if encrypted else [],
            power_level_override=override,
        )
        assert isinstance(response, RoomCreateResponse), response
        await self._until_synced(response.room_id)
        return str(response.room_id)

    async def join(self, room_id: str) -> None:
        response = await self.client.join(room_id)
        assert getattr(response, "room_id", None), response
        await self._until_synced(room_id)

    async def _until_synced(self, room_id: str) -> None:
        for _ in range(200):
            if room_id in self.client.rooms:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.user_id}: room {room_id} never arrived in sync")

    async def download(self, seen: Seen) -> bytes:
        """The bytes of an m.file, decrypted when the room is encrypted."""
        return await download_file(self.client, seen.content)

    # ---- waiting ------------------------------------------------------------------------------

    async def _until(self, check: Callable[[], T | None], timeout: float, what: str) -> T:
        try:
            return await self.timeline.until(check, timeout)
        except TimeoutError:
            raise AssertionError(f"{self.user_id}: {what} within {timeout} s") from None

    async def wait_for(self, predicate: Callable[[Seen], bool], timeout: float = 20.0) -> Seen:
        return await self._until(
            lambda: next((item for item in self.seen if predicate(item)), None), timeout, "nothing matching"
        )

    async def reply_to(self, event_id: str, sender: str, timeout: float = 20.0) -> Seen:
        return await self.wait_for(lambda e: e.sender == sender and e.in_reply_to == event_id, timeout)

    def replies_to(self, event_id: str, sender: str) -> list[Seen]:
        return [e for e in self.seen if e.sender == sender and e.in_reply_to == event_id]

    async def ask(self, room_id: str, text: str, bot: str, timeout: float = 20.0) -> Seen:
        """Send ``text`` and return the bot's reply to it."""
        event_id = await self.send(room_id, text)
        return await self.reply_to(event_id, bot, timeout)

    async def wait_for_invite(self, known: set[str], timeout: float = 30.0) -> str:
        """The first room this user is invited to that is not in ``known``."""
        return await self._until(lambda: min(self.invites - known, default=None), timeout, "no invitation")

    def sees_member(self, room_id: str, user_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        return room is not None and user_id in room.users

    def has_joined(self, room_id: str, user_id: str) -> bool:
        """A member, not just invited."""
        room = self.client.rooms.get(room_id)
        return room is not None and user_id in room.users and user_id not in room.invited_users

    def keys_settled(self) -> bool:
        return not self.client.should_query_keys

    def knows_devices_of(self, room_id: str, user_id: str) -> bool:
        """``user_id`` is in the room and this client has their devices: messages reach them."""
        return (
            self.sees_member(room_id, user_id)
            and self.keys_settled()
            and any(True for _ in self.client.device_store.active_user_devices(user_id))
        )

    # ---- the room as the homeserver keeps it --------------------------------------------------

    async def history(self, room_id: str, *, page: int = 100) -> list[Seen]:
        """Every event of the room, oldest first, decrypted with this client's keys; an event it
        cannot decrypt has the type ``m.room.encrypted`` and the body ``<undecryptable>``.

        A client's own sync can skip events when many arrive at once (a limited timeline), so
        "exactly once" is counted here, from the server's /messages.
        """
        collected: list[Seen] = []
        token: str | None = None
        for _ in range(100):
            response = await self.client.room_messages(room_id, start=token, limit=page)
            assert isinstance(response, RoomMessagesResponse), response
            for event in response.chunk:
                if not hasattr(event, "event_id"):  # nio could not even parse it
                    continue
                seen = Seen.from_nio(room_id, event)
                if isinstance(event, MegolmEvent):
                    seen.type = "m.room.encrypted"
                    seen.content = {"body": "<undecryptable>", "session_id": event.session_id}
                collected.append(seen)
            if not response.chunk or not response.end or response.end == token:
                break
            token = response.end
        collected.reverse()
        return collected


# ---- the lean raw-HTTP client -----------------------------------------------------------------


class RawClient:
    """A lean Matrix client on httpx: one room, a continuous long-poll /sync loop, no nio.

    ``timeline_limit`` is how many events one sync may bring per room: more than a burst brings,
    or the timeline comes *limited*, with a gap (counted in ``limited_syncs`` all the same).
    """

    def __init__(self, base_url: str, user_id: str, token: str, *, timeline_limit: int = 20) -> None:
        self.user_id = user_id
        self.timeline = Timeline()
        self.on_event: Callable[[Seen], None] | None = None
        self.timeline_limit = timeline_limit
        self.limited_syncs = 0
        self.started_ms = 0  # wall clock of the initial sync: later events must all be seen
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(LONG_POLL_MS / 1000 + 30),
            trust_env=False,
        )
        self._since: str | None = None
        self._filter_id: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._http.request(method, f"/_matrix/client/v3{path}", **kwargs)
        if response.status_code != 200:
            raise RuntimeError(
                f"{method} {path} as {self.user_id}: HTTP {response.status_code} {response.text}"
            )
        body: dict[str, Any] = response.json()
        return body

    async def create_room(
        self, name: str, invite: Iterable[str] = (), *, preset: str = "private_chat"
    ) -> str:
        body = await self._request(
            "POST", "/createRoom", json={"name": name, "preset": preset, "invite": list(invite)}
        )
        return str(body["room_id"])

    async def join(self, room_id: str) -> None:
        await self._request("POST", f"/join/{quote(room_id)}", json={})

    async def joined_members(self, room_id: str) -> set[str]:
        body = await self._request("GET", f"/rooms/{quote(room_id)}/joined_members")
        return set(body.get("joined", {}))

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        path = f"/rooms/{quote(room_id)}/send/{quote(event_type)}/{uuid.uuid4().hex}"
        return str((await self._request("PUT", path, json=content))["event_id"])

    async def send(self, room_id: str, body: str) -> str:
        return await self.send_event(room_id, "m.room.message", {"msgtype": "m.text", "body": body})

    async def reply(self, room_id: str, event_id: str, body: str) -> str:
        """A notice in reply to ``event_id``."""
        content = {
            "msgtype": "m.notice",
            "body": body,
            "m.relates_to": {"m.in_reply_to": {"event_id": event_id}},
        }
        return await self.send_event(room_id, "m.room.message", content)

    async def start(self, room_id: str) -> None:
        """Upload a timeline-only filter, take the initial sync, start the long-poll loop."""
        nothing = {"not_types": ["*"]}
        room_filter = {
            "rooms": [room_id],
            "timeline": {"limit": self.timeline_limit},
            "state": nothing,
            "ephemeral": nothing,
            "account_data": nothing,
        }
        definition = {"presence": nothing, "account_data": nothing, "room": room_filter}
        created = await self._request("POST", f"/user/{quote(self.user_id)}/filter", json=definition)
        self._filter_id = str(created["filter_id"])
        initial = await self._request("GET", "/sync", params={"filter": self._filter_id, "timeout": 0})
        self.started_ms = int(time.time() * 1000)
        self._since = str(initial["next_batch"])
        self._task = asyncio.create_task(self._loop(), name=f"sync {self.user_id}")

    async def _loop(self) -> None:
        assert self._filter_id is not None
        while True:
            params = {"filter": self._filter_id, "timeout": LONG_POLL_MS, "since": self._since or ""}
            try:
                body = await self._request("GET", "/sync", params=params)
            except (httpx.HTTPError, RuntimeError) as error:
                log.warning("%s: sync failed (%s); retrying", self.user_id, error)
                await asyncio.sleep(0.5)
                continue
            seen_perf, seen_wall = time.perf_counter(), time.time()
            self._since = str(body["next_batch"])
            fresh: list[Seen] = []
            for room_id, room in body.get("rooms", {}).get("join", {}).items():
                timeline = room.get("timeline", {})
                self.limited_syncs += bool(timeline.get("limited"))
                fresh += [
                    Seen.from_json(room_id, event, seen_perf, seen_wall)
                    for event in timeline.get("events", [])
                    if "event_id" in event
                ]
            await self.timeline.add(fresh)
            if self.on_event is not None:
                for seen in fresh:
                    self.on_event(seen)

    async def history(self, room_id: str) -> list[dict[str, Any]]:
        """The room's whole timeline, oldest first (``/messages``, paging backwards)."""
        events: list[dict[str, Any]] = []
        params: dict[str, Any] = {"dir": "b", "limit": 1000}
        while True:
            body = await self._request("GET", f"/rooms/{quote(room_id)}/messages", params=params)
            chunk = body.get("chunk") or []
            events += chunk
            if not chunk or not body.get("end"):
                break
            params["from"] = body["end"]
        events.reverse()
        return events

    async def stop(self) -> None:
        await cancelled(self._task)
        await self._http.aclose()
