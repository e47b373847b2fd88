"""``!frage`` against the real local model: time to first visible token, and ``!ping`` under load.

Method. One run starts one local Synapse (``EmbeddedHomeserver``, as in ``bench.latency``), the
real model server (``bot.modelserver.ModelServer``: llama-cpp-python serving Gemma 3 270M on the
CPU) and two bot subprocesses (``python -m bot run``, ``encryption = true``, an ``[llm]`` section
pointing at the model server, ``user_rate = "1000/1min"`` so that the rate limit never interferes).
The users are lean raw-HTTP clients (``tests.kit.users.RawClient``) in unencrypted rooms, each with a
long-poll ``/sync`` running all the time.

0. **Concurrency probe** (``--probe``, on by default, ~5 s). llama-cpp-python's server interrupts a
   running stream as soon as another request arrives (its ``interrupt_requests`` setting, on by
   default, and ``ModelServer`` keeps the default). A throwaway server as ``ModelServer`` starts it
   gets two concurrent streaming requests; the token count of each is recorded. The measured server
   then runs with ``INTERRUPT_REQUESTS=false`` in its environment (it reads its settings from there
   too), else the load phase below would measure empty answers instead of streaming ones.
1. **Time to first visible token.** Per round one short question, asked twice, interleaved, the
   order alternating from round to round: the user sends ``!frage <question>`` to bot A
   (``max_tokens = 48``) and the clock runs from just before the send request to the moment the
   user's own sync delivers the first edit (``m.replace``) of the bot's "…" thread message whose new
   body shows text (not just "…"); the round ends with the final edit (the one with the label).
   Directly on the endpoint, ``POST /v1/chat/completions`` with ``stream = true`` and the very same
   payload the bot sends (system prompt from ``LlmSettings``, the question, ``max_tokens``,
   ``temperature``) gives the model's own time to first token (first non-empty ``delta.content``).
   llama.cpp reuses the KV cache of the previous prompt's common prefix, so before each of the two
   requests a one-token request with another question resets the cache to the same state.
2. **!ping while answers stream.** Bot B (``max_tokens = 256``, ``max_concurrent = 4``). First
   ``--pings`` idle ``!ping`` round trips (as in ``bench.latency``), then four ``!frage`` asking for
   long answers; as soon as the first text streams, the same number of ``!ping`` round trips while a
   feeder asks a new question whenever an answer is final, so that four are always in flight.
   Interleaved with every bot ping, the order rotating, run two floor pings as in
   ``bench.latency`` (a raw client sends ``ping N``, a raw client in a child process answers
   ``pong N``): one **in the bot's room**, sent by the same member to a raw client that is a member
   there too, and one in a quiet room of their own. The first is the reference: it goes through
   everything the bot's reply goes through (the room whose answers' edits Synapse persists one
   after another with the ping and the reply, and a member whose sync carries every edit), so the
   ratio shows what the bot adds. The quiet room shows how much of that the room's own traffic is.
   ``--gap`` idle seconds precede every ping; the first three of each phase are discarded. CPU
   time of Synapse, bot B, the model server, client B, this process and of everything else on the
   machine (``/proc/stat`` minus ours) is read around both phases. ``--model-nice N`` runs the model
   server at a lower CPU priority, to compare.

Reading the numbers. ``visible`` is what a member waits for before text appears, ``model TTFT``
what the model itself needs; ``overhead`` = visible − model TTFT, paired per round (the bot's
sync wake-up, its placeholder and typing requests, the edit's send and the user's sync). Target:
median overhead <= 300 ms. The bot edits at most once per ``edit_interval`` (1 s here for bot A;
the default, 2 s, for bot B) but sends the first edit as soon as the answer has its first word: an
overhead near or above the interval would mean that the first edit waited for it. ``first edit`` is the first ``m.replace`` whatever it
shows; if it is earlier than ``visible``, the first edit showed no text (the first tokens were
whitespace or markup that the sanitiser drops). The server-timestamp breakdown (ms, medians)
splits a visible round: ``send`` the user's send request, ``question -> …`` (the bot),
``… -> first text edit`` (the bot's typing request + its model request up to the first token +
the edit), ``back`` the edit's delivery to the user.

For pings: target the bot's p95 while answers stream <= 1.10 × the same-room floor's p95 under the
same load, measured interleaved in the same run (an idle target cannot be met: the homeserver
itself, short of CPU next to the model, slows down). ``self`` is the processing time the bot reports in its
pong; ``turn`` the server-side turnaround ping → pong. The bot's turnarounds under load are also split by whether the bot sent
something else (an answer's edit) in between. ``cores`` is CPU seconds per wall second during a
phase; ``other`` is load this benchmark did not cause (other jobs on the machine), which makes a
run noisy (a note is printed above 0.25 cores). The p95 of 200 pings rests on ten samples (of 100:
five, and two runs in a row gave 0.94× and 1.12×): compare several runs. ``slowest tenth`` splits
the slowest 10 % of each series into its parts. llama-cpp-python computes one completion at a time: of the four
answers in flight, one streams and three wait their turn.

Results go to stdout and to ``bench/results/llm.json`` (with all samples). The exit code is 0
unless ``--check`` is given and a target is missed or rounds were lost.
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
import signal
import sys
import tempfile
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import PASSWORD
from bench.latency import PongerProcess
from bot.homeserver import EmbeddedHomeserver
from bot.i18n import t
from bot.modelserver import MODEL_NAME, ModelServer
from bot.render import Markdown, render, render_untrusted
from bot.settings import LlmSettings
from tests.kit.processes import BotProcess, CpuMeter
from tests.kit.report import VERDICT, Table, finish, fmt, result_options, times
from tests.kit.runs import bench_bot, configure_logging, guarded
from tests.kit.stats import Sample, breakdown, median_of, percentile_of, ratio
from tests.kit.users import RawClient, Seen, reply_from, round_trip, until

RESULTS = Path(__file__).resolve().parent / "results" / "llm.json"
TARGET_OVERHEAD_MS = 300.0
TARGET_PING_RATIO = 1.10
SHORT_TOKENS = 48
LONG_TOKENS = 256
STREAMS = 4
USER_RATE = "1000/1min"
PING_WARMUP = 3
NOISY_OTHER_CORES = 0.25
ROUND_TIMEOUT_S = 60.0
PING_TIMEOUT_S = 10.0
# As bot/outbox.py ThreadAnswer._label renders it; the bot's language is German by default.
LABEL = render(Markdown(f"*{t('de', 'llm.label', model=MODEL_NAME)}*"))[0]
CLK_TCK = os.sysconf("SC_CLK_TCK")

QUESTIONS = [
    "Was ist ein Sprachmodell?",
    "Wofür steht die Abkürzung KI?",
    "Nenne drei Vorteile von Videokonferenzen.",
    "Wie viele Tage hat ein Schaltjahr?",
    "Welche Farbe hat der Himmel am Mittag?",
    "Erkläre kurz, was ein Protokoll ist.",
    "Warum ist Datenschutz in Kliniken wichtig?",
    "Wer schreibt die Tagesordnung einer Sitzung?",
    "Wie heißt die Hauptstadt von Nordrhein-Westfalen?",
    "Gib mir einen Tipp für kurze Besprechungen.",
    "Was macht ein Personalrat?",
    "Definiere das Wort Algorithmus.",
    "Welche Sprache spricht man in Österreich?",
    "Beschreibe eine Förderschule in einem Satz.",
    "Ist Matrix ein offenes Protokoll?",
    "Schlage einen Namen für einen Arbeitskreis vor.",
]
LONG_QUESTIONS = [
    "Erkläre ausführlich und Schritt für Schritt, wie eine Verwaltung ein KI-Projekt plant.",
    "Beschreibe ausführlich die Geschichte der Datenverarbeitung in öffentlichen Verwaltungen.",
    "Schreibe einen langen Bericht über Chancen und Risiken von Sprachmodellen in Kliniken.",
    "Erläutere ausführlich, wie eine gute Sitzung eines Arbeitskreises abläuft.",
    "Verfasse eine ausführliche Anleitung für den Datenschutz in Förderschulen.",
]

log = logging.getLogger("bench.llm")


# ---- what the user sees of an answer -------------------------------------------------------------


def is_placeholder(seen: Seen, bot_id: str, question_id: str) -> bool:
    """The bot's first thread message ("…") under the question."""
    return (
        seen.sender == bot_id
        and seen.relates_to.get("rel_type") == "m.thread"
        and seen.in_reply_to == question_id
    )


def new_body(seen: Seen) -> str:
    new = seen.content.get("m.new_content")
    body = new.get("body") if isinstance(new, dict) else None
    return body if isinstance(body, str) else ""


def is_final(body: str) -> bool:
    """Streaming edits end in " …" (bot/outbox.py ThreadAnswer._compose); the final one carries the label."""
    return not body.endswith("…")


def shown_text(body: str) -> str:
    """The answer text an edit shows, without the streaming marker or the label."""
    return body.replace(LABEL, "").strip() if is_final(body) else body.removesuffix("…").strip()


# ---- the model endpoint, directly ------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSample:
    """Time to the first non-empty delta, and to the first delta that renders to visible text."""

    ttft_ms: float
    visible_ms: float | None
    first_piece: str


class Endpoint:
    """The OpenAI-compatible endpoint, asked with exactly the payload ``LlmClient.stream`` sends."""

    def __init__(self, base_url: str, max_tokens: int) -> None:
        self.settings = LlmSettings(base_url=base_url, model=MODEL_NAME, max_tokens=max_tokens)
        self._http = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(120.0), trust_env=False)

    def payload(self, question: str, *, max_tokens: int | None = None, stream: bool = True) -> dict[str, Any]:
        # As bot/services/llm.py LlmClient.stream builds it (no thread context: a new thread).
        body: dict[str, Any] = {
            "messages": [
                {"role": "system", "content": self.settings.system_prompt},
                {"role": "user", "content": question},
            ],
            "stream": stream,
            "max_tokens": max_tokens or self.settings.max_tokens,
            "temperature": self.settings.temperature,
            "model": MODEL_NAME,
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body

    async def reset(self, n: int) -> None:
        """A one-token request with another question: the KV cache no longer holds the next prompt."""
        response = await self._http.post(
            "/chat/completions",
            json=self.payload(f"Antworte nur mit ok, Nummer {n}.", max_tokens=1, stream=False),
        )
        response.raise_for_status()

    async def _deltas(self, question: str, max_tokens: int | None = None) -> AsyncGenerator[str, None]:
        async with self._http.stream(
            "POST", "/chat/completions", json=self.payload(question, max_tokens=max_tokens)
        ) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                choices = json.loads(data).get("choices") or []
                text = (choices[0].get("delta") or {}).get("content") if choices else None
                if text:
                    yield str(text)

    async def ttft(self, question: str) -> ModelSample | None:
        """Stream until the first renderable text (or the end), then hang up: the server stops."""
        t0 = time.perf_counter()
        ttft: float | None = None
        first = ""
        answer = ""
        async with contextlib.aclosing(self._deltas(question)) as deltas:
            async for piece in deltas:
                now = time.perf_counter()
                if ttft is None:
                    ttft, first = now - t0, piece
                answer += piece
                if render_untrusted(answer)[0].strip():
                    return ModelSample(ttft * 1000, (now - t0) * 1000, first)
        return ModelSample(ttft * 1000, None, first) if ttft is not None else None

    async def count_tokens(self, question: str, max_tokens: int) -> int:
        return sum([1 async for _ in self._deltas(question, max_tokens)])

    async def close(self) -> None:
        await self._http.aclose()


async def probe_interrupts(base_url: str, requests: int = 2) -> dict[str, Any]:
    """Concurrent streams against the server as ModelServer starts it: do they cut each other off?"""
    endpoint = Endpoint(base_url, 24)
    try:
        await endpoint.reset(0)  # load the model pages before anything counts
        counts = await asyncio.gather(
            *(endpoint.count_tokens(question, 24) for question in QUESTIONS[:requests])
        )
    finally:
        await endpoint.close()
    return {
        "concurrent_requests": requests,
        "max_tokens": 24,
        "tokens_received": list(counts),
        "cut_short": sum(1 for count in counts if count < 24),
    }


# ---- part 1: time to first visible token -----------------------------------------------------------


@dataclass(frozen=True)
class VisibleSample:
    """One ``!frage`` round, ms from just before the send request."""

    visible_ms: float
    first_edit_ms: float
    placeholder_ms: float
    final_ms: float
    send_ms: float
    to_placeholder_ms: float | None  # server timestamps: question -> "…"
    placeholder_to_edit_ms: float  # "…" -> first edit with text
    back_ms: float  # first edit with text -> the user's sync
    answered: bool
    chars: int


async def visible_round(user: RawClient, room_id: str, bot_id: str, question: str) -> VisibleSample | None:
    timeline = user.timeline
    start = timeline.mark()
    t0 = time.perf_counter()
    question_id = await user.send(room_id, f"!frage allgemein {question}")
    sent = time.perf_counter()
    try:
        placeholder = await timeline.wait_for(
            lambda seen: is_placeholder(seen, bot_id, question_id), start, ROUND_TIMEOUT_S
        )

        def edit_of(seen: Seen) -> bool:
            return seen.sender == bot_id and seen.replaces == placeholder.event_id

        first_edit = await timeline.wait_for(edit_of, start, ROUND_TIMEOUT_S)
        visible = await timeline.wait_for(
            lambda seen: edit_of(seen) and bool(shown_text(new_body(seen))), start, ROUND_TIMEOUT_S
        )
        final = await timeline.wait_for(
            lambda seen: edit_of(seen) and is_final(new_body(seen)), start, ROUND_TIMEOUT_S
        )
    except TimeoutError:
        return None
    asked = timeline.by_id.get(question_id)
    body = new_body(final)
    return VisibleSample(
        visible_ms=(visible.seen_perf - t0) * 1000,
        first_edit_ms=(first_edit.seen_perf - t0) * 1000,
        placeholder_ms=(placeholder.seen_perf - t0) * 1000,
        final_ms=(final.seen_perf - t0) * 1000,
        send_ms=(sent - t0) * 1000,
        to_placeholder_ms=float(placeholder.origin_ts - asked.origin_ts) if asked else None,
        placeholder_to_edit_ms=float(visible.origin_ts - placeholder.origin_ts),
        back_ms=visible.seen_wall * 1000 - visible.origin_ts,
        answered=LABEL in body,
        chars=len(shown_text(body)),
    )


@dataclass
class Pair:
    """The two measurements of one round."""

    question: str
    bot_first: bool
    bot: VisibleSample | None
    model: ModelSample | None

    @property
    def overhead_ms(self) -> float | None:
        return self.bot.visible_ms - self.model.ttft_ms if self.bot and self.model else None


# ---- part 2: !ping while answers stream --------------------------------------------------------


@dataclass
class Answer:
    asked_perf: float
    placeholder_id: str | None = None
    first_text_perf: float | None = None
    done_perf: float | None = None
    answered: bool = False
    chars: int = 0
    edits: int = 0


class Load:
    """Keeps ``streams`` questions in flight: a new one whenever an answer is final."""

    def __init__(self, client: RawClient, room_id: str, bot_id: str, streams: int) -> None:
        self.client = client
        self.room_id = room_id
        self.bot_id = bot_id
        self.streams = streams
        self.answers: dict[str, Answer] = {}  # by question event id
        self.active: set[str] = set()
        self._question_of: dict[str, str] = {}  # placeholder id -> question id
        self._changed = asyncio.Event()
        self._asked = 0
        self.edits_seen = 0
        client.on_event = self._on_event

    def _on_event(self, seen: Seen) -> None:
        if seen.sender != self.bot_id:
            return
        if seen.relates_to.get("rel_type") == "m.thread" and seen.in_reply_to in self.answers:
            self.answers[seen.in_reply_to].placeholder_id = seen.event_id
            self._question_of[seen.event_id] = seen.in_reply_to
            return
        target = seen.replaces
        question_id = self._question_of.get(target or "")
        if question_id is None:
            return
        answer = self.answers[question_id]
        body = new_body(seen)
        answer.edits += 1
        self.edits_seen += 1
        if answer.first_text_perf is None and shown_text(body):
            answer.first_text_perf = seen.seen_perf
        if is_final(body) and answer.done_perf is None:
            answer.done_perf = seen.seen_perf
            answer.answered = LABEL in body
            answer.chars = len(shown_text(body))
            self.active.discard(question_id)
            self._changed.set()

    async def feed(self) -> None:
        """Until cancelled: top up to ``streams`` questions in flight."""
        while True:
            while len(self.active) < self.streams:
                question = LONG_QUESTIONS[self._asked % len(LONG_QUESTIONS)]
                self._asked += 1
                asked = time.perf_counter()
                question_id = await self.client.send(self.room_id, f"!frage allgemein {question}")
                self.answers[question_id] = Answer(asked)
                self.active.add(question_id)
            self._changed.clear()
            await self._changed.wait()

    def streaming(self) -> bool:
        return any(answer.first_text_perf is not None for answer in self.answers.values())


# ---- CPU ------------------------------------------------------------------------------------------


def _system_busy_s() -> float:
    """Busy CPU seconds of the whole machine (all cores) since boot, from /proc/stat."""
    try:
        values = [
            int(v) for v in Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()[1:9]
        ]
    except (OSError, ValueError):
        return float("nan")
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLK_TCK


class Window:
    """CPU seconds per wall second of our processes and of everything else, over one phase."""

    def __init__(self, meter: CpuMeter) -> None:
        self.meter = meter
        self._before = meter.read()
        self._busy = _system_busy_s()
        self._t0 = time.monotonic()

    def close(self) -> dict[str, float]:
        wall = time.monotonic() - self._t0
        spent = self.meter.spent(self._before, self.meter.read())
        busy = _system_busy_s() - self._busy
        cores = {name: seconds / wall for name, seconds in sorted(spent.items())}
        cores["other"] = max(0.0, (busy - sum(spent.values())) / wall)
        cores["total"] = busy / wall
        return {"wall_s": wall, **{name: round(value, 3) for name, value in cores.items()}}


# ---- the run ------------------------------------------------------------------------------------


@dataclass
class Options:
    rounds: int
    pings: int
    gap: float
    probe: bool
    model_nice: int
    check: bool
    output: Path


@dataclass
class Pings:
    samples: list[Sample] = field(default_factory=list)
    lost: int = 0

    def record(self, sample: Sample | None) -> None:
        if sample is None:
            self.lost += 1
        else:
            self.samples.append(sample)

    def p95(self) -> float | None:
        totals = [sample.total_ms for sample in self.samples]
        return percentile_of(totals, 0.95)


@dataclass
class PingPhase:
    """!ping to the bot and the homeserver floor (ping N / pong N between raw clients), interleaved:
    the floor once in the bot's own room, sent by the same member, and once in a quiet room."""

    bot: Pings = field(default_factory=Pings)
    floor: Pings = field(default_factory=Pings)  # same room, same member: the target's reference
    quiet: Pings = field(default_factory=Pings)  # a room of its own, where nothing streams
    cpu: dict[str, float] = field(default_factory=dict)
    in_flight: list[int] = field(default_factory=list)
    lost_at: list[str] = field(default_factory=list)  # "bot 12.3 s", for a look into the logs
    interference: dict[str, Any] = field(default_factory=dict)


def interference(events: list[Seen], bot_id: str, user_id: str) -> dict[str, Any]:
    """The bot's ping turnarounds (server timestamps), split by whether the bot sent something else
    (an answer's edit or placeholder) in between: such a pong may have waited in the bot's one send
    queue, or behind the sync that carried the echo of that edit."""
    pings = {seen.event_id: seen for seen in events if seen.sender == user_id and seen.body == "!ping"}
    sent = [seen for seen in events if seen.sender == bot_id]
    split: dict[bool, list[float]] = {True: [], False: []}
    for pong in sent:
        ping = pings.get(pong.in_reply_to or "")
        if ping is None:
            continue
        between = any(
            other is not pong and ping.origin_ts <= other.origin_ts <= pong.origin_ts for other in sent
        )
        split[between].append(float(pong.origin_ts - ping.origin_ts))
    result: dict[str, Any] = {}
    for key, turns in (("other_send_between", split[True]), ("alone", split[False])):
        result[key] = {
            "n": len(turns),
            "turn_median_ms": median_of(turns),
            "turn_p95_ms": percentile_of(turns, 0.95),
        }
    return result


def _llm_section(base_url: str, max_tokens: int, max_concurrent: int) -> str:
    return (
        "\n[llm]\n"
        f"base_url = {json.dumps(base_url)}\n"
        f"model = {json.dumps(MODEL_NAME)}\n"
        f"user_rate = {json.dumps(USER_RATE)}\n"
        f"max_tokens = {max_tokens}\n"
        f"max_concurrent = {max_concurrent}\n"
        "queue_size = 8\n"
    )


class Bench:
    def __init__(self, options: Options, root: Path, server: EmbeddedHomeserver, model: ModelServer) -> None:
        self.options = options
        self.root = root
        self.url = server.url
        self.model_url = model.base_url
        # Neither class publishes its child's pid; read here only, for CPU accounting.
        self.server_pid: int | None = getattr(getattr(server, "_proc", None), "pid", None)
        self.model_pid: int | None = getattr(getattr(model, "_process", None), "pid", None)
        names = ["asker", "member", "floor_a", "floor_b", "floor_near", "akbot_ttft", "akbot_load"]
        self.ids = {name: server.register(name, PASSWORD) for name in names}
        self.tokens = {name: server.login(name, PASSWORD) for name in names if not name.startswith("akbot")}
        self.asker = RawClient(self.url, self.ids["asker"], self.tokens["asker"])
        self.member = RawClient(self.url, self.ids["member"], self.tokens["member"])
        self.floor_a = RawClient(self.url, self.ids["floor_a"], self.tokens["floor_a"])
        self.ponger: PongerProcess | None = None
        self.near_ponger: PongerProcess | None = None  # answers the member's "ping N" in the bot's room
        self.room_floor = ""
        self._ping_number = 0
        self.endpoint = Endpoint(self.model_url, SHORT_TOKENS)
        self.bot_ttft: BotProcess | None = None
        self.bot_load: BotProcess | None = None
        self.room_ttft = ""
        self.room_load = ""

    def _bot(self, name: str, room_id: str, chair: str, max_tokens: int, max_concurrent: int) -> BotProcess:
        llm = _llm_section(self.model_url, max_tokens, max_concurrent)
        bot = bench_bot(self.root / name, self.url, self.ids[name], PASSWORD, [room_id], chair, llm)
        bot.start()
        log.info("%s subprocess pid %s", name, bot.pid)
        return bot

    async def setup(self) -> None:
        ids = self.ids
        self.room_ttft = await self.asker.create_room("akbot llm ttft", [ids["akbot_ttft"]])
        self.room_load = await self.member.create_room(
            "akbot llm load", [ids["akbot_load"], ids["floor_near"]]
        )
        self.room_floor = await self.floor_a.create_room("floor", [ids["floor_b"]])
        for name, room_id in (("floor_b", self.room_floor), ("floor_near", self.room_load)):
            b = RawClient(self.url, ids[name], self.tokens[name])
            await b.join(room_id)
            await b.stop()
        await self.asker.start(self.room_ttft)
        await self.member.start(self.room_load)
        await self.floor_a.start(self.room_floor)
        self.ponger = PongerProcess(
            self.url, ids["floor_b"], self.tokens["floor_b"], self.room_floor, ids["floor_a"]
        )
        await self.ponger.start()
        self.near_ponger = PongerProcess(
            self.url, ids["floor_near"], self.tokens["floor_near"], self.room_load, ids["member"]
        )
        await self.near_ponger.start()
        self.bot_ttft = self._bot("akbot_ttft", self.room_ttft, ids["asker"], SHORT_TOKENS, 2)
        self.bot_load = self._bot("akbot_load", self.room_load, ids["member"], LONG_TOKENS, STREAMS)
        for client, room_id, name in (
            (self.asker, self.room_ttft, "akbot_ttft"),
            (self.member, self.room_load, "akbot_load"),
        ):

            async def joined(client: RawClient = client, room_id: str = room_id, name: str = name) -> bool:
                self.check_alive()
                return ids[name] in await client.joined_members(room_id)

            await until(joined, 60.0, f"{name} joined", interval=0.1)
            for _attempt in range(3):  # joins and keys: every bot answers once before anything counts
                if await round_trip(client, room_id, "!ping", reply_from(ids[name]), 60.0) is not None:
                    break
            else:
                raise RuntimeError(f"{name}: no answer to a first !ping")

    def check_alive(self) -> None:
        for part in (self.bot_ttft, self.bot_load, self.ponger, self.near_ponger):
            if part is not None:
                part.check_alive()

    async def first_token(self) -> list[Pair]:
        """Part 1: one warm-up round, then ``rounds`` pairs, interleaved, the order alternating."""
        pairs: list[Pair] = []
        started = time.monotonic()
        for n in range(self.options.rounds + 1):
            question = QUESTIONS[n % len(QUESTIONS)]
            pair = Pair(question, bot_first=n % 2 == 0, bot=None, model=None)
            for bot_turn in (pair.bot_first, not pair.bot_first):
                await self.endpoint.reset(n)
                if bot_turn:
                    pair.bot = await visible_round(
                        self.asker, self.room_ttft, self.ids["akbot_ttft"], question
                    )
                else:
                    pair.model = await self.endpoint.ttft(question)
            self.check_alive()
            if n > 0:
                pairs.append(pair)
            print(
                f"  first token {n}/{self.options.rounds}: visible "
                f"{_ms(pair.bot.visible_ms if pair.bot else None)} ms, model "
                f"{_ms(pair.model.ttft_ms if pair.model else None)} ms "
                f"({time.monotonic() - started:.0f} s)",
                file=sys.stderr,
            )
        return pairs

    async def _bot_ping(self) -> Sample | None:
        answer = reply_from(self.ids["akbot_load"])
        return await round_trip(self.member, self.room_load, "!ping", answer, PING_TIMEOUT_S)

    async def _floor_ping(self, client: RawClient, room_id: str, ponger: str) -> Sample | None:
        self._ping_number += 1
        n, b_id = self._ping_number, self.ids[ponger]
        return await round_trip(
            client,
            room_id,
            f"ping {n}",
            lambda seen, _: seen.sender == b_id and seen.body == f"pong {n}",
            PING_TIMEOUT_S,
        )

    async def _pings(self, phase: PingPhase, load: Load | None) -> None:
        """Bot, same-room floor and quiet-room floor pings, interleaved (the order rotating), ``gap``
        idle seconds before each."""
        started, mark = time.monotonic(), self.member.timeline.mark()
        kinds: list[tuple[str, Pings, Callable[[], Awaitable[Sample | None]]]] = [
            ("bot", phase.bot, self._bot_ping),
            ("floor", phase.floor, lambda: self._floor_ping(self.member, self.room_load, "floor_near")),
            ("quiet", phase.quiet, lambda: self._floor_ping(self.floor_a, self.room_floor, "floor_b")),
        ]
        for n in range(PING_WARMUP + self.options.pings):
            in_flight = len(load.active) if load else 0
            shift = n % len(kinds)
            for who, pings, ping in kinds[shift:] + kinds[:shift]:
                await asyncio.sleep(self.options.gap)
                sample = await ping()
                if sample is None:
                    phase.lost_at.append(f"{who} {time.monotonic() - started - PING_TIMEOUT_S:.1f} s")
                    log.warning("%s ping %d got no answer within %.0f s", who, n, PING_TIMEOUT_S)
                if n >= PING_WARMUP:
                    pings.record(sample)
            if n >= PING_WARMUP:
                phase.in_flight.append(in_flight)
            self.check_alive()
        events = self.member.timeline.events[mark:]
        phase.interference = interference(events, self.ids["akbot_load"], self.ids["member"])

    async def ping_under_load(self) -> tuple[PingPhase, PingPhase, Load]:
        """Part 2: idle pings, then pings while ``STREAMS`` answers are in flight."""
        if self.bot_ttft is not None:  # out of the way: only bot B runs from here on
            await self.bot_ttft.stop()
            self.bot_ttft = None
        bot_pid = self.bot_load.pid if self.bot_load else None
        meter = CpuMeter(
            {
                "synapse": self.server_pid,
                "bot": bot_pid,
                "model": self.model_pid,
                "floor_b": self.ponger.pid if self.ponger else None,
                "floor_near": self.near_ponger.pid if self.near_ponger else None,
            }
        )
        idle, loaded = PingPhase(), PingPhase()
        window = Window(meter)
        await self._pings(idle, None)
        idle.cpu = window.close()
        print(f"  idle pings done: p95 {_ms(idle.bot.p95())} ms", file=sys.stderr)
        load = Load(self.member, self.room_load, self.ids["akbot_load"], STREAMS)
        feeder = asyncio.create_task(load.feed(), name="load feeder")
        try:

            async def streaming() -> bool:
                self.check_alive()
                if feeder.done():
                    feeder.result()
                return load.streaming()

            await until(streaming, ROUND_TIMEOUT_S, "answers streaming", interval=0.1)
            renice(self.model_pid, self.options.model_nice)  # threads started since then too
            window = Window(meter)
            await self._pings(loaded, load)
            loaded.cpu = window.close()
        finally:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder
        print(f"  loaded pings done: p95 {_ms(loaded.bot.p95())} ms", file=sys.stderr)
        return idle, loaded, load

    def bot_log_tail(self) -> str:
        return "\n".join(
            f"--- {name} ---\n{bot.tail()}"
            for name, bot in (("akbot_ttft", self.bot_ttft), ("akbot_load", self.bot_load))
            if bot is not None
        )

    async def close(self) -> None:
        for bot in (self.bot_ttft, self.bot_load):
            if bot is not None:
                await bot.stop()
        for ponger in (self.ponger, self.near_ponger):
            if ponger is not None:
                await ponger.stop()
        for client in (self.asker, self.member, self.floor_a):
            await client.stop()
        await self.endpoint.close()


async def run(options: Options, root: Path, server: EmbeddedHomeserver, model: ModelServer) -> dict[str, Any]:
    async with guarded(lambda: Bench(options, root, server, model), "bot logs") as bench:
        started = time.monotonic()
        await bench.setup()
        pairs = await bench.first_token()
        idle, loaded, load = await bench.ping_under_load()
    return {
        "pairs": pairs,
        "idle": idle,
        "loaded": loaded,
        "load": load,
        "seconds": time.monotonic() - started,
    }


# ---- report ------------------------------------------------------------------------------------


def stats(values: list[float]) -> dict[str, float | int | None]:
    return {
        "n": len(values),
        "median_ms": median_of(values),
        "p95_ms": percentile_of(values, 0.95),
        "min_ms": min(values, default=None),
        "max_ms": max(values, default=None),
    }


def _median_ms(pings: Pings) -> float | None:
    return median_of(s.total_ms for s in pings.samples)


def ping_summary(pings: Pings) -> dict[str, Any]:
    totals = [sample.total_ms for sample in pings.samples]
    turns = [s.turn_ms for s in pings.samples if s.turn_ms is not None]
    # The slowest tenth, split: which part of the round trip makes the p95.
    tail = sorted(pings.samples, key=lambda sample: sample.total_ms)[-max(1, len(totals) // 10) :]
    return {
        **stats(totals),
        "lost": pings.lost,
        "breakdown_median_ms": breakdown(pings.samples),
        "tail_breakdown_median_ms": breakdown(tail) if totals else None,
        "turn_p95_ms": percentile_of(turns, 0.95),
        "samples_ms": [round(value, 3) for value in totals],
        "samples": [asdict(sample) for sample in pings.samples],
    }


def phase_summary(phase: PingPhase) -> dict[str, Any]:
    return {
        "bot": ping_summary(phase.bot),
        "floor": ping_summary(phase.floor),
        "quiet": ping_summary(phase.quiet),
        "in_flight_min": min(phase.in_flight, default=0),
        "cpu_cores": phase.cpu,
        "lost_at": phase.lost_at,
        "bot_turn_by_interference": phase.interference,
    }


def report(options: Options, measured: dict[str, Any], probe: dict[str, Any] | None) -> dict[str, Any]:
    pairs: list[Pair] = measured["pairs"]
    bots = [pair.bot for pair in pairs if pair.bot]
    models = [pair.model for pair in pairs if pair.model]
    overheads = [pair.overhead_ms for pair in pairs if pair.overhead_ms is not None]
    edit_overheads = [
        pair.bot.first_edit_ms - pair.model.ttft_ms for pair in pairs if pair.bot is not None and pair.model
    ]
    visible_overheads = [
        pair.bot.visible_ms - pair.model.visible_ms
        for pair in pairs
        if pair.bot is not None and pair.model is not None and pair.model.visible_ms is not None
    ]
    lost = sum(1 for pair in pairs if pair.bot is None or pair.model is None)
    idle, loaded, load = measured["idle"], measured["loaded"], measured["load"]
    p95_ratio = ratio(loaded.bot.p95(), idle.bot.p95())
    # The target: the bot under load against the homeserver's floor under the same load, measured
    # interleaved in the same run (the homeserver itself slows down while answers stream): a raw
    # client answering the same member in the same room, where the answers' edits are persisted
    # one after another with the pings. The quiet room's floor is shown beside it.
    vs_floor = ratio(loaded.bot.p95(), loaded.floor.p95())
    vs_quiet = ratio(loaded.bot.p95(), loaded.quiet.p95())
    overhead_median = median_of(overheads)
    answers: list[Answer] = list(load.answers.values())
    done = [answer for answer in answers if answer.done_perf is not None]
    result = {
        "meta": {
            "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "rounds": options.rounds,
            "pings": options.pings,
            "ping_warmup": PING_WARMUP,
            "gap_s": options.gap,
            "measured_seconds": round(measured["seconds"], 1),
            "model": MODEL_NAME,
            "model_server": "llama-cpp-python (bot.modelserver.ModelServer), INTERRUPT_REQUESTS=false",
            "model_nice": options.model_nice,
            "llama_cpp_python": importlib.metadata.version("llama_cpp_python"),
            "synapse": importlib.metadata.version("matrix-synapse"),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "loadavg_after": os.getloadavg(),
            "platform": platform.platform(),
            "bot_settings": {
                "first_token": {"max_tokens": SHORT_TOKENS, "user_rate": USER_RATE, "edit_interval": 1.0},
                "load": {"max_tokens": LONG_TOKENS, "max_concurrent": STREAMS, "queue_size": 8},
            },
        },
        "concurrency_probe": probe,
        "first_token": {
            "visible": stats([b.visible_ms for b in bots]),
            "first_edit": stats([b.first_edit_ms for b in bots]),
            "placeholder": stats([b.placeholder_ms for b in bots]),
            "final": stats([b.final_ms for b in bots]),
            "model_ttft": stats([m.ttft_ms for m in models]),
            "model_first_visible": stats([m.visible_ms for m in models if m.visible_ms is not None]),
            "overhead": stats(overheads),
            "overhead_first_edit": stats(edit_overheads),
            "overhead_vs_model_visible": stats(visible_overheads),
            "breakdown_median_ms": {
                "send": median_of([b.send_ms for b in bots]),
                "to_placeholder": median_of([b.to_placeholder_ms for b in bots]),
                "placeholder_to_edit": median_of([b.placeholder_to_edit_ms for b in bots]),
                "back": median_of([b.back_ms for b in bots]),
            },
            "unanswered": sum(1 for b in bots if not b.answered),
            "lost": lost,
            "pairs": [
                {
                    "question": pair.question,
                    "bot_first": pair.bot_first,
                    "bot": asdict(pair.bot) if pair.bot else None,
                    "model": asdict(pair.model) if pair.model else None,
                }
                for pair in pairs
            ],
        },
        "ping": {
            "idle": phase_summary(idle),
            "loaded": phase_summary(loaded),
            "p95_ratio": p95_ratio,
            "p95_vs_floor_loaded": vs_floor,
            "p95_vs_quiet_room_loaded": vs_quiet,
            "floor_vs_quiet_room_loaded": ratio(loaded.floor.p95(), loaded.quiet.p95()),
            "floor_p95_ratio": ratio(loaded.floor.p95(), idle.floor.p95()),
            "median_ratio": ratio(_median_ms(loaded.bot), _median_ms(idle.bot)),
            "floor_median_ratio": ratio(_median_ms(loaded.floor), _median_ms(idle.floor)),
            "load": {
                "questions_asked": len(answers),
                "answers_final": len(done),
                "answers_failed": sum(1 for answer in done if not answer.answered),
                "edits_seen": load.edits_seen,
                "answer_chars_median": median_of([float(answer.chars) for answer in done]),
            },
        },
        "targets": {
            "overhead_median_max_ms": TARGET_OVERHEAD_MS,
            "ping_p95_ratio_max": TARGET_PING_RATIO,
            "overhead_met": overhead_median is not None and overhead_median <= TARGET_OVERHEAD_MS,
            "ping_met": vs_floor is not None and vs_floor <= TARGET_PING_RATIO,
            "no_lost_rounds": lost == 0 and idle.bot.lost == 0 and loaded.bot.lost == 0,
        },
    }
    print_table(result)
    return result


def _ms(value: float | None) -> str:
    return fmt(value, 0)


def print_table(result: dict[str, Any]) -> None:
    meta, first, ping = result["meta"], result["first_token"], result["ping"]
    print(
        f"\n!frage against {meta['model']} (llama-cpp-python {meta['llama_cpp_python']}), Synapse "
        f"{meta['synapse']}, {meta['cpus']} CPUs, {meta['rounds']} rounds, {meta['pings']} pings per phase"
    )
    probe = result["concurrency_probe"]
    if probe:
        print(
            f"concurrency probe (server as ModelServer starts it): {probe['concurrent_requests']} concurrent "
            f"streams got {probe['tokens_received']} of {probe['max_tokens']} tokens"
        )
    print()
    table = Table(
        ("time to first token (ms)", "<44"),
        ("n", ">4"),
        *((title, ">9") for title in ("median", "p95", "min", "max")),
    )
    table.print_header()
    rows = [
        ("visible (user's sync sees text)", "visible"),
        ("first edit (whatever it shows)", "first_edit"),
        ('placeholder "…" seen', "placeholder"),
        ("final edit seen", "final"),
        ("model TTFT (first non-empty delta)", "model_ttft"),
        ("model first renderable text", "model_first_visible"),
        ("overhead = visible - model TTFT", "overhead"),
        ("overhead, first edit - model TTFT", "overhead_first_edit"),
        ("overhead vs model renderable text", "overhead_vs_model_visible"),
    ]
    for label, key in rows:
        item = first[key]
        table.print_row(
            label, item["n"], *(_ms(item[name]) for name in ("median_ms", "p95_ms", "min_ms", "max_ms"))
        )
    parts = first["breakdown_median_ms"]
    print(
        f"breakdown (medians, server timestamps): send {_ms(parts['send'])}, question -> … "
        f"{_ms(parts['to_placeholder'])}, … -> first text edit {_ms(parts['placeholder_to_edit'])}, "
        f"back {_ms(parts['back'])}; unanswered {first['unanswered']}, lost {first['lost']}"
    )
    print()
    table = Table(
        ("!ping round trip (ms)", "<31"),
        ("n", ">4"),
        ("lost", ">5"),
        *((title, ">8") for title in ("median", "p95", "max")),
        *((title, ">7") for title in ("send", "turn", "back", "self", "flight")),
    )
    table.print_header()
    series = {"bot": "akbot !ping", "floor": "floor, same room", "quiet": "floor, quiet room"}
    for who, name in series.items():
        for phase, key in (("idle", "idle"), (f"{STREAMS} in flight", "loaded")):
            item = ping[key][who]
            parts = item["breakdown_median_ms"]
            table.print_row(
                f"{name}, {phase}",
                item["n"],
                item["lost"],
                *(_ms(item[name]) for name in ("median_ms", "p95_ms", "max_ms")),
                *(_ms(parts[name]) for name in ("send", "turn", "back", "self")),
                ping[key]["in_flight_min"],
            )
    print("slowest tenth under load (medians, ms): ", end="")
    print(
        "; ".join(
            f"{name} send {_ms(tail['send'])} turn {_ms(tail['turn'])} back {_ms(tail['back'])}"
            for who, name in series.items()
            if (tail := ping["loaded"][who]["tail_breakdown_median_ms"])
        )
    )
    print(
        f"loaded/idle: akbot p95 {times(ping['p95_ratio'])}, median {times(ping['median_ratio'])}; "
        f"floor p95 {times(ping['floor_p95_ratio'])}, median {times(ping['floor_median_ratio'])}"
    )
    names = ["synapse", "bot", "model", "floor_b", "floor_near", "bench", "other", "total"]
    print()
    table = Table(("CPU cores used", "<31"), *((name, ">11") for name in names))
    table.print_header(underline=False)
    for label, key in (("idle pings", "idle"), ("answers in flight", "loaded")):
        cpu = ping[key]["cpu_cores"]
        table.print_row(label, *(f"{cpu.get(name, float('nan')):.2f}" for name in names))
    split = ping["loaded"]["bot_turn_by_interference"]
    if split:
        alone, between = split["alone"], split["other_send_between"]
        print(
            f"bot turn under load (server ms): alone n={alone['n']} median {_ms(alone['turn_median_ms'])} "
            f"p95 {_ms(alone['turn_p95_ms'])}; with another bot send in between n={between['n']} median "
            f"{_ms(between['turn_median_ms'])} p95 {_ms(between['turn_p95_ms'])}"
        )
    busy = max(ping[key]["cpu_cores"].get("other", 0.0) for key in ("idle", "loaded"))
    if busy > NOISY_OTHER_CORES:
        print(f"note: other work on this machine used up to {busy:.2f} cores: a noisy run, repeat it")
    load = ping["load"]
    print(
        f"load: {load['questions_asked']} questions asked, {load['answers_final']} final "
        f"({load['answers_failed']} failed), {load['edits_seen']} edits seen"
    )
    targets = result["targets"]
    overhead = first["overhead"]["median_ms"]
    print(
        f"\ntargets: overhead median {_ms(overhead)} ms <= {TARGET_OVERHEAD_MS:.0f} ms "
        f"{VERDICT[targets['overhead_met']]}; ping p95 with answers streaming, bot/floor "
        f"{times(ping['p95_vs_floor_loaded'])} <= {TARGET_PING_RATIO:.2f}x {VERDICT[targets['ping_met']]} "
        f"(against the quiet room's floor {times(ping['p95_vs_quiet_room_loaded'])}, shown only)"
    )
    if not targets["no_lost_rounds"]:
        print("some rounds got no answer in time (see 'lost')")


# ---- main ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Variables for a child started inside (ModelServer passes our environment on)."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def renice(pid: int | None, nice: int) -> None:
    """Every thread of ``pid`` (Linux nice values are per thread) to ``nice``."""
    if pid is None or nice == 0:
        return
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, int(task.name), nice)


def _start_model(root: Path, name: str, **env: str) -> ModelServer:
    model = ModelServer(root / f"{name}.log")
    try:
        with _environment(**env):
            model.start()
    except BaseException:
        model.stop()
        raise
    return model


def parse(argv: list[str] | None) -> Options:
    """The options from the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.llm", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="measured first-token rounds (15)")
    parser.add_argument("--pings", type=int, default=200, help="measured !ping round trips per phase (200)")
    parser.add_argument("--gap", type=float, default=0.2, help="idle seconds before each ping (0.2)")
    parser.add_argument(
        "--probe",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="probe the server's default handling of concurrent streams first (default: on)",
    )
    parser.add_argument(
        "--model-nice",
        type=int,
        default=0,
        help="run the model server at this nice level (0: as ModelServer starts it; for comparison)",
    )
    result_options(parser, RESULTS)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.pings < 1 or args.gap < 0:
        parser.error("--rounds and --pings must be >= 1, --gap >= 0")
    return Options(args.rounds, args.pings, args.gap, args.probe, args.model_nice, args.check, args.output)


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    configure_logging()
    # SIGTERM like Ctrl-C outside the event loop too, so that every child is stopped on the way out.
    signal.signal(signal.SIGTERM, _interrupt)
    with tempfile.TemporaryDirectory(prefix="akbot-bench-llm-") as temp:
        root = Path(temp)
        server = EmbeddedHomeserver(root / "synapse")
        model: ModelServer | None = None
        probe: dict[str, Any] | None = None
        try:
            if options.probe:
                print("probing the model server's default for concurrent streams …", file=sys.stderr)
                prober = _start_model(root, "model-probe")
                try:
                    probe = asyncio.run(probe_interrupts(prober.base_url))
                finally:
                    prober.stop()
            print("starting the model server and Synapse …", file=sys.stderr)
            model = _start_model(root, "model", INTERRUPT_REQUESTS="false")
            renice(getattr(getattr(model, "_process", None), "pid", None), options.model_nice)
            server.start()
            measured = asyncio.run(run(options, root, server, model))
        except (KeyboardInterrupt, asyncio.CancelledError):
            print("interrupted", file=sys.stderr)
            return 130
        finally:
            signal.signal(signal.SIGTERM, _interrupt)  # asyncio.run put back the default
            with contextlib.suppress(KeyboardInterrupt):
                if model is not None:
                    model.stop()
                server.stop()
    result = report(options, measured, probe)
    return finish(result, options.output, options.check)


if __name__ == "__main__":
    sys.exit(main())
