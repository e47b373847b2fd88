"""Everything the bot sends goes through one queue: rate limits honoured, retries idempotent.

Up to 32 sends are in flight at once; each caller still waits for its own, so one handler's
messages keep their order. A transaction id derived from what is being answered makes the
homeserver return the earlier event instead of posting again after a crash.

A *background* send (an answer's interim edit, a poll's live summary: progress the next edit
supersedes anyway) waits while anything else is on its way into the same room: the homeserver
persists a room's events one after another, and a member's reply should not queue there behind
the bot's own progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from nio import RoomSendResponse
from nio.exceptions import GroupEncryptionError, LocalProtocolError

from bot.matrix.session import Session, backoff

log = logging.getLogger(__name__)

SEND_ATTEMPTS = 6
SEND_WORKERS = 32
"""Sends in flight at once: as many as a burst of answers needs to get its share of a homeserver
busy with the members' own sends (4 left 200 vote confirmations at 1.7x a raw client's p95)."""
BACKGROUND_WAIT_S = 1.0
"""How long a background send waits for a room's other sends at most: progress must not stall."""


def transaction_for(*parts: str) -> str:
    """A transaction id that is the same whenever the same thing is sent again (after a crash)."""
    return "akbot-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


class SendError(Exception):
    """The homeserver did not accept an outgoing event."""


@dataclass
class _Outgoing:
    room_id: str
    event_type: str
    content: dict[str, Any]
    future: asyncio.Future[str]
    transaction_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    attempts: int = SEND_ATTEMPTS


class Outbox:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._queue: asyncio.Queue[_Outgoing] = asyncio.Queue()
        self._workers: list[asyncio.Task[None]] = []
        self._pending: dict[str, int] = {}  # room -> other sends queued or in flight
        self._clear: dict[str, asyncio.Event] = {}  # room -> set when none are

    def start(self) -> None:
        self._workers = [
            asyncio.create_task(self._work(), name=f"matrix-send-{n}") for n in range(SEND_WORKERS)
        ]

    async def send_event(
        self,
        room_id: str,
        event_type: str,
        content: dict[str, Any],
        *,
        transaction_id: str | None = None,
        attempts: int = SEND_ATTEMPTS,
        background: bool = False,
    ) -> str:
        """Queue an event; returns its event id once the homeserver accepted it.

        A ``transaction_id`` that was used before (by this device) makes the homeserver return
        the earlier event instead of posting again: that is how a retry after a crash stays single.
        A ``background`` event first lets the room's other sends go (``BACKGROUND_WAIT_S`` at most).
        """
        if self._session.fatal is not None:
            raise self._session.fatal
        if background:
            await self._room_clear(room_id)
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        item = _Outgoing(room_id, event_type, content, future, attempts=attempts)
        if transaction_id is not None:
            item.transaction_id = transaction_id
        if background:
            await self._queue.put(item)
            return await future
        self._pending[room_id] = self._pending.get(room_id, 0) + 1
        self._clear.setdefault(room_id, asyncio.Event()).clear()
        try:
            await self._queue.put(item)
            return await future
        finally:
            self._pending[room_id] -= 1
            if not self._pending[room_id]:
                del self._pending[room_id]
                self._clear.pop(room_id).set()

    async def _room_clear(self, room_id: str) -> None:
        clear = self._clear.get(room_id)
        if clear is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(clear.wait(), BACKGROUND_WAIT_S)

    async def upload(self, filename: str, data: bytes, mimetype: str, *, encrypt: bool) -> dict[str, Any]:
        """Upload ``data`` (encrypted when asked); the ``url`` or ``file`` part of an m.file."""
        client = self._session.client
        response, keys = await client.upload(
            io.BytesIO(data), content_type=mimetype, filename=filename, encrypt=encrypt, filesize=len(data)
        )
        self._session.raise_for_token(response)
        uri = getattr(response, "content_uri", None)
        if not uri:
            raise SendError(f"upload of {filename} failed: {getattr(response, 'message', response)}")
        if encrypt and keys is not None:
            return {"file": {"url": uri, **keys}}
        return {"url": uri}

    async def _work(self) -> None:
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
                # Devices we must not share keys with are blacklisted in the store (see trust.py);
                # the rest need no interactive verification.
                response = await self._session.client.room_send(
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
                await asyncio.sleep(backoff(failures - 1))
                continue
            except (KeyError, GroupEncryptionError, LocalProtocolError) as error:
                # The room's session was rotated (a device's trust changed) while it was being
                # shared: encrypting again with a fresh one is safe, the transaction id is the same.
                failures += 1
                if failures >= item.attempts:
                    raise SendError(f"could not encrypt for {item.room_id}: {error}") from error
                await asyncio.sleep(backoff(failures - 1) / 10)
                continue
            if isinstance(response, RoomSendResponse):
                return str(response.event_id)
            self._session.raise_for_token(response)
            status = getattr(response.transport_response, "status", None)
            if response.status_code == "M_LIMIT_EXCEEDED" or status == 429:
                wait_ms = response.retry_after_ms or 1000
                log.info("rate limited; sending again in %d ms", wait_ms)
                await asyncio.sleep(wait_ms / 1000)
                continue
            failures += 1
            if failures >= item.attempts or (response.status_code or "").startswith("M_"):
                raise SendError(f"{response.status_code}: {response.message}")
            await asyncio.sleep(backoff(failures - 1))

    async def close(self, drain_timeout: float) -> None:
        """Send what is queued (bounded wait), then stop the workers."""
        if not self._workers:
            return
        # With a revoked token nothing queued can be sent: no point waiting for it.
        if self._session.fatal is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), timeout=drain_timeout)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
