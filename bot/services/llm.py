"""Quick questions to the on-premises language model (OpenAI-compatible: Ollama, vLLM, llama.cpp).

The endpoint must be on the premises: its host has to resolve to loopback or private addresses only
(link-local and cloud metadata addresses only when listed), or be listed by the operator — else the
bot does not start. The addresses checked are pinned: the bot connects to nothing else, whatever
DNS says later. Requests go without proxies and without redirects. Model names an Ollama server
would forward to its cloud are refused, and ``[llm] allowed_models`` limits the choice. Prompts and answers are not stored: only counters (who, when,
how many tokens) for the rate limit and ``!status``; a thread's earlier turns live in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import re
import socket
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
from sqlite_utils import Database

from bot.errors import ConfigError, UserError
from bot.services.audit import Action, AuditLog
from bot.services.knowledge import Passage
from bot.settings import LlmSettings

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 12_000
"""Matrix events are limited to 64 KB, encryption adds a third, and an edit carries body and HTML of
the new text: one message holds at most this much answer text."""
MAX_QUESTION_CHARS = 4_000
REMEMBERED_THREADS = 500
ON_PREMISES = [
    ipaddress.ip_network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
]
"""Private networks. Link-local (169.254.0.0/16, fe80::/10) is not among them: in a cloud it is where
the instance metadata service answers, so it counts only when the operator lists it."""
CLOUD_METADATA = frozenset(
    ipaddress.ip_address(address)
    for address in ("169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200")
)
"""Metadata services of cloud providers (AWS, ECS, GCP/Azure, Alibaba): never a model endpoint by
default, also where the address lies in a private range (fd00:ec2::254)."""
CLOUD_MODEL = re.compile(r"(?:[:-])cloud$", re.IGNORECASE)
"""Model names an Ollama server forwards to Ollama's cloud ("gpt-oss:120b-cloud", "…:cloud")."""


class LlmError(Exception):
    """The model endpoint failed; ``kind`` picks the message the member sees."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind  # refused | timeout | http | malformed | empty


def on_premises(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip in CLOUD_METADATA:
        return False
    return ip.is_loopback or any(ip in network for network in ON_PREMISES)


def is_cloud_model(name: str) -> bool:
    return bool(CLOUD_MODEL.search(name.strip()))


@dataclass(frozen=True)
class Pinned:
    """The addresses the endpoint's host had when it was checked: the only ones the bot connects
    to, so that a changed DNS record cannot send prompts elsewhere."""

    host: str
    addresses: tuple[str, ...]


class PinnedTransport(httpx.AsyncBaseTransport):
    """Connects to the pinned addresses of one host; the Host header and the TLS server name (and
    so the certificate check) stay the host's."""

    def __init__(self, pinned: Pinned, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.pinned = pinned
        self._inner = inner or httpx.AsyncHTTPTransport(trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host.lower() != self.pinned.host.lower():
            raise httpx.ConnectError(f"{request.url.host} is not the checked model host", request=request)
        last: Exception | None = None
        for address in self.pinned.addresses:
            extensions = dict(request.extensions)
            if request.url.scheme == "https":
                extensions["sni_hostname"] = self.pinned.host
            direct = httpx.Request(
                request.method,
                request.url.copy_with(host=address.split("%", 1)[0]),
                headers=request.headers,  # with the original Host
                stream=request.stream,
                extensions=extensions,
            )
            try:
                return await self._inner.handle_async_request(direct)
            except httpx.ConnectError as error:
                last = error
        raise httpx.ConnectError(f"no pinned address of {self.pinned.host} answers: {last}", request=request)

    async def aclose(self) -> None:
        await self._inner.aclose()


MODEL_CHECK_TIMEOUT_S = 3.0


async def model_endpoint_reachable(base_url: str) -> bool:
    """Does the OpenAI-compatible endpoint answer ``/models``? (no proxies, no redirects)"""
    try:
        async with httpx.AsyncClient(trust_env=False, follow_redirects=False) as client:
            response = await client.get(f"{base_url}/models", timeout=MODEL_CHECK_TIMEOUT_S)
    except httpx.HTTPError:
        return False
    return response.status_code < 500


def check_on_premises(
    base_url: str,
    allowed_hosts: list[str],
    allow_external: bool,
    resolve: Callable[[str], list[str]] | None = None,
) -> Pinned | None:
    """Refuse a model endpoint that is not on the premises (raises ConfigError with one line);
    return the addresses checked, to be pinned (None with ``allow_external``: nothing is checked).

    On the premises: loopback and private addresses, not link-local or a cloud's metadata service —
    unless the host or the address is listed in ``allowed_hosts``."""
    host = urlsplit(base_url).hostname or ""
    if allow_external:
        return None
    allowed = {h.lower() for h in allowed_hosts}
    try:
        addresses = (resolve or _resolve)(host)
    except OSError as error:
        raise ConfigError(f"llm.base_url: host {host!r} cannot be resolved ({error})") from None
    if host.lower() in allowed and addresses:
        return Pinned(host, tuple(dict.fromkeys(addresses)))
    outside = sorted(
        {a for a in addresses if not on_premises(a) and a.split("%", 1)[0].lower() not in allowed}
    )
    if outside or not addresses:
        raise ConfigError(
            f"llm.base_url: {host!r} resolves to {', '.join(outside) or 'nothing'}, which is not on the premises "
            "(loopback, RFC 1918, fc00::/7; link-local and cloud metadata addresses only when listed); list it "
            "in llm.allowed_hosts or set llm.allow_external = true if that is intended"
        )
    return Pinned(host, tuple(dict.fromkeys(addresses)))


def _resolve(host: str) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None)]


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


class LlmClient:
    """Streams chat completions from an OpenAI-compatible endpoint."""

    def __init__(self, settings: LlmSettings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        assert settings.base_url is not None
        self.settings = settings
        self._transport = transport
        self.pinned: Pinned | None = None
        self._http = self._client(transport)

    def _client(self, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
        settings = self.settings
        assert settings.base_url is not None
        headers = (
            {"Authorization": f"Bearer {settings.api_key.get_secret_value()}"} if settings.api_key else {}
        )
        return httpx.AsyncClient(
            base_url=settings.base_url,
            headers=headers,
            timeout=httpx.Timeout(settings.timeout_s, connect=min(10.0, settings.timeout_s)),
            trust_env=False,  # never through a proxy: the data stays on the premises
            follow_redirects=False,
            transport=transport,
        )

    async def pin(self, pinned: Pinned) -> None:
        """From now on connect only to the addresses checked at start (``check_on_premises``)."""
        old, self.pinned = self._http, pinned
        self._http = self._client(PinnedTransport(pinned, self._transport))
        await old.aclose()

    async def embed(self, texts: Sequence[str], model: str) -> list[list[float]]:
        """Vectors of ``texts`` from the endpoint's ``/embeddings`` (same pinned addresses, no proxy,
        no redirects). A server that returns one vector per token (llama.cpp without pooling) gets
        them averaged."""
        try:
            response = await self._http.post("/embeddings", json={"input": list(texts), "model": model})
        except httpx.ConnectError as error:
            raise LlmError("refused", str(error)) from error
        except httpx.TimeoutException as error:
            raise LlmError("timeout", str(error)) from error
        if response.status_code >= 300:
            raise LlmError("http", str(response.status_code))
        try:
            data = sorted(response.json()["data"], key=lambda item: item.get("index", 0))
            vectors = [_pooled(item["embedding"]) for item in data]
        except (ValueError, KeyError, TypeError, AttributeError, ZeroDivisionError) as error:
            raise LlmError("malformed", str(error)) from error
        if len(vectors) != len(texts):
            raise LlmError("malformed", f"{len(vectors)} vectors for {len(texts)} texts")
        return vectors

    async def reachable(self) -> bool:
        """Does the endpoint answer ``/models`` (for ``!status``), through the pinned addresses?"""
        try:
            await asyncio.wait_for(self.models(), MODEL_CHECK_TIMEOUT_S)
        except (LlmError, TimeoutError, httpx.HTTPError):
            return False
        return True

    async def models(self) -> list[str]:
        try:
            response = await self._http.get("/models")
        except httpx.ConnectError as error:
            raise LlmError("refused", str(error)) from error
        except httpx.TimeoutException as error:
            raise LlmError("timeout", str(error)) from error
        if response.status_code >= 300:  # redirects are not followed: they are errors too
            raise LlmError("http", str(response.status_code))
        try:
            return [str(item["id"]) for item in response.json().get("data", [])]
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise LlmError("malformed", str(error)) from error

    async def stream(self, messages: list[dict[str, str]], model: str | None) -> AsyncIterator[str | Usage]:
        """Text pieces as the model writes them; a Usage at the end when the server reports one."""
        payload: dict[str, Any] = {
            "messages": messages,
            "stream": True,
            "max_tokens": self.settings.max_tokens,
            "temperature": self.settings.temperature,
            "stream_options": {"include_usage": True},
        }
        if model:
            payload["model"] = model
        if self.settings.frequency_penalty is not None:
            payload["frequency_penalty"] = self.settings.frequency_penalty
        try:
            async with self._http.stream("POST", "/chat/completions", json=payload) as response:
                if response.status_code >= 300:  # redirects are not followed: they are errors too
                    await response.aread()
                    raise LlmError("http", f"{response.status_code} {response.text[:200]}")
                async for line in response.aiter_lines():
                    piece = _parse_sse_line(line)
                    if piece is None:
                        continue
                    if piece == "[DONE]":
                        return
                    yield piece
        except httpx.ConnectError as error:
            raise LlmError("refused", str(error)) from error
        except httpx.TimeoutException as error:
            raise LlmError("timeout", str(error)) from error
        except httpx.HTTPError as error:
            raise LlmError("http", str(error)) from error

    async def close(self) -> None:
        await self._http.aclose()


def _parse_sse_line(line: str) -> str | Usage | None:
    line = line.strip()
    if not line or line.startswith(":") or not line.startswith("data:"):
        return None if not line or line.startswith((":", "event:", "id:", "retry:")) else _malformed(line)
    data = line[5:].strip()
    if data == "[DONE]":
        return "[DONE]"
    try:
        chunk = json.loads(data)
        if "error" in chunk:
            raise LlmError("http", str(chunk["error"])[:200])
        usage = chunk.get("usage")
        choices = chunk.get("choices") or []
        text = (choices[0].get("delta") or {}).get("content") if choices else None
        if text:
            return str(text)
        if isinstance(usage, dict):
            return Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
    except LlmError:
        raise
    except (ValueError, AttributeError, TypeError, IndexError, KeyError) as error:
        # Whatever shape a broken server sends: the member gets a clear message, never a stuck "…".
        raise LlmError("malformed", data[:200]) from error
    return None


def _malformed(line: str) -> str:
    raise LlmError("malformed", line[:200])


class AnswerSink(Protocol):
    """Where one answer goes: a thread under the question. Implemented by the app."""

    async def start(self, position: int) -> str:
        """Post the first message in the thread: "…", or the place in the queue."""
        ...

    async def update(
        self,
        event_id: str,
        answer: str,
        *,
        final: bool,
        sources: Sequence[Passage] = (),
        general: bool = False,
    ) -> None:
        """The answer so far; the final one with the record's passages it was given (the bot names
        them as its sources, not the model), or ``general``: the record held nothing, the model
        answered from what it knows (the room allows that)."""
        ...

    async def follow_up(self, answer: str) -> str: ...

    async def fail(self, event_id: str, key: str) -> None:
        """Replace the message with a clear explanation of what went wrong."""
        ...

    async def typing(self, active: bool) -> None: ...


@dataclass(frozen=True)
class Question:
    room_id: str
    user_id: str
    text: str
    thread_root: str
    sink: AnswerSink
    usage_id: int
    sources: tuple[Passage, ...] = ()
    """The passages of the room's record the answer is to come from (none: a general answer)."""
    material: str | None = None
    """A text to work on (released minutes to summarise) instead of a question; the answer is then
    kept as a draft under ``draft``."""
    draft: tuple[str, str] | None = None
    fell_back: bool = False
    """A question to the record that holds nothing on it, answered generally (the room allows it)."""


class RecordSearch(Protocol):
    """The room's own record (``bot/services/knowledge.py``)."""

    async def find(self, room_id: str, question: str, *, limit: int = 3) -> list[Passage]: ...


class QueueFull(UserError):
    def __init__(self) -> None:
        super().__init__("llm.queue_full")


class Gate:
    """At most ``limit`` answers at once; up to ``queue_size`` more wait their turn.

    A question counts from the moment it is admitted, not only once its placeholder is posted:
    questions arriving meanwhile must see the queue as it really is.
    """

    def __init__(self, limit: int, queue_size: int) -> None:
        self._semaphore = asyncio.Semaphore(limit)
        self.limit = limit
        self.queue_size = queue_size
        self.running = 0
        self.waiting = 0  # admitted, not running yet

    def admit(self) -> int:
        """Take a place: 0 when the answer can start at once, else its number in the queue."""
        position = max(0, self.running + self.waiting - self.limit + 1)
        if position > self.queue_size:
            raise QueueFull()
        self.waiting += 1
        return position

    def abandon(self) -> None:
        """An admitted question that will not run after all."""
        self.waiting -= 1

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Run an admitted question (waits for a free place)."""
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            self._semaphore.release()


_ASKS_THE_CLOCK = re.compile(
    r"\b(wie\s+sp(ä|ae)t|wie\s*viel\s+uhr|welche\s+uhrzeit|uhrzeit\s+(ist|haben)|"
    r"welche[rns]?\s+(tag|datum|wochentag)|den\s+wievielten|was\s+f(ü|ue)r\s+ein\s+tag|"
    r"what\s+time|what\s+day|which\s+day|what('s|\s+is)\s+(the\s+|today's\s+)?date)\b",
    re.IGNORECASE,
)


class LlmService:
    def __init__(
        self,
        db: Database,
        settings: LlmSettings,
        client: LlmClient | None,
        *,
        audit: AuditLog,
        now: Callable[[], datetime],
        record: RecordSearch,
    ) -> None:
        """``now``: the bot's clock (aware, in the bot's zone) for questions about the time;
        ``record``: where the group's own record is searched for what answers a question."""
        self._db = db
        self._record = record
        self._now = now
        self._audit = audit
        self.settings = settings
        self.client = client
        self.gate = Gate(settings.max_concurrent, settings.queue_size)
        # The turns of recent threads, by (room, thread root): (who asked, question, answer).
        self._threads: OrderedDict[tuple[str, str], deque[tuple[str, str, str]]] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        # Summaries waiting for the chair (``!zusammenfassung``), by (room, meeting); in memory only.
        self._drafts: dict[tuple[str, str], str] = {}

    @property
    def enabled(self) -> bool:
        return self.client is not None

    # ---- limits --------------------------------------------------------------------------------

    def check_rate(self, user_id: str) -> None:
        count, window = self.settings.rate
        since = time.time() - window.total_seconds()
        row = self._db.execute(
            "SELECT count(*), min(ts) FROM llm_usage WHERE user_id = ? AND ts > ?", [user_id, since]
        ).fetchone()
        if int(row[0]) >= count:
            wait_s = max(1, int(row[1] + window.total_seconds() - time.time()))
            raise UserError("llm.rate_limited", count=count, minutes=max(1, round(wait_s / 60)))

    def _count(self, room_id: str, user_id: str) -> int:
        with self._db.atomic():
            cursor = self._db.execute(
                "INSERT INTO llm_usage (room_id, user_id, ts, prompt_tokens, completion_tokens) VALUES (?, ?, ?, 0, 0)",
                [room_id, user_id, time.time()],
            )
        return int(cursor.lastrowid or 0)

    def _tokens(self, usage_id: int, usage: Usage) -> None:
        with self._db.atomic():
            self._db.execute(
                "UPDATE llm_usage SET prompt_tokens = ?, completion_tokens = ? WHERE id = ?",
                [usage.prompt_tokens, usage.completion_tokens, usage_id],
            )

    def stats(self, hours: int = 24) -> tuple[int, int]:
        """(questions, tokens) in the last ``hours``, for ``!status``."""
        row = self._db.execute(
            "SELECT count(*), coalesce(sum(prompt_tokens + completion_tokens), 0) FROM llm_usage WHERE ts > ?",
            [time.time() - hours * 3600],
        ).fetchone()
        return int(row[0]), int(row[1])

    # ---- models --------------------------------------------------------------------------------

    def model_for(self, room_id: str) -> str | None:
        """The room's model; one no longer permitted (the operator changed the list) falls back to
        the configured default."""
        row = self._db.execute("SELECT model FROM rooms WHERE room_id = ?", [room_id]).fetchone()
        chosen = str(row[0]) if row and row[0] else None
        return chosen if chosen is not None and self.permitted(chosen) else self.settings.model

    async def reachable(self) -> bool:
        return self.client is not None and await self.client.reachable()

    async def pin(self, pinned: Pinned | None) -> None:
        if self.client is not None and pinned is not None:
            await self.client.pin(pinned)

    def permitted(self, model: str) -> bool:
        """Not one an Ollama server forwards to its cloud, and listed in ``allowed_models`` if
        that is set."""
        allowed = self.settings.allowed_models
        return not is_cloud_model(model) and (allowed is None or model in allowed)

    async def available_models(self) -> list[str]:
        """``!modelle``: the models the endpoint serves that the room may use."""
        if self.client is None:
            raise UserError("llm.not_configured")
        try:
            served = await self.client.models()
        except LlmError as error:
            raise UserError(f"llm.error_{error.kind}") from error
        return [model for model in served if self.permitted(model)]

    async def choose_model(self, room_id: str, model: str, *, by: str) -> None:
        """``!modell``: the room's model from now on, if the endpoint serves it and it is permitted."""
        if is_cloud_model(model):
            raise UserError("llm.cloud_model", name=model)
        if not self.permitted(model):
            raise UserError(
                "llm.model_not_allowed", name=model, allowed=", ".join(self.settings.allowed_models or [])
            )
        available = await self.available_models()
        if model not in available:
            raise UserError("llm.unknown_model", name=model, available=", ".join(available))
        with self._db.atomic():
            self._db.execute("UPDATE rooms SET model = ? WHERE room_id = ?", [model, room_id])
        self._audit.record(room_id, by, Action.MODEL_CHANGED, name=model)

    # ---- asking --------------------------------------------------------------------------------

    @staticmethod
    def asks_next_meeting(question: str) -> bool:
        """ "Wann ist die nächste Sitzung und was steht drauf?": the database knows that exactly."""
        return bool(_ASKS_NEXT_MEETING.search(question))

    def clock_answer(self, question: str) -> datetime | None:
        """ "Wie spät ist es?", "Welcher Tag ist heute?": the bot's own clock answers, not the model
        (a model knows no time, and a small one invents one). None for every other question."""
        return self._now() if _ASKS_THE_CLOCK.search(question) else None

    async def summarise(
        self,
        room_id: str,
        user_id: str,
        key: str,
        material: str,
        *,
        thread_root: str,
        sink: AnswerSink,
        announce: Callable[[], Awaitable[object]] | None = None,
    ) -> int:
        """``!zusammenfassung``: a draft summary of ``material`` (released minutes, a thread; ``key``
        names which), streamed like an answer and kept until the chair takes it into the record or
        discards it.

        ``announce`` (the hint how to take the draft) is out before the draft starts: sent side by
        side, the homeserver could put the draft's placeholder first."""
        if self.client is None:
            raise UserError("llm.not_configured")
        self.check_rate(user_id)
        position = self.gate.admit()
        asked = Question(
            room_id,
            user_id,
            self.settings.summary_prompt,
            thread_root,
            sink,
            self._count(room_id, user_id),
            material=material,
            draft=(room_id, key),
        )
        try:
            if announce is not None:
                await announce()
        finally:
            self._launch(asked, position)
        return position

    def draft(self, room_id: str, key: str) -> str | None:
        """The summary the model last wrote of ``key`` in the room, if not yet taken or discarded."""
        return self._drafts.get((room_id, key))

    def drop_draft(self, room_id: str, key: str) -> str | None:
        return self._drafts.pop((room_id, key), None)

    async def start(
        self,
        room_id: str,
        user_id: str,
        question: str,
        thread_root: str,
        sink: AnswerSink,
        *,
        general: bool = False,
        general_fallback: bool = False,
    ) -> int:
        """Check the limits now (errors go straight back), then answer in the background — from the
        room's own record, or (``general``) from what the model knows; with ``general_fallback``
        (the room allows it) generally also when the record holds nothing.

        Returns the queue position (0: starts at once). The answer never runs on the sync path.
        """
        if self.client is None:
            raise UserError("llm.not_configured")
        if len(question) > MAX_QUESTION_CHARS:
            raise UserError("too_long", length=len(question), limit=MAX_QUESTION_CHARS)
        sources: tuple[Passage, ...] = ()
        if not general:
            sources = tuple(await self._record.find(room_id, question))
            if not sources and not general_fallback:
                raise UserError("llm.nothing_in_record")
        self.check_rate(user_id)
        position = self.gate.admit()
        asked = Question(
            room_id,
            user_id,
            question,
            thread_root,
            sink,
            self._count(room_id, user_id),
            sources,
            fell_back=not general and not sources,
        )
        self._launch(asked, position)
        return position

    def _launch(self, asked: Question, position: int) -> None:
        task = asyncio.get_running_loop().create_task(self._answer(asked, position))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, asked: Question, position: int) -> None:
        try:
            placeholder = await asked.sink.start(position)
        except BaseException:
            self.gate.abandon()
            log.exception("could not post the placeholder of an answer")
            raise
        try:
            async with self.gate.slot():
                async with asyncio.timeout(self.settings.timeout_s):
                    await self._stream_into(asked, placeholder)
        except TimeoutError:
            log.warning("answer in %s took longer than %.0f s", asked.room_id, self.settings.timeout_s)
            await asked.sink.fail(placeholder, "llm.error_timeout")
        except Exception:
            log.exception("answering a question failed")
            await asked.sink.fail(placeholder, "llm.error_http")

    async def _stream_into(self, asked: Question, event_id: str) -> None:
        client = self.client
        assert client is not None
        sink = asked.sink
        if asked.material is not None:  # a text to work on: no thread, no record
            messages = [
                {"role": "system", "content": self.settings.system_prompt},
                {"role": "user", "content": f"{asked.text}\n\n{asked.material}"},
            ]
        else:
            messages = self._messages(asked.text, (asked.room_id, asked.thread_root), asked.sources)
        if self.settings.log_prompts:
            log.info("prompt in %s: %s", asked.room_id, asked.text)
        answer = ""
        reported = False
        written = 0  # characters already final in earlier messages
        last_edit = float("-inf")  # the first tokens show at once; then at most one edit per interval
        readable = False
        await sink.typing(True)
        try:
            async for piece in client.stream(messages, self.model_for(asked.room_id)):
                if isinstance(piece, Usage):
                    self._tokens(asked.usage_id, piece)
                    reported = True
                    continue
                answer += piece
                current = answer[written:]
                if len(current) > MAX_MESSAGE_CHARS:
                    while len(current) > MAX_MESSAGE_CHARS:  # one piece may hold several messages
                        cut = _cut(current)
                        await sink.update(event_id, current[:cut], final=True)
                        written += cut
                        current = answer[written:]
                        event_id = await sink.follow_up(current[:MAX_MESSAGE_CHARS])
                    last_edit = time.monotonic()
                elif time.monotonic() - last_edit >= self.settings.edit_interval and (
                    readable or (readable := any(ch.isalnum() for ch in current))
                ):
                    # The first edit waits for a word: an edit that shows only a line break or
                    # a "**" would spend the interval on nothing the member can read.
                    await sink.update(event_id, current, final=False)
                    last_edit = time.monotonic()
            if not answer.strip():
                raise LlmError("empty")
            if not reported:
                # Not every server reports usage; a rough count (4 characters a token) keeps !status useful.
                prompt = sum(len(m["content"]) for m in messages)
                self._tokens(asked.usage_id, Usage(prompt // 4, len(answer) // 4))
            await sink.update(
                event_id, answer[written:], final=True, sources=asked.sources, general=asked.fell_back
            )
            if asked.draft is not None:
                self._drafts[asked.draft] = answer.strip()
            else:
                self._remember(asked, answer)
        except LlmError as error:
            log.warning("model error in %s: %s", asked.room_id, error)
            await sink.fail(event_id, f"llm.error_{error.kind}")
        finally:
            await sink.typing(False)

    def _messages(
        self, question: str, thread: tuple[str, str], sources: Sequence[Passage] = ()
    ) -> list[dict[str, str]]:
        system = self.settings.system_prompt
        if sources:
            passages = "\n".join(f"[{number}] {prompt_line(p)}" for number, p in enumerate(sources, start=1))
            system = f"{system}\n\n{self.settings.grounding_prompt}\n\n{passages}"
        messages = [{"role": "system", "content": system}]
        turns = (
            list(self._threads.get(thread, ()))[-self.settings.context_turns :]
            if self.settings.context_turns
            else []
        )
        for _who, asked, answered in turns:
            messages.append({"role": "user", "content": asked})
            messages.append({"role": "assistant", "content": answered})
        messages.append({"role": "user", "content": question})
        if self.settings.fold_system_prompt:
            system = messages.pop(0)["content"]
            messages[0] = {"role": "user", "content": f"{system}\n\n{messages[0]['content']}"}
        return messages

    def _remember(self, asked: Question, answer: str) -> None:
        thread = (asked.room_id, asked.thread_root)
        turns = self._threads.setdefault(thread, deque(maxlen=max(self.settings.context_turns, 1)))
        turns.append((asked.user_id, asked.text, answer))
        self._threads.move_to_end(thread)
        while len(self._threads) > REMEMBERED_THREADS:
            self._threads.popitem(last=False)

    def forget(self, user_id: str) -> int:
        """``!vergessen``: the member's questions (and their answers) leave the remembered threads;
        returns how many."""
        forgotten = 0
        for thread, turns in list(self._threads.items()):
            kept = [turn for turn in turns if turn[0] != user_id]
            forgotten += len(turns) - len(kept)
            if kept:
                self._threads[thread] = deque(kept, maxlen=turns.maxlen)
            else:
                del self._threads[thread]
        return forgotten

    async def wait_idle(self) -> None:
        """For shutdown and tests: let running answers finish."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.wait_idle()
        if self.client is not None:
            await self.client.close()


def _pooled(embedding: Any) -> list[float]:
    if embedding and isinstance(embedding[0], list):  # one vector per token: their mean
        width = len(embedding[0])
        return [sum(token[i] for token in embedding) / len(embedding) for i in range(width)]
    return [float(value) for value in embedding]


def prompt_line(passage: Passage) -> str:
    """A passage as the model reads it: what it is, when, under which TOP, and its text."""
    parts = [passage.kind + (f" {passage.number}" if passage.number else "")]
    if passage.day is not None:
        parts.append(passage.day.isoformat())
    if passage.top is not None:
        parts.append(f"TOP {passage.top}" + (f" {passage.title}" if passage.title else ""))
    elif passage.title:
        parts.append(passage.title)
    return f"({', '.join(parts)}) {' '.join(passage.body.split())}"


_ASKS_NEXT_MEETING = re.compile(
    r"\b(?:nächste[nmrs]?|kommende[nmrs]?)\s+(?:sitzung|treffen|termin)|\bwann\s+(?:tagen|treffen)\s+wir\b"
    r"|\bnext\s+meeting\b|\bwhen\s+(?:do|will)\s+we\s+meet\b",
    re.IGNORECASE,
)


def _cut(text: str) -> int:
    """Where to split an over-long answer: the last paragraph or line break, else a space."""
    window = text[:MAX_MESSAGE_CHARS]
    for separator in ("\n\n", "\n", " "):
        place = window.rfind(separator)
        if place > MAX_MESSAGE_CHARS // 2:
            return place + len(separator)
    return MAX_MESSAGE_CHARS
