"""A year of data — two, in fact: does the bot stay as quick with the record of a busy group?

One run seeds two databases with the same "what the commands show" — the next meeting with 15 TOPs,
a poll with 30 votes, reminders, released minutes with decisions — and one of them also with two
years of history of a busy group: 100 meetings, 1 500 agenda items, 400 decisions, 600 action
items, 20 000 sent and 2 000 active reminders, 300 polls with 30 votes each, 50 members. Then:

1. **in process** (the whole app above the Matrix adapter, ``tests/kit/offline.py``): the daily
   retention purge of the two years, as the app's job runs it, while a probe measures how long the
   event loop is blocked at a time; and the bot's own handling time of each command on either
   database (where its time goes; no target: lists of a busy room are longer by design).
2. **against a local Synapse** (two bots as ``python -m bot run``, one per database, one room each):
   start-up from the process start to the first ``!ping`` answered — the first start on the seeded
   database, which also purges what is older than the retention, then restarts; the idle RSS; the
   database's size; then ``!ping``, ``!tagesordnung``, ``!sitzungen``, ``!erinnerungen`` (chair),
   ``!umfrage stand`` and ``!beschlüsse <Wort>`` as a member waits for them, interleaved round by
   round between the two bots. ``!frage``'s record search is measured in process only: the answer
   itself is the model's time.

Targets (``--check``): first start ≤ the small database's + 3 s; every command's round-trip p95 ≤
1.2 × the same command on the small database; idle RSS ≤ 120 MB; the purge blocks the event loop
≤ 100 ms at a time.

    .venv/bin/python -m bench.scale               # ~3 min
    .venv/bin/python -m bench.scale --check
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import json
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.homeserver import EmbeddedHomeserver
from bot.storage import DB_FILENAME, open_db
from tests.kit.offline import CHAIR, ROOM, dispatch, offline_app
from tests.kit.processes import BotProcess
from tests.kit.report import Table, finish, fmt, result_options, times
from tests.kit.runs import bench_bot, configure_logging
from tests.kit.stats import percentile_of, ratio
from tests.kit.users import RawClient, round_trip

RESULTS = Path(__file__).parent / "results" / "scale.json"
BERLIN = ZoneInfo("Europe/Berlin")
PASSWORD = "bench-password"
VERDICT = {True: "✓", False: "✗"}
TARGET_STARTUP_EXTRA_S = 3.0
TARGET_COMMAND_RATIO = 1.2
TARGET_RSS_MB = 120.0
TARGET_BLOCKED_MS = 100.0
PROBE_S = 0.005

COMMON = (
    "der", "die", "das", "und", "mit", "für", "von", "zum", "zur", "im", "auf", "aus", "bei", "nach",
    "Stand", "Bericht", "Vorschlag", "Entwurf", "Abstimmung", "Termin", "Frage", "Ergebnis", "Vorlage",
    "Arbeitsgruppe", "Rückmeldung", "Einsatz", "Prüfung", "Planung", "Umsetzung", "Beteiligung", "weiteren",
    "nächsten", "Schritte", "Abschluss", "Sachstand", "Zeitplan", "Kosten", "Anforderungen", "Ziel",
)  # fmt: skip
TOPICS = (
    "Datenschutz", "Leitlinie", "Pilotprojekt", "Klinik", "Förderschule", "Schulung", "Beschaffung",
    "Sprachmodell", "Dienstvereinbarung", "Barrierefreiheit", "Rechenzentrum", "Personalrat",
    "Transkription", "Evaluation", "Haushalt", "Ausschreibung", "Informationssicherheit", "Chatbot",
    "Bürgerservice", "Übersetzung", "Spracherkennung", "Dokumentenanalyse", "Terminplanung", "Jugendhilfe",
    "Eingliederungshilfe", "Archiv", "Museum", "Straßenbau", "Vergabe", "Fortbildung", "Ethik", "Risiko",
    "Folgenabschätzung", "Lizenz", "Open-Source", "Infrastruktur", "Grafikkarte", "Betriebsmodell",
    "Kommunikation", "Öffentlichkeitsarbeit", "Webseite", "Formular", "Antrag", "Akte", "Posteingang",
    "Telefonie", "Protokollierung", "Zugriffsrechte", "Löschkonzept", "Schnittstelle", "Testbetrieb",
    "Abnahme", "Wartung", "Support", "Kennzahlen", "Qualität", "Pflege", "Therapie", "Diagnostik",
    "Förderplan",
)  # fmt: skip
GROUPS = ("Verwaltung", "IT", "Kliniken", "Förderschulen", "Personalvertretung", "Unternehmen", "Politik")


@dataclass(frozen=True)
class Size:
    """How much a seeded database holds."""

    past_meetings: int
    items_per_meeting: int
    decisions_per_meeting: int
    actions_per_meeting: int
    sent_reminders: int
    active_reminders: int
    closed_polls: int
    members: int = 50
    votes_per_poll: int = 30


SMALL = Size(1, 15, 4, 6, 0, 20, 0)
"""What the commands show, and nothing else: one released meeting, the next one, one open poll."""
TWO_YEARS = Size(99, 15, 4, 6, 20_000, 2_000, 299)
"""+ the next meeting and the open poll: 100 meetings, 1 500 items, 400 decisions, 600 action items,
20 000 sent and 2 000 active reminders, 300 polls."""


def member_ids(count: int) -> list[str]:
    return [CHAIR] + [f"@mitglied{n}:{'lvr.de' if n % 2 else 'lwl.org'}" for n in range(1, count)]


def sentence(rng: random.Random, words: int = 8) -> str:
    """Text as minutes have it: mostly common words, one or two topics (so a search word is rare)."""
    chosen = [rng.choice(COMMON) for _ in range(words)]
    for _ in range(1 if words < 6 else 2):
        chosen[rng.randrange(words)] = rng.choice(TOPICS)
    return " ".join(chosen)


def seed(db: Database, size: Size, *, room_id: str, now: datetime, rng: random.Random) -> dict[str, int]:
    """Write ``size`` straight into a migrated database (the bot's own tables, as its services
    leave them); returns the row counts."""
    members = member_ids(size.members)
    ts = now.timestamp()
    day = 86_400.0
    with db.atomic():
        for n, user in enumerate(members):
            db.execute(
                "INSERT INTO profiles (user_id, groups, updated_by, updated_at) VALUES (?, ?, ?, ?)",
                [user, json.dumps([GROUPS[n % len(GROUPS)]]), user, ts],
            )
        # Past meetings every ~7 days back from yesterday, released minutes for each; then the next one.
        starts = [*[ts - day - n * 7.3 * day for n in range(size.past_meetings)][::-1], ts + 10 * day]
        seq_by_year: dict[int, int] = {}
        for index, start in enumerate(starts):
            past = start < ts
            when = datetime.fromtimestamp(start, BERLIN).replace(hour=10, minute=0, second=0)
            meeting_id = db.execute(
                "INSERT INTO meetings (room_id, title, location, start_at, start_ts, duration_min, uid, sequence,"
                " status, created_by, created_at, updated_at) VALUES (?, ?, 'Köln', ?, ?, 120, ?, 0, 'planned', ?,"
                " ?, ?)",
                [room_id, f"Sitzung {index + 1}", when.isoformat(), when.timestamp(), f"m{index}@bench", CHAIR,
                 start - 30 * day, start - 30 * day],
            ).lastrowid  # fmt: skip
            tops = []
            for position in range(1, size.items_per_meeting + 1):
                submitter = rng.choice(members)
                item_id = db.execute(
                    "INSERT INTO agenda_items (room_id, meeting_id, title, description, duration_min, submitter,"
                    " submitter_name, organisation, submitted_at, status, position) VALUES (?, ?, ?, ?, 10, ?, ?,"
                    " 'LVR', ?, 'accepted', ?)",
                    [room_id, meeting_id, sentence(rng, 3), sentence(rng, 12), submitter, submitter,
                     start - 10 * day, position],
                ).lastrowid  # fmt: skip
                tops.append({"number": position + 1, "title": sentence(rng, 3), "item_id": item_id})
            if not past:
                continue
            for user in members[:20]:
                db.execute(
                    "INSERT INTO attendance (meeting_id, user_id, name, organisation, present, source, at)"
                    " VALUES (?, ?, ?, 'LVR', 1, 'spoke', ?)",
                    [meeting_id, user, user, start],
                )
            year = when.year

            def done(start: float) -> bool:
                # Older action items are done; of the last three months' about half.
                return start < ts - 90 * day or rng.random() < 0.5

            for kind, count in (
                ("decision", size.decisions_per_meeting),
                ("action", size.actions_per_meeting),
            ):
                for n in range(count):
                    number = None
                    if kind == "decision":
                        number = seq_by_year[year] = seq_by_year.get(year, 0) + 1
                    owner = rng.choice(members) if kind == "action" else None
                    due = start + 14 * day
                    db.execute(
                        "INSERT INTO tags (room_id, meeting_id, top_number, top_title, kind, text, author, author_name,"
                        " event_id, created_at, year, seq, owner, owner_name, due_at, due_ts, done_at)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [room_id, meeting_id, tops[n % len(tops)]["number"], tops[n % len(tops)]["title"], kind,
                         sentence(rng, 14), CHAIR, CHAIR, f"$tag{meeting_id}-{kind}-{n}", start + 600 * n,
                         year if number else None, number, owner, owner, datetime.fromtimestamp(due, BERLIN).isoformat()
                         if owner else None, due if owner else None, due if owner and done(start) else None],
                    )  # fmt: skip
            db.execute(
                "INSERT INTO minutes (meeting_id, room_id, state, chair, chair_name, started_at, ended_at, current_top,"
                " tops, switches, approved_by, approved_at) VALUES (?, ?, 'approved', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [meeting_id, room_id, CHAIR, CHAIR, start, start + 7200, tops[-1]["number"], json.dumps(tops),
                 json.dumps([[start, 2]]), CHAIR, start + 3 * day],
            )  # fmt: skip
        # Polls: closed ones over the two years, and the open one with its 30 votes.
        for index in range(size.closed_polls + 1):
            is_open = index == size.closed_polls
            created = ts - day if is_open else ts - (index + 1) * 2.4 * day
            poll_id = db.execute(
                "INSERT INTO polls (room_id, question, anonymous, state, created_by, created_at, closed_at, nudged)"
                " VALUES (?, ?, 0, ?, ?, ?, ?, 0)",
                [room_id, sentence(rng, 4), "open" if is_open else "closed", CHAIR, created,
                 None if is_open else created + 5 * day],
            ).lastrowid  # fmt: skip
            for position in range(1, 6):
                db.execute(
                    "INSERT INTO poll_options (poll_id, position, label, at) VALUES (?, ?, ?, NULL)",
                    [poll_id, position, f"Termin {position}"],
                )
            for voter in rng.sample(members, size.votes_per_poll):
                choices = {str(p): rng.choice(("yes", "maybe")) for p in rng.sample(range(1, 6), 2)}
                db.execute(
                    "INSERT INTO votes (poll_id, voter, choices, spoiled, channel, cast_ts) VALUES (?, ?, ?, 0, 'text', ?)",
                    [poll_id, voter, json.dumps(choices), created + 3600],
                )
        # Reminders: sent ones (with their delivery) over the two years; active ones ahead.
        for n in range(size.sent_reminders):
            due = ts - rng.uniform(1, 730) * day
            reminder_id = db.execute(
                "INSERT INTO reminders (room_id, creator, kind, text, first_at, next_ts, mention_room, state,"
                " created_at) VALUES (?, ?, ?, ?, ?, NULL, 0, 'done', ?)",
                [room_id, rng.choice(members), "personal" if n % 3 else "room", sentence(rng, 5),
                 datetime.fromtimestamp(due, BERLIN).isoformat(), due - day],
            ).lastrowid  # fmt: skip
            db.execute(
                "INSERT INTO deliveries (reminder_id, due_ts, transaction_id, late, outcome, event_id, sent_ts)"
                " VALUES (?, ?, ?, 0, 'sent', ?, ?)",
                [reminder_id, due, f"tx-{n}", f"$sent{n}", due],
            )
        for n in range(size.active_reminders):
            due = ts + rng.uniform(0.1, 90) * day
            series = n % 10 == 0
            db.execute(
                "INSERT INTO reminders (room_id, creator, kind, text, first_at, rrule, next_ts, mention_room, state,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'active', ?)",
                [room_id, rng.choice(members), "room" if n % 3 == 0 else "personal", sentence(rng, 5),
                 datetime.fromtimestamp(due, BERLIN).isoformat(), "FREQ=WEEKLY" if series else None, due,
                 ts - day],
            )  # fmt: skip
    tables = (
        "meetings",
        "agenda_items",
        "tags",
        "attendance",
        "minutes",
        "polls",
        "votes",
        "reminders",
        "deliveries",
    )
    return {table: int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]) for table in tables}


# ---- part 2: commands in process, and the purge ----------------------------------------------------

COMMANDS = (
    ("!tagesordnung", "agenda"),
    ("!sitzungen", "meetings"),
    ("!erinnerungen", "reminders (chair)"),
    ("!umfrage stand", "poll standing"),
    ("!beschlüsse Datenschutz", "decisions <word>"),
)
QUESTION = "Was hat der Arbeitskreis zum Datenschutz beim Sprachmodell beschlossen?"


class LoopProbe:
    """How long the event loop was blocked at a time: a task that asks to wake every 5 ms."""

    def __init__(self) -> None:
        self.worst_ms = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(PROBE_S)
            self.worst_ms = max(self.worst_ms, (time.perf_counter() - before - PROBE_S) * 1000)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def timed(action: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await action()
    return (time.perf_counter() - started) * 1000


async def in_process(root: Path, rounds: int, seed_value: int) -> dict[str, Any]:
    now = datetime.now(BERLIN)
    apps = {}
    seeded: dict[str, dict[str, int]] = {}
    for name, size in (("small", SMALL), ("two_years", TWO_YEARS)):
        db = open_db(root / name)
        seeded[name] = seed(db, size, room_id=ROOM, now=now, rng=random.Random(seed_value))
        db.close()
        apps[name] = offline_app(root / name, members=member_ids(size.members))[0]

    # The daily purge on two years of data, as the app runs it, with the loop probed.
    probe = LoopProbe()
    probe.start()
    purge_ms = await timed(apps["two_years"]._purge_old_data)
    await asyncio.sleep(0.05)
    await probe.stop()
    purged = {name: seeded["two_years"][name] for name in ("reminders", "deliveries", "polls")}

    samples: dict[str, dict[str, list[float]]] = {
        label: {"small": [], "two_years": []} for _, label in COMMANDS
    }
    samples["!frage record search"] = {"small": [], "two_years": []}
    for round_number in range(rounds + 3):
        order = ("small", "two_years") if round_number % 2 else ("two_years", "small")
        for name in order:
            app = apps[name]
            for command, label in COMMANDS:

                async def run(app: Any = app, command: str = command) -> object:
                    return await dispatch(app, command, CHAIR)

                took = await timed(run)
                if round_number >= 3:  # the first rounds warm caches
                    samples[label][name].append(took)

            async def search(app: Any = app) -> object:
                return await app.knowledge.find(ROOM, QUESTION)

            took = await timed(search)
            if round_number >= 3:
                samples["!frage record search"][name].append(took)
    for app in apps.values():
        await app.polls.shutdown()
        await app.direct.close()
        app.db.close()
    commands = {}
    for label, by_db in samples.items():
        small_p95 = percentile_of(by_db["small"], 0.95, 2)
        large_p95 = percentile_of(by_db["two_years"], 0.95, 2)
        commands[label] = {
            "small_p50_ms": percentile_of(by_db["small"], 0.5, 2),
            "small_p95_ms": small_p95,
            "two_years_p50_ms": percentile_of(by_db["two_years"], 0.5, 2),
            "two_years_p95_ms": large_p95,
            "ratio_p95": ratio(large_p95, small_p95),
        }
    return {
        "seeded": seeded,
        "commands": commands,
        "purge": {"ms": round(purge_ms, 1), "worst_blocked_ms": round(probe.worst_ms, 1), "seeded": purged},
    }


# ---- part 1: start-up, RSS, size, against a local Synapse ------------------------------------------


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def size_mb(data_dir: Path) -> float:
    return sum(path.stat().st_size for path in data_dir.glob(f"{DB_FILENAME}*")) / 1024 / 1024


ROUND_TRIP_COMMANDS = ("!ping", *(command for command, _ in COMMANDS))


@dataclass
class Variant:
    name: str
    size: Size
    user: RawClient
    room_id: str
    bot_id: str
    bot: BotProcess

    async def ask(self, body: str) -> float | None:
        bot_id = self.bot_id
        sample = await round_trip(
            self.user,
            self.room_id,
            body,
            lambda seen, event: seen.sender == bot_id and seen.in_reply_to == event,
            20.0,
        )
        return sample.total_ms if sample else None

    async def start_until_answered(self) -> float:
        """Seconds from the process start to the first ``!ping`` answered."""
        started = time.perf_counter()
        self.bot.start()
        await self.bot.serving(120)
        while await self.ask("!ping") is None:
            self.bot.check_alive()
        return round(time.perf_counter() - started, 2)


async def on_synapse(
    root: Path, server: EmbeddedHomeserver, restarts: int, rounds: int, seed_value: int
) -> dict[str, Any]:
    chair_name = CHAIR.split(":")[0].lstrip("@")
    chair_id = server.register(chair_name, PASSWORD)
    variants: list[Variant] = []
    try:
        for name, size in (("small", SMALL), ("two_years", TWO_YEARS)):
            bot_id = server.register(f"akbot{name.replace('_', '')}", PASSWORD)
            user = RawClient(server.url, chair_id, server.login(chair_name, PASSWORD))
            room_id = await user.create_room(name, [bot_id])
            await user.start(room_id)
            bot = bench_bot(root / name, server.url, bot_id, PASSWORD, [room_id], chair_id)
            variant = Variant(name, size, user, room_id, bot_id, bot)
            variants.append(variant)
            # A first start to log in, publish its keys and join: a bot that has been running a while.
            bot.start()
            await bot.serving(90)
            for _ in range(600):
                if bot_id in await user.joined_members(room_id):
                    break
                await asyncio.sleep(0.1)
            await bot.stop()
            db = open_db(bot.folder / "data")
            seed(db, size, room_id=room_id, now=datetime.now(BERLIN), rng=random.Random(seed_value))
            db.close()
        result: dict[str, Any] = {
            v.name: {"db_mb_seeded": round(size_mb(v.bot.folder / "data"), 1)} for v in variants
        }
        # Start-ups, interleaved: the first on the seeded database (it also purges), then restarts.
        starts: dict[str, list[float]] = {v.name: [] for v in variants}
        for attempt in range(1 + restarts):
            for variant in variants if attempt % 2 == 0 else variants[::-1]:
                starts[variant.name].append(await variant.start_until_answered())
                if attempt == 0:
                    await asyncio.sleep(5)  # idle: what it holds when nothing happens
                    pid = variant.bot.pid
                    result[variant.name]["idle_rss_mb"] = round(rss_mb(pid) or 0.0, 1) if pid else None
                if attempt < restarts:
                    await variant.bot.stop()
        for variant in variants:
            result[variant.name].update(
                first_start_s=starts[variant.name][0],
                restarts_s=starts[variant.name][1:],
                db_mb_after_purge=round(size_mb(variant.bot.folder / "data"), 1),
            )
        # Commands as a member waits for them, both bots running, interleaved round by round.
        samples: dict[str, dict[str, list[float]]] = {
            c: {v.name: [] for v in variants} for c in ROUND_TRIP_COMMANDS
        }
        for number in range(rounds + 2):
            for command in ROUND_TRIP_COMMANDS:
                for variant in variants if number % 2 == 0 else variants[::-1]:
                    took = await variant.ask(command)
                    if number >= 2 and took is not None:  # two rounds to warm up
                        samples[command][variant.name].append(took)
        result["round_trip"] = {
            command: {
                **{f"{name}_p95_ms": percentile_of(values, 0.95, 1) for name, values in by_variant.items()},
                **{f"{name}_p50_ms": percentile_of(values, 0.5, 1) for name, values in by_variant.items()},
                "answered": {name: len(values) for name, values in by_variant.items()},
                "ratio_p95": ratio(
                    percentile_of(by_variant["two_years"], 0.95), percentile_of(by_variant["small"], 0.95)
                ),
            }
            for command, by_variant in samples.items()
        }
        return result
    finally:
        for variant in variants:
            await variant.bot.stop()
            await variant.user.stop()


# ---- the run --------------------------------------------------------------------------------------


def targets_of(result: dict[str, Any]) -> dict[str, Any]:
    synapse = result.get("synapse", {})
    small, large = synapse.get("small", {}), synapse.get("two_years", {})
    trips = synapse.get("round_trip", {})
    return {
        "startup_extra_max_s": TARGET_STARTUP_EXTRA_S,
        "startup_met": bool(small and large)
        and large["first_start_s"] <= small["first_start_s"] + TARGET_STARTUP_EXTRA_S,
        "command_ratio_max": TARGET_COMMAND_RATIO,
        "commands_met": bool(trips)
        and all(
            c["ratio_p95"] is not None and c["ratio_p95"] <= TARGET_COMMAND_RATIO for c in trips.values()
        ),
        "all_answered": bool(trips) and all(min(c["answered"].values()) >= 1 for c in trips.values()),
        "rss_max_mb": TARGET_RSS_MB,
        "rss_met": bool(large) and (large.get("idle_rss_mb") or 1e9) <= TARGET_RSS_MB,
        "blocked_max_ms": TARGET_BLOCKED_MS,
        "blocked_met": result["in_process"]["purge"]["worst_blocked_ms"] <= TARGET_BLOCKED_MS,
    }


def print_table(result: dict[str, Any]) -> None:
    targets = result["targets"]
    synapse = result.get("synapse")
    if synapse:
        table = Table(
            ("as a member waits (ms)", "<26"),
            *((t, ">10") for t in ("small p50", "small p95", "2 y p50", "2 y p95", "ratio p95")),
        )
        print()
        table.print_header()
        for command, c in synapse["round_trip"].items():
            table.print_row(
                command,
                fmt(c["small_p50_ms"]),
                fmt(c["small_p95_ms"]),
                fmt(c["two_years_p50_ms"]),
                fmt(c["two_years_p95_ms"]),
                times(c["ratio_p95"]),
            )
        print(f"target: every ratio <= {TARGET_COMMAND_RATIO:.1f}x {VERDICT[targets['commands_met']]}")
        table = Table(
            ("start-up to first !ping", "<24"),
            *((t, ">14") for t in ("first start", "restarts", "idle RSS", "DB seeded", "DB after")),
        )
        print()
        table.print_header()
        for name in ("small", "two_years"):
            item = synapse[name]
            table.print_row(
                name,
                f"{item['first_start_s']:.2f} s",
                " / ".join(f"{x:.2f}" for x in item["restarts_s"]) + " s",
                f"{fmt(item['idle_rss_mb'])} MB",
                f"{item['db_mb_seeded']:.1f} MB",
                f"{item['db_mb_after_purge']:.1f} MB",
            )
        print(
            f"targets: first start <= small + {TARGET_STARTUP_EXTRA_S:.0f} s {VERDICT[targets['startup_met']]}; "
            f"idle RSS <= {TARGET_RSS_MB:.0f} MB {VERDICT[targets['rss_met']]}"
        )
    table = Table(
        ("the bot's own time (ms)", "<26"),
        *((t, ">10") for t in ("small p50", "small p95", "2 y p50", "2 y p95", "ratio p95")),
    )
    print("\nin process, without the homeserver (where the bot's own time goes; no target):")
    table.print_header()
    for label, c in result["in_process"]["commands"].items():
        table.print_row(
            label,
            fmt(c["small_p50_ms"], 2),
            fmt(c["small_p95_ms"], 2),
            fmt(c["two_years_p50_ms"], 2),
            fmt(c["two_years_p95_ms"], 2),
            times(c["ratio_p95"]),
        )
    purge = result["in_process"]["purge"]
    print(
        f"\ndaily purge of two years: {purge['ms']:.0f} ms, event loop blocked at most "
        f"{purge['worst_blocked_ms']:.1f} ms (<= {TARGET_BLOCKED_MS:.0f} ms {VERDICT[targets['blocked_met']]})"
    )


async def measure(options: argparse.Namespace, root: Path) -> dict[str, Any]:
    result: dict[str, Any] = {
        "in_process": await in_process(root / "in-process", options.rounds, options.seed)
    }
    if not options.no_synapse:
        server = EmbeddedHomeserver(root / "synapse")
        print("starting Synapse …", file=sys.stderr)
        server.start()
        try:
            result["synapse"] = await on_synapse(
                root / "synapse-bots", server, options.restarts, options.rounds, options.seed
            )
        finally:
            server.stop()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=40, help="command rounds per database (40)")
    parser.add_argument("--restarts", type=int, default=2, help="restarts measured after the first start (2)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-synapse", action="store_true", help="only the part in process")
    result_options(parser, RESULTS)
    options = parser.parse_args(argv)
    configure_logging()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="akbot-bench-scale-") as temp:
        try:
            result = asyncio.run(measure(options, Path(temp)))
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            return 130
    result["meta"] = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seconds": round(time.monotonic() - started, 1),
        "python": platform.python_version(),
        "synapse": importlib.metadata.version("matrix-synapse"),
        "cpus": os.cpu_count(),
        "load_at_start": os.getloadavg()[0],
    }
    result["targets"] = targets_of(result)
    print_table(result)
    return finish(
        result, options.output, options.check, note=f" ({result['meta']['seconds']} s)", ensure_ascii=False
    )


if __name__ == "__main__":
    sys.exit(main())
