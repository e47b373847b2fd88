"""Which of the members' devices the bot trusts: those their owner has cross-signed.

Element excludes insecure devices by default (MSC4153), and the bot does the same
(``[matrix] exclude_insecure_devices``): a device that its owner has not cross-signed gets no
room keys from the bot (it is blacklisted in nio's store, so nio skips it when sharing), and its
commands are not followed — a member's stale or rogue device cannot command the bot. Members
without any cross-signing identity are treated the same way, as Element does in that mode.

nio keeps no cross-signing keys, so the verdicts come from our own ``/keys/query`` for the users
whose device lists nio refreshes, checked with the signatures themselves (identity.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from bot.matrix.identity import device_signed_by_owner
from bot.matrix.session import Session

log = logging.getLogger(__name__)

KEYS_QUERY_PATH = "/_matrix/client/v3/keys/query"
KEYS_QUERY_BATCH = 100


class DeviceTrust:
    def __init__(self, session: Session, enforce: bool) -> None:
        self._session = session
        self.enforce = enforce
        self._signed: dict[tuple[str, str], bool] = {}
        self.pending: set[str] = set()
        """Users whose devices changed (or whose query failed) and await a verdict."""

    def trusted(self, user_id: str, device_id: str) -> bool:
        """Is this device cross-signed by its owner (as of the last key query)?"""
        return self._signed.get((user_id, device_id), False)

    def sending_device(self, event: Any) -> str | None:
        """The device that sent a decrypted event: the one whose keys established its session."""
        client = self._session.client
        sender_key = getattr(event, "sender_key", None)
        if client.olm is None or not sender_key:
            return None
        for device in client.device_store.active_user_devices(event.sender):
            if device.curve25519 == sender_key:
                session = client.olm.inbound_group_store.get(event.room_id, sender_key, event.session_id)
                # The session's signing key must be the device's own, or anyone could claim it.
                if session is not None and session.ed25519 == device.ed25519:
                    return str(device.id)
        return None

    def judged(self, user_id: str, device_id: str | None) -> bool:
        """Is there a verdict on this device (else its keys have not been queried yet)?"""
        return device_id is not None and (user_id, device_id) in self._signed

    def allows(self, event: Any) -> tuple[bool, str | None]:
        """(may the bot act on this decrypted event, the sending device if known)."""
        device_id = self.sending_device(event)
        if not self.enforce:
            return True, device_id
        return device_id is not None and self.trusted(event.sender, device_id), device_id

    def exclude_unjudged(self, response: Any) -> None:
        """Right when nio learns of changed devices: no room keys for those not judged trusted.

        Runs synchronously inside nio's handling of a key query, before any send can share a
        room key with a device that has just appeared; the verdicts follow in ``refresh``.
        """
        client = self._session.client
        changed = getattr(response, "changed", None) or {}
        for user_id in changed:
            self.pending.add(user_id)
            if not self.enforce or client.olm is None:
                continue
            for device in client.device_store.active_user_devices(user_id):
                own = user_id == client.user_id and device.id == client.device_id
                if (
                    not own
                    and not self.trusted(user_id, device.id)
                    and not client.olm.is_device_blacklisted(device)
                ):
                    client.olm.blacklist_device(device)

    async def refresh(self, users: Iterable[str]) -> bool:
        """Query cross-signing for ``users`` and apply the verdicts to key sharing.

        False when a query failed: those users stay ``pending`` and are asked again later.
        """
        client = self._session.client
        if client.olm is None:
            return True
        wanted = sorted({user for user in users if user})
        changed: set[str] = set()
        complete = True
        for start in range(0, len(wanted), KEYS_QUERY_BATCH):
            batch = wanted[start : start + KEYS_QUERY_BATCH]
            answer = await self._query(batch)
            if answer is None:
                complete = False
                continue
            self.pending.difference_update(batch)
            for user_id in batch:
                for device_id in (answer.get("device_keys") or {}).get(user_id, {}):
                    signed = device_signed_by_owner(answer, user_id, device_id)
                    if self._signed.get((user_id, device_id)) != signed:
                        self._signed[(user_id, device_id)] = signed
                        changed.add(user_id)
        changed |= self._apply(wanted)
        if changed:
            # A device that became trusted (or stopped being so) must see a fresh room key.
            for room_id, room in list(client.rooms.items()):
                if room.encrypted and changed & set(room.users):
                    await rotate_room_key(client, room_id)
        return complete

    def _apply(self, users: list[str]) -> set[str]:
        """Blacklist the devices that get no room keys; the users for whom anything changed."""
        client = self._session.client
        changed: set[str] = set()
        for user_id in users:
            for device in client.device_store.active_user_devices(user_id):
                if device.id == client.device_id and user_id == client.user_id:
                    continue
                excluded = self.enforce and not self.trusted(user_id, device.id)
                if excluded and not client.olm.is_device_blacklisted(device):
                    log.info(
                        "no room keys for device %s of %s: not cross-signed by its owner", device.id, user_id
                    )
                    client.olm.blacklist_device(device)
                    changed.add(user_id)
                elif not excluded and client.olm.is_device_blacklisted(device):
                    log.info("device %s of %s is cross-signed: it gets room keys", device.id, user_id)
                    client.olm.unblacklist_device(device)
                    changed.add(user_id)
        return changed

    async def _query(self, users: list[str]) -> dict[str, Any] | None:
        client = self._session.client
        body = json.dumps({"device_keys": {user: [] for user in users}})
        response = await client.send(
            "POST",
            KEYS_QUERY_PATH,
            body,
            headers={"Authorization": f"Bearer {client.access_token}", "Content-Type": "application/json"},
        )
        try:
            if response.status != 200:
                log.warning(
                    "cross-signing query failed with HTTP %d; asking again after the next sync",
                    response.status,
                )
                return None
            answer = await response.json(content_type=None)
        finally:
            response.release()
        return answer if isinstance(answer, dict) else None


async def rotate_room_key(client: Any, room_id: str) -> None:
    """The next message in ``room_id`` gets a fresh room key, shared by today's verdicts.

    nio keeps a session that is not marked shared yet, and one being shared is not marked so until
    its to-device messages are out: rotating then would be dropped, and the session (shared by the
    verdicts before) kept for good. So a share on its way is waited for first.
    """
    while (sharing := client.sharing_session.get(room_id)) is not None:
        await sharing.wait()
    client.invalidate_outbound_session(room_id)
