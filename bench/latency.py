"""Round-trip latency of akbot's ``!ping`` against the homeserver's own floor.

Method. One run starts one local Synapse (``EmbeddedHomeserver`` in a temporary folder, rate
limits lifted) and measures, interleaved round by round so that machine noise hits every series
alike:

* **floor** - two lean raw-HTTP clients (httpx, plain client-server API, no nio). A sends
  ``ping N``; B, whose long-poll ``/sync`` runs all the time, answers ``pong N`` the moment its
  sync delivers the ping; A's own long-poll sync stops the clock when it delivers the pong. That
  is what the homeserver costs for two sends and two sync wake-ups with next to no client work.
  B runs in a child process of its own, exactly like the bot, so that it does not compete with A
  for one event loop.
* **akbot** - the real bot (``python -m bot run``, a subprocess with its own CPU time, default
  routers, ``encryption = true`` as users run it) in an unencrypted room; a lean raw-HTTP user
  like A sends ``!ping`` and waits on its own long-poll sync for the bot's reply to that event.
  This is the main figure and the one the targets apply to.
* **akbot in-process** (``--inprocess``, on by default) - the same, but ``App.run`` as a task in
  the benchmark's own event loop, i.e. sharing one event loop (and the GIL) with the measuring
  client.
* **akbot encrypted** (``--encrypted``) - a matrix-nio user in an encrypted room with the
  subprocess bot; reported separately, without a target.

Every round runs from just before the user's send request to the moment the user's sync has
delivered (and parsed) the answer. All sync loops keep running for the whole benchmark, like
real clients. ``--gap`` seconds of idleness separate consecutive rounds so that each one meets
a quiet system (people do not send commands back to back).

Reading the numbers. ``median`` is the typical round trip, ``p95`` the slow tail. The ratio
bot/floor says how much the bot adds to what the homeserver costs anyway: 1.00x would be a bot
as lean as a hand-written raw client. Targets: median <= 1.20x floor, p95 <= 1.35x floor (p95
ratio = bot p95 / floor p95). The breakdown columns split a round at the server timestamps
(``origin_server_ts``, millisecond resolution, same machine clock): ``send`` is the user's send
request, ``turn`` the responder's turnaround (its sync wake-up, its processing and its send,
server to server), ``back`` the delivery of the answer to the user's sync. The bot's answer also
states its own processing time (``self``: sync arrival to reply built). A second table gives
the CPU time per round of Synapse, the bot subprocess, B and this process (Linux ``/proc``): work
the bot does after its reply (echo sync, database writes) shows there, not in the latency.

Results go to stdout and to ``bench/results/latency.json`` (with all samples). The exit code is
0 unless ``--check`` is given and a target is missed (or a round got no answer).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import logging
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from nio import (
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    MegolmEvent,
    RoomCreateResponse,
    RoomSendResponse,
    SyncResponse,
)
from pydantic import SecretStr

from bench.stats import (
    VERDICT,
    Table,
    fmt,
    mean_of,
    median_of,
    percentile_of,
    ratio,
    times,
    write_json,
)
from bot.app import App
from bot.homeserver import EmbeddedHomeserver
from bot.matrix.identity import CROSS_SIGNING_FILE, MatrixApi, ensure
from bot.settings import BotSettings, MatrixSettings, Settings

PROJECT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "latency.json"
PASSWORD = "bench-passwort-123"
LONG_POLL_MS = 30_000
ROUND_TIMEOUT_S = 30.0
FIRST_CONTACT_TIMEOUT_S = 60.0
TARGET_MEDIAN = 1.20
TARGET_P95 = 1.35
PONGER_TOKEN_ENV = "BENCH_PONGER_TOKEN"
SELF_REPORTED = re.compile(r"(\d+(?:\.\d+)?) ms")

log = logging.getLogger("bench.latency")


# ---- what a user sees -------------------------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    """A timeline event as a client's sync delivered it, with the moment it did."""

    event_id: str
    sender: str
    content: dict[str, Any]
    origin_ts: int
    seen_perf: float
    seen_wall: float

    @property
    def body(self) -> str:
        body = self.content.get("body")
        return body if isinstance(body, str) else ""

    @property
    def in_reply_to(self) -> str | None:
        relates = self.content.get("m.relates_to")
        if not isinstance(relates, dict):
            return None
        reply = relates.get("m.in_reply_to")
        return reply.get("event_id") if isinstance(reply, dict) else None


class Timeline:
    """Every event a client's sync loop delivered, in order, with a way to wait for one."""

    def __init__(self) -> None:
        self.events: list[Seen] = []
        self.by_id: dict[str, Seen] = {}
        self._changed = asyncio.Condition()

    def mark(self) -> int:
        return len(self.events)

    async def add(self, fresh: list[Seen]) -> None:
        if not fresh:
            return
        async with self._changed:
            self.events.extend(fresh)
            self.by_id.update((seen.event_id, seen) for seen in fresh)
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[Seen], bool], start: int, timeout: float) -> Seen:
        """The first event from index ``start`` on that matches; TimeoutError after ``timeout``."""
        async with asyncio.timeout(timeout), self._changed:
            while True:
                for seen in self.events[start:]:
                    if predicate(seen):
                        return seen
                start = len(self.events)
                await self._changed.wait()


class User(Protocol):
    """The sending side of a round: a client with a live sync loop."""

    user_id: str
    timeline: Timeline

    async def send_text(self, room_id: str, body: str) -> str: ...


# ---- the lean raw-HTTP client -----------------------------------------------------------------


class RawClient:
    """A lean Matrix client on httpx: one room, a continuous long-poll /sync loop, no nio."""

    def __init__(self, base_url: str, user_id: str, token: str) -> None:
        self.user_id = user_id
        self.timeline = Timeline()
        self.on_event: Callable[[Seen], None] | None = None
        self._http = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(LONG_POLL_MS / 1000 + 30),
            trust_env=False,
        )
        self._since: str | None = None
        self._filter_id: str | None = None
        self._task: asyncio.Task[None] | None = None

    async def _request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = await self._http.request(method, f"/_matrix/client/v3{path}", **kwargs)
        if response.status_code != 200:
            raise RuntimeError(
                f"{method} {path} as {self.user_id}: HTTP {response.status_code} {response.text}"
            )
        body: dict[str, Any] = response.json()
        return body

    async def create_room(self, name: str, invite: list[str]) -> str:
        body = await self._request(
            "POST", "/createRoom", json={"name": name, "preset": "private_chat", "invite": invite}
        )
        return str(body["room_id"])

    async def join(self, room_id: str) -> None:
        await self._request("POST", f"/join/{quote(room_id)}", json={})

    async def joined_members(self, room_id: str) -> set[str]:
        body = await self._request("GET", f"/rooms/{quote(room_id)}/joined_members")
        return set(body.get("joined", {}))

    async def send_text(self, room_id: str, body: str) -> str:
        path = f"/rooms/{quote(room_id)}/send/m.room.message/{uuid.uuid4().hex}"
        response = await self._request("PUT", path, json={"msgtype": "m.text", "body": body})
        return str(response["event_id"])

    async def start(self, room_id: str) -> None:
        """Upload a timeline-only filter, take the initial sync, start the long-poll loop."""
        nothing = {"not_types": ["*"]}
        room_filter = {
            "rooms": [room_id],
            "timeline": {"limit": 20},
            "state": nothing,
            "ephemeral": nothing,
            "account_data": nothing,
        }
        definition = {"presence": nothing, "account_data": nothing, "room": room_filter}
        created = await self._request("POST", f"/user/{quote(self.user_id)}/filter", json=definition)
        self._filter_id = str(created["filter_id"])
        initial = await self._request("GET", "/sync", params={"filter": self._filter_id, "timeout": 0})
        self._since = str(initial["next_batch"])
        self._task = asyncio.create_task(self._loop(), name=f"sync {self.user_id}")

    async def _loop(self) -> None:
        assert self._filter_id is not None
        while True:
            params = {"filter": self._filter_id, "timeout": LONG_POLL_MS, "since": self._since or ""}
            try:
                body = await self._request("GET", "/sync", params=params)
            except (httpx.HTTPError, RuntimeError) as error:
                log.warning("%s: sync failed (%s); retrying", self.user_id, error)
                await asyncio.sleep(0.5)
                continue
            seen_perf, seen_wall = time.perf_counter(), time.time()
            self._since = str(body["next_batch"])
            fresh = [
                Seen(
                    str(event["event_id"]),
                    str(event.get("sender", "")),
                    event.get("content") or {},
                    int(event.get("origin_server_ts", 0)),
                    seen_perf,
                    seen_wall,
                )
                for room in body.get("rooms", {}).get("join", {}).values()
                for event in room.get("timeline", {}).get("events", [])
                if "event_id" in event
            ]
            await self.timeline.add(fresh)
            if self.on_event is not None:
                for seen in fresh:
                    self.on_event(seen)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._http.aclose()


class Ponger:
    """Client B of the floor: answers every ``ping N`` from A with ``pong N`` at once."""

    def __init__(self, client: RawClient, room_id: str, pinger: str) -> None:
        self.client = client
        self.room_id = room_id
        self.pinger = pinger
        self._sending: set[asyncio.Task[str]] = set()
        client.on_event = self._on_event

    def _on_event(self, seen: Seen) -> None:
        if seen.sender == self.pinger and seen.body.startswith("ping "):
            answer = "pong " + seen.body.removeprefix("ping ")
            # A task, so that B's next long poll is not held up by its own send.
            task = asyncio.create_task(self.client.send_text(self.room_id, answer))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)


async def serve_ponger(base_url: str, user_id: str, room_id: str, pinger: str) -> None:
    """Client B in its own process (hidden ``--ponger`` mode): answer pings until terminated."""
    client = RawClient(base_url, user_id, os.environ[PONGER_TOKEN_ENV])
    try:
        await client.start(room_id)
        Ponger(client, room_id, pinger)
        print("ready", flush=True)
        # Until the benchmark closes our stdin, on purpose or by dying: no orphaned ponger.
        await asyncio.to_thread(sys.stdin.buffer.read)
    finally:
        await client.close()


class HelperProcess:
    """A raw client in a child process (``python -m <module> <argv>``), so that, like the bot, it
    has its own CPU and event loop. It prints "ready" and ends at end of its standard input."""

    def __init__(self, name: str, module: str, argv: list[str], token_env: str, token: str) -> None:
        self.name = name
        self._command = [sys.executable, "-m", module, *argv]
        self._token_env = token_env
        self._token = token
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 30.0) -> None:
        # The token goes through the environment, not the command line (ps shows that).
        env = {**os.environ, self._token_env: self._token}
        self._proc = await asyncio.create_subprocess_exec(
            *self._command,
            cwd=PROJECT,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        assert self._proc.stdout is not None
        line = await asyncio.wait_for(self._proc.stdout.readline(), timeout)
        if line.strip() != b"ready":
            raise RuntimeError(f"the {self.name} did not start (said {line!r})")

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def check_alive(self) -> None:
        if self._proc is not None and self._proc.returncode is not None:
            raise RuntimeError(f"the {self.name} exited with code {self._proc.returncode}")

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the polite way: the helper ends at end of input
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


class PongerProcess(HelperProcess):
    """Client B of the floor as a child process."""

    def __init__(self, base_url: str, user_id: str, token: str, room_id: str, pinger: str) -> None:
        argv = ["--ponger", base_url, user_id, room_id, pinger]
        super().__init__("ponger", "bench.latency", argv, PONGER_TOKEN_ENV, token)


# ---- the nio user (encrypted room) -------------------------------------------------------------


class NioUser:
    """A matrix-nio user with E2EE: long-poll sync loop, key upkeep, decrypted timeline.

    Like an Element user, it has a cross-signing identity that signs its device: the bot
    (``exclude_insecure_devices``, on by default) neither shares room keys with nor obeys
    devices that their owner has not cross-signed.
    """

    def __init__(self, base_url: str, user_id: str, store: Path) -> None:
        store.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False, max_limit_exceeded=0)
        self.base_url = base_url
        self.user_id = user_id
        self.store = store
        self.timeline = Timeline()
        self.client = AsyncClient(base_url, user_id, store_path=str(store), config=config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        response = await self.client.login(PASSWORD, device_name="bench")
        if not isinstance(response, LoginResponse):
            raise RuntimeError(f"nio login as {self.user_id} failed: {response}")
        await self._sync_once(timeout_ms=0)
        await self.cross_sign()
        self._task = asyncio.create_task(self._loop(), name=f"sync {self.user_id}")

    async def cross_sign(self) -> None:
        """Create this user's cross-signing identity and sign the current device with it."""
        client = self.client
        if client.should_upload_keys:  # the device keys must be published before they are signed
            await client.keys_upload()
        async with MatrixApi(self.base_url, client.access_token) as api:
            status = await ensure(
                api, self.user_id, client.device_id, self.store / CROSS_SIGNING_FILE, PASSWORD
            )
        if not status.cross_signed:
            raise RuntimeError(f"cross-signing {self.user_id}: {status.problem}")

    async def _loop(self) -> None:
        while True:
            try:
                await self._sync_once(timeout_ms=LONG_POLL_MS)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a user keeps listening, whatever happened
                log.warning("%s: sync failed (%s); retrying", self.user_id, error)
                await asyncio.sleep(0.5)

    async def _sync_once(self, timeout_ms: int) -> None:
        client = self.client
        response = await client.sync(timeout=timeout_ms, full_state=client.next_batch is None)
        seen_perf, seen_wall = time.perf_counter(), time.time()
        if not isinstance(response, SyncResponse):
            await asyncio.sleep(0.2)
            return
        fresh = [
            Seen(
                event.event_id,
                event.sender,
                (getattr(event, "source", None) or {}).get("content", {}),
                int(event.server_timestamp),
                seen_perf,
                seen_wall,
            )
            for room in response.rooms.join.values()
            for event in room.timeline.events
            if not isinstance(event, MegolmEvent)
        ]
        await self.timeline.add(fresh)
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())
        await client.send_to_device_messages()

    async def create_encrypted_room(self, name: str, invite: list[str]) -> str:
        encryption = {
            "type": "m.room.encryption",
            "state_key": "",
            "content": {"algorithm": "m.megolm.v1.aes-sha2"},
        }
        response = await self.client.room_create(name=name, invite=invite, initial_state=[encryption])
        if not isinstance(response, RoomCreateResponse):
            raise RuntimeError(f"cannot create the encrypted room: {response}")
        return str(response.room_id)

    def knows_devices_of(self, room_id: str, user_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        return (
            room is not None
            and user_id in room.users
            and not self.client.should_query_keys
            and any(True for _ in self.client.device_store.active_user_devices(user_id))
        )

    async def send_text(self, room_id: str, body: str) -> str:
        response = await self.client.room_send(
            room_id, "m.room.message", {"msgtype": "m.text", "body": body}, ignore_unverified_devices=True
        )
        if not isinstance(response, RoomSendResponse):
            raise RuntimeError(f"nio send failed: {response}")
        return str(response.event_id)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()


# ---- the bot ------------------------------------------------------------------------------------


def _toml_list(values: list[str]) -> str:
    # JSON strings are valid TOML basic strings.
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


class BotProcess:
    """``python -m bot run --config …`` as a child process in its own session."""

    def __init__(self, root: Path, homeserver: str, user_id: str, rooms: list[str], chair: str) -> None:
        self.root = root
        self.config = root / "config.toml"
        self.log_path = root / "bot.log"
        root.mkdir(parents=True, exist_ok=True)
        self.config.write_text(
            "[matrix]\n"
            f"homeserver = {json.dumps(homeserver)}\n"
            f"user_id = {json.dumps(user_id)}\n"
            f"password = {json.dumps(PASSWORD)}\n"
            f"rooms = {_toml_list(rooms)}\n"
            "encryption = true\n"
            "\n[bot]\n"
            f"data_dir = {json.dumps(str(root / 'data'))}\n"
            f"chairs = {_toml_list([chair])}\n"
            # A benchmark floods on purpose: lift the per-member command limit.
            'command_rate = "1000000/1s"\n',
            encoding="utf-8",
        )
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        # The config file alone decides; no proxy may capture loopback.
        env = {key: value for key, value in os.environ.items() if not key.startswith("AKBOT_")}
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
        with self.log_path.open("ab") as log_file:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--config", str(self.config)],
                cwd=PROJECT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def check_alive(self) -> None:
        if self._proc is not None and self._proc.poll() is not None:
            raise RuntimeError(f"the bot exited with code {self._proc.returncode}:\n{self.tail()}")

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no bot log)"
        return "\n".join(text.splitlines()[-lines:])

    async def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (the bot shuts down cleanly on it), SIGKILL after ``timeout``."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(proc.wait, timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            await asyncio.to_thread(proc.wait)


class BotInProcess:
    """``App.run`` as a task in this event loop (shares the CPU with the measuring client)."""

    def __init__(self, root: Path, homeserver: str, user_id: str, rooms: list[str], chair: str) -> None:
        matrix = MatrixSettings(
            homeserver=homeserver, user_id=user_id, password=SecretStr(PASSWORD), rooms=rooms
        )
        self.settings = Settings(
            matrix=matrix, bot=BotSettings(chairs=[chair], data_dir=root / "data", command_rate="1000000/1s")
        )
        self.app: App | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.app = App(self.settings)
        self.task = asyncio.create_task(self.app.run(), name="akbot in-process")
        ready = asyncio.create_task(self.app.ready.wait())
        await asyncio.wait({self.task, ready}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        self.check_alive()
        if not self.app.ready.is_set():
            raise RuntimeError("the in-process bot did not become ready within 60 s")

    def check_alive(self) -> None:
        if self.task is not None and self.task.done():
            self.task.result()  # raises what stopped it
            raise RuntimeError("the in-process bot stopped")

    async def stop(self) -> None:
        if self.app is not None and self.task is not None:
            self.app.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.task, 30)
        self.app = self.task = None


# ---- measuring ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One round trip, in milliseconds."""

    total_ms: float
    send_ms: float
    turn_ms: float | None
    back_ms: float | None
    self_ms: float | None


@dataclass
class Series:
    key: str
    label: str
    samples: list[Sample] = field(default_factory=list)
    lost: int = 0
    cpu_s: dict[str, float] = field(default_factory=dict)

    def record(self, sample: Sample | None, cpu: dict[str, float], *, keep: bool) -> None:
        if not keep:
            return
        if sample is None:
            self.lost += 1
        else:
            self.samples.append(sample)
        for name, seconds in cpu.items():
            self.cpu_s[name] = self.cpu_s.get(name, 0.0) + seconds


def _proc_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process, from /proc (Linux only, 10 ms ticks)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class CpuMeter:
    """CPU time of Synapse, the bot subprocess and this process, read around each round.

    Per round the tick resolution is coarse, but summed over hundreds of rounds the error
    averages out; a round's window includes the idle gap after it, so trailing work (echo
    syncs, the next long poll) counts towards the round that caused it.
    """

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = {name: pid for name, pid in pids.items() if pid is not None}

    def read(self) -> dict[str, float]:
        now = {"bench": time.process_time()}
        for name, pid in self.pids.items():
            seconds = _proc_cpu_s(pid)
            if seconds is not None:
                now[name] = seconds
        return now

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {name: after[name] - before[name] for name in before.keys() & after.keys()}


def summary(series: Series) -> dict[str, Any]:
    totals = [s.total_ms for s in series.samples]
    rounds = len(series.samples) + series.lost

    return {
        "label": series.label,
        "n": len(totals),
        "lost": series.lost,
        "median_ms": median_of(totals),
        "p95_ms": percentile_of(totals, 0.95),
        "mean_ms": mean_of(totals),
        "min_ms": min(totals, default=None),
        "max_ms": max(totals, default=None),
        "breakdown_median_ms": {
            "send": median_of([s.send_ms for s in series.samples]),
            "turn": median_of([s.turn_ms for s in series.samples]),
            "back": median_of([s.back_ms for s in series.samples]),
            "self": median_of([s.self_ms for s in series.samples]),
        },
        # Means resolve below the 1 ms granularity of the server timestamps.
        "breakdown_mean_ms": {
            "send": mean_of([s.send_ms for s in series.samples]),
            "turn": mean_of([s.turn_ms for s in series.samples]),
            "back": mean_of([s.back_ms for s in series.samples]),
            "self": mean_of([s.self_ms for s in series.samples]),
        },
        "cpu_ms_per_round": {
            name: seconds * 1000 / rounds for name, seconds in sorted(series.cpu_s.items()) if rounds
        },
        "samples_ms": [round(t, 3) for t in totals],
    }


async def round_trip(
    user: User, room_id: str, body: str, is_answer: Callable[[Seen, str], bool], timeout: float
) -> Sample | None:
    """Send ``body`` and wait for the answer on the user's own sync; None if none came."""
    start = user.timeline.mark()
    t0 = time.perf_counter()
    event_id = await user.send_text(room_id, body)
    sent = time.perf_counter()
    try:
        answer = await user.timeline.wait_for(lambda seen: is_answer(seen, event_id), start, timeout)
    except TimeoutError:
        return None
    ping = user.timeline.by_id.get(event_id)  # our own event, echoed before the answer
    turn = float(answer.origin_ts - ping.origin_ts) if ping else None
    back = answer.seen_wall * 1000 - answer.origin_ts
    reported = SELF_REPORTED.search(answer.body)
    return Sample(
        total_ms=(answer.seen_perf - t0) * 1000,
        send_ms=(sent - t0) * 1000,
        turn_ms=turn,
        back_ms=back,
        self_ms=float(reported.group(1)) if reported and answer.in_reply_to else None,
    )


def reply_from(bot_id: str) -> Callable[[Seen, str], bool]:
    return lambda seen, event_id: seen.sender == bot_id and seen.in_reply_to == event_id


async def wait_until(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 60.0) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.1)
    log.info("%s", what)


# ---- the run ------------------------------------------------------------------------------------


@dataclass
class Options:
    rounds: int
    warmup: int
    encrypted: bool
    inprocess: bool
    gap: float
    check: bool
    output: Path


@dataclass
class Kind:
    """One kind of round: its series, who sends, where, what, and what counts as the answer."""

    series: Series
    user: User
    room_id: str
    body: Callable[[int], str]
    is_answer: Callable[[int], Callable[[Seen, str], bool]]
    has_bot: bool = True

    async def measure(self, n: int, timeout: float) -> Sample | None:
        return await round_trip(self.user, self.room_id, self.body(n), self.is_answer(n), timeout)


class Bench:
    """Everything one run needs: users, rooms, the ponger, the bots; set up, measured, torn down."""

    def __init__(self, options: Options, root: Path, server: EmbeddedHomeserver) -> None:
        self.options = options
        self.root = root
        self.url = server.url
        # EmbeddedHomeserver does not publish its child's pid; read here only, for CPU accounting.
        self.server_pid: int | None = getattr(getattr(server, "_proc", None), "pid", None)
        names = ["floor_a", "floor_b", "user", "akbot"]
        if options.inprocess:
            names += ["user_inproc", "akbot_inproc"]
        if options.encrypted:
            names += ["user_nio"]
        self.ids = {name: server.register(name, PASSWORD) for name in names}
        self.tokens = {name: server.login(name, PASSWORD) for name in names if not name.startswith("akbot")}
        self.clients: list[RawClient] = []
        self.nio_user: NioUser | None = None
        self.ponger: PongerProcess | None = None
        self.bot: BotProcess | None = None
        self.inproc: BotInProcess | None = None

    def _raw(self, name: str) -> RawClient:
        client = RawClient(self.url, self.ids[name], self.tokens[name])
        self.clients.append(client)
        return client

    async def setup(self) -> list[Kind]:
        """Rooms, sync loops, ponger and bots; returns the kinds of round in interleaving order."""
        ids = self.ids
        a, user = self._raw("floor_a"), self._raw("user")
        floor_room = await a.create_room("floor", [ids["floor_b"]])
        b = RawClient(self.url, ids["floor_b"], self.tokens["floor_b"])
        await b.join(floor_room)
        await b.close()
        bot_room = await user.create_room("akbot", [ids["akbot"]])
        await a.start(floor_room)
        await user.start(bot_room)
        self.ponger = PongerProcess(
            self.url, ids["floor_b"], self.tokens["floor_b"], floor_room, ids["floor_a"]
        )
        await self.ponger.start()
        kinds = [
            Kind(
                Series("floor", "floor (raw A <-> raw B)"),
                a,
                floor_room,
                lambda n: f"ping {n}",
                lambda n: lambda seen, _: seen.sender == ids["floor_b"] and seen.body == f"pong {n}",
                has_bot=False,
            ),
            Kind(
                Series("akbot", "akbot !ping (subprocess)"), user, bot_room, _ping, self._reply_from("akbot")
            ),
        ]
        bot_rooms = [bot_room]
        encrypted_room = ""
        if self.options.encrypted:
            self.nio_user = NioUser(self.url, ids["user_nio"], self.root / "nio-user")
            await self.nio_user.start()
            encrypted_room = await self.nio_user.create_encrypted_room("akbot encrypted", [ids["akbot"]])
            bot_rooms.append(encrypted_room)
        self.bot = BotProcess(self.root / "bot", self.url, ids["akbot"], bot_rooms, ids["user"])
        self.bot.start()
        log.info("bot subprocess pid %s", self.bot.pid)
        await self._until_joined(user, bot_room, "akbot")
        if self.options.inprocess:
            user_inproc = self._raw("user_inproc")
            inproc_room = await user_inproc.create_room("akbot in-process", [ids["akbot_inproc"]])
            await user_inproc.start(inproc_room)
            self.inproc = BotInProcess(
                self.root / "bot-inproc", self.url, ids["akbot_inproc"], [inproc_room], ids["user_inproc"]
            )
            await self.inproc.start()
            await self._until_joined(user_inproc, inproc_room, "akbot_inproc")
            kinds.append(
                Kind(
                    Series("akbot_inprocess", "akbot !ping (in-process)"),
                    user_inproc,
                    inproc_room,
                    _ping,
                    self._reply_from("akbot_inproc"),
                )
            )
        if self.nio_user is not None:
            nio_user = self.nio_user

            async def settled() -> bool:
                return nio_user.knows_devices_of(encrypted_room, ids["akbot"])

            await wait_until(settled, "encrypted room settled")
            kinds.append(
                Kind(
                    Series("akbot_encrypted", "akbot !ping (encrypted, nio user)"),
                    nio_user,
                    encrypted_room,
                    _ping,
                    self._reply_from("akbot"),
                )
            )
        return kinds

    def _reply_from(self, name: str) -> Callable[[int], Callable[[Seen, str], bool]]:
        bot_id = self.ids[name]
        return lambda _: lambda seen, event_id: seen.sender == bot_id and seen.in_reply_to == event_id

    async def _until_joined(self, client: RawClient, room_id: str, name: str) -> None:
        async def joined() -> bool:
            self.check_alive()
            return self.ids[name] in await client.joined_members(room_id)

        await wait_until(joined, f"{name} joined")

    def check_alive(self) -> None:
        for part in (self.bot, self.ponger, self.inproc):
            if part is not None:
                part.check_alive()

    async def measure(self, kinds: list[Kind]) -> float:
        """First contact, warm-up, then the measured rounds, interleaved; returns seconds taken."""
        for kind in kinds:
            if not kind.has_bot:
                continue
            # Joins, keys and caches: every bot answers once before anything counts.
            for _attempt in range(3):
                if await kind.measure(0, FIRST_CONTACT_TIMEOUT_S) is not None:
                    break
            else:
                raise RuntimeError(f"{kind.series.label}: no answer to a first !ping")
        meter = CpuMeter(
            {
                "synapse": self.server_pid,
                "bot": self.bot.pid if self.bot else None,
                "ponger": self.ponger.pid if self.ponger else None,
            }
        )
        started = time.monotonic()
        total = self.options.warmup + self.options.rounds
        await asyncio.sleep(self.options.gap)
        for n in range(1, total + 1):
            for kind in kinds:
                before = meter.read()
                sample = await kind.measure(n, ROUND_TIMEOUT_S)
                await asyncio.sleep(self.options.gap)  # inside the window: trailing work counts
                kind.series.record(sample, meter.spent(before, meter.read()), keep=n > self.options.warmup)
            self.check_alive()
            if n % 50 == 0 or n == self.options.warmup:
                print(f"  round {n}/{total} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
        return time.monotonic() - started

    def bot_log_tail(self) -> str:
        return self.bot.tail() if self.bot is not None else "(no bot)"

    async def close(self) -> None:
        if self.inproc is not None:
            await self.inproc.stop()
        if self.bot is not None:
            await self.bot.stop()
        if self.ponger is not None:
            await self.ponger.stop()
        for client in self.clients:
            await client.close()
        if self.nio_user is not None:
            await self.nio_user.close()


def _ping(_: int) -> str:
    return "!ping"


async def run(options: Options, root: Path, server: EmbeddedHomeserver) -> dict[str, Any]:
    main_task = asyncio.current_task()
    assert main_task is not None
    # SIGTERM like Ctrl-C: cancel, so that the bots and the ponger are stopped on the way out.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    bench = Bench(options, root, server)
    try:
        kinds = await bench.setup()
        measured_s = await bench.measure(kinds)
    except Exception:
        print(f"--- last lines of the bot log ---\n{bench.bot_log_tail()}", file=sys.stderr)
        raise
    finally:
        await bench.close()
    return report(options, [kind.series for kind in kinds], measured_s)


def report(options: Options, all_series: list[Series], measured_s: float) -> dict[str, Any]:
    summaries = {series.key: summary(series) for series in all_series}
    floor = summaries["floor"]
    ratios: dict[str, dict[str, float | None]] = {}
    for key, item in summaries.items():
        if key in ("floor", "akbot_encrypted"):
            continue
        ratios[key] = {
            "median": ratio(item["median_ms"], floor["median_ms"]),
            "p95": ratio(item["p95_ms"], floor["p95_ms"]),
        }
    main = ratios["akbot"]
    median_met = main["median"] is not None and main["median"] <= TARGET_MEDIAN
    p95_met = main["p95"] is not None and main["p95"] <= TARGET_P95
    lost = sum(series.lost for series in all_series)
    result = {
        "meta": {
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "rounds": options.rounds,
            "warmup": options.warmup,
            "gap_s": options.gap,
            "measured_seconds": round(measured_s, 1),
            "bot_mode_for_targets": "subprocess",
            "bot_encryption_setting": True,
            "python": platform.python_version(),
            "synapse": importlib.metadata.version("matrix-synapse"),
            "matrix_nio": importlib.metadata.version("matrix-nio"),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        },
        "series": summaries,
        "ratios_vs_floor": ratios,
        "targets": {
            "median_ratio_max": TARGET_MEDIAN,
            "p95_ratio_max": TARGET_P95,
            "median_met": median_met,
            "p95_met": p95_met,
            "no_lost_rounds": lost == 0,
        },
    }
    print_table(result)
    return result


def print_table(result: dict[str, Any]) -> None:
    meta = result["meta"]
    print(
        f"\nakbot !ping latency vs. homeserver floor - {meta['rounds']} rounds each after {meta['warmup']} "
        f"warm-up, gap {meta['gap_s']} s, Synapse {meta['synapse']}, {meta['cpus']} CPUs"
    )
    table = Table(
        ("series", "<36"),
        ("n", ">5"),
        ("lost", ">5"),
        *((title, ">9") for title in ("median", "p95", "mean")),
        *((title, ">8") for title in ("send", "turn", "back", "self", "x med", "x p95")),
    )
    table.print_header()
    for key, item in result["series"].items():
        parts = item["breakdown_median_ms"]
        ratios = result["ratios_vs_floor"].get(key, {})
        table.print_row(
            item["label"],
            item["n"],
            item["lost"],
            *(fmt(item[name]) for name in ("median_ms", "p95_ms", "mean_ms")),
            *(fmt(parts[name]) for name in ("send", "turn", "back", "self")),
            times(ratios.get("median")),
            times(ratios.get("p95")),
        )
    print("(ms; send/turn/back/self are medians, see the module docstring)")
    names = sorted({name for item in result["series"].values() for name in item["cpu_ms_per_round"]})
    if names:
        print()
        cpu_table = Table(("CPU ms per round", "<36"), *((name, ">10") for name in names))
        cpu_table.print_header(underline=False)
        for item in result["series"].values():
            cpu = item["cpu_ms_per_round"]
            cpu_table.print_row(item["label"], *(fmt(cpu.get(name)) for name in names))
        print("(bench = this process: the measuring clients, plus the bot when it runs in-process)\n")
    targets = result["targets"]
    main = result["ratios_vs_floor"]["akbot"]
    print(
        f"targets (subprocess bot): median {times(main['median'])} <= {TARGET_MEDIAN:.2f}x "
        f"{VERDICT[targets['median_met']]}; p95 {times(main['p95'])} <= {TARGET_P95:.2f}x "
        f"{VERDICT[targets['p95_met']]}"
    )
    if not targets["no_lost_rounds"]:
        print("some rounds got no answer within 30 s (see 'lost')")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="measured rounds per series (200)")
    parser.add_argument("--warmup", type=int, default=20, help="discarded rounds first (20)")
    parser.add_argument("--encrypted", action="store_true", help="also measure in an encrypted room")
    parser.add_argument(
        "--inprocess",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure the bot inside this event loop (default: on)",
    )
    parser.add_argument("--gap", type=float, default=0.05, help="idle seconds before each round (0.05)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--output", type=Path, default=RESULTS, help=f"JSON file ({RESULTS})")
    # Internal: the floor's client B, started by the benchmark itself.
    parser.add_argument(
        "--ponger", nargs=4, metavar=("URL", "USER", "ROOM", "PINGER"), help=argparse.SUPPRESS
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.ponger:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve_ponger(*args.ponger))
        return 0
    if args.rounds < 1 or args.warmup < 0 or args.gap < 0:
        parser.error("--rounds must be >= 1, --warmup and --gap >= 0")
    options = Options(
        args.rounds, args.warmup, args.encrypted, args.inprocess, args.gap, args.check, args.output
    )
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    logging.getLogger("nio").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="akbot-bench-") as temp:
        root = Path(temp)
        server = EmbeddedHomeserver(root / "synapse")
        print("starting Synapse …", file=sys.stderr)
        server.start()
        try:
            result = asyncio.run(run(options, root, server))
        except (KeyboardInterrupt, asyncio.CancelledError):
            print("interrupted", file=sys.stderr)
            return 130
        finally:
            server.stop()
    write_json(options.output, result)
    print(f"written to {options.output}")
    targets = result["targets"]
    missed = not (targets["median_met"] and targets["p95_met"] and targets["no_lost_rounds"])
    return 1 if options.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
