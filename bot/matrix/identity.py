"""A user's own cross-signing identity, made and kept by hand over the client-server API.

Why: Element leaves out devices that their owner has not cross-signed, so an unsigned bot
neither receives room keys nor looks trustworthy. matrix-nio has no cross-signing, so this
module does it itself: three Ed25519 keys (master, self-signing, user-signing) as Element
makes them, published with ``/keys/device_signing/upload``, and the bot's device signed with
the self-signing key via ``/keys/signatures/upload``. The private seeds live in a 0600 JSON
file in the data dir (:data:`CROSS_SIGNING_FILE`) and, on request, in secret storage, from
where a new device restores them with the recovery key.

Nothing here is bot-specific: any user (the test users too) can :func:`ensure` an identity.

A published master key that is not ours is never replaced on our own initiative: someone
(an operator in Element, a restored backup) made it, and replacing it would break every
verification made against it. :func:`ensure` reports the mismatch; only :func:`reset` (the
operator command ``akbot identity reset``) replaces it. :func:`inspect` only looks (for
``akbot check`` and ``akbot identity status``, beside the running bot).

:func:`device_signed_by_owner` and :func:`user_has_identity` judge other users' devices from
a raw ``/keys/query`` answer; they verify signatures cryptographically and never raise.
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import httpx
import nacl.signing
from signedjson.key import decode_signing_key_base64, decode_verify_key_bytes, generate_signing_key
from signedjson.sign import SignatureVerifyException, sign_json, verify_signed_json
from signedjson.types import SigningKey
from unpaddedbase64 import decode_base64, encode_base64

from bot.errors import AkbotError
from bot.matrix import secret_storage
from bot.matrix.secret_storage import SecretStorageError
from bot.matrix.session import write_private

__all__ = [
    "CROSS_SIGNING_FILE",
    "CrossSigningKeys",
    "IdentityError",
    "IdentityStatus",
    "MatrixApi",
    "device_signed_by_owner",
    "device_signing_upload_body",
    "ensure",
    "inspect",
    "keys_from_secret_storage",
    "reset",
    "restore_from_secret_storage",
    "secret_storage_holds_keys",
    "store_in_secret_storage",
    "user_has_identity",
]

log = logging.getLogger(__name__)

CROSS_SIGNING_FILE = "cross-signing.json"
CROSS_SIGNING_MASTER = "m.cross_signing.master"
CROSS_SIGNING_SELF_SIGNING = "m.cross_signing.self_signing"
CROSS_SIGNING_USER_SIGNING = "m.cross_signing.user_signing"

_ED25519 = "ed25519"
_CLIENT = "/_matrix/client/v3"
_FILE_VERSION = 1
_SETUP_HINT = "run `akbot identity setup --password-file FILE` with the account password in FILE"


class IdentityError(AkbotError):
    """The identity could not be set up or used; the message says what to do."""


class IdentityUnavailable(IdentityError):
    """The homeserver could not be reached or was busy (network, 429, 5xx): worth trying again."""


@dataclass(frozen=True)
class IdentityStatus:
    """Where a user's device stands; ``problem`` is an English sentence for logs and ``akbot check``."""

    cross_signed: bool
    # The published master public key (unpadded base64), if any.
    master_key: str | None
    problem: str | None = None
    # The server publishes a master key that is not ours; nothing was replaced.
    mismatch: bool = False
    # This call published our keys (first start, a setup, a reset): time to put them into
    # secret storage. What happened, not where things stand, so it does not take part in ==.
    published: bool = field(default=False, compare=False)


# -- HTTP --------------------------------------------------------------------------------


class MatrixApi:
    """Just enough client-server API: JSON in, ``(status, JSON object)`` out.

    With ``client`` given, the caller owns it; otherwise call :meth:`aclose` (or use
    ``async with``) to close the one made here.
    """

    def __init__(
        self, homeserver: str, access_token: str, *, client: httpx.AsyncClient | None = None
    ) -> None:
        self.homeserver = homeserver.rstrip("/")
        self._headers = {"Authorization": f"Bearer {access_token}"}
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(trust_env=False, follow_redirects=False, timeout=30.0)

    async def request(
        self, method: str, path: str, json: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        try:
            response = await self._client.request(
                method, self.homeserver + path, json=json, headers=self._headers
            )
        except httpx.HTTPError as exc:
            raise IdentityUnavailable(f"{method} {path} failed: {type(exc).__name__}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        return response.status_code, body if isinstance(body, dict) else {}

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> MatrixApi:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _refused(what: str, status: int, body: dict[str, Any]) -> IdentityError:
    errcode = body.get("errcode", "?")
    error = body.get("error", "")
    kind = IdentityUnavailable if status == 429 or status >= 500 else IdentityError
    return kind(f"{what}: the homeserver answered {status} {errcode} {error}".rstrip())


async def _call(
    api: MatrixApi, what: str, method: str, path: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    status, answer = await api.request(method, path, body)
    if status != 200:
        raise _refused(what, status, answer)
    return answer


def _account_data_path(user_id: str, event_type: str) -> str:
    return f"{_CLIENT}/user/{quote(user_id, safe='')}/account_data/{quote(event_type, safe='')}"


async def _get_account_data(api: MatrixApi, user_id: str, event_type: str) -> dict[str, Any] | None:
    status, body = await api.request("GET", _account_data_path(user_id, event_type))
    if status == 404:
        return None
    if status != 200:
        raise _refused(f"reading account data {event_type}", status, body)
    return body


async def _put_account_data(api: MatrixApi, user_id: str, event_type: str, content: dict[str, Any]) -> None:
    await _call(
        api, f"writing account data {event_type}", "PUT", _account_data_path(user_id, event_type), content
    )


async def _query_keys(api: MatrixApi, user_id: str) -> dict[str, Any]:
    return await _call(api, "querying keys", "POST", f"{_CLIENT}/keys/query", {"device_keys": {user_id: []}})


# -- keys --------------------------------------------------------------------------------


def _b64decode_seed(value: Any, what: str) -> bytes:
    """A 32-byte seed from standard base64, padded or not."""
    if not isinstance(value, str):
        raise IdentityError(f"{what} is missing")
    try:
        seed = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise IdentityError(f"{what} is not base64") from exc
    if len(seed) != 32:
        raise IdentityError(f"{what} has {len(seed)} bytes instead of 32")
    return seed


def _public_key(seed: bytes) -> str:
    return encode_base64(bytes(nacl.signing.SigningKey(seed).verify_key))


def _signing_key(seed: bytes) -> SigningKey:
    """A signedjson signing key whose id is ``ed25519:<public key>``."""
    key: SigningKey = decode_signing_key_base64(_ED25519, _public_key(seed), encode_base64(seed))
    return key


@dataclass(frozen=True)
class CrossSigningKeys:
    """The three private seeds and their public key ids (``ed25519:<unpadded base64>``)."""

    master_seed: bytes = field(repr=False)
    self_signing_seed: bytes = field(repr=False)
    user_signing_seed: bytes = field(repr=False)
    master_key_id: str = field(init=False)
    self_signing_key_id: str = field(init=False)
    user_signing_key_id: str = field(init=False)

    def __post_init__(self) -> None:
        for name in ("master_seed", "self_signing_seed", "user_signing_seed"):
            if len(getattr(self, name)) != 32:
                raise IdentityError(f"{name} must have 32 bytes")
        object.__setattr__(self, "master_key_id", f"{_ED25519}:{_public_key(self.master_seed)}")
        object.__setattr__(self, "self_signing_key_id", f"{_ED25519}:{_public_key(self.self_signing_seed)}")
        object.__setattr__(self, "user_signing_key_id", f"{_ED25519}:{_public_key(self.user_signing_seed)}")

    @property
    def master_public(self) -> str:
        return self.master_key_id.split(":", 1)[1]

    @property
    def self_signing_public(self) -> str:
        return self.self_signing_key_id.split(":", 1)[1]

    @property
    def user_signing_public(self) -> str:
        return self.user_signing_key_id.split(":", 1)[1]

    @classmethod
    def generate(cls) -> CrossSigningKeys:
        return cls(*(bytes(generate_signing_key("new")) for _ in range(3)))

    def secrets(self) -> dict[str, str]:
        """Secret name -> unpadded base64 seed, as Element keeps them in secret storage."""
        return {
            CROSS_SIGNING_MASTER: encode_base64(self.master_seed),
            CROSS_SIGNING_SELF_SIGNING: encode_base64(self.self_signing_seed),
            CROSS_SIGNING_USER_SIGNING: encode_base64(self.user_signing_seed),
        }

    def save(self, path: Path) -> None:
        """Write atomically with mode 0600: a crash never leaves half a key file behind."""
        data = {
            "version": _FILE_VERSION,
            "master": encode_base64(self.master_seed),
            "self_signing": encode_base64(self.self_signing_seed),
            "user_signing": encode_base64(self.user_signing_seed),
            # For people reading the file; load() checks them against the seeds.
            "master_key": self.master_public,
            "self_signing_key": self.self_signing_public,
            "user_signing_key": self.user_signing_public,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> CrossSigningKeys | None:
        """The keys in ``path``; ``None`` if there is no such file. A damaged file raises."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise IdentityError(f"cannot read {path}: {exc}") from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise IdentityError(f"{path} is not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise IdentityError(f"{path} does not hold a JSON object")
        keys = cls(
            _b64decode_seed(data.get("master"), f"master seed in {path}"),
            _b64decode_seed(data.get("self_signing"), f"self-signing seed in {path}"),
            _b64decode_seed(data.get("user_signing"), f"user-signing seed in {path}"),
        )
        for name, public in (
            ("master_key", keys.master_public),
            ("self_signing_key", keys.self_signing_public),
            ("user_signing_key", keys.user_signing_public),
        ):
            if name in data and data[name] != public:
                raise IdentityError(f"{path}: {name} does not belong to its seed; the file is damaged")
        return keys


def _key_object(user_id: str, usage: str, key_id: str) -> dict[str, Any]:
    return {"user_id": user_id, "usage": [usage], "keys": {key_id: key_id.split(":", 1)[1]}}


def device_signing_upload_body(user_id: str, keys: CrossSigningKeys) -> dict[str, Any]:
    """Body for ``/keys/device_signing/upload``: the master key signs itself and the other two."""
    master = _signing_key(keys.master_seed)
    return {
        "master_key": sign_json(_key_object(user_id, "master", keys.master_key_id), user_id, master),
        "self_signing_key": sign_json(
            _key_object(user_id, "self_signing", keys.self_signing_key_id), user_id, master
        ),
        "user_signing_key": sign_json(
            _key_object(user_id, "user_signing", keys.user_signing_key_id), user_id, master
        ),
    }


async def _upload_keys(api: MatrixApi, user_id: str, keys: CrossSigningKeys, password: str | None) -> None:
    """Publish ``keys``, answering user-interactive auth with the password if the server asks."""
    path = f"{_CLIENT}/keys/device_signing/upload"
    body = device_signing_upload_body(user_id, keys)
    status, answer = await api.request("POST", path, body)
    if status == 200:
        return
    if status != 401 or "flows" not in answer:
        raise _refused("publishing cross-signing keys", status, answer)
    if password is None:
        raise IdentityError(
            f"the homeserver wants the account password of {user_id} to replace its cross-signing "
            f"keys: {_SETUP_HINT}"
        )
    flows = answer.get("flows") or []
    if not any(isinstance(flow, dict) and flow.get("stages") == ["m.login.password"] for flow in flows):
        raise IdentityError(
            f"the homeserver does not accept a password alone to replace the cross-signing keys of "
            f"{user_id} (flows: {flows}); reset the identity in Element or with the server admin"
        )
    auth: dict[str, Any] = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user_id},
        "password": password,
    }
    if isinstance(answer.get("session"), str):
        auth["session"] = answer["session"]
    body["auth"] = auth
    status, answer = await api.request("POST", path, body)
    if status == 401:
        raise IdentityError(
            f"the homeserver refused the password of {user_id} ({answer.get('errcode', '?')}): {_SETUP_HINT}"
        )
    if status != 200:
        raise _refused("publishing cross-signing keys", status, answer)


def _published_key(keys_query: dict[str, Any], section: str, user_id: str, usage: str) -> str | None:
    """The public key of a well-formed cross-signing key in a /keys/query answer."""
    by_user = keys_query.get(section)
    key_object = by_user.get(user_id) if isinstance(by_user, dict) else None
    if not isinstance(key_object, dict) or key_object.get("user_id") != user_id:
        return None
    usages = key_object.get("usage")
    if not isinstance(usages, list) or usage not in usages:
        return None
    keys = key_object.get("keys")
    if not isinstance(keys, dict) or len(keys) != 1:
        return None
    ((key_id, public),) = keys.items()
    if not isinstance(public, str) or key_id != f"{_ED25519}:{public}":
        return None
    return public


def _device_entry(keys_query: dict[str, Any], user_id: str, device_id: str) -> dict[str, Any] | None:
    devices = keys_query.get("device_keys")
    by_device = devices.get(user_id) if isinstance(devices, dict) else None
    device = by_device.get(device_id) if isinstance(by_device, dict) else None
    return device if isinstance(device, dict) else None


async def _sign_device(
    api: MatrixApi, user_id: str, device_id: str, keys: CrossSigningKeys, device: dict[str, Any]
) -> None:
    """Sign the device keys as the server published them and upload only our new signature."""
    signed = {k: copy.deepcopy(v) for k, v in device.items() if k not in ("signatures", "unsigned")}
    sign_json(signed, user_id, _signing_key(keys.self_signing_seed))
    answer = await _call(
        api,
        f"uploading the signature of device {device_id}",
        "POST",
        f"{_CLIENT}/keys/signatures/upload",
        {user_id: {device_id: signed}},
    )
    failures = answer.get("failures") or {}
    if failures:
        raise IdentityError(f"the homeserver refused the signature of device {device_id}: {failures}")


async def _settle(
    api: MatrixApi,
    user_id: str,
    device_id: str,
    keys: CrossSigningKeys,
    keys_query: dict[str, Any],
    *,
    password: str | None,
) -> IdentityStatus:
    """Bring the server in line with ``keys`` (whose master the server has or lacks), sign the device."""
    server_master = _published_key(keys_query, "master_keys", user_id, "master")
    if server_master is not None and server_master != keys.master_public:
        return _mismatch(keys_query, user_id, device_id, keys.master_public, server_master)
    published = (
        server_master,
        _published_key(keys_query, "self_signing_keys", user_id, "self_signing"),
        _published_key(keys_query, "user_signing_keys", user_id, "user_signing"),
    )
    uploaded = published != (keys.master_public, keys.self_signing_public, keys.user_signing_public)
    if uploaded:
        await _upload_keys(api, user_id, keys, password)
        log.info("published cross-signing keys of %s, master key %s", user_id, keys.master_public)
        keys_query = await _query_keys(api, user_id)
    if device_signed_by_owner(keys_query, user_id, device_id):
        return IdentityStatus(True, keys.master_public, published=uploaded)
    device = _device_entry(keys_query, user_id, device_id)
    if device is None:
        return IdentityStatus(
            False,
            keys.master_public,
            f"device {device_id} of {user_id} has no published device keys to sign yet "
            "(they are uploaded at login); start again once they are",
            published=uploaded,
        )
    await _sign_device(api, user_id, device_id, keys, device)
    log.info("signed device %s of %s with its self-signing key", device_id, user_id)
    keys_query = await _query_keys(api, user_id)
    if device_signed_by_owner(keys_query, user_id, device_id):
        return IdentityStatus(True, keys.master_public, published=uploaded)
    return IdentityStatus(
        False,
        keys.master_public,
        f"device {device_id} of {user_id} was signed, but the homeserver does not show a valid signature",
        published=uploaded,
    )


def _mismatch(
    keys_query: dict[str, Any], user_id: str, device_id: str, ours: str, server_master: str
) -> IdentityStatus:
    return IdentityStatus(
        cross_signed=device_signed_by_owner(keys_query, user_id, device_id),
        master_key=server_master,
        problem=(
            f"the homeserver publishes master key {server_master} for {user_id}, but our keys have "
            f"master key {ours}; nothing was replaced. Restore the matching keys with "
            "`akbot identity restore --recovery-key-file FILE`, or replace the published identity "
            "with `akbot identity reset`"
        ),
        mismatch=True,
    )


def _pending_path(keys_path: Path) -> Path:
    return keys_path.with_name(keys_path.name + ".pending")


async def ensure(
    api: MatrixApi, user_id: str, device_id: str, keys_path: Path, password: str | None = None
) -> IdentityStatus:
    """Make sure ``user_id`` has our cross-signing identity and ``device_id`` is signed by it.

    First start: new keys, saved, published, device signed. Later starts: no-op when all is
    in place; re-publish if the server has no master key; sign the device if it is unsigned.
    A different published master key or a missing keys file is reported, never overwritten.
    Raises :class:`IdentityError` when the homeserver refuses (e.g. needs a password).
    """
    keys = CrossSigningKeys.load(keys_path)
    keys_query = await _query_keys(api, user_id)
    server_master = _published_key(keys_query, "master_keys", user_id, "master")
    if server_master is not None and (keys is None or keys.master_public != server_master):
        # A reset that published its keys but died before moving them into place.
        pending = CrossSigningKeys.load(_pending_path(keys_path))
        if pending is not None and pending.master_public == server_master:
            pending.save(keys_path)
            _pending_path(keys_path).unlink()
            keys = pending
    if keys is None:
        if server_master is not None:
            return IdentityStatus(
                cross_signed=device_signed_by_owner(keys_query, user_id, device_id),
                master_key=server_master,
                problem=(
                    f"keys missing: the homeserver publishes master key {server_master} for {user_id}, "
                    f"but {keys_path} does not exist; restore it with "
                    "`akbot identity restore --recovery-key-file FILE`"
                ),
            )
        keys = CrossSigningKeys.generate()
        # Saved before publishing: published keys that we lost would block us for good.
        keys.save(keys_path)
        log.info("created cross-signing keys for %s in %s", user_id, keys_path)
    return await _settle(api, user_id, device_id, keys, keys_query, password=password)


async def reset(
    api: MatrixApi, user_id: str, device_id: str, keys_path: Path, password: str | None
) -> IdentityStatus:
    """Replace the published identity with new keys (``akbot identity reset``) and sign the device.

    Every verification others made of the old identity is void afterwards.
    """
    keys = CrossSigningKeys.generate()
    pending = _pending_path(keys_path)
    # Kept beside the keys file until the server took the new keys, so neither set is lost.
    keys.save(pending)
    try:
        await _upload_keys(api, user_id, keys, password)
    except IdentityError as error:
        # Only a clear refusal means the server did not take the keys; after a lost answer they
        # may be published, and the pending file is what ensure() recovers them from.
        if not isinstance(error, IdentityUnavailable):
            pending.unlink(missing_ok=True)
        raise
    pending.replace(keys_path)
    log.warning("replaced the cross-signing identity of %s, new master key %s", user_id, keys.master_public)
    status = await _settle(api, user_id, device_id, keys, await _query_keys(api, user_id), password=password)
    return dataclasses.replace(status, published=True)


async def inspect(api: MatrixApi, user_id: str, device_id: str, keys_path: Path) -> IdentityStatus:
    """Where the identity stands, judged from one ``/keys/query``; changes nothing anywhere.

    For ``akbot check`` and ``akbot identity status``, which may run beside the bot.
    ``master_key`` is the published one; ``problem`` says what is wrong and what helps.
    """
    keys = CrossSigningKeys.load(keys_path)
    keys_query = await _query_keys(api, user_id)
    server_master = _published_key(keys_query, "master_keys", user_id, "master")
    signed = device_signed_by_owner(keys_query, user_id, device_id)
    if server_master is None:
        return IdentityStatus(
            False,
            None,
            f"the homeserver publishes no cross-signing identity for {user_id}; the bot publishes "
            f"one when it starts (should the homeserver want the password for that: {_SETUP_HINT})",
        )
    if keys is None:
        return IdentityStatus(
            signed,
            server_master,
            f"keys missing: the homeserver publishes master key {server_master} for {user_id}, but "
            f"{keys_path} does not exist; restore it with `akbot identity restore --recovery-key-file FILE`",
        )
    if server_master != keys.master_public:
        return _mismatch(keys_query, user_id, device_id, keys.master_public, server_master)
    if signed:
        return IdentityStatus(True, server_master)
    if _device_entry(keys_query, user_id, device_id) is None:
        problem = f"device {device_id} of {user_id} has no published device keys yet (the bot uploads them)"
    else:
        problem = (
            f"device {device_id} of {user_id} is not signed by its identity; the bot signs it when it starts"
        )
    return IdentityStatus(False, server_master, problem)


# -- secret storage ----------------------------------------------------------------------


async def store_in_secret_storage(api: MatrixApi, user_id: str, keys: CrossSigningKeys) -> str:
    """Put the three seeds into a new secret storage key, made the default; return its recovery key.

    Secrets encrypted only for an earlier default key stay readable with that key alone.
    """
    storage_key = secret_storage.generate_key()
    key_id = secret_storage.generate_key_id()
    await _put_account_data(
        api, user_id, secret_storage.key_type(key_id), secret_storage.key_description(storage_key)
    )
    for name, secret in keys.secrets().items():
        encrypted = secret_storage.encrypt_secret(storage_key, name, secret)
        await _put_account_data(api, user_id, name, {"encrypted": {key_id: encrypted}})
    # Last: the default never points at a key whose secrets are not all there.
    await _put_account_data(api, user_id, secret_storage.DEFAULT_KEY_TYPE, {"key": key_id})
    log.info("stored the cross-signing keys of %s in secret storage key %s", user_id, key_id)
    return secret_storage.encode_recovery_key(storage_key)


async def secret_storage_holds_keys(api: MatrixApi, user_id: str) -> bool:
    """Whether the default secret storage key has all three cross-signing secrets.

    Only that they are there: which keys they are takes the recovery key to tell
    (:func:`keys_from_secret_storage`).
    """
    default = await _get_account_data(api, user_id, secret_storage.DEFAULT_KEY_TYPE)
    key_id = default.get("key") if default else None
    if not isinstance(key_id, str):
        return False
    if await _get_account_data(api, user_id, secret_storage.key_type(key_id)) is None:
        return False
    for name in (CROSS_SIGNING_MASTER, CROSS_SIGNING_SELF_SIGNING, CROSS_SIGNING_USER_SIGNING):
        content = await _get_account_data(api, user_id, name)
        encrypted = content.get("encrypted") if content else None
        if not isinstance(encrypted, dict) or not isinstance(encrypted.get(key_id), dict):
            return False
    return True


async def keys_from_secret_storage(api: MatrixApi, user_id: str, recovery_key: str) -> CrossSigningKeys:
    """The cross-signing keys in secret storage, opened with ``recovery_key``; nothing is written."""
    try:
        storage_key = secret_storage.decode_recovery_key(recovery_key)
    except SecretStorageError as exc:
        raise IdentityError(str(exc)) from exc
    default = await _get_account_data(api, user_id, secret_storage.DEFAULT_KEY_TYPE)
    key_id = default.get("key") if default else None
    if not isinstance(key_id, str):
        raise IdentityError(f"{user_id} has no secret storage (no default secret storage key)")
    description = await _get_account_data(api, user_id, secret_storage.key_type(key_id))
    if description is None:
        raise IdentityError(f"the default secret storage key {key_id} of {user_id} has no description")
    try:
        if not secret_storage.verify_key(storage_key, description):
            raise IdentityError(
                f"wrong recovery key: it does not match secret storage key {key_id} of {user_id}"
            )
        seeds = []
        for name in (CROSS_SIGNING_MASTER, CROSS_SIGNING_SELF_SIGNING, CROSS_SIGNING_USER_SIGNING):
            content = await _get_account_data(api, user_id, name)
            by_key = (content or {}).get("encrypted")
            encrypted = by_key.get(key_id) if isinstance(by_key, dict) else None
            if not isinstance(encrypted, dict):
                raise IdentityError(f"secret storage key {key_id} of {user_id} holds no {name}")
            seed = secret_storage.decrypt_secret(storage_key, name, encrypted)
            seeds.append(_b64decode_seed(seed, f"{name} from secret storage"))
    except SecretStorageError as exc:
        raise IdentityError(str(exc)) from exc
    return CrossSigningKeys(*seeds)


async def restore_from_secret_storage(
    api: MatrixApi, user_id: str, device_id: str, recovery_key: str, keys_path: Path
) -> IdentityStatus:
    """Take the identity over from secret storage (``akbot identity restore``) and sign this device.

    The keys file is written only when the restored master key is the published one (or
    none is published). A wrong recovery key raises :class:`IdentityError`.
    """
    keys = await keys_from_secret_storage(api, user_id, recovery_key)
    keys_query = await _query_keys(api, user_id)
    server_master = _published_key(keys_query, "master_keys", user_id, "master")
    if server_master is not None and server_master != keys.master_public:
        return _mismatch(keys_query, user_id, device_id, keys.master_public, server_master)
    keys.save(keys_path)
    log.info("restored the cross-signing keys of %s from secret storage into %s", user_id, keys_path)
    return await _settle(api, user_id, device_id, keys, keys_query, password=None)


# -- judging devices (pure) --------------------------------------------------------------


def _signed_by(
    signed_object: dict[str, Any], user_id: str, public_key: str, key_name: str | None = None
) -> bool:
    """Whether ``signed_object`` carries a valid signature of ``user_id`` by ``public_key``.

    The signature's key id is ``ed25519:<key_name>``: the public key itself for cross-signing
    keys, the device id for a device's own signature.
    """
    try:
        key_id = f"{_ED25519}:{key_name or public_key}"
        verify_key = decode_verify_key_bytes(key_id, decode_base64(public_key))
        verify_signed_json(signed_object, user_id, verify_key)
    except (SignatureVerifyException, ValueError, TypeError, AttributeError):
        return False
    return True


def _verified_self_signing_key(keys_query: dict[str, Any], user_id: str) -> str | None:
    """The user's self-signing public key, if their master key validly signed it."""
    master = _published_key(keys_query, "master_keys", user_id, "master")
    self_signing = _published_key(keys_query, "self_signing_keys", user_id, "self_signing")
    if master is None or self_signing is None:
        return None
    if not _signed_by(keys_query["self_signing_keys"][user_id], user_id, master):
        return None
    return self_signing


def user_has_identity(keys_query: dict[str, Any], user_id: str) -> bool:
    """Whether ``user_id`` publishes a master key and a self-signing key that it signed."""
    return _verified_self_signing_key(keys_query, user_id) is not None


def device_signed_by_owner(keys_query: dict[str, Any], user_id: str, device_id: str) -> bool:
    """Whether the owner cross-signed this device, judged from a raw ``/keys/query`` answer.

    Chain: master key -> self-signing key -> device keys, each signature verified; the device
    keys must also carry their own valid device signature.
    """
    self_signing = _verified_self_signing_key(keys_query, user_id)
    device = _device_entry(keys_query, user_id, device_id)
    if self_signing is None or device is None:
        return False
    if device.get("user_id") != user_id or device.get("device_id") != device_id:
        return False
    device_keys = device.get("keys")
    device_key = device_keys.get(f"{_ED25519}:{device_id}") if isinstance(device_keys, dict) else None
    if not isinstance(device_key, str):
        return False
    return _signed_by(device, user_id, device_key, device_id) and _signed_by(device, user_id, self_signing)
