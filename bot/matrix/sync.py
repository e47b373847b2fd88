"""The sync loop: every new event of a served room reaches the app exactly once.

The next long poll starts as soon as a batch is handed to its handlers, not when they are done: a
burst of commands whose answers take the homeserver a while to accept (200 votes at once) is not
fetched batch by batch behind its own answers. One member's events are still handled in order,
across batches; different members' side by side. Sync tokens are stored in SQLite only once the
handlers of their batch and of every batch before it have finished, so a crash replays what was not
done; the ledger of handled event ids makes that replay harmless. After a long absence the timeline
is paged back to what was already handled (backfill).

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
from nio import BadEvent, MegolmEvent, SyncError, SyncResponse, UnknownBadEvent
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
UNDECRYPTED_MAX = 1_000
WITHHELD_MAX = 1_000
# A sender whose device the bot cannot place is asked about at most this often.
DEVICE_QUERY_INTERVAL_S = 30.0
# A batch that nio itself cannot process is fetched again this often, then skipped.
POISON_BATCH_ATTEMPTS = 3
# Batches whose handlers may still run while the next one is fetched: bounds the memory of a flood.
BATCHES_IN_FLIGHT = 8
WITHHELD_TYPES = frozenset({"m.room_key.withheld", "org.matrix.room_key.withheld"})
# Enough timeline per room to catch up after a short outage without paging.
SYNC_FILTER: dict[str, Any] = {
    "presence": {"not_types": ["*"]},
    "room": {"timeline": {"limit": 250}, "ephemeral": {"not_types": ["*"]}},
}

HintHandler = Callable[[PrivateHint], Awaitable[bool]]
"""Tells a member privately; False when the app chose not to (the hint may come later)."""


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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        """For the grace periods of undecryptable events; tests move it instead of waiting."""
        self._session = session
        self._rooms = rooms
        self._trust = trust
        self._ledger = ledger
        self._kv = kv
        self._on_event = on_event
        self._on_hint = on_hint
        self._undecrypted: dict[str, _Undecrypted] = {}
        self._withheld: dict[str, str] = {}  # session id -> code, for the hint
        self._requested: set[str] = set()  # session ids asked for in this round
        self._device_queries: dict[str, float] = {}
        self._since: str | None = None  # the token of the last batch handled completely
        self._fetch_from: str | None = None  # the token the next long poll starts from
        # Batches handed to their handlers, oldest first, with the token to store once done.
        self._in_flight: list[tuple[str, asyncio.Task[None]]] = []
        # The last task handling each member's events in a room: the next one waits for it.
        self._chains: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._handling: set[str] = set()  # event ids being handled (a backfill may bring them again)
        self._retrying = asyncio.Lock()
        self._failed: BaseException | None = None
        self._poison_attempts = 0
        self._hints = _Hints()
        self._failures = 0
        self._received_at = time.monotonic()
        self._trust_known = False
        self.synced = asyncio.Event()
        """Set after every completed sync; tests and the demo wait on it."""
        self.own_keys_changed = asyncio.Event()
        """Set when the homeserver says the bot's own keys changed (its identity may be replaced)."""

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
        # Before anything from those rooms is handled: leave the ones whose invitation no longer holds.
        await self._guarded("recheck invited rooms", self._rooms.recheck_invited_rooms())
        await self._after_sync(response, dispatch=token is not None)

    async def run(self) -> None:
        """Sync until stopped; raises FatalMatrixError when the homeserver refuses us for good."""
        stopping = asyncio.create_task(self._session.stopping.wait())
        try:
            while not self._session.stopping.is_set() and self._failed is None:
                if len(self._in_flight) >= BATCHES_IN_FLIGHT:
                    await asyncio.wait({self._in_flight[0][1]})
                    continue
                since = self._fetch_from or self._since
                syncing = asyncio.create_task(self._sync_once(since, timeout_ms=SYNC_TIMEOUT_MS))
                await asyncio.wait({syncing, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if not syncing.done():
                    # Only the long poll is cancelled; handlers always run to their end.
                    syncing.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await syncing
                    break
                response = syncing.result()
                if response is not None:
                    await self._receive(response, dispatch=True)
        finally:
            stopping.cancel()
            await self._drain()
        if self._session.fatal is not None:
            raise self._session.fatal
        if self._failed is not None:
            raise self._failed

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
        except Exception:
            # nio could not process the batch (something in it it does not expect). Fetch it again
            # a few times, then skip it: one poisoned event must not stop the bot for good.
            self._poison_attempts += 1
            if self._poison_attempts < POISON_BATCH_ATTEMPTS:
                log.exception("could not process a sync batch; fetching it again")
            else:
                log.exception("could not process a sync batch %d times; skipping it", self._poison_attempts)
                self._poison_attempts = 0
                skipped = self._client.next_batch
                if skipped:
                    self._fetch_from = skipped
                    self._commit_when_done(skipped)
            await self._session.sleep_unless_stopped(backoff(self._poison_attempts))
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
        """A batch handled to its end (the first sync after a start)."""
        await self._receive(response, dispatch=dispatch)
        await self._drain()

    async def _receive(self, response: SyncResponse, *, dispatch: bool) -> None:
        """Keep what the batch says about rooms and keys, then hand its events to their handlers
        in the background; its token is stored once they (and all before them) are done."""
        received_at = self._received_at = time.monotonic()
        self._rooms.note_creators(response)
        self._note_withheld(response)
        if self._session.user_id in getattr(response.device_list, "changed", ()):
            self.own_keys_changed.set()
        await self._keep_keys()
        await self._guarded("invitations", self._rooms.handle_invites(response))
        await self._guarded("membership", self._rooms.refresh_new_rooms())
        self._fetch_from = response.next_batch
        self._poison_attempts = 0
        if not dispatch:
            self._commit_when_done(response.next_batch)
            return
        timelines = [
            (room_id, room.timeline)
            for room_id, room in response.rooms.join.items()
            if room_id in self._rooms.served_since
        ]
        handling = asyncio.get_running_loop().create_task(self._handle_batch(timelines, received_at))
        self._commit_when_done(response.next_batch, handling)

    async def _handle_batch(self, timelines: list[tuple[str, Any]], received_at: float) -> None:
        # Rooms are independent: a slow command in one must not hold up the others.
        await asyncio.gather(
            *(self._dispatch_room(room_id, timeline, received_at) for room_id, timeline in timelines)
        )
        async with self._retrying:  # one pass at a time: an event decrypted late is handled once
            await self._retry_undecrypted()

    def _commit_when_done(self, token: str, handling: asyncio.Task[None] | None = None) -> None:
        if handling is None:
            handling = asyncio.get_running_loop().create_task(asyncio.sleep(0))
        self._in_flight.append((token, handling))
        handling.add_done_callback(lambda _: self._commit())

    def _commit(self) -> None:
        """Store the token of every batch at the front that is handled completely, in order."""
        stored = False
        while self._in_flight and self._in_flight[0][1].done():
            token, handling = self._in_flight.pop(0)
            error = None if handling.cancelled() else handling.exception()
            if error is not None:
                # Only a fatal error leaves a handler (the others are logged per event): the bot
                # stops, and this batch and the ones after it are fetched again at the next start.
                self._failed = self._failed or error
                self._in_flight.clear()
                self._session.stopping.set()
                return
            # Only now: a crash before this line replays the batch, and the ledger skips what was done.
            self._kv.set("sync.next_batch", token)
            self._since = token
            stored = True
        if stored:
            self.synced.set()
            self.synced.clear()

    async def _drain(self) -> None:
        """Let every batch handed over finish (at a stop, or before going on after the first sync)."""
        while self._in_flight:
            await asyncio.wait({handling for _, handling in self._in_flight})
            self._commit()

    async def _keep_keys(self) -> None:
        client = self._client
        if client.olm is None:
            return
        try:
            if client.should_upload_keys:
                self._session.raise_for_token(await client.keys_upload())
            if client.should_query_keys:
                # Changed devices are excluded from key sharing as nio learns of them (trust.py).
                self._session.raise_for_token(await client.keys_query())
            if not self._trust_known:
                # nio keeps devices between runs, we keep no trust verdicts: judge everyone once.
                self._trust_known = await self._trust.refresh(self._tracked_users())
            if self._trust.pending:
                await self._trust.refresh(set(self._trust.pending))
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
            content = source.get("content")
            if source.get("type") not in WITHHELD_TYPES or not isinstance(content, dict):
                continue
            log.warning(
                "room key withheld by %s for session %s in %s: %s (%s)",
                source.get("sender"),
                content.get("session_id"),
                content.get("room_id"),
                content.get("code"),
                content.get("reason"),
            )
            session_id = str(content.get("session_id"))
            self._withheld[session_id] = str(content.get("code"))
            while len(self._withheld) > WITHHELD_MAX:
                del self._withheld[next(iter(self._withheld))]
            for item in self._undecrypted.values():
                if item.event.session_id == session_id:
                    item.withheld = self._withheld[session_id]

    async def _dispatch_room(self, room_id: str, timeline: Any, received_at: float) -> None:
        events = list(timeline.events)
        if timeline.limited and timeline.prev_batch:
            try:
                events = await self._backfill(room_id, timeline.prev_batch) + events
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                log.warning(
                    "backfill of %s failed (%s); going on with the timeline as it came", room_id, error
                )
        # Members are independent of each other: one member's commands run in order (also across
        # batches), while different members' commands (a burst of 200 votes) run side by side.
        by_sender: dict[str, list[Any]] = {}
        for event in events:
            by_sender.setdefault(str(getattr(event, "sender", "")), []).append(event)
        chains = [self._chain(room_id, sender, own, received_at) for sender, own in by_sender.items()]
        if chains:
            await asyncio.wait(chains)
        failed = [chain.exception() for chain in chains if not chain.cancelled() and chain.exception()]
        if failed and failed[0] is not None:
            raise failed[0]  # a fatal error: the bot stops (see _commit)

    def _chain(self, room_id: str, sender: str, events: list[Any], received_at: float) -> asyncio.Task[None]:
        """Handle ``events`` after the member's events of earlier batches."""
        key = (room_id, sender)
        before = self._chains.get(key)

        async def in_order() -> None:
            if before is not None:
                await asyncio.wait({before})
            for event in events:
                await self._dispatch(room_id, event, received_at)

        task = asyncio.get_running_loop().create_task(in_order())
        self._chains[key] = task

        def forget(done: asyncio.Task[None]) -> None:
            if self._chains.get(key) is done:
                del self._chains[key]

        task.add_done_callback(forget)
        return task

    async def _backfill(self, room_id: str, prev_batch: str) -> list[Any]:
        """Events a limited timeline left out (the bot was away long): page back to what we know."""
        since = self._rooms.served_since.get(room_id, 0.0) * 1000
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
                getattr(event, "server_timestamp", 0) < since
                or getattr(event, "sender", None) == self._session.user_id
                or self._ledger.seen(getattr(event, "event_id", ""))
                for event in chunk
            ):
                break
            token = response.end
        collected.reverse()
        log.info("backfilled %d events in %s", len(collected), room_id)
        return collected

    async def _dispatch(self, room_id: str, event: Any, received_at: float | None = None) -> None:
        event_id = getattr(event, "event_id", None)
        sender = getattr(event, "sender", None)
        if (
            not isinstance(event_id, str)
            or not isinstance(sender, str)
            or isinstance(event, (BadEvent, UnknownBadEvent))
            or sender == self._session.user_id
            or event_id in self._handling
            or self._ledger.seen(event_id)
        ):
            return
        self._handling.add(event_id)
        try:
            await self._dispatch_unseen(room_id, event, event_id, sender, received_at)
        finally:
            self._handling.discard(event_id)

    async def _dispatch_unseen(
        self, room_id: str, event: Any, event_id: str, sender: str, received_at: float | None
    ) -> None:
        since = self._rooms.served_since.get(room_id)
        if since is None or event.server_timestamp < since * 1000:
            return  # not (or no longer) served, or older than the bot's presence in this room
        if isinstance(event, MegolmEvent):
            await self._keep_undecrypted(room_id, event)
            return
        source = getattr(event, "source", None) or {}
        content = source.get("content")
        if "state_key" in source or not isinstance(content, dict):
            return
        if (
            self._trust.enforce
            and self._rooms.is_encrypted(room_id)
            and not getattr(event, "decrypted", False)
        ):
            # In an encrypted room only an encrypted event has a device to judge: ignore the rest.
            log.info("not acting on %s: sent unencrypted into an encrypted room", event_id)
            self._ledger.record(event_id, room_id)
            return
        if getattr(event, "decrypted", False) and not await self._from_trusted_device(room_id, event):
            self._ledger.record(event_id, room_id)
            return
        incoming = IncomingEvent(
            room_id=room_id,
            event_id=event_id,
            sender=sender,
            type=str(source.get("type", "")),
            content=dict(content),
            timestamp_ms=int(event.server_timestamp),
            received_at=self._received_at if received_at is None else received_at,
        )
        try:
            await self._on_event(incoming)
        except FatalMatrixError:
            raise
        except Exception:
            # One bad event must never end the sync loop.
            log.exception("handler failed for event %s in %s", event_id, room_id)
        self._ledger.record(event_id, room_id)

    async def _from_trusted_device(self, room_id: str, event: Any) -> bool:
        sender = event.sender
        allowed, device_id = self._trust.allows(event)
        if not allowed and not self._trust.judged(sender, device_id):
            # A device so new that its keys have not been asked for yet: ask now, then judge.
            last = self._device_queries.get(sender, float("-inf"))
            if self._clock() - last >= DEVICE_QUERY_INTERVAL_S:
                self._device_queries[sender] = self._clock()
                await self._query_devices(sender)
                allowed, device_id = self._trust.allows(event)
        if allowed:
            return True
        log.info("not acting on %s: device %s of %s is not cross-signed", event.event_id, device_id, sender)
        body = (event.source.get("content") or {}).get("body")
        if self._hints.first("unsigned_device", sender, device_id or "?"):
            hint = PrivateHint(
                "unsigned_device", sender, room_id, device_id, body=body if isinstance(body, str) else ""
            )
            if not await self._hint(hint):
                self._hints.given.discard(("unsigned_device", sender, device_id or "?"))
        return False

    async def _keep_undecrypted(self, room_id: str, event: Any) -> None:
        if event.event_id in self._undecrypted:
            return
        if len(self._undecrypted) >= UNDECRYPTED_MAX:
            oldest = next(iter(self._undecrypted))
            log.error("gave up on undecryptable event %s: too many waiting", oldest)
            del self._undecrypted[oldest]
        self._undecrypted[event.event_id] = _Undecrypted(
            event, room_id, self._clock(), withheld=self._withheld.get(event.session_id)
        )
        log.warning("cannot decrypt %s in %s yet (session %s)", event.event_id, room_id, event.session_id)
        await self._request_key(event)

    async def _query_devices(self, user_id: str) -> None:
        client = self._client
        try:
            client.olm.users_for_key_query.add(user_id)
            self._session.raise_for_token(await client.keys_query())
            await self._trust.refresh({user_id})
        except (aiohttp.ClientError, TimeoutError, OSError, LocalProtocolError) as error:
            log.warning("could not query the devices of %s (%s)", user_id, error)

    async def _request_key(self, event: Any, *, again: bool = False) -> None:
        """Ask for a missing room key: our own devices (nio's request) and the sending device,
        which answers when it had shared the session with us (Element does, client.py accepts)."""
        client = self._client
        if client.olm is None or (event.session_id in self._requested and not again):
            return
        self._requested.add(event.session_id)
        # nio refuses a second request for the same session; asking again is the point.
        client.olm.outgoing_key_requests.pop(event.session_id, None)
        try:
            await client.request_room_key(event)
            device_id = getattr(event, "device_id", None)
            message = event.as_key_request(
                event.sender,
                client.device_id,
                event.session_id,
                device_id if isinstance(device_id, str) else None,
            )
            await client.to_device(message)
        except (aiohttp.ClientError, TimeoutError, OSError, LocalProtocolError) as error:
            log.info("could not ask for the key of session %s (%s)", event.session_id, error)

    async def _retry_undecrypted(self) -> None:
        now = self._clock()
        for event_id, item in list(self._undecrypted.items()):
            if item.room_id not in self._rooms.served_since:
                del self._undecrypted[event_id]  # the bot left that room
                continue
            decrypted = self._client.decrypt_safely(item.event)
            age = now - item.first_seen
            if decrypted is not None:
                del self._undecrypted[event_id]
                log.info("decrypted %s in %s after %.1f s", event_id, item.room_id, age)
                await self._dispatch(item.room_id, decrypted)
                continue
            if item.requests < len(KEY_REQUEST_AGAIN_S) and age >= KEY_REQUEST_AGAIN_S[item.requests]:
                item.requests += 1
                await self._request_key(item.event, again=True)
            if age >= UNDECRYPTED_GRACE_S:
                # One hint per member: the device id in an undecryptable event is the sender's claim.
                sender = str(item.event.sender)
                if self._hints.first("undecryptable", sender, ""):
                    withheld = item.withheld or self._withheld.get(item.event.session_id)
                    if not await self._hint(
                        PrivateHint("undecryptable", sender, item.room_id, None, withheld)
                    ):
                        self._hints.given.discard(("undecryptable", sender, ""))
            if age >= UNDECRYPTED_KEEP_S:
                del self._undecrypted[event_id]
                self._requested.discard(item.event.session_id)
                log.error("gave up on undecryptable event %s in %s", event_id, item.room_id)

    async def _guarded(self, what: str, work: Awaitable[None]) -> None:
        """Room work beside the sync (joins, leaves): a network failure waits for the next sync."""
        try:
            await work
        except (aiohttp.ClientError, TimeoutError, OSError, LocalProtocolError) as error:
            log.warning("%s: %s; trying again later", what, error)

    async def _hint(self, hint: PrivateHint) -> bool:
        """Hand a hint to the app; False when it was not given (it may be given again later)."""
        try:
            return await self._on_hint(hint)
        except FatalMatrixError:
            raise
        except Exception:
            log.exception("could not send a %s hint to %s", hint.kind, hint.user_id)
            return False
