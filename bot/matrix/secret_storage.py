"""Secret storage (SSSS) with the ``m.secret_storage.v1.aes-hmac-sha2`` algorithm of the Matrix spec.

Why: the bot's cross-signing seeds must survive a lost data dir and be movable to a new
device or machine. Element keeps them in the user's account data, encrypted with a secret
storage key that the operator holds as a recovery key; doing the same means an operator can
also open the bot's identity in Element, and the bot can restore one that Element made.

Everything here is pure and synchronous: the HTTP side lives in :mod:`bot.matrix.identity`.

- Recovery key: 0x8B 0x01, the 32 key bytes, a parity byte (XOR of all previous bytes),
  base58 (bitcoin alphabet), shown in groups of four characters.
- Secret: HKDF-SHA-256 (salt 32 zero bytes, info = secret name) gives 64 bytes: an AES-256
  key and an HMAC-SHA-256 key. AES-CTR with a random IV whose bit 63 is cleared, HMAC over
  the ciphertext, all three as padded standard base64.
- Key check: the key description carries the ``iv`` and ``mac`` of 32 zero bytes encrypted
  under the secret name ``""``, so a typed recovery key can be checked before use.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import string
from typing import Any

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.errors import AkbotError

__all__ = [
    "ALGORITHM",
    "DEFAULT_KEY_TYPE",
    "KEY_LENGTH",
    "SecretStorageError",
    "decode_recovery_key",
    "decrypt_secret",
    "encode_recovery_key",
    "encrypt_secret",
    "generate_key",
    "generate_key_id",
    "key_description",
    "key_type",
    "verify_key",
]

ALGORITHM = "m.secret_storage.v1.aes-hmac-sha2"
DEFAULT_KEY_TYPE = "m.secret_storage.default_key"
KEY_LENGTH = 32
_PREFIX = b"\x8b\x01"
_DECODED_LENGTH = len(_PREFIX) + KEY_LENGTH + 1
_IV_LENGTH = 16
_MAC_LENGTH = 32
_GROUP = 4
_KEY_ID_ALPHABET = string.ascii_letters + string.digits


class SecretStorageError(AkbotError):
    """A recovery key, key description or encrypted secret is unusable; the message says why."""


def key_type(key_id: str) -> str:
    """The account data type that holds the description of key ``key_id``."""
    return f"m.secret_storage.key.{key_id}"


def generate_key() -> bytes:
    """A fresh 32-byte secret storage key."""
    return secrets.token_bytes(KEY_LENGTH)


def generate_key_id() -> str:
    """A random key id, 32 letters and digits like Element's."""
    return "".join(secrets.choice(_KEY_ID_ALPHABET) for _ in range(32))


# -- recovery key ------------------------------------------------------------------------


def _parity(data: bytes) -> int:
    parity = 0
    for byte in data:
        parity ^= byte
    return parity


def encode_recovery_key(key: bytes) -> str:
    """The recovery key for ``key``, e.g. ``EsTj 3yST y93F ...``."""
    if len(key) != KEY_LENGTH:
        raise SecretStorageError(f"a secret storage key has {KEY_LENGTH} bytes, not {len(key)}")
    raw = _PREFIX + key
    encoded = base58.b58encode(raw + bytes([_parity(raw)])).decode("ascii")
    return " ".join(encoded[i : i + _GROUP] for i in range(0, len(encoded), _GROUP))


def decode_recovery_key(text: str) -> bytes:
    """The 32 key bytes of a recovery key; whitespace anywhere is ignored."""
    compact = "".join(text.split())
    if not compact:
        raise SecretStorageError("the recovery key is empty")
    try:
        raw = base58.b58decode(compact)
    except ValueError as exc:
        raise SecretStorageError(
            "not a recovery key: it contains characters outside base58 (0, O, I and l never occur)"
        ) from exc
    if len(raw) != _DECODED_LENGTH:
        raise SecretStorageError(
            f"not a recovery key: it decodes to {len(raw)} bytes instead of {_DECODED_LENGTH} "
            "(characters missing or extra?)"
        )
    if raw[: len(_PREFIX)] != _PREFIX:
        raise SecretStorageError("not a recovery key: wrong prefix (it should start with 'Es')")
    if _parity(raw[:-1]) != raw[-1]:
        raise SecretStorageError(
            "the recovery key has a typo: its parity byte does not match, check every character"
        )
    return raw[len(_PREFIX) : -1]


# -- encryption --------------------------------------------------------------------------


def _b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _b64decode(value: Any, what: str) -> bytes:
    """Standard base64, padded or not (Element writes both)."""
    if not isinstance(value, str):
        raise SecretStorageError(f"{what} is missing or not a string")
    compact = value.strip()
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SecretStorageError(f"{what} is not valid base64") from exc


def _derive(key: bytes, name: str) -> tuple[bytes, bytes]:
    if len(key) != KEY_LENGTH:
        raise SecretStorageError(f"a secret storage key has {KEY_LENGTH} bytes, not {len(key)}")
    okm = HKDF(algorithm=hashes.SHA256(), length=64, salt=bytes(32), info=name.encode("utf-8")).derive(key)
    return okm[:32], okm[32:]


def _aes_ctr(aes_key: bytes, iv: bytes, data: bytes) -> bytes:
    # CTR is symmetric: the same operation encrypts and decrypts.
    encryptor = Cipher(algorithms.AES(aes_key), modes.CTR(iv)).encryptor()
    return encryptor.update(data) + encryptor.finalize()


def _mac(mac_key: bytes, ciphertext: bytes) -> hmac.HMAC:
    tag = hmac.HMAC(mac_key, hashes.SHA256())
    tag.update(ciphertext)
    return tag


def _encrypt(key: bytes, name: str, plaintext: bytes) -> dict[str, str]:
    aes_key, mac_key = _derive(key, name)
    fresh = bytearray(secrets.token_bytes(_IV_LENGTH))
    # Bit 63 cleared: implementations with a 64-bit counter must not wrap around.
    fresh[8] &= 0x7F
    iv = bytes(fresh)
    ciphertext = _aes_ctr(aes_key, iv, plaintext)
    mac = _mac(mac_key, ciphertext).finalize()
    return {"iv": _b64encode(iv), "ciphertext": _b64encode(ciphertext), "mac": _b64encode(mac)}


def encrypt_secret(key: bytes, name: str, secret: str) -> dict[str, str]:
    """``{"iv", "ciphertext", "mac"}`` of ``secret`` under ``key``, bound to the secret ``name``.

    The account data ``name`` then holds ``{"encrypted": {key_id: <this>}}``.
    """
    return _encrypt(key, name, secret.encode("utf-8"))


def decrypt_secret(key: bytes, name: str, encrypted: dict[str, Any]) -> str:
    """The plaintext of one ``encrypted[key_id]`` entry; the MAC is checked (in constant time) first."""
    aes_key, mac_key = _derive(key, name)
    iv = _b64decode(encrypted.get("iv"), f"the iv of secret {name}")
    ciphertext = _b64decode(encrypted.get("ciphertext"), f"the ciphertext of secret {name}")
    mac = _b64decode(encrypted.get("mac"), f"the mac of secret {name}")
    if len(iv) != _IV_LENGTH:
        raise SecretStorageError(f"the iv of secret {name} has {len(iv)} bytes, not {_IV_LENGTH}")
    try:
        _mac(mac_key, ciphertext).verify(mac)
    except InvalidSignature as exc:
        raise SecretStorageError(
            f"secret {name} does not authenticate: wrong secret storage key or damaged data"
        ) from exc
    try:
        return _aes_ctr(aes_key, iv, ciphertext).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SecretStorageError(f"secret {name} is not UTF-8 text") from exc


# -- key description ---------------------------------------------------------------------


def key_description(key: bytes) -> dict[str, Any]:
    """Content for account data ``m.secret_storage.key.<key_id>``, with the spec's key check."""
    check = _encrypt(key, "", bytes(32))
    return {"algorithm": ALGORITHM, "iv": check["iv"], "mac": check["mac"]}


def verify_key(key: bytes, description: dict[str, Any]) -> bool:
    """Whether ``key`` is the key that ``description`` describes.

    A description without ``iv`` and ``mac`` cannot be checked and is taken as matching (as
    the spec says); then a wrong key shows up as a MAC failure when a secret is decrypted.
    """
    algorithm = description.get("algorithm")
    if algorithm != ALGORITHM:
        raise SecretStorageError(f"unsupported secret storage algorithm {algorithm!r}, expected {ALGORITHM}")
    if "iv" not in description and "mac" not in description:
        return True
    iv = _b64decode(description.get("iv"), "the iv of the key description")
    expected = _b64decode(description.get("mac"), "the mac of the key description")
    if len(iv) != _IV_LENGTH or len(expected) != _MAC_LENGTH:
        raise SecretStorageError("the key description has an iv or mac of the wrong length")
    aes_key, mac_key = _derive(key, "")
    try:
        _mac(mac_key, _aes_ctr(aes_key, iv, bytes(32))).verify(expected)
    except InvalidSignature:
        return False
    return True
