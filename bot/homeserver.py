"""An embedded, local Synapse homeserver for the demo, the test suite and benchmarks.

Everything lives in one folder (``root``): the generated ``hs.yaml``, our ``overlay.yaml``
(which wins over ``hs.yaml``, Synapse merges config files shallowly), the signing key, the
SQLite database, the media store, the log and ``state.json``. ``state.json`` remembers the
port and the registration shared secret, so a second start in the same folder (the demo)
finds the same server at the same address with the same users.

Synapse runs as a child process in its own session, so Ctrl-C in the terminal does not reach
it directly and :meth:`EmbeddedHomeserver.stop` can signal the whole process group.

:class:`FederatingHomeserver` is the same server plus a TLS federation listener, for tests
with two homeservers on loopback; :func:`start_together` starts such a pair in parallel.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

__all__ = ["EmbeddedHomeserver", "FederatingHomeserver", "HomeserverError", "start_together"]

_LOOPBACK = "127.0.0.1"
# The host part of a federating server's name; it resolves to _LOOPBACK.
_FEDERATION_HOST = "localhost"
# Generous enough that no demo, test or benchmark ever hits a 429.
_UNLIMITED: dict[str, float] = {"per_second": 10000, "burst_count": 100000}
# Only keys that synapse/config/ratelimiting.py actually reads (checked against 1.163).
_RATE_LIMITS: dict[str, Any] = {
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_registration_token_validity": _UNLIMITED,
    "rc_login": {
        "address": _UNLIMITED,
        "account": _UNLIMITED,
        "failed_attempts": _UNLIMITED,
    },
    "rc_admin_redaction": _UNLIMITED,
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_key_requests": _UNLIMITED,
    "rc_3pid_validation": _UNLIMITED,
    "rc_invites": {
        "per_room": _UNLIMITED,
        "per_user": _UNLIMITED,
        "per_issuer": _UNLIMITED,
    },
    "rc_third_party_invite": _UNLIMITED,
    "rc_media_create": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
    "rc_delayed_event_mgmt": _UNLIMITED,
    "rc_room_creation": _UNLIMITED,
    "rc_reports": _UNLIMITED,
    "rc_user_directory": _UNLIMITED,
    "rc_profile": _UNLIMITED,
}


class HomeserverError(Exception):
    """The embedded homeserver could not be set up, started or talked to."""


def _free_port() -> int:
    """Ask the kernel for a currently unused loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Without SO_REUSEADDR a port in TIME_WAIT from our own previous run looks taken;
        # Twisted sets it too, so this matches what Synapse will be able to bind.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((_LOOPBACK, port))
        except OSError:
            return False
        return True


class EmbeddedHomeserver:
    """A Synapse process bound to 127.0.0.1, with all its data under ``root``."""

    def __init__(self, root: Path, *, server_name: str = "localhost", port: int | None = None) -> None:
        self.root = Path(root).resolve()
        self.server_name = server_name
        self._requested_port = port
        self._port: int | None = port
        self._secret: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # -- paths -------------------------------------------------------------------------

    @property
    def _hs_yaml(self) -> Path:
        return self.root / "hs.yaml"

    @property
    def _overlay(self) -> Path:
        return self.root / "overlay.yaml"

    @property
    def _log_config(self) -> Path:
        return self.root / "log_config.yaml"

    @property
    def log_path(self) -> Path:
        """Synapse's own log (WARNING and up) plus its stdout/stderr."""
        return self.root / "homeserver.log"

    @property
    def _state_path(self) -> Path:
        return self.root / "state.json"

    @property
    def url(self) -> str:
        """Base URL of the client API, e.g. ``http://127.0.0.1:8448``."""
        if self._port is None:
            self._load_state()
        return f"http://{_LOOPBACK}:{self._port}"

    # -- lifecycle ---------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> None:
        """Start Synapse and block until its client API answers. No-op if already running."""
        if self.is_running():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self._generate_config()
        self._load_state()
        try:
            self._spawn_and_wait(timeout)
        except HomeserverError as exc:
            # The free port we picked may have been grabbed between probing and Synapse
            # binding it (parallel test runs); one retry on a fresh port covers that race.
            if self._requested_port is not None or "Address already in use" not in str(exc):
                raise
            self._port = _free_port()
            self._save_state()
            self._spawn_and_wait(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM the process group, wait up to ``timeout``, then SIGKILL. Idempotent."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            self._signal(proc, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(proc, signal.SIGKILL)
                proc.wait()
        self._forget(proc)

    def kill(self) -> None:
        """SIGKILL Synapse at once, as a crash would (for fault-injection tests)."""
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            self._signal(proc, signal.SIGKILL)
            proc.wait()
        self._forget(proc)

    def is_running(self) -> bool:
        """True while the Synapse child process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> EmbeddedHomeserver:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- users -------------------------------------------------------------------------

    def register(self, localpart: str, password: str, *, admin: bool = False) -> str:
        """Create a user via the shared-secret admin API and return its MXID.

        Idempotent: an existing user counts as success (the password is not checked).
        """
        self._require_secret()
        assert self._secret is not None
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        with self._client() as client:
            nonce_resp = client.get(endpoint)
            self._check(nonce_resp, "fetching registration nonce")
            nonce: str = nonce_resp.json()["nonce"]
            mac = hmac.new(self._secret.encode(), digestmod=hashlib.sha1)
            for part in (nonce, localpart, password):
                mac.update(part.encode())
                mac.update(b"\x00")
            mac.update(b"admin" if admin else b"notadmin")
            resp = client.post(
                endpoint,
                json={
                    "nonce": nonce,
                    "username": localpart,
                    "password": password,
                    "admin": admin,
                    "mac": mac.hexdigest(),
                },
            )
        if resp.status_code == 400 and _errcode(resp) == "M_USER_IN_USE":
            return self.mxid(localpart)
        self._check(resp, f"registering {localpart!r}")
        user_id: str = resp.json()["user_id"]
        return user_id

    def login(self, localpart: str, password: str) -> str:
        """Log in with a password and return a fresh access token."""
        with self._client() as client:
            resp = client.post(
                f"{self.url}/_matrix/client/v3/login",
                json={
                    "type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": localpart},
                    "password": password,
                    "initial_device_display_name": "EmbeddedHomeserver",
                },
            )
        self._check(resp, f"logging in {localpart!r}")
        token: str = resp.json()["access_token"]
        return token

    def mxid(self, localpart: str) -> str:
        """The full Matrix user ID for ``localpart`` on this server."""
        return f"@{localpart}:{self.server_name}"

    # -- internals ---------------------------------------------------------------------

    def _generate_config(self) -> None:
        """Let Synapse write hs.yaml and the signing key once; later starts reuse them."""
        if self._hs_yaml.exists():
            return
        cmd = [
            sys.executable,
            "-m",
            "synapse.app.homeserver",
            "--server-name",
            self.server_name,
            "--config-path",
            str(self._hs_yaml),
            "--data-directory",
            str(self.root),
            "--generate-config",
            "--report-stats=no",
        ]
        # cwd=root: the generated log config points at a path relative to the cwd.
        result = subprocess.run(  # noqa: S603 -- fixed argv, our own interpreter, no shell
            cmd, cwd=self.root, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            self._hs_yaml.unlink(missing_ok=True)
            raise HomeserverError(
                f"synapse --generate-config failed ({result.returncode}):\n{result.stdout}{result.stderr}"
            )

    def _load_state(self) -> None:
        """Read (or create) state.json and settle on the port and the shared secret."""
        state: dict[str, Any] = {}
        if self._state_path.exists():
            try:
                state = json.loads(self._state_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise HomeserverError(f"unreadable {self._state_path}: {exc}") from exc
        remembered_name = state.get("server_name")
        if remembered_name is not None and remembered_name != self.server_name:
            # The database is tied to its server name; Synapse would refuse to start.
            raise HomeserverError(
                f"{self.root} belongs to server {remembered_name!r}, not {self.server_name!r}"
            )
        self._secret = state.get("registration_shared_secret") or secrets.token_urlsafe(32)
        if self._requested_port is not None:
            self._port = self._requested_port
        elif self._port is None or not self.is_running():
            remembered = state.get("port")
            if isinstance(remembered, int) and _port_is_free(remembered):
                self._port = remembered
            else:
                self._port = _free_port()
        if (
            state.get("port") != self._port
            or state.get("registration_shared_secret") != self._secret
            or remembered_name is None
        ):
            self._save_state()

    def _save_state(self) -> None:
        state = {
            "server_name": self.server_name,
            "port": self._port,
            "registration_shared_secret": self._secret,
        }
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self._state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        tmp.replace(self._state_path)  # atomic: a crash never leaves half a state file

    def _write_overlay(self) -> None:
        """Write the overlay and log config; JSON is valid YAML, so no yaml dependency."""
        log_config = {
            "version": 1,
            "formatters": {"precise": {"format": "%(asctime)s - %(name)s - %(levelname)s - %(message)s"}},
            "handlers": {
                "file": {
                    "class": "logging.FileHandler",
                    "formatter": "precise",
                    "filename": str(self.log_path),
                    "encoding": "utf8",
                }
            },
            # WARNING keeps the log small and the disk quiet in long benchmark runs.
            "root": {"level": "WARNING", "handlers": ["file"]},
            "disable_existing_loggers": False,
        }
        self._log_config.write_text(json.dumps(log_config, indent=2) + "\n", encoding="utf-8")
        self._overlay.write_text(json.dumps(self._overlay_config(), indent=2) + "\n", encoding="utf-8")

    def _overlay_config(self) -> dict[str, Any]:
        """The settings that win over hs.yaml; a subclass may add to them."""
        overlay: dict[str, Any] = {
            "listeners": [
                {
                    "port": self._port,
                    "bind_addresses": [_LOOPBACK],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "registration_shared_secret": self._secret,
            "enable_registration": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "presence": {"enabled": False},
            # Synapse caches /sync responses for 2 minutes by default, so a client that
            # restarts with an old since-token would be served stale data.
            "caches": {"sync_response_cache_duration": 0},
            "report_stats": False,
            "url_preview_enabled": False,
            # bcrypt's default 12 rounds cost ~0.25 s per register/login; 4 rounds (what
            # Synapse's own test suite uses) is fine for a throwaway loopback server.
            "bcrypt_rounds": 4,
            "database": {
                "name": "sqlite3",
                "args": {"database": str(self.root / "homeserver.db")},
            },
            "media_store_path": str(self.root / "media_store"),
            "log_config": str(self._log_config),
            **_RATE_LIMITS,
        }
        return overlay

    def _spawn_and_wait(self, timeout: float) -> None:
        if self._requested_port is not None and not _port_is_free(self._requested_port):
            # Otherwise the readiness probe could get its 200 from whoever owns the port.
            raise HomeserverError(f"port {self._requested_port} on {_LOOPBACK} is in use")
        self._write_overlay()
        cmd = [
            sys.executable,
            "-m",
            "synapse.app.homeserver",
            "-c",
            str(self._hs_yaml),
            "-c",
            str(self._overlay),
        ]
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(  # noqa: S603 -- fixed argv, our own interpreter
                cmd,
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own session: terminal Ctrl-C does not hit Synapse mid-request, and stop()
                # can signal the whole group.
                start_new_session=True,
            )
        # Do not leave an orphaned Synapse behind if the caller forgets stop() or crashes.
        atexit.register(self.stop)
        deadline = time.monotonic() + timeout
        versions = f"{self.url}/_matrix/client/versions"
        with self._client(timeout=2.0) as client:
            while True:
                if self._proc.poll() is not None:
                    code = self._proc.returncode
                    self._forget(self._proc)
                    raise HomeserverError(
                        f"Synapse exited during startup (code {code}); last log lines:\n{self._tail(offset)}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if client.get(versions).status_code == 200:
                        return
                if time.monotonic() >= deadline:
                    self.kill()
                    raise HomeserverError(
                        f"Synapse did not answer on {versions} within {timeout:.0f}s; "
                        f"last log lines:\n{self._tail(offset)}"
                    )
                time.sleep(0.05)

    def _tail(self, offset: int = 0, lines: int = 20) -> str:
        try:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                text = log.read().decode("utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def _require_secret(self) -> None:
        if self._secret is None:
            self._load_state()

    @staticmethod
    def _signal(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
        # The child leads its own session, so its pid is the process-group id.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)

    def _forget(self, proc: subprocess.Popen[bytes]) -> None:
        if self._proc is proc:
            self._proc = None
        atexit.unregister(self.stop)

    @staticmethod
    def _client(timeout: float = 30.0) -> httpx.Client:
        # trust_env=False: an HTTP(S)_PROXY in the environment must not capture loopback.
        return httpx.Client(timeout=timeout, trust_env=False)

    @staticmethod
    def _check(resp: httpx.Response, what: str) -> None:
        if resp.status_code != 200:
            raise HomeserverError(f"{what} failed: HTTP {resp.status_code} {resp.text}")


class FederatingHomeserver(EmbeddedHomeserver):
    """An embedded Synapse that federates with its peers on 127.0.0.1 (tests only).

    Its server name is ``localhost:<federation port>``: with an explicit port, Synapse connects
    to exactly that host and port, with no .well-known or SRV lookup. The federation listener
    speaks TLS with a self-signed certificate from ``root``, and outbound federation accepts any
    certificate and may connect to loopback - fine for a throwaway pair, never for production.

    The federation port is part of the server name, which the database is tied to, so it is
    chosen once and found again in ``state.json`` when a later start uses the same folder.
    """

    def __init__(self, root: Path, *, port: int | None = None) -> None:
        federation_port = _remembered_federation_port(Path(root).resolve()) or _free_port()
        super().__init__(root, server_name=f"{_FEDERATION_HOST}:{federation_port}", port=port)
        self.federation_port = federation_port

    @property
    def tls_certificate_path(self) -> Path:
        """The federation listener's self-signed certificate, for a client that wants to trust it."""
        return self.root / "federation.crt"

    @property
    def _tls_key_path(self) -> Path:
        return self.root / "federation.key"

    @property
    def federation_url(self) -> str:
        """Base URL of the federation API (TLS, self-signed), e.g. ``https://127.0.0.1:8449``."""
        return f"https://{_LOOPBACK}:{self.federation_port}"

    def _overlay_config(self) -> dict[str, Any]:
        self._ensure_tls_certificate()
        overlay = super()._overlay_config()
        overlay["listeners"].append(
            {
                "port": self.federation_port,
                "bind_addresses": [_LOOPBACK],
                "type": "http",
                "tls": True,
                "x_forwarded": False,
                # "federation" also serves the server keys (/_matrix/key/v2/server).
                "resources": [{"names": ["federation"], "compress": False}],
            }
        )
        overlay.update(
            {
                "tls_certificate_path": str(self.tls_certificate_path),
                "tls_private_key_path": str(self._tls_key_path),
                # Outbound federation would reject the peer's self-signed certificate.
                "federation_verify_certificates": False,
                # 127.0.0.0/8 is in Synapse's default outbound blocklist; allow just the
                # loopback address the peers listen on and keep the rest of the list.
                "ip_range_whitelist": [_LOOPBACK],
                # The defaults (3 concurrent requests, 10 per second before sleeping) would
                # slow a busy test pair down.
                "rc_federation": {
                    "window_size": 1000,
                    "sleep_limit": 100000,
                    "sleep_delay": 1,
                    "reject_limit": 100000,
                    "concurrent": 1000,
                },
            }
        )
        return overlay

    def _spawn_and_wait(self, timeout: float) -> None:
        if not _port_is_free(self.federation_port):
            # Not retried on another port: the port is part of the server name.
            raise HomeserverError(f"federation port {self.federation_port} on {_LOOPBACK} is taken")
        super()._spawn_and_wait(timeout)

    def _ensure_tls_certificate(self) -> None:
        """Write a self-signed certificate for the federation listener once; restarts reuse it."""
        if self.tls_certificate_path.exists() and self._tls_key_path.exists():
            return
        # Imported here: cryptography comes with Synapse (the demo and test extras), not with the bot.
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _FEDERATION_HOST)])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName(_FEDERATION_HOST), x509.IPAddress(ipaddress.ip_address(_LOOPBACK))]
                ),
                critical=False,
            )
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(self._tls_key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as key_file:
            key_file.write(key_pem)
        self.tls_certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def _remembered_federation_port(root: Path) -> int | None:
    """The federation port from a previous start in ``root``, read off the stored server name."""
    try:
        state = json.loads((root / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = state.get("server_name") if isinstance(state, dict) else None
    if not isinstance(name, str):
        return None
    host, _, port = name.rpartition(":")
    return int(port) if host == _FEDERATION_HOST and port.isdigit() else None


def start_together(servers: Sequence[EmbeddedHomeserver], timeout: float = 60.0) -> None:
    """Start several homeservers at the same time rather than one after the other.

    A start is mostly child processes (config generation, then Synapse importing itself and
    creating its database); the threads only wait for them, so the servers' start-ups overlap
    on several cores. If any start fails, all are stopped and the first error is raised.
    """
    with ThreadPoolExecutor(max_workers=max(1, len(servers))) as pool:
        futures = [pool.submit(server.start, timeout) for server in servers]
    errors = [exc for future in futures if (exc := future.exception()) is not None]
    if errors:
        for server in servers:
            server.stop()
        raise errors[0]


def _errcode(resp: httpx.Response) -> str | None:
    try:
        body = resp.json()
    except ValueError:
        return None
    code = body.get("errcode") if isinstance(body, dict) else None
    return code if isinstance(code, str) else None
