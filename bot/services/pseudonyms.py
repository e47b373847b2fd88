"""Keyed pseudonyms: a forgotten member's vote keeps counting, and stays theirs for the one-vote
rule, without their name being stored.

``of(scope, user)`` is an HMAC-SHA256 under a random key kept in the database: the same member and
scope always give the same pseudonym, but nobody can tell from it whom it stands for — only test a
given user id, which is exactly what "has this member voted already?" needs."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlite_utils import Database

from bot.storage import KeyValue

_KEY = "pseudonym_key"


class Pseudonyms:
    def __init__(self, db: Database) -> None:
        self._kv = KeyValue(db)
        self._key: bytes | None = None

    def of(self, scope: str, user_id: str) -> str:
        if self._key is None:
            self._key = bytes.fromhex(self._kv.setdefault(_KEY, secrets.token_hex(32)))
        return hmac.new(self._key, f"{scope}\n{user_id}".encode(), hashlib.sha256).hexdigest()

    @staticmethod
    def poll_scope(poll_id: int) -> str:
        return f"poll:{poll_id}"
