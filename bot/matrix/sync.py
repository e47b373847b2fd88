"""The sync loop: every new event of a served room reaches the app exactly once.

Sync tokens are stored in SQLite only after the handlers of a batch have finished, so a crash
mid-batch replays the batch; the ledger of handled event ids makes that replay harmless. After
a long absence the timeline is paged back to what was already handled (backfill).

Encrypted events whose room key has not arrived yet are kept and tried again after every sync;
their keys are requested again now and then, and only after a grace period does the sender get
one private hint. Decrypted events are judged by their sending device (trust.py) before the app
sees them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from nio import MegolmEvent, SyncError, SyncResponse
from nio.exceptions import LocalProtocolError

from bot.errors import FatalMatrixError
from bot.matrix.events import EventHandler, IncomingEvent, PrivateHint
from bot.matrix.rooms import Rooms
from bot.matrix.session import SYNC_TIMEOUT_MS, Session, backoff
from bot.matrix.trust import DeviceTrust
from bot.storage import EventLedger, KeyValue

log = logging.getLogger(__name__)

UNDECRYPTED_KEEP_S = 600.0
UNDECRYPTED_GRACE_S = 60.0
# When to ask other devices for a missing room key again (seconds after the event arrived).
KEY_REQUEST_AGAIN_S = (10.0, 30.0)
BACKFILL_MAX_PAGES = 5
WITHHELD_TYPES = frozenset({"m.room_key.withheld", "org.matrix.room_key.withheld"})
# Enough timeline per room to catch up after a short outage without paging.
SYNC_FILTER: dict[str, Any] = {
    "presence": {"not_types": ["*"]},
    "room": {"timeline": {"limit": 250}, "ephemeral": {"not_types": ["*"]}},
}

HintHandler = Callable[[PrivateHint], Awaitable[None]]


@dataclass
class _Undecrypted:
    event: Any
    room_id: str
    first_seen: float
    requests: int = 0
    withheld: str | None = None


@dataclass
class _Hints:
    """One hint per (kind, member, device) for as long as the process runs."""

    given: set[tuple[str, str, str]] = field(default_factory=set)

    def first(self, kind: str, user_id: str, device_id: str) -> bool:
        key = (kind, user_id, device_id)
        if key in self.given:
            return False
        self.given.add(key)
        return True


class SyncLoop:
    def __init__(
        self,
        session: Session,
        rooms: Rooms,
        trust: DeviceTrust,
        *,
        ledger: EventLedger,
        kv: KeyValue,
        on_event: EventHandler,
        on_hint: HintHandler,
    ) -> None:
        self._session = session
        self._rooms = rooms
        self._trust = trust
        self._ledger = ledger
        self._kv = kv
        self._on_event = on_event
        self._on_hint = on_hint
        self._undecrypted: dict[str, _Undecrypted] = {}
        self._hints = _Hints()
        self._failures = 0
        self._received_at = time.monotonic()
        self._trust_known = False
        self.synced = asyncio.Event()
        """Set after every completed sync; tests and the demo wait on it."""

    @property
    def _client(self) -> Any:
        return self._session.client

    async def first_sync(self) -> None:
        token = self._kv.get("sync.next_batch")
        while True:
            # full_state after a restart: nio keeps no room state between runs.
            response = await self._sync_once(token, timeout_ms=0, full_state=True)
            if response is not None:
                break
            if self._session.stopping.is_set():
                return
        if token is None:
            # The very first start: whatever happened in the rooms before is history.
            log.info("first start: skipping room history")
        await self._after_sync(response, dispatch=token is not None)

    async def run(self) -> None:
        """Sync until stopped; raises FatalMatrixError when the homeserver refuses us for good."""
        stopping = asyncio.create_task(self._session.stopping.wait())
        try:
            while not self._session.stopping.is_set():
                syncing = asyncio.create_task(
                    self._sync_once(self._client.next_batch, timeout_ms=SYNC_TIMEOUT_MS)
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
        if self._session.fatal is not None:
            raise self._session.fatal

    async def _sync_once(
        self, since: str | None, *, timeout_ms: int, full_state: bool = False
    ) -> SyncResponse | None:
        """One sync; None after a recoverable failure (having waited), raises on fatal ones."""
        attempt = self._failures
        try:
            response = await self._client.sync(
                timeout=timeout_ms, sync_filter=SYNC_FILTER, since=since, full_state=full_state
            )
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            delay = backoff(attempt)
            log.warning("sync failed (%s); retrying in %.1f s", error.__class__.__name__, delay)
            self._failures = attempt + 1
            await self._session.sleep_unless_stopped(delay)
            return None
        if isinstance(response, SyncError):
            self._session.raise_for_token(response)
            delay = backoff(attempt)
            if response.retry_after_ms:
                delay = max(delay, response.retry_after_ms / 1000)
            log.warning(
                "sync error %s: %s; retrying in %.1f s", response.status_code, response.message, delay
            )
            self._failures = attempt + 1
            await self._session.sleep_unless_stopped(delay)
            return None
        self._failures = 0
        return response

    async def _after_sync(self, response: SyncResponse, *, dispatch: bool) -> None:
        self._received_at = time.monotonic()
        self._rooms.note_creators(response)
        self._note_withheld(response)
        await self._keep_keys()
        await self._rooms.handle_invites(response)
        if dispatch:
            # Rooms are independent: a slow command in one must not hold up the others. Within a
            # room, events are handled in order.
            await asyncio.gather(
                *(
                    self._dispatch_room(room_id, room.timeline)
                    for room_id, room in response.rooms.join.items()
                    if room_id in self._rooms.served_since
                )
            )
            await self._retry_undecrypted()
        # Only now: a crash before this line replays the batch, and the ledger skips what was done.
        self._kv.set("sync.next_batch", response.next_batch)
        self.synced.set()
        self.synced.clear()

    async def _keep_keys(self) -> None:
        client = self._client
        if client.olm is None:
            return
        try:
            if client.should_upload_keys:
                self._session.raise_for_token(await client.keys_upload())
            if client.should_query_keys:
                changed = set(client.users_for_key_query)
                self._session.raise_for_token(await client.keys_query())
                await self._trust.refresh(changed)
            if not self._trust_known:
                # nio keeps devices between runs, we keep no trust verdicts: judge everyone once.
                await self._trust.refresh(self._tracked_users())
                self._trust_known = True
            if client.should_claim_keys:
                self._session.raise_for_token(await client.keys_claim(client.get_users_for_key_claiming()))
            await client.send_to_device_messages()
        except (aiohttp.ClientError, TimeoutError, OSError, LocalProtocolError) as error:
            log.warning("key maintenance failed (%s); will retry after the next sync", error)

    def _tracked_users(self) -> set[str]:
        return {user for room in self._client.rooms.values() if room.encrypted for user in room.users}

    def _note_withheld(self, response: SyncResponse) -> None:
        """nio ignores m.room_key.withheld; the reason is worth a log line (and the hint later)."""
        for event in response.to_device_events:
            source = getattr(event, "source", None) or {}
            if source.get("type") not in WITHHELD_TYPES:
                continue
            content = source.get("content") or {}
            log.warning(
                "room key withheld by %s for session %s in %s: %s (%s)",
                source.get("sender"),
                content.get("session_id"),
                content.get("room_id"),
                content.get("code"),
                content.get("reason"),
            )
            for item in self._undecrypted.values():
                if item.event.session_id == content.get("session_id"):
                    item.withheld = str(content.get("code"))

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

    async def _backfill(self, room_id: str, prev_batch: str) -> list[Any]:
        """Events a limited timeline left out (the bot was away long): page back to what we know."""
        since = self._rooms.served_since[room_id] * 1000
        collected: list[Any] = []
        token = prev_batch
        for _ in range(BACKFILL_MAX_PAGES):
            response = await self._client.room_messages(room_id, start=token, limit=100)
            self._session.raise_for_token(response)
            chunk = getattr(response, "chunk", None)
            if not chunk:
                break
            collected.extend(chunk)
            # Stop at the first page that reaches what we know: our own messages, handled events,
            # or the time before the bot served the room.
            if any(
                event.server_timestamp < since
                or getattr(event, "sender", None) == self._session.user_id
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
            or sender == self._session.user_id
            or self._ledger.seen(event_id)
        ):
            return
        if event.server_timestamp < self._rooms.served_since[room_id] * 1000:
            return  # older than the bot's presence in this room
        if isinstance(event, MegolmEvent):
            if event_id not in self._undecrypted:
                self._undecrypted[event_id] = _Undecrypted(event, room_id, time.monotonic())
                log.warning("cannot decrypt %s in %s yet (session %s)", event_id, room_id, event.session_id)
                await self._request_key(event)
            return
        source = getattr(event, "source", None) or {}
        if "state_key" in source:
            return
        if getattr(event, "decrypted", False):
            allowed, device_id = self._trust.allows(event)
            if not allowed and not self._trust.judged(sender, device_id):
                # A device so new that its keys have not been asked for yet: ask now, then judge.
                await self._query_devices(sender)
                allowed, device_id = self._trust.allows(event)
            if not allowed:
                log.info("not acting on %s: device %s of %s is not cross-signed", event_id, device_id, sender)
                self._ledger.record(event_id, room_id)
                if self._hints.first("unsigned_device", sender, device_id or "?"):
                    await self._hint(PrivateHint("unsigned_device", sender, room_id, device_id))
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

    async def _query_devices(self, user_id: str) -> None:
        client = self._client
        try:
            client.olm.users_for_key_query.add(user_id)
            self._session.raise_for_token(await client.keys_query())
            await self._trust.refresh({user_id})
        except (aiohttp.ClientError, TimeoutError, OSError, LocalProtocolError) as error:
            log.warning("could not query the devices of %s (%s)", user_id, error)

    async def _request_key(self, event: Any) -> None:
        olm = self._client.olm
        if olm is not None:
            # nio refuses a second request for the same session; asking again is the point.
            olm.outgoing_key_requests.pop(event.session_id, None)
        with contextlib.suppress(Exception):
            await self._client.request_room_key(event)

    async def _retry_undecrypted(self) -> None:
        now = time.monotonic()
        for event_id, item in list(self._undecrypted.items()):
            try:
                decrypted = self._client.decrypt_event(item.event)
            except Exception as error:  # nio raises several kinds while the key is missing
                log.debug("%s still undecryptable: %s", event_id, error)
                decrypted = None
            age = now - item.first_seen
            if decrypted is not None and not isinstance(decrypted, MegolmEvent):
                del self._undecrypted[event_id]
                log.info("decrypted %s in %s after %.1f s", event_id, item.room_id, age)
                await self._dispatch(item.room_id, decrypted)
                continue
            if item.requests < len(KEY_REQUEST_AGAIN_S) and age >= KEY_REQUEST_AGAIN_S[item.requests]:
                item.requests += 1
                await self._request_key(item.event)
            if age >= UNDECRYPTED_GRACE_S:
                sender = str(item.event.sender)
                device = str(getattr(item.event, "device_id", None) or "?")
                if self._hints.first("undecryptable", sender, device):
                    await self._hint(PrivateHint("undecryptable", sender, item.room_id, None, item.withheld))
            if age >= UNDECRYPTED_KEEP_S:
                del self._undecrypted[event_id]
                log.error("gave up on undecryptable event %s in %s", event_id, item.room_id)

    async def _hint(self, hint: PrivateHint) -> None:
        try:
            await self._on_hint(hint)
        except FatalMatrixError:
            raise
        except Exception:
            log.exception("could not send a %s hint to %s", hint.kind, hint.user_id)
