"""A test user on Element's own stack: matrix-js-sdk with its Rust crypto, run by Node.

Element (matrix-js-sdk / matrix-rust-sdk) excludes insecure devices (MSC4153): it shares no room
keys with a device its owner has not cross-signed and refuses to decrypt what such a device sends.
:class:`ElementUser` is such a user, in ``OnlySignedDevicesIsolationMode`` exactly as Element runs
it, with its own cross-signing bootstrapped at start. It drives ``tests/element/user.mjs`` over
JSON lines (commands on stdin, replies and room events on stdout); Node's stderr goes to a log
file whose tail is part of every error.

    user = ElementUser(tmp_path / "anna")
    await user.start(homeserver.url, user_id, PASSWORD)
    room_id = await user.create_room("Test", invite=[other_id])
    event_id = await user.send(room_id, "hallo")
    reply = await user.ask(room_id, "!hilfe", bot_id, timeout=20)
    await user.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import itertools
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tests.kit.users import Seen

__all__ = [
    "ELEMENT_DIR",
    "ElementError",
    "ElementSeen",
    "ElementUndecryptable",
    "ElementUser",
    "ensure_installed",
]

ELEMENT_DIR = Path(__file__).parent / "element"
_MIN_NODE = (20, 0)
_T = TypeVar("_T")


class ElementError(Exception):
    """The Element test user could not be installed, started or driven."""


# ---- installing ---------------------------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ElementError(
            f"{name!r} not found on PATH: the Element test user needs Node.js >= {_MIN_NODE[0]} with npm"
        )
    return path


def _node_version(node: str) -> tuple[int, int]:
    output = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.match(r"v(\d+)\.(\d+)", output.strip())
    if not match:
        raise ElementError(f"cannot read the Node.js version from {output!r}")
    return int(match[1]), int(match[2])


def _installed(folder: Path) -> bool:
    """node_modules exists and is not older than package-lock.json (npm ci writes its own copy)."""
    marker = folder / "node_modules" / ".package-lock.json"
    lock = folder / "package-lock.json"
    return marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime


@contextlib.contextmanager
def _install_lock(folder: Path) -> Iterator[None]:
    """One install at a time, across processes (pytest-xdist workers) as well."""
    digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"akbot-element-npm-{digest}.lock"
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


_node_checked = False


def ensure_installed(folder: Path = ELEMENT_DIR) -> Path:
    """Install the npm packages of the Element test user (``npm ci``) unless they are current.

    Returns the folder holding ``user.mjs``.
    """
    global _node_checked
    if not _node_checked:
        version = _node_version(_tool("node"))
        if version < _MIN_NODE:
            raise ElementError(
                f"Node.js {version[0]}.{version[1]} is too old; the Element test user needs >= {_MIN_NODE[0]}"
            )
        _node_checked = True
    if _installed(folder):
        return folder
    npm = _tool("npm")
    with _install_lock(folder):
        if _installed(folder):  # another process did it while we waited
            return folder
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=folder,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
            raise ElementError(f"npm ci in {folder} failed ({result.returncode}):\n{tail}")
    return folder


# ---- what the user sees -------------------------------------------------------------------------


# The same record as the nio test users keep: tests read either kind of member alike.
ElementSeen = Seen


@dataclass
class ElementUndecryptable:
    """An event the Element user could not decrypt, with the sdk's ``DecryptionFailureCode``.

    ``code`` is e.g. ``UNSIGNED_SENDER_DEVICE`` (the sender's device is not cross-signed by its
    owner), ``MEGOLM_UNKNOWN_INBOUND_SESSION_ID`` (no key, yet) or ``MEGOLM_KEY_WITHHELD``.
    """

    room_id: str
    event_id: str
    sender: str
    code: str
    reason: str


# ---- the user -----------------------------------------------------------------------------------


class ElementUser:
    """A person in the room using Element's crypto stack, driven from the test's event loop.

    ``folder`` receives ``node.log`` (Node's stderr). All waiting is on events received from the
    Node process; every method raises :class:`ElementError` (with the log's tail) on failure.
    """

    def __init__(self, folder: Path, command_timeout: float = 60.0) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.log_path = folder / "node.log"
        self.command_timeout = command_timeout
        self.user_id = ""
        self.device_id = ""
        self.seen: list[ElementSeen] = []
        #: Events that are undecryptable right now (an entry goes once a key arrives after all).
        self.undecryptable: list[ElementUndecryptable] = []
        #: Every failure ever reported, in order, including ones later decrypted.
        self.decryption_failures: list[ElementUndecryptable] = []
        self.invites: dict[str, str | None] = {}  # room id -> inviter
        self.members: dict[tuple[str, str], str] = {}  # (room id, user id) -> membership
        self._process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._log: Any = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._changed = asyncio.Condition()
        self._exit_error: str | None = None
        #: Seconds :meth:`start` took (Node and the sdk loading, login, cross-signing, first sync).
        self.start_seconds: float | None = None

    # ---- the process --------------------------------------------------------------------------

    async def start(self, homeserver_url: str, user_id: str, password: str, timeout: float = 120.0) -> str:
        """Log in (a new device), bootstrap cross-signing, sync; return the device id."""
        started = time.monotonic()
        folder = ensure_installed()
        self._log = self.log_path.open("ab")
        self._process = await asyncio.create_subprocess_exec(
            _tool("node"),
            str(folder / "user.mjs"),
            cwd=folder,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self._log,
            limit=16 * 1024 * 1024,
        )
        self._reader = asyncio.create_task(self._read())
        reply = await self._call(
            "start", timeout, homeserver=homeserver_url, user_id=user_id, password=password
        )
        self.start_seconds = time.monotonic() - started
        self.user_id = str(reply["user_id"])
        self.device_id = str(reply["device_id"])
        return self.device_id

    async def stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.returncode is None:
            with contextlib.suppress(ElementError):
                await self._call("stop", 10.0)
            try:
                await asyncio.wait_for(process.wait(), 10.0)
            except TimeoutError:
                process.kill()
                await process.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._log is not None:
            self._log.close()
        self._process = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _error(self, message: str) -> ElementError:
        who = self.user_id or "element user"
        return ElementError(f"{who}: {message}\n--- {self.log_path} (tail) ---\n{self.log_tail()}")

    async def _read(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        try:
            while line := await process.stdout.readline():
                try:
                    message = json.loads(line)
                except json.JSONDecodeError:
                    continue  # not ours: the protocol is JSON only
                if "event" in message:
                    await self._on_event(message)
                else:
                    future = self._pending.pop(message.get("id"), None)
                    if future is not None and not future.done():
                        future.set_result(message)
            self._exit_error = f"the node process exited ({await process.wait()})"
        except Exception as error:  # a line over the limit, a malformed event: the user is unusable
            self._exit_error = f"reading from the node process failed: {error!r}"
            if process.returncode is None:
                process.kill()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(self._error(self._exit_error))
        self._pending.clear()
        async with self._changed:
            self._changed.notify_all()

    async def _call(self, cmd: str, timeout: float | None = None, **args: Any) -> dict[str, Any]:
        process = self._process
        if process is None or process.stdin is None:
            raise self._error(f"{cmd}: not started")
        if self._exit_error:
            raise self._error(f"{cmd}: {self._exit_error}")
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        process.stdin.write((json.dumps({"id": request_id, "cmd": cmd, **args}) + "\n").encode())
        try:
            await process.stdin.drain()
            reply = await asyncio.wait_for(future, timeout or self.command_timeout)
        except TimeoutError:
            raise self._error(f"{cmd}: no reply within {timeout or self.command_timeout} s") from None
        except (BrokenPipeError, ConnectionResetError) as error:
            raise self._error(f"{cmd}: {error}") from None
        finally:
            self._pending.pop(request_id, None)
        if not reply.get("ok"):
            raise self._error(f"{cmd} failed: {reply.get('error')}")
        return reply

    async def _on_event(self, message: dict[str, Any]) -> None:
        kind = message["event"]
        async with self._changed:
            if kind == "message":
                seen = ElementSeen(
                    message["room_id"],
                    message["event_id"],
                    message["sender"],
                    message["type"],
                    message.get("content") or {},
                    bool(message.get("encrypted")),
                )
                self.seen.append(seen)
                self.undecryptable = [u for u in self.undecryptable if u.event_id != seen.event_id]
            elif kind == "undecryptable":
                failure = ElementUndecryptable(
                    message["room_id"],
                    message["event_id"],
                    message["sender"],
                    message["code"],
                    message.get("reason", ""),
                )
                self.decryption_failures.append(failure)
                self.undecryptable = [u for u in self.undecryptable if u.event_id != failure.event_id]
                self.undecryptable.append(failure)
            elif kind == "invite":
                self.invites[message["room_id"]] = message.get("inviter")
            elif kind == "member":
                self.members[(message["room_id"], message["user_id"])] = message["membership"]
            self._changed.notify_all()

    # ---- acting -------------------------------------------------------------------------------

    async def create_room(self, name: str, invite: list[str] | None = None, encrypted: bool = True) -> str:
        reply = await self._call("create_room", name=name, invite=invite or [], encrypted=encrypted)
        return str(reply["room_id"])

    async def join(self, room_id: str) -> None:
        await self._call("join", room_id=room_id)

    async def send(self, room_id: str, text: str, msgtype: str = "m.text") -> str:
        reply = await self._call("send", room_id=room_id, body=text, msgtype=msgtype)
        return str(reply["event_id"])

    async def send_content(self, room_id: str, content: dict[str, Any]) -> str:
        """Send an ``m.room.message`` with exactly this content."""
        reply = await self._call("send", room_id=room_id, content=content)
        return str(reply["event_id"])

    async def send_event(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        """Send an event of another type, as Element does for a click on a poll answer."""
        reply = await self._call("send", room_id=room_id, content=content, event_type=event_type)
        return str(reply["event_id"])

    async def device_status(self, user_id: str, device_id: str) -> dict[str, bool | None]:
        """How this user's crypto trusts a device: ``signed_by_owner``, ``cross_signing_verified``,
        ``locally_verified`` (all ``None`` for a device it does not know)."""
        reply = await self._call("device_status", user_id=user_id, device_id=device_id)
        return {
            key: reply.get(key) for key in ("signed_by_owner", "cross_signing_verified", "locally_verified")
        }

    async def ask(self, room_id: str, text: str, bot_id: str, timeout: float = 20.0) -> ElementSeen:
        """Send ``text`` and return ``bot_id``'s reply to it (``m.in_reply_to`` our event)."""
        event_id = await self.send(room_id, text)
        return await self.wait_for(lambda e: e.sender == bot_id and e.in_reply_to == event_id, timeout)

    # ---- waiting ------------------------------------------------------------------------------

    async def _until(self, find: Callable[[], _T | None], timeout: float, what: str) -> _T:
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                found = find()
                if found is not None:
                    return found
                if self._exit_error:
                    raise self._error(f"waiting for {what}: {self._exit_error}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise self._error(f"nothing matching {what} within {timeout} s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)

    async def wait_for(self, predicate: Callable[[ElementSeen], bool], timeout: float = 30.0) -> ElementSeen:
        """The first received (decrypted) event matching ``predicate``."""
        return await self._until(
            lambda: next((e for e in self.seen if predicate(e)), None), timeout, "a message"
        )

    async def wait_undecryptable(
        self, predicate: Callable[[ElementUndecryptable], bool], timeout: float = 30.0
    ) -> ElementUndecryptable:
        """The first reported decryption failure matching ``predicate`` (even if decrypted later)."""
        return await self._until(
            lambda: next((u for u in self.decryption_failures if predicate(u)), None),
            timeout,
            "a decryption failure",
        )

    async def wait_invite(
        self, room_id: str | None = None, timeout: float = 30.0, known: Collection[str] = ()
    ) -> str:
        """The id of a room we are invited to (``room_id``, or any not in ``known``)."""

        def find() -> str | None:
            if room_id is not None:
                return room_id if room_id in self.invites else None
            return next((room for room in self.invites if room not in known), None)

        return await self._until(find, timeout, f"an invite to {room_id or 'a room'}")

    async def wait_member(
        self, room_id: str, user_id: str, membership: str = "join", timeout: float = 30.0
    ) -> None:
        """Until this user's client sees ``user_id`` with ``membership`` in ``room_id``."""
        await self._until(
            lambda: True if self.members.get((room_id, user_id)) == membership else None,
            timeout,
            f"{user_id} {membership} in {room_id}",
        )
