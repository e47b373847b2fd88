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
import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench import PASSWORD
from bot.app import App
from bot.homeserver import EmbeddedHomeserver
from bot.settings import BotSettings, MatrixSettings, Settings
from tests.kit.processes import BotProcess, CpuMeter, HelperProcess, ready_until_eof
from tests.kit.report import VERDICT, Table, finish, fmt, result_options, times
from tests.kit.runs import UNLIMITED_COMMANDS, bench_bot, configure_logging, guarded, on_homeserver
from tests.kit.stats import Sample, breakdown, mean_of, median_of, percentile_of, ratio
from tests.kit.users import LONG_POLL_MS, ChatClient, RawClient, Seen, User, reply_from, round_trip, until

RESULTS = Path(__file__).resolve().parent / "results" / "latency.json"
ROUND_TIMEOUT_S = 30.0
FIRST_CONTACT_TIMEOUT_S = 60.0
TARGET_MEDIAN = 1.20
TARGET_P95 = 1.35

log = logging.getLogger("bench.latency")


# ---- the floor's client B -------------------------------------------------------------------


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
            task = asyncio.create_task(self.client.send(self.room_id, answer))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)


async def serve_ponger(base_url: str, user_id: str, room_id: str, pinger: str, *, token: str) -> None:
    """Client B in its own process (:class:`PongerProcess`): answer pings until terminated."""
    client = RawClient(base_url, user_id, token)
    try:
        await client.start(room_id)
        Ponger(client, room_id, pinger)
        await ready_until_eof()
    finally:
        await client.stop()


class PongerProcess(HelperProcess):
    """Client B of the floor as a child process."""

    def __init__(self, base_url: str, user_id: str, token: str, room_id: str, pinger: str) -> None:
        super().__init__("ponger", "bench.latency:serve_ponger", [base_url, user_id, room_id, pinger], token)


# ---- the bot ------------------------------------------------------------------------------------


class BotInProcess:
    """``App.run`` as a task in this event loop (shares the CPU with the measuring client)."""

    def __init__(self, root: Path, homeserver: str, user_id: str, rooms: list[str], chair: str) -> None:
        matrix = MatrixSettings(
            homeserver=homeserver, user_id=user_id, password=SecretStr(PASSWORD), rooms=rooms
        )
        self.settings = Settings(
            matrix=matrix,
            bot=BotSettings(chairs=[chair], data_dir=root / "data", command_rate=UNLIMITED_COMMANDS),
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
        "breakdown_median_ms": breakdown(series.samples),
        # Means resolve below the 1 ms granularity of the server timestamps.
        "breakdown_mean_ms": breakdown(series.samples, mean_of),
        "cpu_ms_per_round": {
            name: seconds * 1000 / rounds for name, seconds in sorted(series.cpu_s.items()) if rounds
        },
        "samples_ms": [round(t, 3) for t in totals],
    }


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
        self.nio_user: ChatClient | None = None
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
        await b.stop()
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
            self.nio_user = ChatClient(
                self.url,
                ids["user_nio"],
                PASSWORD,
                self.root / "nio-user",
                device_name="bench",
                poll_ms=LONG_POLL_MS,
            )
            await self.nio_user.start()
            encrypted_room = await self.nio_user.create_room("akbot encrypted", [ids["akbot"]])
            bot_rooms.append(encrypted_room)
        self.bot = bench_bot(self.root / "bot", self.url, ids["akbot"], PASSWORD, bot_rooms, ids["user"])
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

            await until(settled, 60.0, "encrypted room settled", interval=0.1)
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
        answer = reply_from(self.ids[name])
        return lambda _: answer

    async def _until_joined(self, client: RawClient, room_id: str, name: str) -> None:
        async def joined() -> bool:
            self.check_alive()
            return self.ids[name] in await client.joined_members(room_id)

        await until(joined, 60.0, f"{name} joined", interval=0.1)

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
            await client.stop()
        if self.nio_user is not None:
            await self.nio_user.stop()


def _ping(_: int) -> str:
    return "!ping"


async def run(options: Options, root: Path, server: EmbeddedHomeserver) -> dict[str, Any]:
    async with guarded(lambda: Bench(options, root, server)) as bench:
        kinds = await bench.setup()
        measured_s = await bench.measure(kinds)
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


def parse(argv: list[str] | None) -> Options:
    """The options from the command line."""
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
    result_options(parser, RESULTS)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.warmup < 0 or args.gap < 0:
        parser.error("--rounds must be >= 1, --warmup and --gap >= 0")
    return Options(
        args.rounds, args.warmup, args.encrypted, args.inprocess, args.gap, args.check, args.output
    )


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    configure_logging()
    result = on_homeserver("akbot-bench-", lambda root, server: run(options, root, server))
    if result is None:
        return 130
    return finish(result, options.output, options.check)


if __name__ == "__main__":
    sys.exit(main())
