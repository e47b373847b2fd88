"""The Matrix adapter: the only module that talks to matrix-nio.

It logs in once and then reuses the device (a new device per start would break E2EE), runs the
sync loop, hands each new event of a served room exactly once to the app, and sends everything
through one queue that honours the homeserver's rate limits.

Sync tokens are stored in SQLite only after the handlers of a batch have finished, so a crash
mid-batch replays the batch; the ledger of handled event ids makes that replay harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import io
import json
import logging
import os
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    InviteMemberEvent,
    JoinError,
    LoginResponse,
    MegolmEvent,
    RoomCreateEvent,
    RoomResolveAliasResponse,
    RoomSendResponse,
    SyncError,
    SyncResponse,
    WhoamiResponse,
)
from nio.exceptions import LocalProtocolError
from sqlite_utils import Database

from bot.errors import ConfigError, FatalMatrixError
from bot.render import render
from bot.services.rooms import RoomSettings
from bot.settings import MatrixSettings
from bot.storage import EventLedger, KeyValue

log = logging.getLogger(__name__)

CREDENTIALS_FILE = "credentials.json"
STORE_DIR = "e2ee-store"
# The long poll returns at once on news; its length only bounds how long a revoked token goes
# unnoticed (Synapse lets a running long poll finish), so it stays short.
SYNC_TIMEOUT_MS = 8_000
BACKOFF_START_S = 1.0
BACKOFF_CAP_S = 30.0
SEND_ATTEMPTS = 6
SEND_WORKERS = 4
UNDECRYPTED_KEEP_S = 600.0
BACKFILL_MAX_PAGES = 5
# Enough timeline per room to catch up after a short outage without paging.
SYNC_FILTER: dict[str, Any] = {
    "presence": {"not_types": ["*"]},
    "room": {"timeline": {"limit": 250}, "ephemeral": {"not_types": ["*"]}},
}
CREATOR_POWER_LEVEL = 2**31  # "infinite": above any power level a room can set
TOKEN_ERRORS = frozenset({"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"})


@dataclass(frozen=True)
class IncomingEvent:
    """A decrypted room event, stripped of nio types."""

    room_id: str
    event_id: str
    sender: str
    type: str
    content: dict[str, Any]
    timestamp_ms: int
    received_at: float = field(default_factory=time.monotonic)
    """When the sync that carried the event arrived (monotonic clock): processing starts here."""

    @property
    def body(self) -> str:
        body = self.content.get("body")
        return body if isinstance(body, str) else ""

    @property
    def msgtype(self) -> str | None:
        msgtype = self.content.get("msgtype")
        return msgtype if isinstance(msgtype, str) else None

    @property
    def relation(self) -> dict[str, Any]:
        relates = self.content.get("m.relates_to")
        return relates if isinstance(relates, dict) else {}

    @property
    def is_edit(self) -> bool:
        return self.relation.get("rel_type") == "m.replace" or "m.new_content" in self.content


EventHandler = Callable[[IncomingEvent], Awaitable[None]]


def transaction_for(*parts: str) -> str:
    """A transaction id that is the same whenever the same thing is sent again (after a crash)."""
    return "akbot-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


class SendError(Exception):
    """The homeserver did not accept an outgoing event."""


def message_content(
    markdown: str,
    *,
    reply_to: str | None = None,
    mentions: Sequence[str] = (),
    room_mention: bool = False,
    msgtype: str = "m.notice",
) -> dict[str, Any]:
    """The content of a bot message: plain body, HTML, explicit mentions, optional reply."""
    body, html = render(markdown)
    return html_content(
        body, html, reply_to=reply_to, mentions=mentions, room_mention=room_mention, msgtype=msgtype
    )


def html_content(
    body: str,
    html: str,
    *,
    reply_to: str | None = None,
    thread_root: str | None = None,
    mentions: Sequence[str] = (),
    room_mention: bool = False,
    msgtype: str = "m.notice",
) -> dict[str, Any]:
    """A message from a body and HTML already made; ``m.mentions`` is always explicit."""
    intended: dict[str, Any] = {"user_ids": sorted(set(mentions))}
    if room_mention:
        intended["room"] = True
    content: dict[str, Any] = {
        "msgtype": msgtype,
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": html,
        "m.mentions": intended,
    }
    if thread_root is not None:
        content["m.relates_to"] = {
            "rel_type": "m.thread",
            "event_id": thread_root,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": reply_to or thread_root},
        }
    elif reply_to is not None:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
    return content


POLL_START = "org.matrix.msc3381.poll.start"
POLL_END = "org.matrix.msc3381.poll.end"
POLL_RESPONSES = ("org.matrix.msc3381.poll.response", "m.poll.response")
TEXT_KEY = "org.matrix.msc1767.text"


def poll_start_content(
    question: str, answers: Sequence[tuple[str, str]], *, anonymous: bool, fallback: str
) -> dict[str, Any]:
    """A native poll (MSC3381, unstable names as Element sends them): every answer selectable."""
    kind = "org.matrix.msc3381.poll.undisclosed" if anonymous else "org.matrix.msc3381.poll.disclosed"
    return {
        POLL_START: {
            "kind": kind,
            "max_selections": len(answers),
            "question": {TEXT_KEY: question},
            "answers": [{"id": answer_id, TEXT_KEY: label} for answer_id, label in answers],
        },
        TEXT_KEY: fallback,
        "m.mentions": {},
    }


def poll_end_content(start_event_id: str, text: str) -> dict[str, Any]:
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start_event_id},
        POLL_END: {},
        TEXT_KEY: text,
        "m.mentions": {},
    }


def poll_response(event: IncomingEvent) -> tuple[str, list[str]] | None:
    """(start event id, selected answer ids) of a poll response, unstable or stable form."""
    if event.type not in POLL_RESPONSES:
        return None
    relation = event.relation
    start = relation.get("event_id")
    if relation.get("rel_type") != "m.reference" or not isinstance(start, str):
        return None
    body = event.content.get("org.matrix.msc3381.poll.response") or event.content.get("m.response") or {}
    answers = body.get("answers") if isinstance(body, dict) else None
    if answers is None:
        answers = event.content.get("m.selections")
    if not isinstance(answers, list):
        return start, ["<malformed>"]  # spoils the vote rather than dropping it silently
    return start, [str(answer) for answer in answers]


def edit_content(event_id: str, markdown: str, msgtype: str = "m.notice") -> dict[str, Any]:
    """An edit (m.replace) of one of our messages; edits notify nobody."""
    body, html = render(markdown)
    return edit_html_content(event_id, body, html, msgtype)


EDIT_FALLBACK_CHARS = 2_000


def edit_html_content(event_id: str, body: str, html: str, msgtype: str = "m.notice") -> dict[str, Any]:
    """An edit carries the new text in ``m.new_content``; the top-level fallback is for old clients
    only, so a long one is cut short — the event must stay under 64 KB once encrypted."""
    new = html_content(body, html, msgtype=msgtype)
    content = dict(new)
    if len(body) > EDIT_FALLBACK_CHARS:
        content["body"] = "* " + body[:EDIT_FALLBACK_CHARS] + " …"
        del content["format"], content["formatted_body"]
    else:
        content["body"] = "* " + body
        content["formatted_body"] = "* " + html
    content["m.new_content"] = new
    content["m.relates_to"] = {"rel_type": "m.replace", "event_id": event_id}
    return content


@dataclass
class Credentials:
    homeserver: str
    user_id: str
    device_id: str
    access_token: str

    @classmethod
    def load(cls, path: Path) -> Credentials | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(data["homeserver"], data["user_id"], data["device_id"], data["access_token"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, path: Path) -> None:
        # Written to a temp file first: a crash must not leave half a token behind.
        temporary = path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(self.__dict__, handle)
        temporary.replace(path)


@dataclass
class _Outgoing:
    room_id: str
    event_type: str
    content: dict[str, Any]
    future: asyncio.Future[str]
    transaction_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    attempts: int = SEND_ATTEMPTS


@dataclass
class _Undecrypted:
    event: Any
    room_id: str
    first_seen: float


def _creators_privileged(room_version: str) -> bool:
    """Room versions in which creators have unlimited power (MSC4289)."""
    if room_version.isdecimal():
        return int(room_version) >= 12
    return "hydra" in room_version


def _backoff(attempt: int) -> float:
    return float(min(BACKOFF_CAP_S, BACKOFF_START_S * 2**attempt) * random.uniform(0.8, 1.2))


class MatrixAdapter:
    """Connects to the homeserver as the bot and keeps it connected."""

    def __init__(
        self,
        settings: MatrixSettings,
        data_dir: Path,
        db: Database,
        rooms: RoomSettings,
        on_event: EventHandler,
    ) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.user_id = settings.user_id
        self.encryption = settings.encryption
        self._rooms = rooms
        self._on_event = on_event
        self._kv = KeyValue(db)
        self._ledger = EventLedger(db)
        self._client: AsyncClient | None = None
        self._configured_ids: set[str] = set()
        self._served_since: dict[str, float] = {}
        self._queue: asyncio.Queue[_Outgoing] = asyncio.Queue()
        self._senders: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self._fatal: FatalMatrixError | None = None
        self._undecrypted: list[_Undecrypted] = []
        self._sync_failures = 0
        self._received_at = time.monotonic()
        self._creators: dict[str, tuple[str, set[str]]] = {}
        self.synced = asyncio.Event()
        """Set after every completed sync; tests and the demo wait on it."""

    # ---- connection -------------------------------------------------------------------------

    @property
    def client(self) -> AsyncClient:
        if self._client is None:
            raise RuntimeError("connect() first")
        return self._client

    def _new_client(self, with_store: bool) -> AsyncClient:
        store_path = self.data_dir / STORE_DIR
        store_path.mkdir(parents=True, exist_ok=True)
        pickle_key = self.settings.pickle_key.get_secret_value() if self.settings.pickle_key else "akbot"
        config = AsyncClientConfig(
            encryption_enabled=self.encryption and with_store,
            store_sync_tokens=False,
            pickle_key=pickle_key,
            # Errors surface to our own loops, which back off and honour retry_after_ms.
            max_limit_exceeded=0,
            max_timeouts=0,
            request_timeout=SYNC_TIMEOUT_MS / 1000 + 30,
        )
        return AsyncClient(
            self.settings.homeserver,
            self.user_id,
            store_path=str(store_path) if with_store else "",
            config=config,
        )

    async def login(self, *, with_store: bool = True) -> Credentials:
        """Log in once with the password; afterwards reuse the stored token and device."""
        path = self.data_dir / CREDENTIALS_FILE
        self.data_dir.mkdir(parents=True, exist_ok=True)
        client = self._new_client(with_store)
        self._client = client
        stored = Credentials.load(path)
        if stored and (stored.user_id, stored.homeserver) != (
            self.user_id,
            self.settings.homeserver,
        ):
            log.warning(
                "stored credentials are for %s on %s; logging in anew",
                stored.user_id,
                stored.homeserver,
            )
            stored = None
        if stored is None and self.settings.access_token is not None:
            client.access_token = self.settings.access_token.get_secret_value()
            who = await client.whoami()
            self._raise_for_token(who)
            if not isinstance(who, WhoamiResponse) or not who.device_id:
                raise ConfigError(f"matrix.access_token: the homeserver does not accept it ({who})")
            stored = Credentials(self.settings.homeserver, who.user_id, who.device_id, client.access_token)
            stored.save(path)
        if stored is None:
            assert self.settings.password is not None  # settings guarantee password or token
            response = await client.login(
                self.settings.password.get_secret_value(), device_name=self.settings.device_name
            )
            if not isinstance(response, LoginResponse):
                raise ConfigError(f"matrix.password: login as {self.user_id} failed: {response.message}")
            stored = Credentials(
                self.settings.homeserver,
                response.user_id,
                response.device_id,
                response.access_token,
            )
            stored.save(path)
            log.info("logged in as %s, new device %s", stored.user_id, stored.device_id)
        else:
            client.restore_login(stored.user_id, stored.device_id, stored.access_token)
            log.info("reusing device %s of %s", stored.device_id, stored.user_id)
        return stored

    def _raise_for_token(self, response: Any) -> None:
        if isinstance(response, ErrorResponse) and response.status_code in TOKEN_ERRORS:
            self._fatal = FatalMatrixError(
                f"the homeserver no longer accepts the bot's access token ({response.status_code}); "
                f"delete {self.data_dir / CREDENTIALS_FILE} and start again to log in with the password"
            )
            raise self._fatal

    async def connect(self) -> None:
        """Log in, take the first sync, join the configured rooms, start the send queue.

        A homeserver that is not up yet (both started by the same compose file) is waited for.
        """
        attempt = 0
        while True:
            try:
                await self.login()
                await self._resolve_configured_rooms()
                break
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                delay = _backoff(attempt)
                attempt += 1
                log.warning("homeserver not reachable (%s); trying again in %.1f s", error, delay)
                if self._client is not None:
                    await self._client.close()
                await self._sleep_unless_stopped(delay)
                if self._stopping.is_set():
                    return
        for room_id in self._rooms.invited_rooms():
            self._served_since[room_id] = self._rooms.remember(room_id, "invite")
        # A few sends in flight at once; each caller still waits for its own, so one handler's
        # messages keep their order.
        self._senders = [
            asyncio.create_task(self._send_loop(), name=f"matrix-send-{n}") for n in range(SEND_WORKERS)
        ]
        await self._first_sync()
        if not self._stopping.is_set():
            await self._join_configured_rooms()

    async def _resolve_configured_rooms(self) -> None:
        for room in self.settings.rooms:
            if room.startswith("!"):
                self._configured_ids.add(room)
                continue
            response = await self.client.room_resolve_alias(room)
            self._raise_for_token(response)
            if isinstance(response, RoomResolveAliasResponse):
                self._configured_ids.add(response.room_id)
            else:
                log.warning(
                    "room alias %s cannot be resolved: %s",
                    room,
                    getattr(response, "message", response),
                )
        for room_id in self._configured_ids:
            self._served_since[room_id] = self._rooms.remember(room_id, "config")

    async def _first_sync(self) -> None:
        token = self._kv.get("sync.next_batch")
        while True:
            # full_state after a restart: nio keeps no room state between runs.
            response = await self._sync_once(token, timeout_ms=0, full_state=True)
            if response is not None:
                break
            if self._stopping.is_set():
                return
        if token is None:
            # The very first start: whatever happened in the rooms before is history.
            log.info("first start: skipping room history")
            await self._after_sync(response, dispatch=False)
        else:
            await self._after_sync(response, dispatch=True)

    async def _join_configured_rooms(self) -> None:
        joined = set(self.client.rooms)
        for room in self.settings.rooms:
            if room in joined or (room.startswith("!") is False and self._alias_joined(room)):
                continue
            response = await self.client.join(room)
            self._raise_for_token(response)
            if isinstance(response, JoinError):
                log.error("cannot join configured room %s: %s", room, response.message)
            else:
                self._configured_ids.add(response.room_id)
                self._served_since.setdefault(
                    response.room_id, self._rooms.remember(response.room_id, "config")
                )
                log.info("joined configured room %s (%s)", room, response.room_id)

    def _alias_joined(self, alias: str) -> bool:
        return any(
            alias == room.canonical_alias or alias in getattr(room, "aliases", ())
            for room in self.client.rooms.values()
        )

    # ---- the sync loop ----------------------------------------------------------------------

    async def run(self) -> None:
        """Sync until stop(); raises FatalMatrixError when the homeserver refuses us for good."""
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                syncing = asyncio.create_task(
                    self._sync_once(self.client.next_batch, timeout_ms=SYNC_TIMEOUT_MS)
                )
                await asyncio.wait({syncing, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not syncing.done():
                    # Only the long poll is cancelled; handlers always run to their end.
                    syncing.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await syncing
                    break
                response = syncing.result()
                if response is not None:
                    await self._after_sync(response, dispatch=True)
        finally:
            stopping.cancel()
        if self._fatal is not None:
            raise self._fatal

    async def _sync_once(
        self, since: str | None, *, timeout_ms: int, full_state: bool = False
    ) -> SyncResponse | None:
        """One sync; None after a recoverable failure (having waited), raises on fatal ones."""
        attempt = self._sync_failures
        try:
            response = await self.client.sync(
                timeout=timeout_ms, sync_filter=SYNC_FILTER, since=since, full_state=full_state
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            delay = _backoff(attempt)
            log.warning("sync failed (%s); retrying in %.1f s", error.__class__.__name__, delay)
            self._sync_failures = attempt + 1
            await self._sleep_unless_stopped(delay)
            return None
        if isinstance(response, SyncError):
            self._raise_for_token(response)
            delay = _backoff(attempt)
            if response.retry_after_ms:
                delay = max(delay, response.retry_after_ms / 1000)
            log.warning(
                "sync error %s: %s; retrying in %.1f s",
                response.status_code,
                response.message,
                delay,
            )
            self._sync_failures = attempt + 1
            await self._sleep_unless_stopped(delay)
            return None
        self._sync_failures = 0
        return response

    async def _sleep_unless_stopped(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _after_sync(self, response: SyncResponse, *, dispatch: bool) -> None:
        self._received_at = time.monotonic()
        self._note_creators(response)
        await self._keep_keys()
        await self._handle_invites(response)
        if dispatch:
            # Rooms are independent: a slow command in one must not hold up the others. Within a
            # room, events are handled in order.
            await asyncio.gather(
                *(
                    self._dispatch_room(room_id, room.timeline)
                    for room_id, room in response.rooms.join.items()
                    if room_id in self._served_since
                )
            )
            await self._retry_undecrypted()
        # Only now: a crash before this line replays the batch, and the ledger skips what was done.
        self._kv.set("sync.next_batch", response.next_batch)
        self.synced.set()
        self.synced.clear()

    def _note_creators(self, response: SyncResponse) -> None:
        # From room version 12 on, creators outrank every power level and are absent from
        # m.room.power_levels; nio does not model that, so we remember them ourselves.
        for room_id, room in response.rooms.join.items():
            for event in [*room.state, *room.timeline.events]:
                if isinstance(event, RoomCreateEvent):
                    content = event.source.get("content", {})
                    extra = content.get("additional_creators", [])
                    creators = {event.sender, *(c for c in extra if isinstance(c, str))}
                    self._creators[room_id] = (str(content.get("room_version", "1")), creators)

    async def _dispatch_room(self, room_id: str, timeline: Any) -> None:
        events = list(timeline.events)
        if timeline.limited and timeline.prev_batch:
            events = await self._backfill(room_id, timeline.prev_batch) + events
        # Members are independent of each other: one member's commands run in order, while
        # different members' commands (a burst of 200 votes) are handled side by side.
        by_sender: dict[str, list[Any]] = {}
        for event in events:
            by_sender.setdefault(str(getattr(event, "sender", "")), []).append(event)
        await asyncio.gather(*(self._dispatch_in_order(room_id, own) for own in by_sender.values()))

    async def _dispatch_in_order(self, room_id: str, events: list[Any]) -> None:
        for event in events:
            await self._dispatch(room_id, event)

    async def _keep_keys(self) -> None:
        if not self.encryption:
            return
        client = self.client
        try:
            if client.should_upload_keys:
                self._raise_for_token(await client.keys_upload())
            if client.should_query_keys:
                self._raise_for_token(await client.keys_query())
            if client.should_claim_keys:
                self._raise_for_token(await client.keys_claim(client.get_users_for_key_claiming()))
            await client.send_to_device_messages()
        except (aiohttp.ClientError, TimeoutError, OSError, LocalProtocolError) as error:
            log.warning("key maintenance failed (%s); will retry after the next sync", error)

    async def _backfill(self, room_id: str, prev_batch: str) -> list[Any]:
        """Events a limited timeline left out (the bot was away long): page back to what we know."""
        since = self._served_since[room_id] * 1000
        collected: list[Any] = []
        token = prev_batch
        for _ in range(BACKFILL_MAX_PAGES):
            response = await self.client.room_messages(room_id, start=token, limit=100)
            self._raise_for_token(response)
            chunk = getattr(response, "chunk", None)
            if not chunk:
                break
            collected.extend(chunk)
            # Stop at the first page that reaches what we know: our own messages, handled events,
            # or the time before the bot served the room.
            if any(
                event.server_timestamp < since
                or getattr(event, "sender", None) == self.user_id
                or self._ledger.seen(event.event_id)
                for event in chunk
            ):
                break
            token = response.end
        collected.reverse()
        log.info("backfilled %d events in %s", len(collected), room_id)
        return collected

    async def _dispatch(self, room_id: str, event: Any) -> None:
        event_id = getattr(event, "event_id", None)
        sender = getattr(event, "sender", None)
        if (
            not event_id
            or not isinstance(sender, str)
            or sender == self.user_id
            or self._ledger.seen(event_id)
        ):
            return
        if event.server_timestamp < self._served_since[room_id] * 1000:
            return  # older than the bot's presence in this room
        if isinstance(event, MegolmEvent):
            self._undecrypted.append(_Undecrypted(event, room_id, time.monotonic()))
            log.warning("cannot decrypt %s in %s yet (session %s)", event_id, room_id, event.session_id)
            with contextlib.suppress(Exception):
                await self.client.request_room_key(event)
            return
        source = getattr(event, "source", None) or {}
        if "state_key" in source:
            return
        incoming = IncomingEvent(
            room_id=room_id,
            event_id=event_id,
            sender=sender,
            type=str(source.get("type", "")),
            content=dict(source.get("content") or {}),
            timestamp_ms=int(event.server_timestamp),
            received_at=self._received_at,
        )
        try:
            await self._on_event(incoming)
        except FatalMatrixError:
            raise
        except Exception:
            # One bad event must never end the sync loop.
            log.exception("handler failed for event %s in %s", event_id, room_id)
        self._ledger.record(event_id, room_id)

    async def _retry_undecrypted(self) -> None:
        if not self._undecrypted:
            return
        pending, self._undecrypted = self._undecrypted, []
        now = time.monotonic()
        for item in pending:
            try:
                decrypted = self.client.decrypt_event(item.event)
            except Exception:  # nio raises several kinds while the key is missing
                decrypted = None
            if decrypted is not None and not isinstance(decrypted, MegolmEvent):
                await self._dispatch(item.room_id, decrypted)
            elif now - item.first_seen < UNDECRYPTED_KEEP_S:
                self._undecrypted.append(item)
            else:
                log.error("gave up on undecryptable event %s in %s", item.event.event_id, item.room_id)

    async def _handle_invites(self, response: SyncResponse) -> None:
        for room_id, info in response.rooms.invite.items():
            inviter = next(
                (
                    event.sender
                    for event in info.invite_state
                    if isinstance(event, InviteMemberEvent)
                    and event.state_key == self.user_id
                    and event.membership == "invite"
                ),
                None,
            )
            configured = room_id in self._configured_ids
            allowed = inviter is not None and any(
                fnmatch.fnmatchcase(inviter, pattern) for pattern in self.settings.allowed_inviters
            )
            if not (configured or allowed):
                log.info(
                    "ignoring invite to %s from %s (not configured, inviter not allowed)",
                    room_id,
                    inviter,
                )
                continue
            joined = await self.client.join(room_id)
            self._raise_for_token(joined)
            if isinstance(joined, JoinError):
                log.warning("cannot join %s after invite from %s: %s", room_id, inviter, joined.message)
                continue
            via = "config" if configured else "invite"
            self._served_since[room_id] = self._rooms.remember(room_id, via)
            log.info("joined %s on invite from %s", room_id, inviter)

    async def check_rooms(self) -> dict[str, tuple[bool, bool]]:
        """For ``akbot check``: per configured room, (joined, encrypted), asked without syncing."""
        who = await self.client.whoami()
        self._raise_for_token(who)
        if not isinstance(who, WhoamiResponse):
            raise FatalMatrixError(f"whoami failed: {getattr(who, 'message', who)}")
        joined_response = await self.client.joined_rooms()
        joined = set(getattr(joined_response, "rooms", []))
        result: dict[str, tuple[bool, bool]] = {}
        for room in self.settings.rooms:
            room_id = room
            if room.startswith("#"):
                resolved = await self.client.room_resolve_alias(room)
                room_id = getattr(resolved, "room_id", room)
            state = await self.client.room_get_state_event(room_id, "m.room.encryption")
            encrypted = isinstance(getattr(state, "content", None), dict) and "algorithm" in state.content
            result[room] = (room_id in joined, encrypted)
        return result

    # ---- what the app asks about rooms ------------------------------------------------------

    def served_rooms(self) -> list[str]:
        joined = set(self._client.rooms) if self._client else set()
        return sorted(room for room in self._served_since if room in joined)

    def is_served(self, room_id: str) -> bool:
        return room_id in self._served_since and self._client is not None and room_id in self._client.rooms

    def power_level(self, room_id: str, user_id: str) -> int:
        room = self.client.rooms.get(room_id)
        if room is None:
            return 0
        version, creators = self._creators.get(room_id, ("1", set()))
        if user_id in creators and _creators_privileged(version):
            return CREATOR_POWER_LEVEL
        return int(room.power_levels.get_user_level(user_id))

    def is_member(self, room_id: str, user_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        return room is not None and user_id in room.users

    def is_encrypted(self, room_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        return bool(room and room.encrypted)

    def display_name(self, room_id: str, user_id: str) -> str:
        room = self.client.rooms.get(room_id)
        if room is None:
            return user_id
        return str(room.user_name(user_id) or user_id)

    def members(self, room_id: str) -> list[str]:
        room = self.client.rooms.get(room_id)
        return sorted(room.users) if room else []

    # ---- sending ----------------------------------------------------------------------------

    async def send_message(
        self,
        room_id: str,
        markdown: str,
        *,
        reply_to: str | None = None,
        mentions: Sequence[str] = (),
        room_mention: bool = False,
        msgtype: str = "m.notice",
        transaction_id: str | None = None,
        attempts: int = SEND_ATTEMPTS,
    ) -> str:
        content = message_content(
            markdown, reply_to=reply_to, mentions=mentions, room_mention=room_mention, msgtype=msgtype
        )
        return await self.send_event(
            room_id, "m.room.message", content, transaction_id=transaction_id, attempts=attempts
        )

    async def send_event(
        self,
        room_id: str,
        event_type: str,
        content: dict[str, Any],
        *,
        transaction_id: str | None = None,
        attempts: int = SEND_ATTEMPTS,
    ) -> str:
        """Queue an event; returns its event id once the homeserver accepted it.

        A ``transaction_id`` that was used before (by this device) makes the homeserver return
        the earlier event instead of posting again: that is how a retry after a crash stays single.
        """
        if self._fatal is not None:
            raise self._fatal
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        item = _Outgoing(room_id, event_type, content, future, attempts=attempts)
        if transaction_id is not None:
            item.transaction_id = transaction_id
        await self._queue.put(item)
        return await future

    async def edit_message(self, room_id: str, event_id: str, markdown: str) -> str:
        return await self.send_event(room_id, "m.room.message", edit_content(event_id, markdown))

    async def send_file(
        self,
        room_id: str,
        filename: str,
        data: bytes,
        mimetype: str,
        *,
        reply_to: str | None = None,
        transaction_id: str | None = None,
    ) -> str:
        """Upload ``data`` (encrypted in encrypted rooms) and post it as an ``m.file``."""
        encrypted = self.encryption and self.is_encrypted(room_id)
        response, keys = await self.client.upload(
            io.BytesIO(data), content_type=mimetype, filename=filename, encrypt=encrypted, filesize=len(data)
        )
        self._raise_for_token(response)
        uri = getattr(response, "content_uri", None)
        if not uri:
            raise SendError(f"upload of {filename} failed: {getattr(response, 'message', response)}")
        content: dict[str, Any] = {
            "msgtype": "m.file",
            "body": filename,
            "filename": filename,
            "info": {"mimetype": mimetype, "size": len(data)},
            "m.mentions": {},
        }
        if encrypted and keys is not None:
            content["file"] = {"url": uri, **keys}
        else:
            content["url"] = uri
        if reply_to is not None:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        return await self.send_event(room_id, "m.room.message", content, transaction_id=transaction_id)

    async def _send_loop(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                item.future.set_result(await self._deliver(item))
            except Exception as error:  # the caller decides; the queue goes on
                if not item.future.done():
                    item.future.set_exception(error)
            finally:
                self._queue.task_done()

    async def _deliver(self, item: _Outgoing) -> str:
        failures = 0
        while True:
            try:
                response = await self.client.room_send(
                    item.room_id,
                    item.event_type,
                    item.content,
                    tx_id=item.transaction_id,
                    ignore_unverified_devices=True,
                )
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                failures += 1
                if failures >= item.attempts:
                    raise SendError(f"homeserver unreachable: {error}") from error
                await asyncio.sleep(_backoff(failures - 1))
                continue
            if isinstance(response, RoomSendResponse):
                return str(response.event_id)
            self._raise_for_token(response)
            status = getattr(response.transport_response, "status", None)
            if response.status_code == "M_LIMIT_EXCEEDED" or status == 429:
                wait_ms = response.retry_after_ms or 1000
                log.info("rate limited; sending again in %d ms", wait_ms)
                await asyncio.sleep(wait_ms / 1000)
                continue
            failures += 1
            if failures >= item.attempts or (response.status_code or "").startswith("M_"):
                raise SendError(f"{response.status_code}: {response.message}")
            await asyncio.sleep(_backoff(failures - 1))

    async def create_room(
        self,
        name: str,
        *,
        invite: Sequence[str] = (),
        encrypted: bool = True,
        power: dict[str, int] | None = None,
    ) -> str:
        """Create a private room (the demo and the tests use this for their users)."""
        initial_state = []
        if encrypted:
            initial_state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        # The creator is not listed: from room version 12 on that is an error (creators outrank all).
        override = (
            {"users": {user: level for user, level in power.items() if user != self.user_id}}
            if power
            else None
        )
        response = await self.client.room_create(
            name=name,
            invite=list(invite),
            initial_state=initial_state,
            power_level_override=override,
        )
        self._raise_for_token(response)
        room_id = getattr(response, "room_id", None)
        if not room_id:
            raise SendError(f"cannot create room {name!r}: {getattr(response, 'message', response)}")
        self._configured_ids.add(room_id)
        self._served_since[room_id] = self._rooms.remember(room_id, "config")
        return str(room_id)

    async def direct_room(self, user_id: str) -> str:
        """The encrypted direct room with ``user_id`` (created once, then reused)."""
        key = f"direct:{user_id}"
        known = self._kv.get(key)
        room = self.client.rooms.get(known) if known else None
        if room is not None and user_id in room.users:
            return str(known)
        initial_state = []
        if self.encryption:
            initial_state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        response = await self.client.room_create(
            is_direct=True, invite=[user_id], initial_state=initial_state
        )
        self._raise_for_token(response)
        room_id = getattr(response, "room_id", None)
        if not room_id:
            raise SendError(
                f"cannot create a direct room with {user_id}: {getattr(response, 'message', response)}"
            )
        self._kv.set(key, room_id)
        # Sending needs the room in our state: wait for the sync that brings it (bounded).
        for _ in range(100):
            if room_id in self.client.rooms:
                break
            await asyncio.wait_for(self.synced.wait(), timeout=30)
        return str(room_id)

    async def join(self, room: str) -> str:
        response = await self.client.join(room)
        self._raise_for_token(response)
        if isinstance(response, JoinError):
            raise SendError(f"cannot join {room}: {response.message}")
        self._configured_ids.add(response.room_id)
        self._served_since.setdefault(response.room_id, self._rooms.remember(response.room_id, "config"))
        return str(response.room_id)

    async def typing(self, room_id: str, active: bool = True, timeout_ms: int = 30_000) -> None:
        with contextlib.suppress(Exception):  # a lost typing notice is harmless
            await self.client.room_typing(room_id, active, timeout=timeout_ms)

    # ---- shutting down ----------------------------------------------------------------------

    def stop(self) -> None:
        self._stopping.set()

    async def close(self, drain_timeout: float = 10.0) -> None:
        """Send what is queued (bounded wait), then close the connection."""
        if self._senders:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout=drain_timeout)
            for sender in self._senders:
                sender.cancel()
            await asyncio.gather(*self._senders, return_exceptions=True)
            self._senders = []
        if self._client is not None:
            await self._client.close()
