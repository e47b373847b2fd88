"""A date poll under load: N members vote at once; is every vote counted, how fast confirmed?

Method. One run starts one local Synapse (``EmbeddedHomeserver`` in a temporary folder, rate
limits lifted) and, in one go:

1. **Set-up.** Registers N member accounts (``--members``, default 200), a chair, the bot and
   the floor's responder through the shared-secret admin API, each followed by a password login
   for its token. The first 20 accounts are made one after the other, the rest in a thread pool
   (``--workers``), so that the report shows both costs. The chair creates an *unencrypted*
   public room: the members are lean raw-HTTP clients (httpx, no nio, no Olm/Megolm) that cannot
   encrypt, and 200 E2EE clients would measure nio rather than the bot. All members join
   concurrently (``--concurrency`` requests at a time). The real bot then runs as a subprocess
   (``python -m bot run --config …``; ``[bot] chairs = [chair]``, ``[matrix] rooms = [room]``,
   ``encryption = true`` as users run it); the benchmark waits until it is in the room and has
   answered a ``!ping`` from the chair, i.e. has synced past every join.
2. **Baseline.** ``--pings`` (30) ``!ping`` round trips from one member with nothing else going
   on, after 3 discarded ones: from just before the send request to the moment the observer's
   sync delivers the bot's reply to it.
3. **Poll.** The chair sends ``!umfrage Bench; A; B; C; D; E``; the benchmark reads the poll id
   from the reply, and the ids of the ``org.matrix.msc3381.poll.start`` event and of the live
   summary message (the bot's notice that it edits as votes come in).
4. **Burst.** Every member sends exactly one vote, all at once (one asyncio loop, one shared
   httpx client, at most ``--concurrency`` requests in flight, so that the sending side is not
   the bottleneck), in random order (``--seed``): two in three by text, ``!abstimmen #<id> 1 3?``
   with a random selection of ``ja`` and ``wenn nötig`` (``?``), one in three as a native
   ``org.matrix.msc3381.poll.response`` referencing the poll's start event with a random
   non-empty set of answers. Every vote is recorded as sent. One observer (the chair's client,
   the benchmark's only long-poll ``/sync`` loop) watches the room. **Vote-confirmation
   latency** of a text vote = from just before its send request to the moment the observer's sync
   delivers the bot's reply whose ``m.relates_to.m.in_reply_to.event_id`` is the vote. Native
   votes get no reply by design; they are checked through the tally. Right after the last vote
   send returns, one member sends a ``!ping`` (no target; it shows how long a command that
   arrives behind the burst waits).
5. **Tally.** Once every text vote is confirmed (or after ``--timeout`` s), the chair asks
   ``!umfrage stand <id>``; its per-option "X ja, Y wenn nötig" counts must equal the counts
   computed from the votes sent, and its list of members who have not voted must be exactly the
   chair and the responder (so the bot knew every member). After the summary has settled, the
   room's whole history is read back (``/messages``): replies per vote (more than one = a
   **duplicate**), the summary's ``m.replace`` edits and their ``origin_server_ts``. The last
   edit's counts must match too.
6. **Edits.** From the edits' server timestamps: how many, the smallest gap between two
   consecutive ones, and the largest number inside any 2-second window (``[t, t + 2 s)``).
7. **Floor** (``--no-floor`` skips it). The same burst twice more into the same room, but as
   plain ``stimme 1 3?`` messages (and native responses to a start event the bot does not know),
   answered by a lean raw-HTTP responder in its own process: once replying to each vote at once,
   without waiting for its earlier replies (what the homeserver allows on this machine), once
   one reply after the other, each when the previous send has returned (what any client with a
   single send queue gets, as the bot has). The responder is in the room (and syncing) during
   every burst, so all of them meet the same load.

Reading the numbers. ``nothing lost`` means every text vote got its confirmation and the tally
(``!umfrage stand`` and the final summary) equals what was sent, natives included. The
confirmation latency's breakdown (medians) splits a text vote at the server timestamps: ``send``
= the member's send request (how busy the homeserver is), ``turn`` = vote event to reply event
(the bot's sync wake-up, waiting behind earlier votes, processing, its send), ``back`` = reply
event to the observer's sync; the idle ``!ping`` gets the same split plus ``self``, the
processing time the bot writes into its answer. ``pace`` is the median gap between consecutive
bot replies during the burst: a bot that answers one vote after the other, each after its
previous send returned, shows a pace close to one send round trip. ``vote send p95 / idle p95``
is the homeserver alone: how much slower the members' own sends get in the burst. CPU seconds of
Synapse, the bot and this process are taken over the vote phase (Linux ``/proc``). Targets: p95
confirmation <= 2 x idle ``!ping`` p95; nothing lost; no duplicates; at most 1 summary edit per
2 s (``SUMMARY_EDIT_INTERVAL_S``). Compare the bot's p95 with the floor's p95 to see what share
of the delay is the bot's. The edit figures are strict server-side ones: an edit that the bot
starts 2 s after the previous one but whose send waited less lands less than 2 s after it.
All timings depend on the machine and its other load (the load average at the start is in the
JSON and printed when high); compare runs on the same, quiet machine only.

``--py-spy FILE`` records the bot subprocess with py-spy (raw collapsed stacks) from the start of
the burst until the tally; ``--bot-log FILE`` keeps a copy of the bot's log. Results go to stdout
and to ``bench/results/polls.json``; the exit code is 0 unless ``--check`` is given and a target
is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import itertools
import json
import logging
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from bench import PASSWORD
from bot.homeserver import EmbeddedHomeserver
from bot.services.polls import MAYBE, SUMMARY_EDIT_INTERVAL_S, YES
from tests.kit.processes import PROJECT, BotProcess, CpuMeter, HelperProcess, ready_until_eof
from tests.kit.report import VERDICT, Table, finish, fmt, result_options, times
from tests.kit.runs import bench_bot, configure_logging, guarded, on_homeserver
from tests.kit.stats import mean_of, median_of, percentile_of, ratio
from tests.kit.users import RawClient, Seen, self_reported, until

RESULTS = Path(__file__).resolve().parent / "results" / "polls.json"
OPTIONS = ("A", "B", "C", "D", "E")
POLL_START = "org.matrix.msc3381.poll.start"
POLL_RESPONSE = "org.matrix.msc3381.poll.response"
# What the members send in the floor bursts; the responder answers according to the prefix.
FLOOR_PREFIXES = {"concurrent": "stimme ", "serial": "stimme-seriell "}
SEQUENTIAL_SAMPLE = 20
PING_WARMUP = 3
FIRST_CONTACT_TIMEOUT_S = 60.0
COMMAND_TIMEOUT_S = 60.0
EDIT_QUIET_S = SUMMARY_EDIT_INTERVAL_S + 1.5
TARGET_RATIO = 1.3
"""Bot confirmation p95 over the raw responder's that answers the same burst at once (same run)."""
TARGET_EDITS_PER_WINDOW = 1
EVENT_SIZE_LIMIT = 65_536  # bytes of a whole event (Matrix spec); the content must fit well below
COUNTS = re.compile(r"Option (\d+): [^–\n]*– (?:(\d+) ja, (\d+) wenn nötig|nur Absagen)")
VOTED = re.compile(r"Abgestimmt: (\d+)")
NOT_VOTED = re.compile(r"Noch nicht abgestimmt: (.*)")

log = logging.getLogger("bench.polls")


# ---- who takes part -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Member:
    name: str
    user_id: str
    token: str


@dataclass
class Vote:
    """One member's vote as planned and as sent."""

    member: Member
    channel: str  # "text" or "native"
    choices: dict[int, str]  # option position -> ja | wenn_nötig
    event_id: str = ""
    t_request: float = 0.0  # perf_counter just before the send request
    t_answered: float = 0.0  # perf_counter when the homeserver returned the event id
    error: str | None = None

    def selection(self) -> str:
        return " ".join(f"{p}?" if self.choices[p] == MAYBE else str(p) for p in sorted(self.choices))

    def content(
        self, poll_id: int, start_event_id: str, *, floor: str | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Event type and content; ``floor``: the same vote for that kind of raw responder."""
        if self.channel == "text":
            prefix = FLOOR_PREFIXES[floor] if floor else f"!abstimmen #{poll_id} "
            body = prefix + self.selection()
            return "m.room.message", {"msgtype": "m.text", "body": body}
        return POLL_RESPONSE, {
            "m.relates_to": {"rel_type": "m.reference", "event_id": start_event_id},
            POLL_RESPONSE: {"answers": [str(p) for p in sorted(self.choices)]},
        }


def plan_votes(members: list[Member], rng: random.Random) -> list[Vote]:
    """Every member one vote, two thirds by text, one third native; in random order."""
    votes = []
    for index, member in enumerate(members):
        native = index % 3 == 2
        choices: dict[int, str] = {}
        for position in range(1, len(OPTIONS) + 1):
            pick = rng.choices([YES, MAYBE, None], weights=[4, 0 if native else 2, 4])[0]
            if pick is not None:
                choices[position] = pick
        if not choices:
            choices[rng.randint(1, len(OPTIONS))] = YES
        votes.append(Vote(member, "native" if native else "text", choices))
    rng.shuffle(votes)
    return votes


def expected_counts(votes: list[Vote]) -> dict[int, tuple[int, int]]:
    counts = {position: [0, 0] for position in range(1, len(OPTIONS) + 1)}
    for vote in votes:
        for position, answer in vote.choices.items():
            counts[position][0 if answer == YES else 1] += 1
    return {position: (yes, maybe) for position, (yes, maybe) in counts.items()}


def parse_counts(body: str) -> dict[int, tuple[int, int]]:
    # "nur Absagen": voters, but nobody for this option.
    return {int(m.group(1)): (int(m.group(2) or 0), int(m.group(3) or 0)) for m in COUNTS.finditer(body)}


# ---- registration (blocking; runs in threads) ----------------------------------------------------


def register_members(
    server: EmbeddedHomeserver, names: list[str], workers: int, abort: threading.Event
) -> tuple[list[Member], dict[str, Any]]:
    """Register and log in every name: a sequential sample first, the rest in a thread pool."""

    def one(name: str) -> tuple[Member, float, float]:
        if abort.is_set():
            raise RuntimeError("aborted")
        t0 = time.perf_counter()
        user_id = server.register(name, PASSWORD)
        t1 = time.perf_counter()
        token = server.login(name, PASSWORD)
        t2 = time.perf_counter()
        return Member(name, user_id, token), (t1 - t0) * 1000, (t2 - t1) * 1000

    sample, rest = names[:SEQUENTIAL_SAMPLE], names[SEQUENTIAL_SAMPLE:]
    started = time.perf_counter()
    done = [one(name) for name in sample]
    sequential_s = time.perf_counter() - started
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pooled = list(pool.map(one, rest))
    pooled_s = time.perf_counter() - started

    def part(items: list[tuple[Member, float, float]], seconds: float, label: str) -> dict[str, Any]:
        return {
            "mode": label,
            "accounts": len(items),
            "seconds": round(seconds, 2),
            "wall_ms_per_account": round(seconds * 1000 / len(items), 1) if items else None,
            "register_ms_median": median_of((r for _, r, _ in items), 1),
            "login_ms_median": median_of((lo for _, _, lo in items), 1),
        }

    stats = {
        "sequential": part(done, sequential_s, "sequential"),
        "pool": {**part(pooled, pooled_s, f"thread pool of {workers}"), "workers": workers},
        "seconds": round(sequential_s + pooled_s, 2),
    }
    return [member for member, _, _ in done + pooled], stats


# ---- the clients --------------------------------------------------------------------------------


OBSERVER_TIMELINE_LIMIT = 1000  # more than a burst brings: no gap in the observer's sync


class Crowd:
    """The members' side: one shared httpx client, each request with the member's own token."""

    def __init__(self, base_url: str, concurrency: int) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(120.0),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            trust_env=False,
        )
        self.gate = asyncio.Semaphore(concurrency)

    async def _request(self, member: Member, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {member.token}"}
        response = await self._http.request(method, f"/_matrix/client/v3{path}", headers=headers, **kwargs)
        if response.status_code != 200:
            raise RuntimeError(
                f"{method} {path} as {member.user_id}: HTTP {response.status_code} {response.text}"
            )
        body: dict[str, Any] = response.json()
        return body

    async def join(self, member: Member, room_id: str) -> float:
        async with self.gate:
            started = time.perf_counter()
            await self._request(member, "POST", f"/join/{quote(room_id)}", json={})
            return (time.perf_counter() - started) * 1000

    async def send(self, member: Member, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        path = f"/rooms/{quote(room_id)}/send/{quote(event_type)}/{uuid.uuid4().hex}"
        body = await self._request(member, "PUT", path, json=content)
        return str(body["event_id"])

    async def close(self) -> None:
        await self._http.aclose()


async def serve_responder(base_url: str, user_id: str, room_id: str, *, token: str) -> None:
    """The floor's responder in its own process (:class:`ResponderProcess`). It answers every
    ``stimme …`` message at once with a reply, without waiting for its earlier answers, and every
    ``stimme-seriell …`` message one after the other, each once the previous send has returned:
    the way the bot's send queue works."""
    client = RawClient(base_url, user_id, token, timeline_limit=OBSERVER_TIMELINE_LIMIT)
    sending: set[asyncio.Task[str]] = set()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def on_event(seen: Seen) -> None:
        if seen.sender == user_id:
            return
        if seen.body.startswith(FLOOR_PREFIXES["concurrent"]):
            task = asyncio.create_task(client.reply(room_id, seen.event_id, "Stimme gezählt"))
            sending.add(task)
            task.add_done_callback(sending.discard)
        elif seen.body.startswith(FLOOR_PREFIXES["serial"]):
            queue.put_nowait(seen.event_id)

    async def one_after_the_other() -> None:
        while True:
            await client.reply(room_id, await queue.get(), "Stimme gezählt")

    client.on_event = on_event
    serial = asyncio.create_task(one_after_the_other())
    try:
        await client.start(room_id)
        await ready_until_eof()
    finally:
        serial.cancel()
        await client.stop()


class ResponderProcess(HelperProcess):
    """The floor's responder as a child process."""

    def __init__(self, base_url: str, user_id: str, token: str, room_id: str) -> None:
        super().__init__("responder", "bench.polls:serve_responder", [base_url, user_id, room_id], token)


class PySpy:
    """``py-spy record`` on the bot subprocess, stopped with SIGINT (it then writes its file)."""

    def __init__(self, pid: int, output: Path) -> None:
        self.output = output
        self._proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(pid),
                "--rate",
                "200",
                "--format",
                "raw",
                "--output",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        proc = self._proc
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# ---- measuring ----------------------------------------------------------------------------------


def git_state() -> dict[str, Any]:
    """The commit the bot ran from, and whether its code had uncommitted changes (read-only git)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=PROJECT, capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    changes = git("status", "--porcelain", "--", "bot", "commands")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "bot_code_changed": bool(changes) if changes is not None else None,
    }


def _ms_stats(values: Sequence[float]) -> dict[str, float | None]:
    return {
        "n": len(values),
        "p50": median_of(values, 1),
        "p95": percentile_of(values, 0.95, 1),
        "max": round(max(values), 1) if values else None,
        "mean": mean_of(values, 1),
    }


def _median(values: Sequence[float]) -> float | None:
    return median_of(values, 1)


def edit_figures(timestamps: list[int]) -> dict[str, Any]:
    """Gaps between consecutive edits and the most edits inside any 2 s window, server clock."""
    ordered = sorted(timestamps)
    gaps = [b - a for a, b in itertools.pairwise(ordered)]
    window_ms = SUMMARY_EDIT_INTERVAL_S * 1000
    most = 0
    for i, start in enumerate(ordered):
        inside = sum(1 for ts in ordered[i:] if ts < start + window_ms)
        most = max(most, inside)
    return {
        "count": len(ordered),
        "min_gap_ms": min(gaps, default=None),
        "median_gap_ms": median_of(gaps),
        "max_per_2s_window": most,
        "gaps_ms": gaps,
    }


@dataclass
class Options:
    members: int
    workers: int
    concurrency: int
    pings: int
    timeout: float
    seed: int
    check: bool
    output: Path
    py_spy: Path | None
    bot_log: Path | None
    floor: bool


@dataclass(frozen=True)
class Trip:
    """A command and the bot's reply to it, as the observer saw them."""

    total_ms: float
    send_ms: float
    event_id: str
    reply: Seen


@dataclass
class Burst:
    """One round of votes from every member: as planned, as sent, when."""

    votes: list[Vote]
    fired: float = 0.0  # perf_counter before the first send
    sent: float = 0.0  # perf_counter after the last send returned

    @property
    def text(self) -> list[Vote]:
        return [vote for vote in self.votes if vote.channel == "text" and not vote.error]

    def sending(self) -> dict[str, Any]:
        ok = [vote for vote in self.votes if not vote.error]
        return {
            "send_errors": [vote.error for vote in self.votes if vote.error],
            "first_request_to_last_answer_s": round(self.sent - self.fired, 3),
            "send_ms": _ms_stats([(v.t_answered - v.t_request) * 1000 for v in ok]),
        }


@dataclass
class State:
    """What one run found out, in the order it happened."""

    loadavg: tuple[float, float, float] = field(default_factory=os.getloadavg)
    git: dict[str, Any] = field(default_factory=git_state)
    setup: dict[str, Any] = field(default_factory=dict)
    idle: list[Trip] = field(default_factory=list)
    poll_id: int = 0
    start_event_id: str = ""
    summary_event_id: str = ""
    burst: Burst = field(default_factory=lambda: Burst([]))
    floors: dict[str, Burst] = field(default_factory=dict)
    ping_after_burst_ms: float | None = None
    floor_start_id: str = ""
    standing_body: str = ""
    cpu_s: dict[str, float] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    vote_phase_s: float = 0.0


class PollBench:
    def __init__(self, options: Options, root: Path, server: EmbeddedHomeserver) -> None:
        self.options = options
        self.root = root
        self.server = server
        self.url = server.url
        # EmbeddedHomeserver does not publish its child's pid; read here only, for CPU accounting.
        self.server_pid: int | None = getattr(getattr(server, "_proc", None), "pid", None)
        self.abort = threading.Event()
        self.state = State()
        self.members: list[Member] = []
        self.chair: RawClient | None = None
        self.bot_id = ""
        self.room_id = ""
        self.crowd = Crowd(self.url, options.concurrency)
        self.bot: BotProcess | None = None
        self.responder: ResponderProcess | None = None
        self.responder_id = ""
        self.spy: PySpy | None = None
        self.replies: dict[str, list[Seen]] = defaultdict(list)
        self.edits: list[Seen] = []

    @property
    def observer(self) -> RawClient:
        """The chair's client: sends its commands and is the benchmark's only long-poll /sync loop."""
        assert self.chair is not None
        return self.chair

    def check_alive(self) -> None:
        if self.bot is not None:
            self.bot.check_alive()
        if self.responder is not None:
            self.responder.check_alive()

    # -- 1. set-up ------------------------------------------------------------------------------

    async def setup(self) -> None:
        server, options = self.server, self.options
        names = [f"mitglied-{i:03d}" for i in range(options.members)]
        print(f"registering {options.members} members …", file=sys.stderr)
        self.members, registration = await asyncio.to_thread(
            register_members, server, names, options.workers, self.abort
        )
        chair_id = await asyncio.to_thread(server.register, "vorsitz", PASSWORD)
        chair_token = await asyncio.to_thread(server.login, "vorsitz", PASSWORD)
        self.bot_id = await asyncio.to_thread(server.register, "akbot", PASSWORD)
        responder: Member | None = None
        if options.floor:
            responder_id = await asyncio.to_thread(server.register, "gegenprobe", PASSWORD)
            token = await asyncio.to_thread(server.login, "gegenprobe", PASSWORD)
            responder, self.responder_id = Member("gegenprobe", responder_id, token), responder_id
        self.chair = RawClient(self.url, chair_id, chair_token, timeline_limit=OBSERVER_TIMELINE_LIMIT)
        self.chair.on_event = self._on_event
        self.room_id = await self.chair.create_room("Umfrage unter Last", preset="public_chat")

        print(f"{options.members} members join …", file=sys.stderr)
        started = time.perf_counter()
        join_ms = await asyncio.gather(*(self.crowd.join(m, self.room_id) for m in self.members))
        joins_s = time.perf_counter() - started
        if responder is not None:
            # In the room for both bursts, so that both meet the same homeserver load.
            await self.crowd.join(responder, self.room_id)
            self.responder = ResponderProcess(self.url, responder.user_id, responder.token, self.room_id)
            await self.responder.start()

        await self.chair.start(self.room_id)
        started = time.perf_counter()
        self.bot = bench_bot(self.root / "bot", self.url, self.bot_id, PASSWORD, [self.room_id], chair_id)
        self.bot.start()
        log.info("bot subprocess pid %s", self.bot.pid)

        async def joined() -> bool:
            self.check_alive()
            return self.bot_id in await self.observer.joined_members(self.room_id)

        await until(joined, 60.0, "bot joined", interval=0.1)
        joined_s = time.perf_counter() - started
        # The first answer means the bot has synced past every join (and has warmed up).
        for _attempt in range(3):
            if await self.command(self.observer.send, "!ping", FIRST_CONTACT_TIMEOUT_S) is not None:
                break
        else:
            raise RuntimeError("no answer to a first !ping")
        members_in_room = len(await self.observer.joined_members(self.room_id))
        self.state.setup = {
            "registration": registration,
            "joins": {
                "members": len(join_ms),
                "concurrency": options.concurrency,
                "seconds": round(joins_s, 2),
                "ms": _ms_stats(list(join_ms)),
            },
            "bot_joined_s": round(joined_s, 2),
            "bot_ready_s": round(time.perf_counter() - started, 2),
            "joined_members": members_in_room,
        }

    def _on_event(self, seen: Seen) -> None:
        if seen.sender not in (self.bot_id, self.responder_id):
            return
        if seen.in_reply_to is not None:
            self.replies[seen.in_reply_to].append(seen)
        if (
            seen.sender == self.bot_id
            and self.state.summary_event_id
            and seen.replaces == self.state.summary_event_id
        ):
            self.edits.append(seen)

    async def command(
        self, send: Callable[[str, str], Awaitable[str]], body: str, timeout: float
    ) -> Trip | None:
        """Send ``body`` and wait for the bot's reply on the observer's sync; None if none came."""
        start = self.observer.timeline.mark()
        t0 = time.perf_counter()
        event_id = await send(self.room_id, body)
        sent = time.perf_counter()
        try:
            reply = await self.observer.timeline.wait_for(
                lambda seen: seen.sender == self.bot_id and seen.in_reply_to == event_id, start, timeout
            )
        except TimeoutError:
            return None
        return Trip((reply.seen_perf - t0) * 1000, (sent - t0) * 1000, event_id, reply)

    def _member_text(self, member: Member) -> Callable[[str, str], Awaitable[str]]:
        async def send(room_id: str, body: str) -> str:
            return await self.crowd.send(
                member, room_id, "m.room.message", {"msgtype": "m.text", "body": body}
            )

        return send

    # -- 2. baseline ----------------------------------------------------------------------------

    async def baseline(self) -> None:
        print(f"{self.options.pings} idle !ping round trips …", file=sys.stderr)
        send = self._member_text(self.members[0])
        for n in range(PING_WARMUP + self.options.pings):
            trip = await self.command(send, "!ping", COMMAND_TIMEOUT_S)
            if trip is None:
                raise RuntimeError("an idle !ping got no answer")
            if n >= PING_WARMUP:
                self.state.idle.append(trip)
            await asyncio.sleep(0.05)

    # -- 3. the poll ----------------------------------------------------------------------------

    async def create_poll(self) -> None:
        mark = self.observer.timeline.mark()
        trip = await self.command(
            self.observer.send, "!umfrage Bench; " + "; ".join(OPTIONS), COMMAND_TIMEOUT_S
        )
        if trip is None:
            raise RuntimeError("no answer to !umfrage")
        reply = trip.reply
        found = re.search(r"#(\d+)", reply.body)
        if found is None:
            raise RuntimeError(f"!umfrage answered {reply.body!r}")
        poll_id = int(found.group(1))
        start = summary = ""
        for seen in self.observer.timeline.events[mark:]:
            if seen.sender != self.bot_id:
                continue
            if seen.type == POLL_START or POLL_START in seen.content:
                start = seen.event_id
            elif seen.body.startswith(f"Umfrage #{poll_id}:") and seen.replaces is None:
                summary = seen.event_id
        if not start or not summary:
            raise RuntimeError(f"poll #{poll_id}: start event {start!r}, summary {summary!r} not seen")
        self.state.poll_id, self.state.start_event_id, self.state.summary_event_id = poll_id, start, summary
        log.info("poll #%d, start %s, summary %s", poll_id, start, summary)
        # Let the edit throttle of the fresh poll run out, as it would before real votes come in.
        await asyncio.sleep(SUMMARY_EDIT_INTERVAL_S)

    # -- 4. the burst ---------------------------------------------------------------------------

    async def _send_vote(self, vote: Vote, *, floor: str | None) -> None:
        start = self.state.floor_start_id if floor else self.state.start_event_id
        event_type, content = vote.content(self.state.poll_id, start, floor=floor)
        async with self.crowd.gate:
            vote.t_request = time.perf_counter()
            try:
                vote.event_id = await self.crowd.send(vote.member, self.room_id, event_type, content)
            except (httpx.HTTPError, RuntimeError) as error:
                vote.error = str(error)
            vote.t_answered = time.perf_counter()

    async def _fire(self, burst: Burst, *, floor: str | None) -> None:
        burst.fired = time.perf_counter()
        await asyncio.gather(*(self._send_vote(vote, floor=floor) for vote in burst.votes))
        burst.sent = time.perf_counter()

    async def _until_answered(self, burst: Burst, what: str) -> None:
        expected = {vote.event_id for vote in burst.text}

        async def answered() -> bool:
            self.check_alive()
            return expected <= self.replies.keys()

        with contextlib.suppress(AssertionError):
            await until(answered, self.options.timeout, what, interval=0.1)

    async def burst(self) -> None:
        options = self.options
        burst = Burst(plan_votes(self.members, random.Random(options.seed)))
        self.state.burst = burst
        native = len(burst.votes) - len(burst.text)
        print(
            f"{len(burst.votes)} votes at once ({len(burst.text)} text, {native} native) …", file=sys.stderr
        )
        meter = CpuMeter({"synapse": self.server_pid, "bot": self.bot.pid if self.bot else None})
        if options.py_spy is not None and self.bot is not None and self.bot.pid is not None:
            self.spy = PySpy(self.bot.pid, options.py_spy)
            await asyncio.sleep(0.5)  # py-spy attaches
        before = meter.read()
        await self._fire(burst, floor=None)
        # A command that arrives right behind the burst: how long does it wait?
        ping = await self.command(self._member_text(self.members[0]), "!ping", options.timeout)
        self.state.ping_after_burst_ms = ping.total_ms if ping else None
        await self._until_answered(burst, "all text votes confirmed")

        # 5. the tally, asked after every vote: the bot handles a room's events in order.
        trip = await self.command(
            self.observer.send, f"!umfrage stand {self.state.poll_id}", COMMAND_TIMEOUT_S
        )
        self.state.standing_body = trip.reply.body if trip else ""
        await self._edits_settled()
        self.state.vote_phase_s = time.perf_counter() - burst.fired
        self.state.cpu_s = CpuMeter.spent(before, meter.read())
        if self.spy is not None:
            await asyncio.to_thread(self.spy.stop)
        self.state.history = await self.observer.history(self.room_id)

    async def floor(self) -> None:
        """The same burst twice more, answered by the raw responder instead of the bot."""
        if self.responder is None:
            return
        # Native responses need a start event to refer to: one the bot does not know.
        self.state.floor_start_id = await self.observer.send(self.room_id, "Gegenprobe")
        for kind in FLOOR_PREFIXES:
            await asyncio.sleep(1.0)
            burst = Burst(plan_votes(self.members, random.Random(self.options.seed)))
            self.state.floors[kind] = burst
            print(
                f"floor: the same {len(burst.votes)} votes, raw responder, {kind} replies …", file=sys.stderr
            )
            await self._fire(burst, floor=kind)
            await self._until_answered(burst, f"all floor votes answered ({kind})")

    async def _edits_settled(self) -> None:
        """Until no summary edit has come for a while (the last one follows the last vote)."""
        quiet_since = time.perf_counter()
        count = len(self.edits)
        deadline = quiet_since + 30
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.25)
            if len(self.edits) != count:
                count, quiet_since = len(self.edits), time.perf_counter()
            elif time.perf_counter() - quiet_since >= EDIT_QUIET_S:
                return

    # -- tear-down ------------------------------------------------------------------------------

    def bot_log_tail(self) -> str:
        return self.bot.tail(40) if self.bot is not None else "(no bot)"

    async def close(self) -> None:
        self.abort.set()
        if self.spy is not None:
            await asyncio.to_thread(self.spy.stop)
        if self.bot is not None:
            await self.bot.stop()
            if self.options.bot_log is not None and self.bot.log_path.exists():
                self.options.bot_log.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(self.bot.log_path, self.options.bot_log)
        if self.responder is not None:
            await self.responder.stop()
        if self.chair is not None:
            await self.chair.stop()
        await self.crowd.close()

    # -- the report -----------------------------------------------------------------------------

    def _answered(self, burst: Burst) -> dict[str, Any]:
        """Latency of the first answer to each text vote, from the observer's sync, with breakdown."""
        latencies, send_ms, turn_ms, back_ms = [], [], [], []
        for vote in burst.text:
            seen = self.replies.get(vote.event_id)
            if not seen:
                continue
            reply = seen[0]
            latencies.append((reply.seen_perf - vote.t_request) * 1000)
            send_ms.append((vote.t_answered - vote.t_request) * 1000)
            sent_event = self.observer.timeline.by_id.get(vote.event_id)
            if sent_event is not None:
                turn_ms.append(float(reply.origin_ts - sent_event.origin_ts))
            back_ms.append(reply.seen_wall * 1000 - reply.origin_ts)
        last = max(
            (self.replies[v.event_id][0].seen_perf for v in burst.text if v.event_id in self.replies),
            default=None,
        )
        return {
            "expected": len(burst.text),
            "answered": len(latencies),
            "latency_ms": _ms_stats(latencies),
            "breakdown_median_ms": {
                "send": _median(send_ms),
                "turn": _median(turn_ms),
                "back": _median(back_ms),
            },
            "last_answer_after_s": round(last - burst.fired, 2) if last is not None else None,
            "samples_ms": [round(v, 1) for v in latencies],
        }

    def evaluate(self) -> dict[str, Any]:
        state, options = self.state, self.options
        burst = state.burst
        votes = [vote for vote in burst.votes if not vote.error]
        text = burst.text
        history = state.history
        by_id = {event["event_id"]: event for event in history}
        bot_replies: dict[str, list[dict[str, Any]]] = defaultdict(list)
        edits: list[dict[str, Any]] = []
        for event in history:
            if event.get("sender") != self.bot_id:
                continue
            relates = (event.get("content") or {}).get("m.relates_to") or {}
            target = (relates.get("m.in_reply_to") or {}).get("event_id")
            if target:
                bot_replies[target].append(event)
            if relates.get("rel_type") == "m.replace" and relates.get("event_id") == state.summary_event_id:
                edits.append(event)

        # Confirmations: counts and duplicates from the history, latency from the observer's sync.
        missing = [vote.member.user_id for vote in text if not bot_replies.get(vote.event_id)]
        duplicates = sum(max(0, len(bot_replies.get(vote.event_id, [])) - 1) for vote in text)
        unexpected = [
            self.replies[vote.event_id][0].body[:200]
            for vote in text
            if vote.event_id in self.replies
            and not self.replies[vote.event_id][0].body.startswith(
                f"Ihre Stimme zu Umfrage #{state.poll_id}:"
            )
        ]
        confirmations = self._answered(burst)
        reply_ts = sorted(
            int(bot_replies[vote.event_id][0]["origin_server_ts"])
            for vote in text
            if bot_replies.get(vote.event_id)
        )
        pace = [b - a for a, b in itertools.pairwise(reply_ts)]
        vote_ts = sorted(int(by_id[v.event_id]["origin_server_ts"]) for v in votes if v.event_id in by_id)
        first_vote = vote_ts[0] if vote_ts else 0

        # The tally.
        expected = expected_counts(votes)
        standing = parse_counts(state.standing_body)
        not_voted_match = NOT_VOTED.search(state.standing_body)
        not_voted = [n.strip() for n in not_voted_match.group(1).split(",")] if not_voted_match else []
        # Everyone in the room but the bot votes, except the chair and the floor's responder.
        non_voters = ["vorsitz", *(["gegenprobe"] if self.responder_id else [])]
        edits.sort(key=lambda e: int(e["origin_server_ts"]))
        final_body = ((edits[-1]["content"].get("m.new_content") or {}).get("body", "")) if edits else ""
        final = parse_counts(final_body)
        voted = VOTED.search(final_body)
        details = [
            f"option {p}: sent {expected[p][0]} ja/{expected[p][1]} wenn nötig, "
            f"stand says {standing.get(p)}, summary says {final.get(p)}"
            for p in expected
            if standing.get(p) != expected[p] or final.get(p) != expected[p]
        ]
        standing_ok = standing == expected
        final_ok = final == expected and voted is not None and int(voted.group(1)) == len(votes)
        responses = sum(
            1 for e in history if e.get("type") == POLL_RESPONSE and e.get("sender") != self.bot_id
        )

        # Summary edits, server clock.
        edit_ts = [int(e["origin_server_ts"]) for e in edits]
        figures = edit_figures(edit_ts)
        figures["offsets_from_first_vote_ms"] = [ts - first_vote for ts in sorted(edit_ts)]
        sizes = [len(json.dumps(e.get("content", {}), ensure_ascii=False).encode()) for e in edits]
        figures["max_content_bytes"] = max(sizes, default=0)
        figures["last_edit_after_last_vote_ms"] = (
            (max(edit_ts) - vote_ts[-1]) if edit_ts and vote_ts else None
        )

        # The idle baseline, split like a vote's confirmation.
        idle_ms = [trip.total_ms for trip in state.idle]
        seen_by_id = self.observer.timeline.by_id
        idle_turn = [
            float(t.reply.origin_ts - seen_by_id[t.event_id].origin_ts)
            for t in state.idle
            if t.event_id in seen_by_id
        ]
        idle_self = [ms for t in state.idle if (ms := self_reported(t.reply.body)) is not None]
        idle_p95 = percentile_of(idle_ms, 0.95)
        p95 = confirmations["latency_ms"]["p95"]
        idle_ratio = ratio(p95, idle_p95)
        send_p95 = burst.sending()["send_ms"]["p95"]

        floors = {kind: {**self._answered(b), **b.sending()} for kind, b in state.floors.items()}
        floor_p95 = floors["concurrent"]["latency_ms"]["p95"] if "concurrent" in floors else None
        serial_p95 = floors["serial"]["latency_ms"]["p95"] if "serial" in floors else None
        floor_ratio = ratio(p95, floor_p95)

        observer_missed = sum(
            1
            for event in history
            if event["event_id"] not in seen_by_id and event["origin_server_ts"] > self.observer.started_ms
        )
        nothing_lost = (
            not missing and standing_ok and final_ok and len(votes) == options.members and not unexpected
        )
        return {
            "meta": {
                "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "members": options.members,
                "seed": options.seed,
                "concurrency": options.concurrency,
                "summary_edit_interval_s": SUMMARY_EDIT_INTERVAL_S,
                "python": platform.python_version(),
                "synapse": importlib.metadata.version("matrix-synapse"),
                "matrix_nio": importlib.metadata.version("matrix-nio"),
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "loadavg_at_start": state.loadavg,
                **state.git,
            },
            "setup": state.setup,
            "idle_ping_ms": {
                **_ms_stats(idle_ms),
                "breakdown_median_ms": {
                    "send": _median([t.send_ms for t in state.idle]),
                    "turn": _median(idle_turn),
                    "back": _median([t.reply.seen_wall * 1000 - t.reply.origin_ts for t in state.idle]),
                    "self": _median(idle_self),
                },
                "samples": [round(v, 2) for v in idle_ms],
            },
            "poll": {
                "id": state.poll_id,
                "start_event_id": state.start_event_id,
                "summary_event_id": state.summary_event_id,
            },
            "votes": {
                "sent": len(votes),
                "text": len(text),
                "native": len(votes) - len(text),
                "native_in_history": responses,
                "concurrency": options.concurrency,
                **burst.sending(),
                "vote_events_server_span_ms": (vote_ts[-1] - vote_ts[0]) if vote_ts else None,
                "send_p95_vs_idle_p95": ratio(send_p95, idle_p95),
            },
            "confirmations": {
                **confirmations,
                "received": len(text) - len(missing),
                "missing": missing,
                "duplicates": duplicates,
                "unexpected_replies": unexpected,
                "bot_reply_pace_ms": {
                    "median": _median(pace),
                    "mean": mean_of(pace, 1),
                },
                "first_vote_to_last_reply_server_ms": (reply_ts[-1] - first_vote)
                if reply_ts and vote_ts
                else None,
            },
            "ping_after_burst_ms": state.ping_after_burst_ms,
            "ratio_p95_vs_idle_p95": idle_ratio,
            "floor": floors,
            "ratio_p95_vs_floor_p95": floor_ratio,
            "ratio_p95_vs_serial_floor_p95": ratio(p95, serial_p95),
            "tally": {
                "expected": {str(p): list(c) for p, c in expected.items()},
                "standing": {str(p): list(c) for p, c in standing.items()},
                "final_summary": {str(p): list(c) for p, c in final.items()},
                "final_summary_voted": int(voted.group(1)) if voted else None,
                "standing_matches": standing_ok,
                "final_summary_matches": final_ok,
                "not_voted": not_voted,
                "roster_complete": sorted(not_voted) == sorted(non_voters),
                "details": details,
            },
            "edits": figures,
            "cpu_s_vote_phase": {name: round(seconds, 2) for name, seconds in sorted(state.cpu_s.items())},
            "vote_phase_s": round(state.vote_phase_s, 2),
            "observer": {"limited_syncs": self.observer.limited_syncs, "missed_events": observer_missed},
            "targets": {
                "p95_ratio_max": TARGET_RATIO,
                "p95_ratio_met": floor_ratio is not None and floor_ratio <= TARGET_RATIO,
                "nothing_lost": nothing_lost,
                "no_duplicates": duplicates == 0,
                "edits_max_per_2s": TARGET_EDITS_PER_WINDOW,
                "edits_met": figures["max_per_2s_window"] <= TARGET_EDITS_PER_WINDOW,
            },
        }


# ---- the run ------------------------------------------------------------------------------------


async def run(options: Options, root: Path, server: EmbeddedHomeserver) -> dict[str, Any]:
    async with guarded(lambda: PollBench(options, root, server)) as bench:
        await bench.setup()
        await bench.baseline()
        await bench.create_poll()
        await bench.burst()
        await bench.floor()
    return bench.evaluate()


def _ms(value: float | None) -> str:
    return fmt(value, 0, " ms")


def _x(value: float | None) -> str:
    return times(value, 1)


def _yes(value: bool) -> str:
    return "yes" if value else "NO"


def print_table(result: dict[str, Any]) -> None:
    meta, setup, votes = result["meta"], result["setup"], result["votes"]
    conf, tally, edits, targets = result["confirmations"], result["tally"], result["edits"], result["targets"]
    reg = setup["registration"]
    load = meta["loadavg_at_start"][0]
    if meta["cpus"] and load > 0.5 * meta["cpus"]:
        print(f"\nnote: load average {load:.2f} at the start on {meta['cpus']} CPUs - other work was running")
    idle = result["idle_ping_ms"]
    print(
        f"\nakbot poll under load - {meta['members']} members, Synapse {meta['synapse']}, "
        f"{meta['cpus']} CPUs, unencrypted room"
    )
    print(
        f"set-up: {meta['members']} accounts in {reg['seconds']:.1f} s (sequential: "
        f"{reg['sequential']['register_ms_median']} ms register + {reg['sequential']['login_ms_median']} ms "
        f"login each; {reg['pool']['mode']}: {reg['pool']['wall_ms_per_account']} ms/account wall), "
        f"joins {setup['joins']['seconds']:.1f} s, bot ready {setup['bot_ready_s']:.1f} s"
    )
    rows: list[tuple[str, str, str]] = [
        ("votes sent (text / native)", f"{votes['sent']} ({votes['text']} / {votes['native']})", ""),
        (
            "vote sends: first request -> last answer",
            f"{votes['first_request_to_last_answer_s']:.2f} s (send p50 {_ms(votes['send_ms']['p50'])})",
            "",
        ),
        (
            "confirmations received",
            f"{conf['received']} / {conf['expected']} (last after {conf['last_answer_after_s']} s)",
            "",
        ),
        ("duplicates", str(conf["duplicates"]), VERDICT[targets["no_duplicates"]]),
        (
            "tally: !umfrage stand / final summary",
            f"{_yes(tally['standing_matches'])} / {_yes(tally['final_summary_matches'])}",
            "",
        ),
        ("nothing lost", _yes(targets["nothing_lost"]), VERDICT[targets["nothing_lost"]]),
        ("bot knows every member", _yes(tally["roster_complete"]), ""),
        (
            "confirmation p50 / p95 / max",
            f"{_ms(conf['latency_ms']['p50'])} / {_ms(conf['latency_ms']['p95'])} / "
            f"{_ms(conf['latency_ms']['max'])}",
            "",
        ),
        (
            "  breakdown send / turn / back (p50)",
            " / ".join(_ms(conf["breakdown_median_ms"][k]) for k in ("send", "turn", "back")),
            "",
        ),
        ("  bot reply pace (median gap)", _ms(conf["bot_reply_pace_ms"]["median"]), ""),
        ("idle !ping p50 / p95", f"{_ms(idle['p50'])} / {_ms(idle['p95'])}", ""),
        (
            "  breakdown send / turn / back / self",
            " / ".join(_ms(idle["breakdown_median_ms"][k]) for k in ("send", "turn", "back", "self")),
            "",
        ),
        ("ratio p95 / idle p95", _x(result["ratio_p95_vs_idle_p95"]), ""),
        (
            "ratio p95 / raw responder p95",
            _x(result["ratio_p95_vs_floor_p95"]),
            f"<= {TARGET_RATIO:.1f}x {VERDICT[targets['p95_ratio_met']]}",
        ),
        ("!ping sent right after the burst", _ms(result["ping_after_burst_ms"]), ""),
        ("vote send p95 / idle !ping p95", _x(votes["send_p95_vs_idle_p95"]), "(homeserver alone)"),
        ("summary edits", str(edits["count"]), ""),
        ("  min gap between edits", _ms(edits["min_gap_ms"]), ""),
        (
            "  max edits in any 2 s window",
            str(edits["max_per_2s_window"]),
            f"<= {TARGET_EDITS_PER_WINDOW} {VERDICT[targets['edits_met']]}",
        ),
        ("  largest edit content", f"{edits['max_content_bytes']} bytes", f"event limit {EVENT_SIZE_LIMIT}"),
    ]
    width = max(len(label) for label, _, _ in rows) + 2
    figures = Table(("figure", f"<{width}"), ("value", "<40"), ("target", ""))
    figures.print_header(rule=width + 56)
    for row in rows:
        figures.print_row(*row)
    cpu = result["cpu_s_vote_phase"]
    labels = {
        "concurrent": "raw responder, replies at once",
        "serial": "raw responder, one reply after the other",
    }
    ratios = {
        "concurrent": result["ratio_p95_vs_floor_p95"],
        "serial": result["ratio_p95_vs_serial_floor_p95"],
    }
    if result["floor"]:
        print("\nfloor: the same burst into the same room, answered without the bot")
        table = Table(
            ("answered by", "<44"),
            ("answered", ">10"),
            *((title, ">9") for title in ("p50", "p95", "max")),
            *((title, ">8") for title in ("last", "send", "turn", "back")),
            ("bot p95/", ">10"),
        )
        table.print_header()
        series = [("akbot", conf, None), *((labels[k], v, ratios[k]) for k, v in result["floor"].items())]
        for label, item, floor_ratio in series:
            lat, parts = item["latency_ms"], item["breakdown_median_ms"]
            table.print_row(
                label,
                f"{item['answered']:>6}/{item['expected']:<3}",
                *(_ms(lat[name]) for name in ("p50", "p95", "max")),
                fmt(item["last_answer_after_s"], 1, " s"),
                *(_ms(parts[name]) for name in ("send", "turn", "back")),
                _x(floor_ratio),
            )
    print(
        f"CPU s in the vote phase ({result['vote_phase_s']:.1f} s): "
        + ", ".join(f"{name} {seconds:.2f}" for name, seconds in cpu.items())
    )
    if tally["details"]:
        print("tally differences:\n  " + "\n  ".join(tally["details"]))
    if conf["missing"]:
        print(f"no confirmation for {len(conf['missing'])} text votes, e.g. {conf['missing'][:3]}")
    if conf["unexpected_replies"]:
        print(f"unexpected replies: {conf['unexpected_replies'][:3]}")
    if result["observer"]["limited_syncs"] or result["observer"]["missed_events"]:
        print(f"observer: {result['observer']}")


def parse(argv: list[str] | None) -> Options:
    """The options from the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.polls", description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=200, help="member accounts that vote (200)")
    parser.add_argument("--workers", type=int, default=8, help="threads registering accounts (8)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight at once (32)")
    parser.add_argument("--pings", type=int, default=30, help="idle !ping round trips (30)")
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for confirmations (120)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed for the votes (1)")
    result_options(parser, RESULTS, metavar="FILE")
    parser.add_argument(
        "--py-spy", type=Path, metavar="FILE", help="record the bot with py-spy into FILE (raw stacks)"
    )
    parser.add_argument("--bot-log", type=Path, metavar="FILE", help="keep a copy of the bot's log in FILE")
    parser.add_argument(
        "--floor",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the burst twice against a raw responder (at once, one after the other; default: on)",
    )
    args = parser.parse_args(argv)
    if args.members < 3 or args.workers < 1 or args.concurrency < 1 or args.pings < 1:
        parser.error("--members must be >= 3, --workers, --concurrency and --pings >= 1")
    return Options(
        args.members,
        args.workers,
        args.concurrency,
        args.pings,
        args.timeout,
        args.seed,
        args.check,
        args.output,
        args.py_spy,
        args.bot_log,
        args.floor,
    )


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    configure_logging()
    started = time.perf_counter()
    result = on_homeserver("akbot-bench-", lambda root, server: run(options, root, server))
    if result is None:
        return 130
    result["meta"]["runtime_s"] = round(time.perf_counter() - started, 1)
    print_table(result)
    took = f" (run took {result['meta']['runtime_s']:.0f} s)"
    return finish(result, options.output, options.check, note=took, ensure_ascii=False)


if __name__ == "__main__":
    sys.exit(main())
