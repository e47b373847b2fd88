"""Cross-signing identity and secret storage: known answers offline, the rest against real Synapse.

Devices are real matrix-nio clients with encryption (as the bot logs in), so the device keys
that get signed are the ones nio uploads. Whether a device counts as cross-signed is always
judged from a /keys/query made by another user, the way Element sees it.
"""

from __future__ import annotations

import base64
import json
import stat
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import base58
import pytest
from nio import AsyncClient, AsyncClientConfig, KeysUploadResponse, LoginResponse
from signedjson.key import decode_signing_key_base64
from signedjson.sign import sign_json
from unpaddedbase64 import decode_base64, encode_base64

from bot.homeserver import EmbeddedHomeserver
from bot.matrix.identity import (
    CROSS_SIGNING_FILE,
    CrossSigningKeys,
    IdentityError,
    IdentityStatus,
    MatrixApi,
    device_signed_by_owner,
    device_signing_upload_body,
    ensure,
    inspect,
    keys_from_secret_storage,
    reset,
    restore_from_secret_storage,
    secret_storage_holds_keys,
    store_in_secret_storage,
    user_has_identity,
)
from bot.matrix.secret_storage import (
    ALGORITHM,
    SecretStorageError,
    decode_recovery_key,
    decrypt_secret,
    encode_recovery_key,
    encrypt_secret,
    generate_key,
    key_description,
    verify_key,
)
from tests.conftest import PASSWORD

# -- secret storage: known answers ------------------------------------------------------

# From matrix-rust-sdk's secret_storage tests (a key and its key-check description).
RUST_RECOVERY_KEY = "EsTj 3yST y93F SLpB jJsz eAXc 2XzA ygD3 w69H fGaN TKBj jXEd"
RUST_DESCRIPTION = {
    "algorithm": ALGORITHM,
    "iv": "xv5b6/p3ExEw++wTyfSHEg==",
    "mac": "ujBBbXahnTAMkmPUX2/0+VTfUh63pGyVRuBcDMgmJC8=",
}
RUST_SPACED_KEY = "EsT           pRvZTnjck8    YrhRAtw XLS84Nr2r9S9LGAWDaExVAPBvLRK   "
RUST_SPACED_KEY_BYTES = bytes.fromhex("9fbd46bb345171c6f6022c9a25d5681ba54eec6a6c4953f3adc0b96e9d91ada3")
# The same key with its last character changed: the parity byte no longer matches.
RUST_BAD_PARITY = "EsTpRvZTnjck8YrhRAtwXLS84Nr2r9S9LGAWDaExVAPBvLRk"

# From mautrix-python's SSSS tests: an Element account's key and its encrypted master seed.
ELEMENT_RECOVERY_KEY = "EsTE s92N EtaX s2h6 VQYF 9Kao tHYL mkyL GKMh isZb KJ4E tvoC"
ELEMENT_DESCRIPTION = {
    "algorithm": ALGORITHM,
    "iv": "xxkTK0L4UzxgAFkQ6XPwsw",
    "mac": "MEhooO0ZhFJNxUhvRMSxBnJfL20wkLgle3ocY0ee/eA",
}
ELEMENT_ENCRYPTED_MASTER = {
    "iv": "BpKP9nQJTE9jrsAssoxPqQ==",
    "ciphertext": "fNRiiiidezjerTgV+G6pUtmeF3izzj5re/mVvY0hO2kM6kYGrxLuIu2ej80=",
    "mac": "/gWGDGMyOLmbJp+aoSLh5JxCs0AdS6nAhjzpe+9G2Q0=",
}
ELEMENT_MASTER_SEED = bytes.fromhex("68f97fd1922eecf6b82bb890d24d0652984e7a1d703b9e867b7ebaf7feb95b6f")


def test_recovery_key_known_answers() -> None:
    key = decode_recovery_key(RUST_RECOVERY_KEY)
    assert encode_recovery_key(key) == RUST_RECOVERY_KEY
    assert verify_key(key, RUST_DESCRIPTION)
    assert decode_recovery_key(RUST_SPACED_KEY) == RUST_SPACED_KEY_BYTES


def test_decrypts_a_secret_that_element_stored() -> None:
    key = decode_recovery_key(ELEMENT_RECOVERY_KEY)
    assert verify_key(key, ELEMENT_DESCRIPTION)  # unpadded base64 is read too
    seed = decrypt_secret(key, "m.cross_signing.master", ELEMENT_ENCRYPTED_MASTER)
    assert base64.b64decode(seed) == ELEMENT_MASTER_SEED
    # Bound to the secret name and to the key.
    with pytest.raises(SecretStorageError, match="does not authenticate"):
        decrypt_secret(key, "m.cross_signing.self_signing", ELEMENT_ENCRYPTED_MASTER)
    other = decode_recovery_key(RUST_RECOVERY_KEY)
    assert not verify_key(other, ELEMENT_DESCRIPTION)
    with pytest.raises(SecretStorageError, match="does not authenticate"):
        decrypt_secret(other, "m.cross_signing.master", ELEMENT_ENCRYPTED_MASTER)


def test_recovery_key_round_trip_and_format() -> None:
    for _ in range(50):
        key = generate_key()
        text = encode_recovery_key(key)
        groups = text.split(" ")
        assert all(len(group) == 4 for group in groups[:-1]) and 1 <= len(groups[-1]) <= 4
        assert text.startswith("Es")
        assert decode_recovery_key(text) == key
        assert decode_recovery_key(text.replace(" ", "")) == key
        assert decode_recovery_key(f"\n {text}\t") == key


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (RUST_BAD_PARITY, "parity byte does not match"),
        ("AATpRvZTnjck8YrhRAtwXLS84Nr2r9S9LGAWDaExVAPBvLRk", "wrong prefix"),
        ("AATpRvZTnjck8YrhRAtwXLS84Nr2r9S9", "decodes to 24 bytes instead of 35"),
        ("AATpRvZTnjck8YrhRAtwXLS84Nr0OIl", "outside base58"),
        ("   ", "empty"),
    ],
)
def test_bad_recovery_keys_are_refused_with_a_reason(text: str, message: str) -> None:
    with pytest.raises(SecretStorageError, match=message):
        decode_recovery_key(text)


def test_wrong_parity_of_a_fresh_key() -> None:
    key = generate_key()
    raw = b"\x8b\x01" + key
    parity = 0
    for byte in raw:
        parity ^= byte
    wrong = base58.b58encode(raw + bytes([parity ^ 0x01])).decode()
    with pytest.raises(SecretStorageError, match="the recovery key has a typo: its parity byte"):
        decode_recovery_key(wrong)


def test_secret_round_trip_and_shape() -> None:
    key = generate_key()
    for secret in ["", "x", "ünïcödé ✓", "a" * 1000]:
        encrypted = encrypt_secret(key, "m.cross_signing.master", secret)
        assert set(encrypted) == {"iv", "ciphertext", "mac"}
        iv = base64.b64decode(encrypted["iv"], validate=True)
        assert len(iv) == 16 and iv[8] & 0x80 == 0  # bit 63 cleared
        assert len(base64.b64decode(encrypted["mac"], validate=True)) == 32
        assert decrypt_secret(key, "m.cross_signing.master", encrypted) == secret
    tampered = dict(encrypted)
    ciphertext = bytearray(base64.b64decode(tampered["ciphertext"]))
    ciphertext[0] ^= 1
    tampered["ciphertext"] = base64.b64encode(bytes(ciphertext)).decode()
    with pytest.raises(SecretStorageError, match="does not authenticate"):
        decrypt_secret(key, "m.cross_signing.master", tampered)


def test_key_description_checks_the_key() -> None:
    key = generate_key()
    description = key_description(key)
    assert description["algorithm"] == ALGORITHM
    assert verify_key(key, description)
    assert not verify_key(generate_key(), description)
    with pytest.raises(SecretStorageError, match="unsupported"):
        verify_key(key, {**description, "algorithm": "m.secret_storage.v1.curve25519-aes-sha2"})


# -- judging devices offline ------------------------------------------------------------


def _flip_one_byte(signature: str) -> str:
    raw = bytearray(decode_base64(signature))
    raw[10] ^= 0x01
    return encode_base64(bytes(raw))


def _fake_query(
    user_id: str, device_id: str, owner: CrossSigningKeys, device_signer: CrossSigningKeys
) -> dict[str, Any]:
    """A /keys/query answer: ``owner``'s published keys, a device signed by ``device_signer``'s SSK."""
    body = device_signing_upload_body(user_id, owner)
    device_seed = generate_key()
    device_key = decode_signing_key_base64("ed25519", device_id, encode_base64(device_seed))
    device: dict[str, Any] = {
        "user_id": user_id,
        "device_id": device_id,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {
            f"ed25519:{device_id}": encode_base64(bytes(device_key.verify_key)),
            f"curve25519:{device_id}": encode_base64(generate_key()),
        },
    }
    sign_json(device, user_id, device_key)
    ssk = decode_signing_key_base64(
        "ed25519", device_signer.self_signing_public, encode_base64(device_signer.self_signing_seed)
    )
    sign_json(device, user_id, ssk)
    device["unsigned"] = {"device_display_name": "test"}
    return {
        "device_keys": {user_id: {device_id: device}},
        "master_keys": {user_id: body["master_key"]},
        "self_signing_keys": {user_id: body["self_signing_key"]},
        "failures": {},
    }


def test_device_signed_by_owner_verifies_the_whole_chain() -> None:
    user_id, device_id = "@alice:example.org", "ALICEDEVICE"
    owner = CrossSigningKeys.generate()
    query = _fake_query(user_id, device_id, owner, owner)
    assert device_signed_by_owner(query, user_id, device_id)
    assert user_has_identity(query, user_id)
    assert not device_signed_by_owner(query, user_id, "OTHERDEVICE")
    assert not device_signed_by_owner(query, "@bob:example.org", device_id)
    assert not user_has_identity({}, user_id)

    # A forged device signature: one byte of the self-signing signature changed.
    forged = json.loads(json.dumps(query))
    signatures = forged["device_keys"][user_id][device_id]["signatures"][user_id]
    signatures[owner.self_signing_key_id] = _flip_one_byte(signatures[owner.self_signing_key_id])
    assert not device_signed_by_owner(forged, user_id, device_id)

    # A forged signature of the master key on the self-signing key.
    forged = json.loads(json.dumps(query))
    signatures = forged["self_signing_keys"][user_id]["signatures"][user_id]
    signatures[owner.master_key_id] = _flip_one_byte(signatures[owner.master_key_id])
    assert not device_signed_by_owner(forged, user_id, device_id)
    assert not user_has_identity(forged, user_id)

    # A changed device key under valid-looking signatures.
    forged = json.loads(json.dumps(query))
    forged["device_keys"][user_id][device_id]["keys"][f"curve25519:{device_id}"] = encode_base64(
        generate_key()
    )
    assert not device_signed_by_owner(forged, user_id, device_id)

    # Signed only by a self-signing key that the published master key did not sign.
    stranger = CrossSigningKeys.generate()
    query = _fake_query(user_id, device_id, owner, stranger)
    assert not device_signed_by_owner(query, user_id, device_id)
    query["self_signing_keys"][user_id] = device_signing_upload_body(user_id, stranger)["self_signing_key"]
    assert not device_signed_by_owner(query, user_id, device_id)
    assert not user_has_identity(query, user_id)
    del query["self_signing_keys"][user_id]["signatures"]
    assert not device_signed_by_owner(query, user_id, device_id)

    # Garbage never raises.
    garbage: list[dict[str, Any]] = [
        {"master_keys": None},
        {"master_keys": {user_id: "x"}},
        {"device_keys": []},
    ]
    for broken in garbage:
        assert not device_signed_by_owner(broken, user_id, device_id)


def test_keys_file_mode_round_trip_and_damage(tmp_path: Path) -> None:
    keys = CrossSigningKeys.generate()
    path = tmp_path / "data" / CROSS_SIGNING_FILE
    keys.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert CrossSigningKeys.load(path) == keys
    assert list(path.parent.iterdir()) == [path]  # no temp file left
    assert "seed" not in repr(keys) and keys.master_seed.hex() not in repr(keys)
    assert CrossSigningKeys.load(tmp_path / "missing.json") is None
    data = json.loads(path.read_text())
    data["master_key"] = keys.self_signing_public
    path.write_text(json.dumps(data))
    with pytest.raises(IdentityError, match="damaged"):
        CrossSigningKeys.load(path)
    path.write_text("{")
    with pytest.raises(IdentityError, match="not JSON"):
        CrossSigningKeys.load(path)


# -- against Synapse --------------------------------------------------------------------


class CountingApi(MatrixApi):
    """A MatrixApi that remembers which requests it made."""

    def __init__(self, homeserver: str, access_token: str) -> None:
        super().__init__(homeserver, access_token)
        self.calls: list[tuple[str, str]] = []

    async def request(
        self, method: str, path: str, json: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        self.calls.append((method, path))
        return await super().request(method, path, json)


@dataclass
class Device:
    user_id: str
    device_id: str
    api: CountingApi
    client: AsyncClient


@dataclass
class Devices:
    """Logs users in as nio clients with uploaded device keys; closes them all at the end."""

    homeserver: EmbeddedHomeserver
    root: Path
    opened: list[Device] = field(default_factory=list)

    def new_user(self) -> str:
        return self.homeserver.register(f"ident{uuid.uuid4().hex[:10]}", PASSWORD)

    async def login(self, user_id: str) -> Device:
        store = self.root / uuid.uuid4().hex
        store.mkdir(parents=True)
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False)
        client = AsyncClient(self.homeserver.url, user_id, store_path=str(store), config=config)
        response = await client.login(PASSWORD, device_name="identity test")
        assert isinstance(response, LoginResponse), response
        uploaded = await client.keys_upload()
        assert isinstance(uploaded, KeysUploadResponse), uploaded
        device = Device(
            user_id, client.device_id, CountingApi(self.homeserver.url, client.access_token), client
        )
        self.opened.append(device)
        return device

    async def query(self, user_id: str) -> dict[str, Any]:
        """/keys/query for ``user_id`` as seen by a different user."""
        if not hasattr(self, "_observer"):
            self._observer = await self.login(self.new_user())
        status, body = await self._observer.api.request(
            "POST", "/_matrix/client/v3/keys/query", {"device_keys": {user_id: []}}
        )
        assert status == 200, body
        return body


@pytest.fixture
async def devices(homeserver: EmbeddedHomeserver, tmp_path: Path) -> AsyncIterator[Devices]:
    made = Devices(homeserver, tmp_path / "nio")
    yield made
    for device in made.opened:
        await device.api.aclose()
        await device.client.close()


def _published_master(query: dict[str, Any], user_id: str) -> str:
    (public,) = query["master_keys"][user_id]["keys"].values()
    return str(public)


async def test_first_ensure_publishes_and_signs_the_device(devices: Devices, tmp_path: Path) -> None:
    user_id = devices.new_user()
    first = await devices.login(user_id)
    second = await devices.login(user_id)
    keys_path = tmp_path / "bot" / CROSS_SIGNING_FILE

    started = time.perf_counter()
    status = await ensure(first.api, user_id, first.device_id, keys_path, password=None)
    elapsed_ms = (time.perf_counter() - started) * 1000
    print(f"\nfirst ensure took {elapsed_ms:.0f} ms for {len(first.api.calls)} requests")

    keys = CrossSigningKeys.load(keys_path)
    assert keys is not None
    assert status == IdentityStatus(cross_signed=True, master_key=keys.master_public)
    assert stat.S_IMODE(keys_path.stat().st_mode) == 0o600
    seen = await devices.query(user_id)
    assert _published_master(seen, user_id) == keys.master_public
    assert user_has_identity(seen, user_id)
    assert device_signed_by_owner(seen, user_id, first.device_id)
    assert not device_signed_by_owner(seen, user_id, second.device_id)

    # The real answer with one byte of the device's cross-signature changed.
    signatures = seen["device_keys"][user_id][first.device_id]["signatures"][user_id]
    signatures[keys.self_signing_key_id] = _flip_one_byte(signatures[keys.self_signing_key_id])
    assert not device_signed_by_owner(seen, user_id, first.device_id)


async def test_second_ensure_is_a_no_op(devices: Devices, tmp_path: Path) -> None:
    user_id = devices.new_user()
    device = await devices.login(user_id)
    keys_path = tmp_path / CROSS_SIGNING_FILE
    first = await ensure(device.api, user_id, device.device_id, keys_path)
    before = keys_path.read_bytes()
    device.api.calls.clear()

    again = await ensure(device.api, user_id, device.device_id, keys_path)

    assert again == first and again.cross_signed and again.problem is None
    assert device.api.calls == [("POST", "/_matrix/client/v3/keys/query")]
    assert keys_path.read_bytes() == before
    assert _published_master(await devices.query(user_id), user_id) == first.master_key

    # A second device of the same user, with the same keys file: signed on its first ensure.
    other = await devices.login(user_id)
    status = await ensure(other.api, user_id, other.device_id, keys_path)
    assert status.cross_signed and status.master_key == first.master_key
    assert ("POST", "/_matrix/client/v3/keys/device_signing/upload") not in other.api.calls
    seen = await devices.query(user_id)
    assert device_signed_by_owner(seen, user_id, device.device_id)
    assert device_signed_by_owner(seen, user_id, other.device_id)


async def test_a_different_master_key_is_reported_not_replaced(devices: Devices, tmp_path: Path) -> None:
    user_id = devices.new_user()
    device = await devices.login(user_id)
    ours = tmp_path / "ours.json"
    original = await ensure(device.api, user_id, device.device_id, ours)
    assert original.cross_signed

    # Another set of keys (say, an old backup) against the published identity.
    theirs = tmp_path / "theirs.json"
    CrossSigningKeys.generate().save(theirs)
    status = await ensure(device.api, user_id, device.device_id, theirs, password=PASSWORD)
    assert status.mismatch and status.master_key == original.master_key
    assert status.problem is not None and "nothing was replaced" in status.problem
    assert status.cross_signed  # still signed by the published identity
    assert _published_master(await devices.query(user_id), user_id) == original.master_key

    # No keys file at all: told to restore, nothing written.
    missing = tmp_path / "missing" / CROSS_SIGNING_FILE
    status = await ensure(device.api, user_id, device.device_id, missing)
    assert not status.mismatch and status.master_key == original.master_key
    assert status.problem is not None and status.problem.startswith("keys missing")
    assert "akbot identity restore --recovery-key-file" in status.problem
    assert not missing.exists()

    # A reset needs the password ...
    with pytest.raises(IdentityError, match="akbot identity setup --password-file FILE"):
        await reset(device.api, user_id, device.device_id, theirs, None)
    with pytest.raises(IdentityError, match="refused the password"):
        await reset(device.api, user_id, device.device_id, theirs, "not the password")
    assert _published_master(await devices.query(user_id), user_id) == original.master_key
    assert not (tmp_path / "theirs.json.pending").exists()

    # ... and then replaces the identity.
    replaced = await reset(device.api, user_id, device.device_id, theirs, PASSWORD)
    new_keys = CrossSigningKeys.load(theirs)
    assert new_keys is not None
    assert replaced == IdentityStatus(cross_signed=True, master_key=new_keys.master_public)
    assert new_keys.master_public != original.master_key
    seen = await devices.query(user_id)
    assert _published_master(seen, user_id) == new_keys.master_public
    assert device_signed_by_owner(seen, user_id, device.device_id)
    assert stat.S_IMODE(theirs.stat().st_mode) == 0o600
    # Now the first file is the stale one.
    assert (await ensure(device.api, user_id, device.device_id, ours)).mismatch


async def test_secret_storage_moves_the_identity_to_a_new_device(devices: Devices, tmp_path: Path) -> None:
    user_id = devices.new_user()
    old = await devices.login(user_id)
    old_path = tmp_path / "old" / CROSS_SIGNING_FILE
    original = await ensure(old.api, user_id, old.device_id, old_path)
    keys = CrossSigningKeys.load(old_path)
    assert keys is not None

    recovery_key = await store_in_secret_storage(old.api, user_id, keys)
    assert decode_recovery_key(recovery_key)

    # What Element looks for in the account data.
    status, default = await old.api.request(
        "GET", f"/_matrix/client/v3/user/{quote(user_id)}/account_data/m.secret_storage.default_key"
    )
    assert status == 200
    key_id = default["key"]
    status, master_secret = await old.api.request(
        "GET", f"/_matrix/client/v3/user/{quote(user_id)}/account_data/m.cross_signing.master"
    )
    assert status == 200 and set(master_secret["encrypted"][key_id]) == {"iv", "ciphertext", "mac"}

    new = await devices.login(user_id)
    new_path = tmp_path / "new" / CROSS_SIGNING_FILE
    with pytest.raises(IdentityError, match="wrong recovery key"):
        await restore_from_secret_storage(
            new.api, user_id, new.device_id, encode_recovery_key(generate_key()), new_path
        )
    typo = recovery_key[:-1] + ("a" if recovery_key[-1] != "a" else "b")
    with pytest.raises(IdentityError, match="recovery key"):
        await restore_from_secret_storage(new.api, user_id, new.device_id, typo, new_path)
    assert not new_path.exists()

    restored = await restore_from_secret_storage(new.api, user_id, new.device_id, recovery_key, new_path)

    assert restored == IdentityStatus(cross_signed=True, master_key=original.master_key)
    assert CrossSigningKeys.load(new_path) == keys
    assert stat.S_IMODE(new_path.stat().st_mode) == 0o600
    assert ("POST", "/_matrix/client/v3/keys/device_signing/upload") not in new.api.calls
    seen = await devices.query(user_id)
    assert _published_master(seen, user_id) == original.master_key
    assert device_signed_by_owner(seen, user_id, new.device_id)
    assert device_signed_by_owner(seen, user_id, old.device_id)


async def test_a_user_without_device_keys_is_told_so(
    devices: Devices, homeserver: EmbeddedHomeserver, tmp_path: Path
) -> None:
    user_id = devices.new_user()
    token = homeserver.login(user_id.split(":")[0][1:], PASSWORD)  # a login without device keys
    async with MatrixApi(homeserver.url, token) as api:
        status, whoami = await api.request("GET", "/_matrix/client/v3/account/whoami")
        assert status == 200
        result = await ensure(api, user_id, whoami["device_id"], tmp_path / CROSS_SIGNING_FILE)
    assert not result.cross_signed and result.master_key is not None
    assert result.problem is not None and "no published device keys" in result.problem


async def test_inspect_only_looks_and_published_says_when_keys_went_out(
    devices: Devices, tmp_path: Path
) -> None:
    user_id = devices.new_user()
    device = await devices.login(user_id)
    keys_path = tmp_path / CROSS_SIGNING_FILE
    query = [("POST", "/_matrix/client/v3/keys/query")]

    nothing = await inspect(device.api, user_id, device.device_id, keys_path)
    assert (nothing.cross_signed, nothing.master_key, nothing.mismatch) == (False, None, False)
    assert nothing.problem is not None and "publishes no cross-signing identity" in nothing.problem
    assert device.api.calls == query and not keys_path.exists()

    first = await ensure(device.api, user_id, device.device_id, keys_path)
    assert first.published
    assert not (await ensure(device.api, user_id, device.device_id, keys_path)).published
    device.api.calls.clear()
    assert await inspect(device.api, user_id, device.device_id, keys_path) == first
    assert device.api.calls == query

    other = await devices.login(user_id)
    unsigned = await inspect(other.api, user_id, other.device_id, keys_path)
    assert not unsigned.cross_signed and unsigned.master_key == first.master_key
    assert unsigned.problem is not None and "not signed by its identity" in unsigned.problem
    missing = await inspect(other.api, user_id, other.device_id, tmp_path / "missing.json")
    assert missing.problem is not None and missing.problem.startswith("keys missing")

    keys = CrossSigningKeys.load(keys_path)
    assert keys is not None
    assert not await secret_storage_holds_keys(device.api, user_id)
    recovery_key = await store_in_secret_storage(device.api, user_id, keys)
    assert await secret_storage_holds_keys(device.api, user_id)
    assert await keys_from_secret_storage(other.api, user_id, recovery_key) == keys

    replaced = await reset(device.api, user_id, device.device_id, keys_path, PASSWORD)
    assert replaced.published and replaced.master_key != first.master_key
    stale = tmp_path / "stale.json"
    keys.save(stale)
    mismatch = await inspect(device.api, user_id, device.device_id, stale)
    assert mismatch.mismatch and mismatch.master_key == replaced.master_key
    assert mismatch.cross_signed  # the device is signed by the published identity
