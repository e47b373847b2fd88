"""Which forwarded room keys the bot accepts beyond nio's own rule (own verified devices only), and
what the bot spares nio's store."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from nio import AsyncClientConfig

from bot.matrix.client import BotClient, forwarded_by_its_origin

ANNA_CURVE = "anna-curve25519"
ANNA_ED = "anna-ed25519"


def _olm(requested: bool = True) -> Any:
    device = SimpleNamespace(ed25519=ANNA_ED)
    requests = {"sitzung-1": SimpleNamespace(room_id="!raum")} if requested else {}
    return SimpleNamespace(
        outgoing_key_requests=requests,
        device_store=SimpleNamespace(
            device_from_sender_key=lambda user, key: (
                device if (user, key) == ("@anna:lvr.de", ANNA_CURVE) else None
            )
        ),
    )


def _forward(**content: object) -> Any:
    body = {
        "sender_key": ANNA_CURVE,
        "sender_claimed_ed25519_key": ANNA_ED,
        "forwarding_curve25519_key_chain": [],
        **content,
    }
    return SimpleNamespace(
        source={"content": body}, session_id="sitzung-1", room_id="!raum", algorithm="m.megolm.v1.aes-sha2"
    )


def test_a_key_we_asked_for_forwarded_by_the_device_that_made_it_is_accepted() -> None:
    assert forwarded_by_its_origin(_olm(), "@anna:lvr.de", ANNA_CURVE, _forward())


def test_forwards_we_did_not_ask_for_or_from_someone_else_are_refused() -> None:
    assert not forwarded_by_its_origin(_olm(requested=False), "@anna:lvr.de", ANNA_CURVE, _forward())
    # Someone else's device forwarding Anna's session: its claims are not authenticated.
    assert not forwarded_by_its_origin(_olm(), "@mallory:lvr.de", "mallory-curve", _forward())
    # Anna's device passing on a session that reached it through others.
    assert not forwarded_by_its_origin(
        _olm(), "@anna:lvr.de", ANNA_CURVE, _forward(forwarding_curve25519_key_chain=["other"])
    )
    # A claimed signing key that is not the device's own.
    assert not forwarded_by_its_origin(
        _olm(), "@anna:lvr.de", ANNA_CURVE, _forward(sender_claimed_ed25519_key="fremd")
    )


def test_the_store_keeps_encrypted_rooms_without_a_transaction_per_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False, pickle_key="test")
    client = BotClient("http://127.0.0.1:9", "@akbot:lvr.de", store_path=str(tmp_path), config=config)
    client.restore_login("@akbot:lvr.de", "AKBOT", "token")  # loads (creates) the store
    store = client.store
    assert store is not None
    transactions: list[object] = []
    atomic = store.database.atomic
    monkeypatch.setattr(store.database, "atomic", lambda *a, **k: transactions.append(a) or atomic(*a, **k))

    store.save_encrypted_rooms(set())  # what nio does after nearly every sync
    assert transactions == []
    store.save_encrypted_rooms({"!raum:lvr.de"})
    assert len(transactions) == 1
    assert store.load_encrypted_rooms() == {"!raum:lvr.de"}
