"""The bot's session with its homeserver: the nio client, login once, the device reused after.

A new device per start would break end-to-end encryption (members would have to trust a new
device each time), so the password is used once and the token and device are kept in
``data_dir``. The session also owns the two things every other part needs: the verdict that the
homeserver refused us for good (a revoked token), and the stop signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import (
    AsyncClientConfig,
    ErrorResponse,
    LoginResponse,
    WhoamiResponse,
)

from bot.errors import ConfigError, FatalMatrixError
from bot.matrix.client import BotClient
from bot.settings import MatrixSettings

log = logging.getLogger(__name__)

CREDENTIALS_FILE = "credentials.json"
STORE_DIR = "e2ee-store"
LOCK_FILE = "akbot.lock"
# The long poll returns at once on news; its length only bounds how long a revoked token goes
# unnoticed (Synapse lets a running long poll finish), so it stays short.
SYNC_TIMEOUT_MS = 8_000
BACKOFF_START_S = 1.0
BACKOFF_CAP_S = 30.0
TOKEN_ERRORS = frozenset({"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"})


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter, capped: the n-th wait after a failure."""
    return float(min(BACKOFF_CAP_S, BACKOFF_START_S * 2**attempt) * random.uniform(0.8, 1.2))


def write_private(path: Path, text: str) -> None:
    """Write a secret file readable by its owner only; a crash never leaves half of it behind.

    A temporary file of its own (mkstemp: mode 0600, a fresh name) so that neither a leftover
    nor a second writer at the same moment can leak or tear it."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def private_dir(path: Path) -> None:
    """Create ``path`` for its owner only (the E2EE store's files are made world-readable by nio)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)


class DataDirLocked(ConfigError):
    """Another process (a running bot, an ``akbot identity`` command) has the E2EE store open."""


def lock_data_dir(data_dir: Path) -> int:
    """Take the exclusive lock on ``data_dir``'s E2EE store; it lasts until the descriptor is closed.

    Two processes with one device destroy its encryption sessions, so whoever opens the store
    holds ``akbot.lock`` (``flock``: the kernel releases it when the process dies, however).
    """
    path = data_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirLocked(
            f"bot.data_dir: {data_dir} is in use by another akbot process ({path} is locked); "
            "never run two instances on one data_dir"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())  # for the operator: who holds it
    return fd


@dataclass
class Credentials:
    homeserver: str
    user_id: str
    device_id: str
    access_token: str

    @classmethod
    def load(cls, path: Path) -> Credentials | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(data["homeserver"], data["user_id"], data["device_id"], data["access_token"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, path: Path) -> None:
        write_private(path, json.dumps(self.__dict__))


class Session:
    """Login, the client, the fatal-error verdict and the stop signal."""

    def __init__(self, settings: MatrixSettings, data_dir: Path) -> None:
        self.settings = settings
        self.data_dir = data_dir
        self.user_id = settings.user_id
        self._client: BotClient | None = None
        self._lock: int | None = None
        self.fatal: FatalMatrixError | None = None
        self.stopping = asyncio.Event()

    @property
    def client(self) -> BotClient:
        if self._client is None:
            raise RuntimeError("login() first")
        return self._client

    @property
    def connected(self) -> bool:
        return self._client is not None

    @property
    def credentials_path(self) -> Path:
        return self.data_dir / CREDENTIALS_FILE

    def _new_client(self, with_store: bool) -> BotClient:
        store_path = self.data_dir / STORE_DIR
        private_dir(store_path)
        pickle_key = self.settings.pickle_key.get_secret_value() if self.settings.pickle_key else "akbot"
        config = AsyncClientConfig(
            encryption_enabled=self.settings.encryption and with_store,
            store_sync_tokens=False,
            pickle_key=pickle_key,
            # Errors surface to our own loops, which back off and honour retry_after_ms.
            max_limit_exceeded=0,
            max_timeouts=0,
            request_timeout=SYNC_TIMEOUT_MS / 1000 + 30,
        )
        return BotClient(
            self.settings.homeserver,
            self.user_id,
            store_path=str(store_path) if with_store else "",
            config=config,
        )

    async def login(self, *, with_store: bool = True) -> Credentials:
        """Log in once with the password; afterwards reuse the stored token and device.

        With the E2EE store, ``data_dir`` is locked until :meth:`close` (:class:`DataDirLocked`
        if another process holds it); without, nothing of the running bot's is touched.
        """
        path = self.credentials_path
        private_dir(self.data_dir)
        if with_store and self._lock is None:
            self._lock = lock_data_dir(self.data_dir)
        if self._client is not None:
            await self._client.close()
        client = self._new_client(with_store)
        self._client = client
        stored = Credentials.load(path)
        if stored and (stored.user_id, stored.homeserver) != (self.user_id, self.settings.homeserver):
            log.warning(
                "stored credentials are for %s on %s; logging in anew", stored.user_id, stored.homeserver
            )
            stored = None
        if stored is None and self.settings.access_token is not None:
            client.access_token = self.settings.access_token.get_secret_value()
            who = await client.whoami()
            self.raise_for_token(who)
            if not isinstance(who, WhoamiResponse) or not who.device_id:
                raise ConfigError(f"matrix.access_token: the homeserver does not accept it ({who})")
            stored = Credentials(self.settings.homeserver, who.user_id, who.device_id, client.access_token)
            stored.save(path)
        if stored is None:
            assert self.settings.password is not None  # settings guarantee password or token
            response = await client.login(
                self.settings.password.get_secret_value(), device_name=self.settings.device_name
            )
            if not isinstance(response, LoginResponse):
                raise ConfigError(f"matrix.password: login as {self.user_id} failed: {response.message}")
            stored = Credentials(
                self.settings.homeserver, response.user_id, response.device_id, response.access_token
            )
            stored.save(path)
            log.info("logged in as %s, new device %s", stored.user_id, stored.device_id)
        else:
            try:
                client.restore_login(stored.user_id, stored.device_id, stored.access_token)
            except Exception as error:  # opening the store is all restore_login does beyond the token
                raise ConfigError(
                    f"matrix.pickle_key: the encryption store in {self.data_dir / STORE_DIR} cannot be opened "
                    f"with it (was the key changed?): {type(error).__name__}"
                ) from error
            log.info("reusing device %s of %s", stored.device_id, stored.user_id)
        return stored

    def raise_for_token(self, response: Any) -> None:
        """A revoked token is final: remember it and raise, so every loop ends."""
        if isinstance(response, ErrorResponse) and response.status_code in TOKEN_ERRORS:
            self.fatal = FatalMatrixError(
                f"the homeserver no longer accepts the bot's access token ({response.status_code}); "
                f"delete {self.credentials_path} and start again to log in with the password"
            )
            # Every loop (sync, identity watch, senders) ends now, not at its next request.
            self.stopping.set()
            raise self.fatal

    async def sleep_unless_stopped(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    async def close_connection(self) -> None:
        """Close the connection but keep data_dir locked (between two attempts to connect)."""
        if self._client is not None:
            await self._client.close()

    async def close(self) -> None:
        # Never logout(): that would delete the device and its keys on the server.
        try:
            await self.close_connection()
        finally:
            if self._lock is not None:
                os.close(self._lock)
                self._lock = None
