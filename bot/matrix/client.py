"""nio's client, hardened where a member of the room could otherwise deceive or stop the bot.

- Decrypted events never change room state. nio applies the decrypted payload of an encrypted
  event to its room state when it looks like a state event, so anyone in the room could forge
  power levels, the create event or members.
- Only genuine decryptions count. For a payload that fails nio's schema, nio returns a
  ``BadEvent`` built from the payload itself (its sender, its event id) and not marked as
  decrypted; a payload of the wrong JSON shape makes nio raise inside the sync. Either stays an
  undecryptable event here.
- Every key query reports its changed users at once (``on_keys_query``), before anything else can
  run, so a new device gets no room key before it has been judged (trust.py).
- A room key forwarded by the very device that created the session is accepted when we asked for
  it: that is how Element answers a key request from someone it shared the session with.
- A new ``m.room.power_levels`` replaces the old levels. nio merges it into what it had, so a
  user removed from ``users`` (the spec's way back to the default) would keep their old level:
  a chair demoted so would stay chair in the bot's eyes until a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from nio import (
    AsyncClient,
    BadEvent,
    KeysQueryResponse,
    MegolmEvent,
    PowerLevels,
    PowerLevelsEvent,
    UnknownBadEvent,
)

log = logging.getLogger(__name__)

KeysQueryHook = Callable[[KeysQueryResponse], None]


def _genuine(event: Any) -> bool:
    return getattr(event, "decrypted", False) is True and not isinstance(event, (BadEvent, UnknownBadEvent))


class BotClient(AsyncClient):  # type: ignore[misc]  # nio is untyped
    on_keys_query: KeysQueryHook | None = None

    def decrypt_safely(self, event: Any) -> Any | None:
        """The decrypted event, or None while (or because) it cannot be decrypted properly."""
        if self.olm is None or not isinstance(event, MegolmEvent):
            return None
        try:
            decrypted = self.olm.decrypt_megolm_event(event)
        except Exception as error:  # nio raises EncryptionError, and TypeError on odd payloads
            log.debug("cannot decrypt %s: %s", event.event_id, error)
            return None
        if not _genuine(decrypted):
            log.warning(
                "ignoring %s from %s: its decrypted payload is malformed", event.event_id, event.sender
            )
            return None
        return decrypted

    def _handle_timeline_event(
        self, event: Any, room_id: str, room: Any, encrypted_rooms: set[str]
    ) -> Any | None:
        if isinstance(event, MegolmEvent):
            event.room_id = room_id
            return self.decrypt_safely(event)  # and never room.handle_event(...)
        if isinstance(event, PowerLevelsEvent):
            room.power_levels = PowerLevels()  # nio then applies the new levels whole, not merged
        return super()._handle_timeline_event(event, room_id, room, encrypted_rooms)

    def _handle_joined_state(self, room_id: str, join_info: Any, encrypted_rooms: set[str]) -> None:
        room = self.rooms.get(room_id)
        if room is not None and any(isinstance(event, PowerLevelsEvent) for event in join_info.state):
            room.power_levels = PowerLevels()  # as above: the state's levels replace the old ones
        super()._handle_joined_state(room_id, join_info, encrypted_rooms)

    def _decrypt_event_array(self, array: list[Any]) -> None:
        for index, event in enumerate(array):
            decrypted = self.decrypt_safely(event)
            if decrypted is not None:
                array[index] = decrypted

    def _handle_messages_response(self, response: Any) -> None:
        self._decrypt_event_array(response.chunk)

    def _handle_decrypt_to_device(self, to_device_event: Any) -> Any | None:
        try:
            return super()._handle_decrypt_to_device(to_device_event)
        except Exception:  # one malformed to-device message must not end the sync
            log.warning(
                "ignoring a malformed to-device message from %s", getattr(to_device_event, "sender", "?")
            )
            return None

    def _handle_olm_response(self, response: Any) -> None:
        super()._handle_olm_response(response)
        if isinstance(response, KeysQueryResponse) and self.on_keys_query is not None:
            self.on_keys_query(response)

    def load_store(self) -> None:
        super().load_store()
        if self.store is not None:
            store = self.store
            save_encrypted_rooms = store.save_encrypted_rooms

            def save_new_encrypted_rooms(rooms: set[str]) -> None:
                # nio calls this after every sync, mostly with no room: a database transaction each
                # time, the largest part of the bot's own CPU per answered command.
                if rooms:
                    save_encrypted_rooms(rooms)

            store.save_encrypted_rooms = save_new_encrypted_rooms
        if self.olm is not None:
            olm = self.olm
            accepted_by_nio = olm._should_accept_forward

            def should_accept_forward(sender: str, sender_key: str, event: Any) -> bool:
                return bool(accepted_by_nio(sender, sender_key, event)) or forwarded_by_its_origin(
                    olm, sender, sender_key, event
                )

            olm._should_accept_forward = should_accept_forward


def forwarded_by_its_origin(olm: Any, sender: str, sender_key: str, event: Any) -> bool:
    """A forwarded room key we asked for, sent over Olm by the device that created the session."""
    content = (getattr(event, "source", None) or {}).get("content") or {}
    request = olm.outgoing_key_requests.get(getattr(event, "session_id", None))
    if request is None or request.room_id != event.room_id or event.algorithm != "m.megolm.v1.aes-sha2":
        return False
    if content.get("sender_key") != sender_key or content.get("forwarding_curve25519_key_chain"):
        return False
    device = olm.device_store.device_from_sender_key(sender, sender_key)
    return device is not None and device.ed25519 == content.get("sender_claimed_ed25519_key")
