"""A lean matrix-nio client for the tests: a person in the room, independent of the bot's adapter.

It syncs in the background, decrypts, and records every room event, so a test can send a
command and wait for the bot's reply (or make sure there is none).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import (
    Api,
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    MegolmEvent,
    RoomCreateResponse,
    RoomSendResponse,
    SyncResponse,
)
from nio.crypto.attachments import decrypt_attachment

from bot.matrix.identity import CROSS_SIGNING_FILE, MatrixApi, ensure


@dataclass
class Seen:
    room_id: str
    event_id: str
    sender: str
    type: str
    content: dict[str, Any]
    encrypted: bool = False

    @property
    def body(self) -> str:
        return str(self.content.get("body", ""))

    @property
    def in_reply_to(self) -> str | None:
        return (self.content.get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id")


class ChatClient:
    """A member on matrix-nio. ``cross_signed`` gives it a cross-signing identity, as Element
    makes one for every new account (an old client without one: ``cross_signed=False``)."""

    def __init__(
        self, homeserver: str, user_id: str, password: str, store: Path, *, cross_signed: bool = True
    ) -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.homeserver = homeserver
        self.store = store
        self.cross_signed = cross_signed
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False, max_limit_exceeded=0)
        self.user_id = user_id
        self.password = password
        self.client = AsyncClient(homeserver, user_id, store_path=str(store), config=config)
        self.seen: list[Seen] = []
        self.undecryptable: list[str] = []
        self.invites: set[str] = set()
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        response = await self.client.login(self.password, device_name="test")
        assert isinstance(response, LoginResponse), response
        await self._sync_once(timeout=0)
        if self.cross_signed:
            await self.cross_sign()
        self._task = asyncio.create_task(self._loop())

    async def cross_sign(self) -> None:
        """Create (or reuse) this user's cross-signing identity and sign the current device."""
        async with MatrixApi(self.homeserver, self.client.access_token) as api:
            status = await ensure(
                api, self.user_id, self.client.device_id, self.store / CROSS_SIGNING_FILE, self.password
            )
        assert status.cross_signed, status

    async def _loop(self) -> None:
        while True:
            try:
                await self._sync_once(timeout=1000)
            except asyncio.CancelledError:
                raise
            except Exception:  # a test client must keep listening, like a real one
                await asyncio.sleep(0.2)

    async def _sync_once(self, timeout: int) -> None:
        client = self.client
        response = await client.sync(timeout=timeout, full_state=client.next_batch is None)
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
            async with self._changed:
                self.invites.update(response.rooms.invite)
                self._changed.notify_all()
        fresh = []
        for room_id, room in response.rooms.join.items():
            for event in room.timeline.events:
                if isinstance(event, MegolmEvent):
                    self.undecryptable.append(event.event_id)
                    continue
                source = getattr(event, "source", {}) or {}
                fresh.append(
                    Seen(
                        room_id,
                        event.event_id,
                        event.sender,
                        source.get("type", ""),
                        source.get("content", {}),
                        bool(getattr(event, "decrypted", False)),
                    )
                )
        if fresh:
            async with self._changed:
                self.seen.extend(fresh)
                self._changed.notify_all()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
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

    async def send(self, room_id: str, text: str) -> str:
        return await self.send_event(room_id, "m.room.message", {"msgtype": "m.text", "body": text})

    async def create_room(
        self, name: str, invite: list[str], power: dict[str, int] | None = None, encrypted: bool = True
    ) -> str:
        override = {"users": power} if power else None
        encryption = {
            "type": "m.room.encryption",
            "state_key": "",
            "content": {"algorithm": "m.megolm.v1.aes-sha2"},
        }
        response = await self.client.room_create(
            name=name,
            invite=invite,
            initial_state=[encryption] if encrypted else [],
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
        file_info = seen.content.get("file")
        mxc = file_info["url"] if file_info else seen.content["url"]
        response = await self.client.download(mxc=mxc)
        body = getattr(response, "body", None)
        assert isinstance(body, bytes), response
        if not file_info:
            return body
        return decrypt_attachment(body, file_info["key"]["k"], file_info["hashes"]["sha256"], file_info["iv"])

    # ---- waiting ------------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[Seen], bool], timeout: float = 20.0) -> Seen:
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                for item in self.seen:
                    if predicate(item):
                        return item
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{self.user_id}: nothing matching within {timeout} s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)

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
        deadline = time.monotonic() + timeout
        async with self._changed:
            while not (self.invites - known):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{self.user_id}: no invitation within {timeout} s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)
            return sorted(self.invites - known)[0]

    def sees_member(self, room_id: str, user_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        return room is not None and user_id in room.users

    def keys_settled(self) -> bool:
        return not self.client.should_query_keys
