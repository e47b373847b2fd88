"""The Matrix adapter: the face the app sees of the parts in this package.

session (login, device), identity (cross-signing), trust (members' devices), rooms (joins,
invitations, state), sync (the loop) and sending (the queue). Nothing outside ``bot/matrix``
imports nio.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from nio import EncryptionError, MegolmEvent
from sqlite_utils import Database

from bot.matrix import identity, operator
from bot.matrix.content import download_file, edit_content, message_content
from bot.matrix.events import EventHandler, PrivateHint
from bot.matrix.rooms import Rooms
from bot.matrix.sending import SEND_ATTEMPTS, Outbox
from bot.matrix.session import Credentials, Session, backoff
from bot.matrix.sync import HintHandler, SyncLoop
from bot.matrix.trust import DeviceTrust
from bot.services.rooms import RoomSettings
from bot.settings import MatrixSettings
from bot.storage import EventLedger, KeyValue

log = logging.getLogger(__name__)

# The identity is checked again when the server says our keys changed, else this often; after a
# failure sooner, doubling up to the regular interval.
IDENTITY_CHECK_S = 3600.0
IDENTITY_RETRY_S = 10.0


async def _no_hint(_hint: PrivateHint) -> bool:
    return False


class MatrixAdapter:
    """Connects to the homeserver as the bot and keeps it connected."""

    def __init__(
        self,
        settings: MatrixSettings,
        data_dir: Path,
        db: Database,
        rooms: RoomSettings,
        on_event: EventHandler,
        *,
        on_hint: HintHandler = _no_hint,
    ) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.user_id = settings.user_id
        self.encryption = settings.encryption
        self.session = Session(settings, data_dir)
        kv = KeyValue(db)
        self.rooms = Rooms(self.session, rooms, kv)
        self.trust = DeviceTrust(self.session, enforce=settings.exclude_insecure_devices)
        self.outbox = Outbox(self.session)
        self.sync = SyncLoop(
            self.session,
            self.rooms,
            self.trust,
            ledger=EventLedger(db),
            kv=kv,
            on_event=on_event,
            on_hint=on_hint,
        )
        self.identity: identity.IdentityStatus | None = None
        """The bot's cross-signing as last checked (None without encryption)."""
        self._identity_watch: asyncio.Task[None] | None = None

    @property
    def client(self) -> Any:
        return self.session.client

    @property
    def synced(self) -> asyncio.Event:
        return self.sync.synced

    @property
    def cross_signed(self) -> bool:
        return self.identity is not None and self.identity.cross_signed

    # ---- connection -------------------------------------------------------------------------

    async def login(self, *, with_store: bool = True) -> Credentials:
        return await self.session.login(with_store=with_store)

    async def connect(self) -> None:
        """Log in, make sure of our identity, take the first sync, join the configured rooms.

        A homeserver that is not up yet (both started by the same compose file) is waited for.
        """
        attempt = 0
        while True:
            try:
                credentials = await self.login()
                self.client.on_keys_query = self.trust.exclude_unjudged
                await self.rooms.resolve_configured()
                await self._ensure_identity(credentials)
                break
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                delay = backoff(attempt)
                attempt += 1
                log.warning("homeserver not reachable (%s); trying again in %.1f s", error, delay)
                await self.session.close_connection()
                await self.session.sleep_unless_stopped(delay)
                if self.session.stopping.is_set():
                    return
        self.outbox.start()
        if self.identity is not None:
            self._identity_watch = asyncio.create_task(
                self._watch_identity(credentials), name="identity-watch"
            )
        await self.sync.first_sync()
        if not self.session.stopping.is_set():
            await self.rooms.join_configured()

    async def _ensure_identity(self, credentials: Credentials) -> None:
        """Cross-sign our device (first start), or check that the server still shows our keys."""
        client = self.client
        if client.olm is None:
            return
        if client.should_upload_keys:
            # The device keys must be on the server before they can be signed.
            self.session.raise_for_token(await client.keys_upload())
        await self._check_identity(credentials)

    async def _check_identity(self, credentials: Credentials) -> None:
        password = self.settings.password.get_secret_value() if self.settings.password else None
        # Newly published keys also go to secret storage, their recovery key to data_dir.
        status = await operator.ensure_at_start(
            self.settings.homeserver, credentials, self.data_dir, password
        )
        before, self.identity = self.identity, status
        if before is not None and before.problem == status.problem:
            return  # said already
        # Serving unencrypted rooms and old clients still works: go on, but say it loudly.
        if status.problem is not None:
            log.error(
                "CROSS-SIGNING: %s — members on Element will not be able to read the bot", status.problem
            )
        else:
            log.info("device %s is cross-signed (master key %s)", credentials.device_id, status.master_key)

    async def _watch_identity(self, credentials: Credentials) -> None:
        """While running: a master key replaced under us, or a start that could not finish the
        identity (homeserver busy), is noticed and mended without a restart."""
        retry = IDENTITY_RETRY_S
        changed = self.sync.own_keys_changed
        stopping = self.session.stopping
        while not stopping.is_set():
            failing = self.identity is not None and self.identity.problem is not None
            waits = {asyncio.create_task(changed.wait()), asyncio.create_task(stopping.wait())}
            try:
                await asyncio.wait(
                    waits, timeout=retry if failing else IDENTITY_CHECK_S, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for wait in waits:
                    wait.cancel()
            if stopping.is_set():
                return
            changed.clear()
            try:
                await self._check_identity(credentials)
            except (aiohttp.ClientError, TimeoutError, OSError) as error:
                log.warning("identity check failed (%s); trying again later", error)
            except Exception:
                # The watch must outlive any one check, or a replaced identity goes unnoticed.
                log.exception("identity check failed; trying again later")
                self.identity = (
                    dataclasses.replace(self.identity, problem="identity check failed")
                    if self.identity
                    else None
                )
            failing = self.identity is not None and self.identity.problem is not None
            retry = min(retry * 2, IDENTITY_CHECK_S) if failing else IDENTITY_RETRY_S

    async def run(self) -> None:
        await self.sync.run()

    def stop(self) -> None:
        self.session.stopping.set()

    async def close(self, drain_timeout: float = 10.0) -> None:
        """Send what is queued (bounded wait), then close the connection."""
        if self._identity_watch is not None:
            self._identity_watch.cancel()
            # Bounded: a check stuck in a request must not keep a stopping bot alive.
            await asyncio.wait({self._identity_watch}, timeout=drain_timeout)
            self._identity_watch = None
        await self.outbox.close(drain_timeout)
        await self.session.close()

    # ---- what the app asks about rooms ------------------------------------------------------

    def served_rooms(self) -> list[str]:
        return self.rooms.served()

    def is_served(self, room_id: str) -> bool:
        return self.rooms.is_served(room_id)

    def power_level(self, room_id: str, user_id: str) -> int:
        return self.rooms.power_level(room_id, user_id)

    def is_member(self, room_id: str, user_id: str) -> bool:
        return self.rooms.is_member(room_id, user_id)

    async def confirm_member(self, room_id: str, user_id: str) -> bool:
        """A member by what the bot knows, or — when it does not know them — by asking the server
        (a join the sync did not bring, see ``Rooms.refresh_members``)."""
        if self.is_member(room_id, user_id):
            return True
        return await self.rooms.refresh_members(room_id) and self.is_member(room_id, user_id)

    def is_encrypted(self, room_id: str) -> bool:
        return self.rooms.is_encrypted(room_id)

    def display_name(self, room_id: str, user_id: str) -> str:
        return self.rooms.display_name(room_id, user_id)

    def members(self, room_id: str) -> list[str]:
        return self.rooms.members(room_id)

    async def check_rooms(self) -> dict[str, tuple[bool, bool]]:
        return await self.rooms.check()

    async def direct_room(self, user_id: str) -> str:
        return await self.rooms.direct_room(user_id, self.sync.synced)

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
        background: bool = False,
    ) -> str:
        return await self.outbox.send_event(
            room_id,
            event_type,
            content,
            transaction_id=transaction_id,
            attempts=attempts,
            background=background,
        )

    async def edit_message(
        self, room_id: str, event_id: str, markdown: str, *, background: bool = False
    ) -> str:
        return await self.send_event(
            room_id, "m.room.message", edit_content(event_id, markdown), background=background
        )

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
        encrypt = self.encryption and self.is_encrypted(room_id)
        content: dict[str, Any] = {
            "msgtype": "m.file",
            "body": filename,
            "filename": filename,
            "info": {"mimetype": mimetype, "size": len(data)},
            "m.mentions": {},
            **await self.outbox.upload(filename, data, mimetype, encrypt=encrypt),
        }
        if reply_to is not None:
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
        return await self.send_event(room_id, "m.room.message", content, transaction_id=transaction_id)

    async def thread_texts(self, room_id: str, root: str) -> list[tuple[str, str]]:
        """(display name, text) of a thread's text messages, oldest first, decrypted; what cannot
        be decrypted is left out. Read on request only (a summary): nothing of it is stored."""
        texts = []
        for raw in await self.rooms.thread_events(room_id, root):
            content: Any = raw.get("content")
            if raw.get("type") == "m.room.encrypted":
                try:
                    event = MegolmEvent.from_dict({**raw, "room_id": room_id})
                    decrypted = self.client.decrypt_event(event) if isinstance(event, MegolmEvent) else None
                except (EncryptionError, KeyError, ValueError):
                    continue
                content = getattr(decrypted, "source", {}).get("content") if decrypted is not None else None
            if not isinstance(content, dict) or content.get("msgtype") not in ("m.text", "m.notice"):
                continue
            body = content.get("body")
            sender = raw.get("sender")
            if isinstance(body, str) and body.strip() and isinstance(sender, str):
                texts.append((self.display_name(room_id, sender), body.strip()))
        return texts

    async def download_file(self, content: dict[str, Any]) -> bytes:
        """The bytes of an ``m.file`` message's content, decrypted when it came encrypted."""
        return await download_file(self.client, content)

    async def typing(self, room_id: str, active: bool = True, timeout_ms: int = 30_000) -> None:
        with contextlib.suppress(Exception):  # a lost typing notice is harmless
            await self.client.room_typing(room_id, active, timeout=timeout_ms)
