"""Reminders at scale: rehydrating many stored reminders, and how late a minute's worth arrives.

Method, part 1 - **rehydration** (``--stored N``, default 10 000). A fresh data folder gets a
migrated database (``bot.storage.open_db``) and N active reminders inserted directly in one
transaction, shaped like what ``ReminderService.create`` writes: 70 % one-off personal reminders
spread over the next 90 days, 20 % recurring ones (two thirds ``FREQ=WEEKLY;BYDAY=..``, a third
``FREQ=DAILY``; half personal, half room; DTSTART up to 60 days back, ``next_ts`` the next
occurrence), 10 % meeting reminders (three per meeting, 7 d / 1 d / 1 h before it, with their
``meetings`` rows). ``first_at`` is ISO 8601 with offset, ``next_ts`` epoch seconds.

Each measurement runs in a *fresh child process* (``python -m bench.reminders`` in a hidden mode)
so that memory is clean: it imports everything the bot imports, reads its RSS (``VmRSS`` from
``/proc/self/status``, after ``gc.collect()``) as the baseline, builds ``bot.app.App`` exactly as
``akbot run`` does (database, room settings, scheduler, Matrix adapter - not connected -,
reminder and meeting services), then, inside a running asyncio loop, calls
``app.scheduler.start()``, which starts APScheduler and runs ``ReminderService.rebuild``. Two
times are taken: ``start()`` returning (the synchronous rebuild: one ``add_job`` per reminder),
and the loop being idle again (APScheduler queues one ``wakeup`` callback per ``add_job`` made
while running; they run right after). The latter is the **rehydrate** figure. RSS is read again
after that. The child runs against an empty database and against the N-reminder one, alternately
(``--repeats`` pairs, medians reported); **memory growth** = growth with N minus growth with the
empty database, i.e. what N reminders cost beyond the bot's fixed set-up. Targets: rehydrate
< 2 s, memory growth < 50 MB for 10 000.

Method, part 2 - **lateness** (``--burst M``, default 200), end to end and real: a local Synapse
(``EmbeddedHomeserver``), a user (matrix-nio with E2EE; ``--plain`` for an unencrypted room) who
creates a room and invites the bot, and the real bot as a subprocess (``python -m bot run``,
``encryption = true``). The bot is started once to log in, publish its keys and join, then
stopped; M room reminders (kind ``room``) are written into its database as if created days
earlier, due evenly spread over one minute starting ``--lead`` seconds (default 25) later; a
second set of M is due all in the same second 10 s after that minute (the **burst** series, a
stress figure without a target). Then the bot is started again: it rehydrates them like after any
restart, and the user's client keeps syncing. Lateness of a reminder = ``origin_server_ts`` of
its message (the homeserver's receipt of the send, same machine clock) minus its due time.
Arrivals and duplicates are counted from the room's full history (``/messages``) after the run -
every reminder must be there exactly once -, and cross-checked against the bot's ``deliveries``
table. ``seen`` is the same lateness measured to the moment the user's sync delivered the
message. For context, the **floor** is the user's own client sending M messages back to back into
the same room: per-message cost of a send on this homeserver. Target: p99 lateness < 1 s for the
spread series.

Reading the numbers. Rehydrate and memory growth are per N; ``per reminder`` divides by N.
Lateness p50 is the typical delay, p99/max the tail. In the burst series the k-th message waits for
the k-1 before it, so its max is about M times the per-send cost of the bot - compare its
``ms/msg`` with the floor's; a much larger bot figure means the bot, not the homeserver, is the
bottleneck. Compare runs on the same machine only.

Results go to stdout and to ``bench/results/reminders.json``. The exit code is 0 unless ``--check``
is given and a target is missed (or a reminder is missing or duplicated).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.metadata
import json
import logging
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bench import PASSWORD
from bot.homeserver import EmbeddedHomeserver
from bot.storage import open_db
from bot.timeparse import next_occurrence
from tests.kit.processes import PROJECT, BotProcess
from tests.kit.report import VERDICT, Table, finish, fmt, result_options
from tests.kit.runs import bench_bot, configure_logging, guarded
from tests.kit.stats import mean_of, percentile_of
from tests.kit.users import LONG_POLL_MS, ChatClient, until

RESULTS = Path(__file__).resolve().parent / "results" / "reminders.json"
TZ = ZoneInfo("Europe/Berlin")  # the bot's default time zone
TARGET_REHYDRATE_S = 2.0
TARGET_MEMORY_MB = 50.0
TARGET_P99_S = 1.0
TARGET_STORED = 10_000  # the size the rehydration targets are stated for
SPREAD_S = 60.0
BURST_GAP_S = 10.0
DRAIN_TIMEOUT_S = 60.0
DUPLICATE_WATCH_S = 3.0
CHILD_TIMEOUT_S = 120.0
MARKER = re.compile(r"bench (spread|burst) #(\d+)")
# The user's sync: never a truncated ("limited") timeline, even when a burst piles up.
USER_SYNC_FILTER: dict[str, Any] = {"room": {"timeline": {"limit": 1000}}}

log = logging.getLogger("bench.reminders")

_INSERT_REMINDER = (
    "INSERT INTO reminders (room_id, creator, kind, text, first_at, rrule, next_ts, mention_room,"
    " meeting_id, offset_s, state, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?)"
)
_INSERT_MEETING = (
    "INSERT INTO meetings (id, room_id, title, location, start_at, start_ts, duration_min, uid, sequence,"
    " status, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 120, ?, 0, 'geplant', ?, ?, ?)"
)
_TEXTS = (
    "Protokoll der letzten Sitzung prüfen",
    "Stellungnahme an die Geschäftsstelle schicken",
    "Folien für den Fachausschuss vorbereiten",
    "Rückmeldung zum Entwurf der KI-Leitlinie",
    "Datenschutzfolgeabschätzung gegenlesen",
    "Teilnahme an der Schulung bestätigen",
)
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR")
_MEETING_OFFSETS = (timedelta(days=7), timedelta(days=1), timedelta(hours=1))


# ---- seeding ----------------------------------------------------------------------------------


def seed_stored(db: Database, count: int, now: datetime, seed: int = 1) -> dict[str, int]:
    """Insert ``count`` active reminders (70 % one-off, 20 % recurring, 10 % meeting) in one go."""
    rng = random.Random(seed)
    rooms = [f"!raum{i:02d}:localhost" for i in range(40)]
    people = [f"@person{i:03d}:localhost" for i in range(400)]
    n_meeting = count // 10
    n_recurring = count // 5
    n_once = count - n_meeting - n_recurring
    reminders: list[tuple[Any, ...]] = []
    meetings: list[tuple[Any, ...]] = []

    def created() -> float:
        return now.timestamp() - rng.uniform(3600, 30 * 86400)

    for i in range(n_once):
        due = now + timedelta(minutes=rng.randint(10, 90 * 24 * 60))
        due = due.replace(second=0, microsecond=0)
        text = f"{rng.choice(_TEXTS)} ({i})"
        reminders.append(
            (rng.choice(rooms), rng.choice(people), "personal", text, due.isoformat(), None, due.timestamp(),
             0, None, None, created())
        )  # fmt: skip
    for i in range(n_recurring):
        rrule = f"FREQ=WEEKLY;BYDAY={rng.choice(_WEEKDAYS)}" if i % 3 else "FREQ=DAILY"
        day = (now - timedelta(days=rng.randint(1, 60))).date()
        first = datetime(
            day.year, day.month, day.day, rng.randint(8, 17), rng.choice((0, 15, 30, 45)), tzinfo=TZ
        )
        following = next_occurrence(rrule, first, now)
        assert following is not None
        kind = "personal" if i % 2 else "room"
        reminders.append(
            (rng.choice(rooms), rng.choice(people), kind, f"{rng.choice(_TEXTS)} (Serie {i})", first.isoformat(),
             rrule, following.timestamp(), 0, None, None, created())
        )  # fmt: skip
    meeting_id = 0
    while n_meeting > 0:
        meeting_id += 1
        room, chair = rng.choice(rooms), rng.choice(people)
        day = (now + timedelta(days=rng.randint(8, 90))).date()
        start = datetime(day.year, day.month, day.day, rng.choice((10, 14)), 0, tzinfo=TZ)
        title = f"Sitzung Facharbeitskreis {meeting_id}"
        made = created()
        meetings.append(
            (meeting_id, room, title, "Köln, Landeshaus", start.isoformat(), start.timestamp(),
             f"{uuid.UUID(int=rng.getrandbits(128))}@akbot.invalid", chair, made, made)
        )  # fmt: skip
        for offset in _MEETING_OFFSETS[: min(3, n_meeting)]:
            due = start - offset
            reminders.append(
                (room, chair, "meeting", title, due.isoformat(), None, due.timestamp(), 1, meeting_id,
                 int(offset.total_seconds()), made)
            )  # fmt: skip
            n_meeting -= 1
    with db.atomic():
        db.conn.executemany(_INSERT_MEETING, meetings)
        db.conn.executemany(_INSERT_REMINDER, reminders)
    return {"one_off": n_once, "recurring": n_recurring, "meeting": count // 10, "meetings": len(meetings)}


def seed_room_reminders(db: Database, room_id: str, creator: str, series: str, dues: list[float]) -> None:
    """Room reminders "bench <series> #i", created three days ago, due at ``dues[i]``."""
    created = time.time() - 3 * 86400
    rows = [
        (room_id, creator, "room", f"bench {series} #{i:03d}", datetime.fromtimestamp(due, TZ).isoformat(), None,
         due, 0, None, None, created)
        for i, due in enumerate(dues)
    ]  # fmt: skip
    with db.atomic():
        db.conn.executemany(_INSERT_REMINDER, rows)


# ---- part 1: rehydration, in a fresh child process --------------------------------------------


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{key} not in /proc/self/status")


def _rss_kb() -> int:
    gc.collect()
    return _status_kb("VmRSS")


async def _rehydrate(data_dir: Path) -> dict[str, Any]:
    from pydantic import SecretStr

    from bot.app import App
    from bot.settings import BotSettings, MatrixSettings, Settings

    rss_imported = _rss_kb()
    matrix = MatrixSettings(
        homeserver="http://127.0.0.1:9", user_id="@akbot:localhost", password=SecretStr(PASSWORD)
    )
    app = App(Settings(matrix=matrix, bot=BotSettings(data_dir=data_dir)))
    rss_built = _rss_kb()
    t0 = time.perf_counter()
    app.scheduler.start()
    t_started = time.perf_counter()
    # APScheduler queued one wakeup per add_job made while running; they run before we resume.
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    t_settled = time.perf_counter()
    rss_after = _rss_kb()
    jobs = app.scheduler.job_count()
    app.scheduler.shutdown()
    await asyncio.sleep(0)
    app.db.close()
    return {
        "jobs": jobs,
        "start_s": t_started - t0,
        "rehydrate_s": t_settled - t0,
        "rss_imported_kb": rss_imported,
        "rss_built_kb": rss_built,
        "rss_after_kb": rss_after,
        "hwm_kb": _status_kb("VmHWM"),
    }


def rehydrate_child(data_dir: Path) -> int:
    """Hidden mode: everything is imported already (this module imports the bot); measure."""
    import bot.app  # noqa: F401 -- the full import set of `akbot run`, before the baseline
    from bot.__main__ import _configure_logging

    _configure_logging("info")  # as `akbot run` does: apscheduler's per-job INFO lines are off
    result = asyncio.run(_rehydrate(data_dir))
    print(json.dumps(result), flush=True)
    return 0


def run_child(data_dir: Path) -> dict[str, Any]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.reminders", "--rehydrate-child", str(data_dir)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=CHILD_TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"rehydration child failed ({proc.returncode}):\n{err[-3000:]}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def measure_rehydration(root: Path, stored: int, repeats: int) -> dict[str, Any]:
    empty_dir, full_dir = root / "empty", root / "stored"
    open_db(empty_dir).close()
    db = open_db(full_dir)
    t0 = time.perf_counter()
    mix = seed_stored(db, stored, datetime.now(TZ))
    seed_s = time.perf_counter() - t0
    db.close()
    print(f"  seeded {stored} reminders in {seed_s:.2f} s", file=sys.stderr)
    runs: dict[str, list[dict[str, Any]]] = {"empty": [], "stored": []}
    for n in range(repeats):
        for key, folder in (("empty", empty_dir), ("stored", full_dir)):
            runs[key].append(run_child(folder))
        print(f"  rehydration pair {n + 1}/{repeats}", file=sys.stderr)

    def med(key: str, name: str) -> float:
        return float(statistics.median(run[name] for run in runs[key]))

    def growth_kb(run: dict[str, Any]) -> int:
        return int(run["rss_after_kb"] - run["rss_imported_kb"])

    growth_empty = statistics.median(growth_kb(run) for run in runs["empty"])
    growth_full = statistics.median(growth_kb(run) for run in runs["stored"])
    growth_mb = (growth_full - growth_empty) / 1024
    jobs = int(med("stored", "jobs"))
    return {
        "stored": stored,
        "mix": mix,
        "seed_s": seed_s,
        "repeats": repeats,
        "jobs_rebuilt": jobs,
        "start_s": med("stored", "start_s"),
        "rehydrate_s": med("stored", "rehydrate_s"),
        "rehydrate_empty_s": med("empty", "rehydrate_s"),
        "rss_imported_mb": med("stored", "rss_imported_kb") / 1024,
        "rss_growth_empty_mb": growth_empty / 1024,
        "rss_growth_stored_mb": growth_full / 1024,
        "memory_growth_mb": growth_mb,
        "per_reminder_kb": growth_mb * 1024 / stored if stored else None,
        "per_reminder_us": med("stored", "rehydrate_s") * 1e6 / stored if stored else None,
        "runs": runs,
    }


# ---- part 2: lateness, end to end ------------------------------------------------------------


@dataclass
class Series:
    key: str
    label: str
    dues: list[float]
    first_origin: dict[int, int] = field(default_factory=dict)
    copies: dict[int, int] = field(default_factory=dict)
    seen_wall: dict[int, float] = field(default_factory=dict)
    late_marked: int = 0


def _quantiles_ms(values: list[float]) -> dict[str, float | None]:
    return {
        "p50": percentile_of(values, 0.50),
        "p95": percentile_of(values, 0.95),
        "p99": percentile_of(values, 0.99),
        "max": max(values, default=None),
        "min": min(values, default=None),
        "mean": mean_of(values),
    }


def evaluate(series: Series) -> dict[str, Any]:
    expected = len(series.dues)
    lateness = [series.first_origin[i] - series.dues[i] * 1000 for i in sorted(series.first_origin)]
    seen = [series.seen_wall[i] * 1000 - series.dues[i] * 1000 for i in sorted(series.seen_wall)]
    origins = sorted(series.first_origin.values())
    span_ms = origins[-1] - origins[0] if len(origins) > 1 else None
    return {
        "label": series.label,
        "expected": expected,
        "arrived": len(series.first_origin),
        "missing": expected - len(series.first_origin),
        "duplicates": sum(n - 1 for n in series.copies.values()),
        "marked_late": series.late_marked,
        "seen_live": len(series.seen_wall),
        "lateness_ms": _quantiles_ms(lateness),
        "seen_lateness_ms": _quantiles_ms(seen),
        # Between consecutive messages while the bot drains (meaningful for the burst).
        "ms_per_message": span_ms / (len(origins) - 1) if span_ms is not None else None,
        "samples_ms": [round(value, 1) for value in lateness],
    }


@dataclass
class Options:
    stored: int
    burst: int
    repeats: int
    lead: float
    plain: bool
    part: str
    check: bool
    output: Path


class LatenessBench:
    def __init__(self, options: Options, root: Path, server: EmbeddedHomeserver) -> None:
        self.options = options
        self.root = root
        self.url = server.url
        self.bot_id = server.register("akbot", PASSWORD)
        self.user_id = server.register("nutzerin", PASSWORD)
        # nio with E2EE, a big timeline limit: never a gap, even when a burst piles up.
        self.user = ChatClient(
            self.url,
            self.user_id,
            PASSWORD,
            root / "user",
            device_name="bench",
            poll_ms=LONG_POLL_MS,
            sync_filter=USER_SYNC_FILTER,
        )
        self.bot: BotProcess | None = None
        self.room_id = ""
        self.notes: list[str] = []

    async def _bot_in_room(self) -> bool:
        assert self.bot is not None
        self.bot.check_alive()
        if self.options.plain:
            return self.user.sees_member(self.room_id, self.bot_id)
        return self.user.knows_devices_of(self.room_id, self.bot_id)

    async def run(self) -> dict[str, Any]:
        options, burst = self.options, self.options.burst
        await self.user.start()
        self.room_id = await self.user.create_room("Erinnerungen", [self.bot_id], encrypted=not options.plain)
        self.bot = bench_bot(self.root / "bot", self.url, self.bot_id, PASSWORD, [self.room_id], self.user_id)
        # First start: log in, publish device keys, join - the bot has "been running for days".
        self.bot.start()
        await until(self._bot_in_room, 90.0, "bot joined", interval=0.1)
        await self.bot.stop()
        db = open_db(self.bot.folder / "data")
        first_due = time.time() + options.lead
        spread = Series(
            "spread",
            f"{burst} spread over {SPREAD_S:.0f} s",
            [first_due + i * SPREAD_S / burst for i in range(burst)],
        )
        burst_at = math.ceil(first_due + SPREAD_S + BURST_GAP_S)
        stress = Series("burst", f"{burst} due the same second (stress)", [float(burst_at)] * burst)
        seed_room_reminders(db, self.room_id, self.user_id, "spread", spread.dues)
        seed_room_reminders(db, self.room_id, self.user_id, "burst", stress.dues)
        db.close()
        # Second start: rehydrates the 2 M reminders, like any restart days after they were made.
        started = time.time()
        self.bot.start()  # a log of its own (bot-2.log)
        jobs = await self.bot.logged(r"scheduler started with (\d+) jobs")
        await self.bot.logged(r"akbot \S+ serving")
        ready = time.time()
        if first_due - ready < 5:
            self.notes.append(f"bot ready only {first_due - ready:.1f} s before the first due time")
        print(
            f"  bot restarted in {ready - started:.1f} s with {jobs.group(1)} jobs; "
            f"first reminder due in {first_due - ready:.1f} s",
            file=sys.stderr,
        )
        by_key = {"spread": spread, "burst": stress}

        def arrived_live() -> int:
            return sum(
                1
                for seen in self.user.timeline.events
                if seen.sender == self.bot_id and MARKER.search(seen.body)
            )

        deadline = burst_at + DRAIN_TIMEOUT_S
        while arrived_live() < 2 * burst and time.time() < deadline:
            self.bot.check_alive()
            await asyncio.sleep(0.5)
        await asyncio.sleep(DUPLICATE_WATCH_S)
        for seen in self.user.timeline.events:
            found = MARKER.search(seen.body) if seen.sender == self.bot_id else None
            if found:
                by_key[found.group(1)].seen_wall.setdefault(int(found.group(2)), seen.seen_wall)
        history = await self.user.history(self.room_id, page=500)
        undecryptable = sum(1 for seen in history if seen.type == "m.room.encrypted")
        for seen in history:
            found = MARKER.search(seen.body) if seen.sender == self.bot_id else None
            if not found:
                continue
            series, index = by_key[found.group(1)], int(found.group(2))
            series.copies[index] = series.copies.get(index, 0) + 1
            previous = series.first_origin.get(index)
            series.first_origin[index] = seen.origin_ts if previous is None else min(previous, seen.origin_ts)
            series.late_marked += "verspätet" in seen.body
        floor = await self.floor(burst)
        await self.bot.stop()
        deliveries = self.deliveries()
        return {
            "room": "unencrypted" if options.plain else "encrypted (megolm; nio user with E2EE)",
            "bot": "subprocess: python -m bot run, encryption = true",
            "lead_s": options.lead,
            "bot_restart_s": ready - started,
            "ready_to_first_due_s": first_due - ready,
            "jobs_rebuilt_at_restart": int(jobs.group(1)),
            "undecryptable_in_history": undecryptable,
            "undecryptable_live": len(self.user.undecryptable),
            "limited_syncs": self.user.limited_syncs,
            "series": {key: evaluate(series) for key, series in by_key.items()},
            "deliveries_table": deliveries,
            "floor": floor,
            "notes": self.notes,
        }

    async def floor(self, count: int) -> dict[str, Any]:
        """The user sends ``count`` messages back to back into the room: the homeserver's pace."""
        durations = []
        started = time.perf_counter()
        for n in range(count):
            t0 = time.perf_counter()
            await self.user.send(self.room_id, f"floor {n}")
            durations.append((time.perf_counter() - t0) * 1000)
        total = time.perf_counter() - started
        return {
            "label": f"user sends {count} back to back",
            "messages": count,
            "total_s": total,
            "ms_per_message": total * 1000 / count if count else None,
            "send_ms": _quantiles_ms(durations),
        }

    def deliveries(self) -> dict[str, Any]:
        assert self.bot is not None
        db = Database(self.bot.folder / "data" / "akbot.db")
        try:
            rows = db.execute(
                "SELECT rtrim(substr(r.text, 7, 6)) AS series, d.outcome, d.late, count(*)"
                " FROM deliveries d JOIN reminders r ON r.id = d.reminder_id"
                " WHERE r.text LIKE 'bench %' GROUP BY 1, 2, 3"
            ).fetchall()
            states = db.execute(
                "SELECT state, count(*) FROM reminders WHERE text LIKE 'bench %' GROUP BY 1"
            ).fetchall()
        finally:
            db.close()
        return {
            "by_series_outcome_late": [list(row) for row in rows],
            "reminder_states": {str(state): int(n) for state, n in states},
        }

    async def close(self) -> None:
        if self.bot is not None:
            await self.bot.stop()
        await self.user.stop()

    def bot_log_tail(self) -> str:
        return self.bot.tail() if self.bot is not None else "(no bot)"


async def measure_lateness(options: Options, root: Path, server: EmbeddedHomeserver) -> dict[str, Any]:
    async with guarded(lambda: LatenessBench(options, root, server)) as bench:
        return await bench.run()


# ---- report -----------------------------------------------------------------------------------


def targets_of(result: dict[str, Any]) -> dict[str, Any]:
    targets: dict[str, Any] = {}
    rehydration = result.get("rehydration")
    if rehydration is not None:
        # The targets are stated for 10 000; scale linearly for other sizes.
        scale = rehydration["stored"] / TARGET_STORED
        targets["rehydrate_s_max"] = TARGET_REHYDRATE_S * scale
        targets["memory_growth_mb_max"] = TARGET_MEMORY_MB * scale
        targets["rehydrate_met"] = rehydration["rehydrate_s"] < targets["rehydrate_s_max"]
        targets["memory_met"] = rehydration["memory_growth_mb"] < targets["memory_growth_mb_max"]
        targets["all_jobs_rebuilt"] = rehydration["jobs_rebuilt"] == rehydration["stored"]
    lateness = result.get("lateness")
    if lateness is not None:
        spread = lateness["series"]["spread"]
        p99 = spread["lateness_ms"]["p99"]
        targets["p99_lateness_s_max"] = TARGET_P99_S
        targets["p99_met"] = p99 is not None and p99 < TARGET_P99_S * 1000
        targets["all_arrived_exactly_once"] = all(
            item["missing"] == 0 and item["duplicates"] == 0 for item in lateness["series"].values()
        )
    return targets


def print_table(result: dict[str, Any]) -> None:
    meta, targets = result["meta"], result["targets"]
    print(
        f"\nakbot reminders - Synapse {meta['synapse']}, APScheduler {meta['apscheduler']}, {meta['cpus']} CPUs"
    )
    rehydration = result.get("rehydration")
    if rehydration is not None:
        print(
            f"\nRehydration of {rehydration['stored']} stored reminders (fresh child process, "
            f"median of {rehydration['repeats']})"
        )
        rows = [
            ("jobs rebuilt", f"{rehydration['jobs_rebuilt']}"),
            ("scheduler.start() (sync rebuild)", f"{fmt(rehydration['start_s'], 3)} s"),
            ("rehydrate (until loop idle)", f"{fmt(rehydration['rehydrate_s'], 3)} s"),
            ("  per reminder", f"{fmt(rehydration['per_reminder_us'], 1)} µs"),
            ("RSS after imports", f"{fmt(rehydration['rss_imported_mb'])} MB"),
            ("RSS growth, empty database", f"{fmt(rehydration['rss_growth_empty_mb'])} MB"),
            ("RSS growth, stored reminders", f"{fmt(rehydration['rss_growth_stored_mb'])} MB"),
            ("memory growth (stored - empty)", f"{fmt(rehydration['memory_growth_mb'])} MB"),
            ("  per reminder", f"{fmt(rehydration['per_reminder_kb'], 2)} KB"),
        ]
        for label, value in rows:
            print(f"  {label:<36}{value:>14}")
        print(
            f"  targets: rehydrate {fmt(rehydration['rehydrate_s'], 2)} s < "
            f"{fmt(targets['rehydrate_s_max'], 2)} s {VERDICT[targets['rehydrate_met']]}; memory "
            f"{fmt(rehydration['memory_growth_mb'])} MB < {fmt(targets['memory_growth_mb_max'])} MB "
            f"{VERDICT[targets['memory_met']]}"
        )
    lateness = result.get("lateness")
    if lateness is not None:
        print(
            f"\nLateness (origin_server_ts - due), {lateness['room']} room, bot {lateness['bot']}; "
            f"bot ready {fmt(lateness['ready_to_first_due_s'])} s before the first due time"
        )
        table = Table(
            ("series", "<34"),
            ("arrived", ">9"),
            ("dup", ">5"),
            ("late", ">6"),
            *((title, ">8") for title in ("p50", "p95", "p99", "max")),
            ("seen p99", ">10"),
            ("ms/msg", ">8"),
            indent="  ",
        )
        table.print_header()
        for item in lateness["series"].values():
            q, seen = item["lateness_ms"], item["seen_lateness_ms"]
            table.print_row(
                item["label"],
                f"{item['arrived']:>5}/{item['expected']:<3}",
                item["duplicates"],
                item["marked_late"],
                *(fmt(q[name]) for name in ("p50", "p95", "p99", "max")),
                fmt(seen["p99"]),
                fmt(item["ms_per_message"]),
            )
        floor = lateness["floor"]
        print(
            f"  {'floor: ' + floor['label']:<34}{'':>32}{'':>8}{fmt(floor['send_ms']['max']):>8}"
            f"{'':>10}{fmt(floor['ms_per_message']):>8}"
        )
        print(
            "  (ms; late = marked 'verspätet' by the bot; seen = to the user's sync; "
            "ms/msg = pace between consecutive messages)"
        )
        print(
            f"  target: spread p99 {fmt(lateness['series']['spread']['lateness_ms']['p99'])} ms < "
            f"{TARGET_P99_S * 1000:.0f} ms {VERDICT[targets['p99_met']]}; every reminder exactly once: "
            f"{VERDICT[targets['all_arrived_exactly_once']]}"
        )
        for note in lateness["notes"]:
            print(f"  note: {note}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.reminders", description=__doc__.split("\n")[0])
    parser.add_argument("--stored", type=int, default=TARGET_STORED, help="reminders to rehydrate (10000)")
    parser.add_argument("--burst", type=int, default=200, help="reminders due within the minute (200)")
    parser.add_argument("--repeats", type=int, default=3, help="rehydration child runs per variant (3)")
    parser.add_argument("--lead", type=float, default=25.0, help="seconds from seeding to the first due (25)")
    parser.add_argument("--plain", action="store_true", help="unencrypted room instead of an encrypted one")
    parser.add_argument(
        "--part", choices=["all", "rehydration", "lateness"], default="all", help="what to measure (all)"
    )
    result_options(parser, RESULTS)
    # Internal: one rehydration measurement in a fresh process, started by the benchmark itself.
    parser.add_argument("--rehydrate-child", type=Path, metavar="DATA_DIR", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.rehydrate_child:
        return rehydrate_child(args.rehydrate_child)
    if args.stored < 1 or args.burst < 1 or args.repeats < 1 or args.lead < 5:
        parser.error("--stored, --burst and --repeats must be >= 1, --lead >= 5")
    options = Options(
        args.stored, args.burst, args.repeats, args.lead, args.plain, args.part, args.check, args.output
    )
    configure_logging()
    result: dict[str, Any] = {
        "meta": {
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "python": platform.python_version(),
            "synapse": importlib.metadata.version("matrix-synapse"),
            "apscheduler": importlib.metadata.version("apscheduler"),
            "matrix_nio": importlib.metadata.version("matrix-nio"),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
        }
    }
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="akbot-bench-reminders-") as temp:
        root = Path(temp)
        try:
            if options.part in ("all", "rehydration"):
                print(f"rehydration: {options.stored} stored reminders …", file=sys.stderr)
                result["rehydration"] = measure_rehydration(
                    root / "rehydration", options.stored, options.repeats
                )
            if options.part in ("all", "lateness"):
                print("lateness: starting Synapse …", file=sys.stderr)
                server = EmbeddedHomeserver(root / "synapse")
                server.start()
                try:
                    result["lateness"] = asyncio.run(measure_lateness(options, root, server))
                finally:
                    server.stop()
        except (KeyboardInterrupt, asyncio.CancelledError):
            print("interrupted", file=sys.stderr)
            return 130
    result["meta"]["seconds"] = round(time.monotonic() - started, 1)
    result["targets"] = targets_of(result)
    print_table(result)
    seconds = f" ({result['meta']['seconds']} s)"
    return finish(result, options.output, options.check, note=seconds, ensure_ascii=False)


if __name__ == "__main__":
    sys.exit(main())
