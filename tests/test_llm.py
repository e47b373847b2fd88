"""The model client and LlmService under faults: a fake endpoint behind httpx.MockTransport (and a
few stub servers on 127.0.0.1 where a real socket matters), a recording AnswerSink, no homeserver.

The real llama.cpp server is exercised in tests/test_e2e_ask.py; these tests inject what it
would rarely do: refuse, hang, trickle, answer 500, garbage, nothing, 100 KB, a redirect.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, NamedTuple

import httpx
import pytest

from bot.errors import ConfigError, UserError
from bot.matrix import edit_html_content, html_content
from bot.outbox import ThreadAnswer
from bot.render import render_untrusted
from bot.services.audit import AuditLog
from bot.services.knowledge import Passage
from bot.services.llm import (
    MAX_MESSAGE_CHARS,
    MAX_QUESTION_CHARS,
    LlmClient,
    LlmError,
    LlmService,
    Pinned,
    PinnedTransport,
    check_on_premises,
    is_cloud_model,
)
from bot.settings import LlmSettings
from bot.storage import open_memory_db
from tests.clock import BERLIN

ROOM = "!raum:lvr.de"
ALICE, BOB = "@alice:lvr.de", "@bob:lwl.org"
PLACEHOLDER = "$platzhalter"
QUESTION = "Wann tagt der Finanzausschuss das nächste Mal?"

Reply = Callable[[httpx.Request], Awaitable[httpx.Response]]


# ---- the fake endpoint ---------------------------------------------------------------------------


def chunk(text: str) -> bytes:
    return f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': text}}]})}\n\n".encode()


def sse(*pieces: str, usage: tuple[int, int] | None = None, done: bool = True) -> bytes:
    """An OpenAI-style event stream: one chunk per piece, the usage, then [DONE]."""
    body = b"".join(chunk(piece) for piece in pieces)
    if usage is not None:
        counters = {"prompt_tokens": usage[0], "completion_tokens": usage[1]}
        body += f"data: {json.dumps({'choices': [], 'usage': counters})}\n\n".encode()
    if done:
        body += b"data: [DONE]\n\n"
    return body


def streamed(body: bytes | AsyncIterator[bytes], status: int = 200) -> httpx.Response:
    return httpx.Response(status, headers={"Content-Type": "text/event-stream"}, content=body)


def words(text: str) -> list[str]:
    """``text`` in pieces as a model streams it: word by word, spaces kept."""
    *head, last = text.split(" ")
    return [piece + " " for piece in head] + [last]


def answer_to(question: str) -> str:
    return f"Antwort auf „{question}“."


async def echo(request: httpx.Request) -> httpx.Response:
    """Answers the last user turn with ``answer_to(it)``, word by word, and reports usage."""
    question = json.loads(request.content)["messages"][-1]["content"]
    return streamed(sse(*words(answer_to(question)), usage=(12, 34)))


class FakeModel:
    """The endpoint behind an httpx.MockTransport: records every request, answers with ``reply``."""

    def __init__(self, reply: Reply = echo) -> None:
        self.reply = reply
        self.requests: list[httpx.Request] = []

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.reply(request)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)


def llm_settings(**overrides: Any) -> LlmSettings:
    values: dict[str, Any] = {
        "base_url": "http://127.0.0.1:9/v1",
        "model": "test",
        "timeout_s": 5.0,
        "edit_interval": 60.0,
    }
    return LlmSettings(**(values | overrides))


class FoundRecord:
    """The room's record as the service searches it: one decision, or (``found=False``) nothing."""

    def __init__(self, *, found: bool = True) -> None:
        self.found = found
        self.asked: list[tuple[str, str]] = []

    async def find(self, room_id: str, question: str, *, limit: int = 3) -> list[Passage]:
        self.asked.append((room_id, question))
        return [DECISION] if self.found else []


DECISION = Passage(
    "decision",
    7,
    "Finanzausschuss",
    "Der Finanzausschuss tagt im März.",
    date(2026, 3, 12),
    1.0,
    "2026/07",
    4,
    "$b",
)


def llm_service(
    settings: LlmSettings, client: LlmClient | None, record: FoundRecord | None = None
) -> LlmService:
    db = open_memory_db()
    return LlmService(
        db,
        settings,
        client,
        audit=AuditLog(db, BERLIN),
        now=lambda: datetime.now(BERLIN),
        record=record or FoundRecord(),
    )


def make_service(reply: Reply = echo, **overrides: Any) -> tuple[LlmService, FakeModel]:
    settings = llm_settings(**overrides)
    model = FakeModel(reply)
    return llm_service(settings, LlmClient(settings, transport=model.transport())), model


# ---- the recording sink --------------------------------------------------------------------------


class Update(NamedTuple):
    event_id: str
    answer: str
    final: bool
    at: float


@dataclass
class RecordingSink:
    """An AnswerSink that records what LlmService does with one answer."""

    accepted: asyncio.Event | None = None
    """A real sink waits for the homeserver before it has an event id: until this is set."""
    clock: Callable[[], float] = time.monotonic
    started: list[int] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    follow_ups: list[str] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    typing_states: list[bool] = field(default_factory=list)

    async def start(self, position: int) -> str:
        self.started.append(position)
        if self.accepted is not None:
            await self.accepted.wait()
        return PLACEHOLDER

    async def update(
        self,
        event_id: str,
        answer: str,
        *,
        final: bool,
        sources: Sequence[Passage] = (),
        general: bool = False,
    ) -> None:
        self.updates.append(Update(event_id, answer, final, self.clock()))
        if final:
            self.sources = list(sources)
            self.general = general

    async def follow_up(self, answer: str) -> str:
        self.follow_ups.append(answer)
        return f"$folge{len(self.follow_ups)}"

    async def fail(self, event_id: str, key: str) -> None:
        self.failures.append((event_id, key))

    async def typing(self, active: bool) -> None:
        self.typing_states.append(active)

    @property
    def finals(self) -> list[tuple[str, str]]:
        return [(update.event_id, update.answer) for update in self.updates if update.final]

    @property
    def interim(self) -> list[Update]:
        return [update for update in self.updates if not update.final]


async def ask(
    service: LlmService, question: str = QUESTION, *, user: str = ALICE, thread: str = "$frage"
) -> RecordingSink:
    """One question, answered to the end."""
    sink = RecordingSink()
    assert await service.start(ROOM, user, question, thread, sink) == 0
    await service.wait_idle()
    return sink


async def settle() -> None:
    """Let started answers run until they wait for something."""
    for _ in range(10):
        await asyncio.sleep(0)


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]


# ---- stub servers on real sockets ----------------------------------------------------------------


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    return head + await reader.readexactly(length)


@contextlib.asynccontextmanager
async def stub_server(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[str]:
    """A TCP server on 127.0.0.1; yields its base URL."""

    async def guarded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await handle(reader, writer)
        writer.close()

    server = await asyncio.start_server(guarded, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.close()
        await server.wait_closed()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- (a) faults: the member gets a clear failure, nothing escapes the task ------------------------


async def connect_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


async def read_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


async def cut_off(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


async def status_500(request: httpx.Request) -> httpx.Response:
    return httpx.Response(500, text="CUDA out of memory")


async def not_json(request: httpx.Request) -> httpx.Response:
    return streamed(b"data: {not json\n\n")


async def only_done(request: httpx.Request) -> httpx.Response:
    return streamed(b"data: [DONE]\n\n")


async def only_whitespace(request: httpx.Request) -> httpx.Response:
    return streamed(sse(" ", "\n\n", " "))


async def error_object(request: httpx.Request) -> httpx.Response:
    return streamed(b'data: {"error": {"message": "model \'test\' not found", "code": 404}}\n\n')


async def html_page(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200, headers={"Content-Type": "text/html"}, text="<html><body>Anmeldung</body></html>"
    )


async def text_then_garbage(request: httpx.Request) -> httpx.Response:
    return streamed(sse("Der Ausschuss ", "tagt ", done=False) + b"data: {not json\n\n")


async def choices_not_a_list(request: httpx.Request) -> httpx.Response:
    return streamed(b'data: {"choices": {"delta": "x"}}\n\n')


@pytest.mark.parametrize(
    ("reply", "key"),
    [
        (connect_error, "llm.error_refused"),
        (read_timeout, "llm.error_timeout"),
        (cut_off, "llm.error_http"),
        (status_500, "llm.error_http"),
        (not_json, "llm.error_malformed"),
        (only_done, "llm.error_empty"),
        (only_whitespace, "llm.error_empty"),
        (error_object, "llm.error_http"),
        (html_page, "llm.error_malformed"),
        (text_then_garbage, "llm.error_malformed"),
    ],
)
async def test_a_fault_replaces_the_placeholder_with_its_explanation(
    reply: Reply, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    service, _ = make_service(reply)

    sink = await ask(service)

    assert sink.failures == [(PLACEHOLDER, key)]
    assert sink.finals == []
    assert sink.typing_states == [True, False]
    assert errors_logged(caplog) == []
    assert service.gate.running == service.gate.waiting == 0
    await service.close()


async def test_a_closed_port_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    settings = llm_settings(base_url=f"http://127.0.0.1:{closed_port()}/v1")
    service = llm_service(settings, LlmClient(settings))

    sink = await ask(service)

    assert sink.failures == [(PLACEHOLDER, "llm.error_refused")]
    assert errors_logged(caplog) == []
    await service.close()


async def test_an_endpoint_that_never_answers_times_out_after_timeout_s(
    caplog: pytest.LogCaptureFixture,
) -> None:
    given_up = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await reader.read()  # until the client gives up and closes
        given_up.set()

    async with stub_server(silent) as base_url:
        # Nothing else could end the wait: the endpoint stays silent for as long as it is asked.
        settings = llm_settings(base_url=base_url, timeout_s=0.3)
        service = llm_service(settings, LlmClient(settings))

        sink = await ask(service)

        assert sink.failures == [(PLACEHOLDER, "llm.error_timeout")]
        await asyncio.wait_for(given_up.wait(), 10)  # the request was dropped, not left hanging
        assert errors_logged(caplog) == []
        await service.close()


async def test_an_answer_that_trickles_on_past_timeout_s_times_out() -> None:
    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
        for _ in range(12):
            writer.write(chunk("Wort "))
            await writer.drain()
            await asyncio.sleep(0.1)
        writer.write(b"data: [DONE]\n\n")
        await writer.drain()

    async with stub_server(trickle) as base_url:
        settings = llm_settings(base_url=base_url, timeout_s=0.3)
        service = llm_service(settings, LlmClient(settings))

        sink = await ask(service)
        await service.close()

    assert sink.failures == [(PLACEHOLDER, "llm.error_timeout")]


async def bad_usage(request: httpx.Request) -> httpx.Response:
    usage = b'data: {"choices": [], "usage": {"prompt_tokens": "viele", "completion_tokens": 3}}\n\n'
    return streamed(chunk("Am Dienstag.") + usage + b"data: [DONE]\n\n")


@pytest.mark.parametrize("reply", [bad_usage, choices_not_a_list])
async def test_a_malformed_chunk_still_ends_the_answer(
    reply: Reply, caplog: pytest.LogCaptureFixture
) -> None:
    service, _ = make_service(reply)

    sink = await ask(service)
    await service.close()

    assert sink.finals == [(PLACEHOLDER, "Am Dienstag.")] or sink.failures == [
        (PLACEHOLDER, "llm.error_malformed")
    ]
    assert errors_logged(caplog) == []


async def test_an_answer_arrives_as_one_final_update_and_usage_is_counted() -> None:
    service, _ = make_service()

    sink = await ask(service)

    assert sink.started == [0]
    assert sink.finals == [(PLACEHOLDER, answer_to(QUESTION))]
    assert sink.updates[-1].final
    assert sink.failures == []
    assert sink.typing_states == [True, False]
    assert service.stats() == (1, 12 + 34)
    await service.close()


async def test_without_usage_from_the_server_tokens_are_estimated_from_characters() -> None:
    async def no_usage(request: httpx.Request) -> httpx.Response:
        return streamed(sse("Am ", "Dienstag ", "um ", "zehn."))

    service, model = make_service(no_usage)

    await ask(service)

    prompt = sum(len(message["content"]) for message in model.bodies[0]["messages"])
    assert service.stats() == (1, prompt // 4 + len("Am Dienstag um zehn.") // 4)
    await service.close()


async def test_without_a_client_or_with_an_overlong_question_nothing_starts() -> None:
    settings = llm_settings()
    unconfigured = llm_service(settings, None)
    service, model = make_service()

    with pytest.raises(UserError) as not_configured:
        await unconfigured.start(ROOM, ALICE, QUESTION, "$frage", RecordingSink())
    with pytest.raises(UserError) as too_long:
        await service.start(ROOM, ALICE, "x" * (MAX_QUESTION_CHARS + 1), "$frage", RecordingSink())
    await service.wait_idle()

    assert not_configured.value.key == "llm.not_configured"
    assert (too_long.value.key, too_long.value.params) == (
        "too_long",
        {"length": MAX_QUESTION_CHARS + 1, "limit": MAX_QUESTION_CHARS},
    )
    assert model.requests == []
    assert service.stats() == (0, 0)
    await service.close()


# ---- (b) a long answer is split into messages that fit -------------------------------------------


def long_answer(length: int) -> str:
    sentences, paragraph = [], 0
    while sum(len(s) for s in sentences) < length:
        paragraph += 1
        sentences.append(f"Absatz {paragraph}: " + "Der Haushalt wird im Ausschuss beraten. " * 9 + "\n\n")
    return "".join(sentences)[:length]


async def test_a_100_kb_answer_is_split_into_messages_that_each_fit() -> None:
    answer = long_answer(100_000)
    pieces = [answer[i : i + 37] for i in range(0, len(answer), 37)]

    async def long_reply(request: httpx.Request) -> httpx.Response:
        return streamed(sse(*pieces))

    service, _ = make_service(long_reply)

    sink = await ask(service)

    finals = sink.finals
    messages = [PLACEHOLDER] + [f"$folge{n}" for n in range(1, len(sink.follow_ups) + 1)]
    assert [event_id for event_id, _ in finals] == messages
    assert len(messages) >= 100_000 // MAX_MESSAGE_CHARS + 1
    assert all(len(text) <= MAX_MESSAGE_CHARS for _, text in finals)
    assert "".join(text for _, text in finals) == answer
    assert all(
        follow_up == "" or final.startswith(follow_up)
        for follow_up, (_, final) in zip(sink.follow_ups, finals[1:], strict=True)
    )
    assert sink.updates[-1] == Update(messages[-1], finals[-1][1], True, sink.updates[-1].at)
    assert sink.failures == []
    await service.close()


async def test_an_answer_sent_in_one_huge_piece_is_split_too() -> None:
    answer = long_answer(100_000)

    async def one_piece(request: httpx.Request) -> httpx.Response:
        return streamed(sse(answer))

    service, _ = make_service(one_piece)

    sink = await ask(service)
    await service.close()

    assert "".join(text for _, text in sink.finals) == answer
    assert [len(text) for _, text in sink.finals if len(text) > MAX_MESSAGE_CHARS] == []


def encrypted_size(content: dict[str, Any]) -> int:
    """Bytes of the Megolm ciphertext for ``content``: base64 of the plaintext event (4/3)."""
    plaintext = json.dumps(
        {"type": "m.room.message", "content": content, "room_id": ROOM}, ensure_ascii=False
    )
    return len(plaintext.encode()) * 4 // 3


@dataclass
class RecordingAdapter:
    sent: list[dict[str, Any]] = field(default_factory=list)
    background: list[bool] = field(default_factory=list)

    async def send_event(
        self, room_id: str, event_type: str, content: dict[str, Any], *, background: bool = False
    ) -> str:
        self.sent.append(content)
        self.background.append(background)
        return f"$ereignis{len(self.sent)}"

    async def typing(self, room_id: str, active: bool) -> None:
        pass


def thread_answer(service: LlmService, adapter: RecordingAdapter) -> ThreadAnswer:
    matrix: Any = adapter  # only what a ThreadAnswer sends
    return ThreadAnswer(matrix, service, ROOM, "$frage", thread_root="$frage", lang="de")


async def test_every_event_of_a_long_answer_fits_in_an_encrypted_matrix_event() -> None:
    answer = long_answer(40_000)

    async def long_reply(request: httpx.Request) -> httpx.Response:
        return streamed(sse(*[answer[i : i + 50] for i in range(0, len(answer), 50)]))

    service, _ = make_service(long_reply)
    adapter = RecordingAdapter()

    assert await service.start(ROOM, ALICE, QUESTION, "$frage", thread_answer(service, adapter)) == 0
    await service.wait_idle()
    await service.close()

    assert len(adapter.sent) > 3
    assert [size for size in map(encrypted_size, adapter.sent) if size > 65_536] == []


async def test_interim_edits_give_way_to_replies_and_the_final_one_does_not() -> None:
    service, _ = make_service()
    adapter = RecordingAdapter()
    answer = thread_answer(service, adapter)

    await answer.update("$antwort", "Matrix ist", final=False)
    await answer.update("$antwort", "Matrix ist ein Protokoll.", final=True)

    assert adapter.background == [True, False]  # the send queue lets the room's replies go first
    await service.close()


# ---- (c) edits are throttled ---------------------------------------------------------------------


class ModelTime:
    """The service's ``time`` module, with a monotonic clock that moves only as the model writes."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


async def test_interim_edits_come_at_most_once_per_edit_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.services.llm as llm_module

    # Binary fractions, so that the times add up exactly: a piece every 1/16 s, an edit every 1/4 s.
    interval, per_piece = 0.25, 0.0625
    clock = ModelTime()
    monkeypatch.setattr(llm_module, "time", clock)
    pieces = [f"Wort{n} " for n in range(20)]
    stream_time: list[float] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        async def body() -> AsyncIterator[bytes]:
            began = clock.monotonic()
            for piece in pieces:
                clock.now += per_piece  # the model takes its time over each piece
                yield chunk(piece)
            stream_time.append(clock.monotonic() - began)
            yield b"data: [DONE]\n\n"

        return streamed(body())

    service, _ = make_service(slow, edit_interval=interval)
    sink = RecordingSink(clock=clock.monotonic)
    assert await service.start(ROOM, ALICE, QUESTION, "$frage", sink) == 0
    await service.wait_idle()

    interim = sink.interim
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(interim)]
    assert interim[0].answer == pieces[0]  # the first tokens show at once
    assert 2 <= len(interim) <= int(stream_time[0] / interval) + 1
    assert [gap for gap in gaps if gap < interval] == []
    assert all("".join(pieces).startswith(update.answer) for update in interim)
    assert sink.updates[-1].final
    assert sink.finals == [(PLACEHOLDER, "".join(pieces))]
    await service.close()


async def test_the_first_edit_waits_for_a_word(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.services.llm as llm_module

    clock = ModelTime()
    monkeypatch.setattr(llm_module, "time", clock)
    pieces = ["\n", "**", "Antwort", "** steht ", "hier."]

    async def stream(request: httpx.Request) -> httpx.Response:
        async def body() -> AsyncIterator[bytes]:
            for piece in pieces:
                clock.now += 0.0625
                yield chunk(piece)
            yield b"data: [DONE]\n\n"

        return streamed(body())

    service, _ = make_service(stream, edit_interval=0.25)
    sink = RecordingSink(clock=clock.monotonic)
    assert await service.start(ROOM, ALICE, QUESTION, "$frage", sink) == 0
    await service.wait_idle()

    # Not "\n" nor "**" alone: the first edit a member sees has the first word in it.
    assert sink.interim[0].answer == "\n**Antwort"
    assert sink.finals == [(PLACEHOLDER, "".join(pieces))]
    await service.close()


# ---- (d) untrusted model output: no mentions, no scripts, formatting kept ------------------------

HOSTILE = (
    "@room Achtung! **fett** und `code`\n\n"
    "<script>alert(1)</script>\n\n"
    '[klick](javascript:alert(1)) <a href="javascript:alert(2)">x</a> <javascript:alert(3)>\n\n'
    "- eins\n- zwei\n\n"
    "![pixel](https://tracker.example/p.png) [Quelle](https://example.org)"
)


def assert_harmless(html: str) -> None:
    assert "<script" not in html and "script&gt;" not in html  # the element is dropped, not shown
    assert re.search(r"<a\b[^>]*javascript", html) is None
    answer_html = html.split("Quellen:", maxsplit=1)[0]  # the sources line is the bot's own, with its link
    assert answer_html.count("href=") == 1  # only the https link is a link
    assert '<a href="https://example.org"' in html
    assert "<img" not in html
    assert "<strong>fett</strong>" in html
    assert "<code>code</code>" in html
    assert "<ul>\n<li>eins</li>\n<li>zwei</li>\n</ul>" in html


def test_html_tags_a_model_writes_are_rendered_when_allowed() -> None:
    body, html = render_untrusted("Das ist <strong>wichtig</strong> und <em>so</em>.<br>Neue Zeile")

    assert "<strong>wichtig</strong>" in html and "<em>so</em>" in html
    assert body == "Das ist wichtig und so.\nNeue Zeile"
    assert "&lt;" not in html


def test_render_untrusted_keeps_at_room_as_text_and_only_allowed_markup() -> None:
    body, html = render_untrusted(HOSTILE)

    assert body.startswith("@room Achtung! fett und code")
    assert "@room" in html
    assert_harmless(html)


def test_answer_content_mentions_nobody_even_when_the_model_writes_at_room() -> None:
    body, html = render_untrusted(HOSTILE)

    content = html_content(body, html, thread_root="$frage", reply_to="$frage")
    edit = edit_html_content(PLACEHOLDER, body, html)

    assert content["m.mentions"] == {"user_ids": []}
    assert edit["m.mentions"] == {"user_ids": []}
    assert edit["m.new_content"]["m.mentions"] == {"user_ids": []}


async def test_a_hostile_answer_through_thread_answer_is_sanitised_and_mentions_nobody() -> None:
    async def hostile(request: httpx.Request) -> httpx.Response:
        return streamed(sse(*words(HOSTILE)))

    service, _ = make_service(hostile)
    adapter = RecordingAdapter()

    assert await service.start(ROOM, ALICE, QUESTION, "$frage", thread_answer(service, adapter)) == 0
    await service.wait_idle()

    placeholder, final = adapter.sent[0], adapter.sent[-1]
    assert placeholder["m.relates_to"]["rel_type"] == "m.thread"
    assert final["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$ereignis1"}
    assert [content["m.mentions"] for content in adapter.sent] == [{"user_ids": []}] * len(adapter.sent)
    assert final["m.new_content"]["m.mentions"] == {"user_ids": []}
    assert "@room" in final["m.new_content"]["body"]
    assert_harmless(final["m.new_content"]["formatted_body"])
    assert "KI-generiert · lokales Modell test" in final["m.new_content"]["body"]
    await service.close()


# ---- (e) rate limit: counters only ---------------------------------------------------------------


async def test_the_third_question_within_the_window_is_refused_at_once() -> None:
    service, model = make_service(user_rate="2/10min")
    await ask(service, "Erste Frage zum Haushalt?")
    await ask(service, "Zweite Frage zum Haushalt?")
    third = RecordingSink()

    with pytest.raises(UserError) as refused:
        await service.start(ROOM, ALICE, "Dritte Frage zum Haushalt?", "$frage", third)

    assert (refused.value.key, refused.value.params) == ("llm.rate_limited", {"count": 2, "minutes": 10})
    assert service._tasks == set()
    await service.wait_idle()
    assert third.started == []
    assert len(model.requests) == 2
    other = await ask(service, "Bens Frage zum Haushalt?", user=BOB)
    assert other.finals == [(PLACEHOLDER, answer_to("Bens Frage zum Haushalt?"))]
    await service.close()


async def test_only_counters_are_stored_never_questions_or_answers() -> None:
    service, _ = make_service(user_rate="2/10min")
    questions = ["Geheime Frage über Frau Müller?", "Wie hoch ist das Gehalt von Herrn Schmidt?"]
    for question in questions:
        await ask(service, question)
    db = service._db

    columns = [column.name for column in db.table("llm_usage").columns]
    rows = [(row["user_id"], row["prompt_tokens"], row["completion_tokens"]) for row in db["llm_usage"].rows]
    dump = "\n".join(
        repr(row) for table in db.table_names() for row in db.execute(f"SELECT * FROM [{table}]").fetchall()
    )

    assert columns == ["id", "room_id", "user_id", "ts", "prompt_tokens", "completion_tokens"]
    assert rows == [(ALICE, 12, 34), (ALICE, 12, 34)]
    for text in [*questions, *map(answer_to, questions), "Müller", "Schmidt"]:
        assert text not in dump
    await service.close()


# ---- (f) the gate: a bounded queue ---------------------------------------------------------------


async def test_questions_beyond_the_queue_are_refused_and_the_queue_drains() -> None:
    release = asyncio.Event()

    async def held(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return await echo(request)

    service, model = make_service(held, max_concurrent=1, queue_size=2)
    sinks = [RecordingSink() for _ in range(4)]
    positions = []
    for number, sink in enumerate(sinks[:3], start=1):
        positions.append(await service.start(ROOM, ALICE, f"Frage {number}?", f"$frage{number}", sink))
        await settle()

    with pytest.raises(UserError) as full:
        await service.start(ROOM, BOB, "Frage 4?", "$frage4", sinks[3])

    assert positions == [0, 1, 2]
    assert full.value.key == "llm.queue_full"
    assert (service.gate.running, service.gate.waiting) == (1, 2)
    assert len(model.requests) == 1
    release.set()
    await service.wait_idle()
    assert [sink.started for sink in sinks] == [[0], [1], [2], []]
    assert [sink.finals for sink in sinks[:3]] == [
        [(PLACEHOLDER, answer_to(f"Frage {number}?"))] for number in (1, 2, 3)
    ]
    assert (service.gate.running, service.gate.waiting) == (0, 0)
    assert service._tasks == set()
    await service.close()


async def test_questions_count_in_the_queue_while_their_placeholder_is_being_sent() -> None:
    release = asyncio.Event()

    async def held(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return await echo(request)

    service, _ = make_service(held, max_concurrent=1, queue_size=2)
    accepted = asyncio.Event()  # the homeserver has not accepted any "…" yet
    positions: list[int | str] = []
    for number in range(1, 5):
        try:
            sink = RecordingSink(accepted=accepted)
            positions.append(await service.start(ROOM, ALICE, f"Frage {number}?", f"$frage{number}", sink))
        except UserError as error:
            positions.append(error.key)
        await settle()
    accepted.set()
    release.set()
    await service.wait_idle()
    await service.close()

    assert positions == [0, 1, 2, "llm.queue_full"]


# ---- (g) context: earlier turns of the same thread -----------------------------------------------


async def test_a_follow_up_question_carries_the_threads_earlier_turns() -> None:
    service, model = make_service()
    first, second, elsewhere = "Wann tagt der Ausschuss?", "Und wo?", "Wer leitet den Rat?"

    await ask(service, first, thread="$faden1")
    await ask(service, second, thread="$faden1")
    await ask(service, elsewhere, thread="$faden2")

    system = {
        "role": "system",
        "content": f"{service.settings.system_prompt}\n\n{service.settings.grounding_prompt}\n\n"
        "[1] (decision 2026/07, 2026-03-12, TOP 4 Finanzausschuss) Der Finanzausschuss tagt im März.",
    }
    assert [body["messages"] for body in model.bodies] == [
        [system, {"role": "user", "content": first}],
        [
            system,
            {"role": "user", "content": first},
            {"role": "assistant", "content": answer_to(first)},
            {"role": "user", "content": second},
        ],
        [system, {"role": "user", "content": elsewhere}],
    ]
    assert [{key: value for key, value in body.items() if key != "messages"} for body in model.bodies] == [
        {
            "model": "test",
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": 512,
            "temperature": 0.3,
        }
    ] * 3
    await service.close()


async def test_a_failed_answer_is_not_remembered_and_context_turns_0_sends_none() -> None:
    replies = iter([status_500, echo, echo, echo])

    async def failing_first(request: httpx.Request) -> httpx.Response:
        return await next(replies)(request)

    service, model = make_service(failing_first)
    await ask(service, "Erste?", thread="$faden")
    await ask(service, "Zweite?", thread="$faden")
    forgetful, forgetful_model = make_service(context_turns=0)
    await ask(forgetful, "Erste?", thread="$faden")
    await ask(forgetful, "Zweite?", thread="$faden")

    assert [len(body["messages"]) for body in model.bodies] == [2, 2]
    assert [len(body["messages"]) for body in forgetful_model.bodies] == [2, 2]
    await service.close()
    await forgetful.close()


# ---- (h) the on-premises guard -------------------------------------------------------------------


def resolving_to(*addresses: str) -> Callable[[str], list[str]]:
    return lambda host: list(addresses)


def never_resolve(host: str) -> list[str]:
    raise AssertionError(f"{host} must not be resolved")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "::1",
        "10.1.2.3",
        "172.20.0.5",
        "192.168.1.10",
        "fd00::1",
    ],
)
def test_an_endpoint_on_the_premises_passes_and_its_address_is_pinned(address: str) -> None:
    pinned = check_on_premises("http://modell.intern:8080/v1", [], False, resolve=resolving_to(address))

    assert pinned == Pinned("modell.intern", (address,))


@pytest.mark.parametrize(
    "address",
    ["169.254.1.1", "fe80::1", "fe80::1%eth0", "169.254.169.254", "fd00:ec2::254", "100.100.100.200"],
)
def test_link_local_and_cloud_metadata_addresses_are_off_the_premises_unless_listed(address: str) -> None:
    with pytest.raises(ConfigError) as refused:
        check_on_premises("http://modell.intern:8080/v1", [], False, resolve=resolving_to(address))
    assert address in str(refused.value)

    listed = address.split("%", 1)[0]
    pinned = check_on_premises("http://modell.intern:8080/v1", [listed], False, resolve=resolving_to(address))
    assert pinned == Pinned("modell.intern", (address,))


@pytest.mark.parametrize(
    "addresses",
    [("8.8.8.8",), ("2001:4860::8888",), ("100.64.1.1",), ("192.168.1.10", "8.8.8.8"), ()],
    ids=["public-v4", "public-v6", "cgnat", "one-private-one-public", "nothing"],
)
def test_an_endpoint_off_the_premises_is_refused(addresses: tuple[str, ...]) -> None:
    with pytest.raises(ConfigError) as refused:
        check_on_premises("http://modell.example:8080/v1", [], False, resolve=resolving_to(*addresses))

    assert str(refused.value).startswith("llm.base_url:")
    public = [address for address in addresses if address != "192.168.1.10"]
    assert all(address in str(refused.value) for address in public)


def test_an_allowed_host_passes_whatever_its_case_and_is_pinned_to_what_it_resolved_to() -> None:
    pinned = check_on_premises(
        "https://KI.Partner.example/v1", ["ki.PARTNER.example"], False, resolve=resolving_to("203.0.113.7")
    )
    assert pinned == Pinned("ki.partner.example", ("203.0.113.7",))


def test_allow_external_passes_without_resolving() -> None:
    check_on_premises("https://api.example.com/v1", [], True, resolve=never_resolve)


def test_a_host_that_cannot_be_resolved_is_refused() -> None:
    def unknown(host: str) -> list[str]:
        raise OSError("Name or service not known")

    with pytest.raises(ConfigError) as refused:
        check_on_premises("http://modell.intern/v1", [], False, resolve=unknown)

    assert str(refused.value).startswith("llm.base_url:")


@pytest.mark.parametrize(
    "base_url", ["http://127.0.0.1:8080/v1", "http://[::1]:8080/v1", "http://localhost:11434/v1"]
)
def test_loopback_passes_with_the_real_resolver(base_url: str) -> None:
    check_on_premises(base_url, [], False)


# ---- (i) no proxies, no redirects ----------------------------------------------------------------


@pytest.fixture
def proxy_environment(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    def point_at(proxy: str) -> None:
        for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
            monkeypatch.setenv(name, proxy)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)

    return point_at


async def test_a_proxy_in_the_environment_is_ignored_with_a_transport(
    proxy_environment: Callable[[str], None],
) -> None:
    proxy_environment("http://10.99.99.99:3128")
    service, model = make_service()

    sink = await ask(service)

    assert len(model.requests) == 1
    assert sink.finals == [(PLACEHOLDER, answer_to(QUESTION))]
    await service.close()


async def test_a_proxy_in_the_environment_is_ignored_on_a_real_socket(
    proxy_environment: Callable[[str], None],
) -> None:
    proxied: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        proxied.append(await read_request(reader))
        writer.write(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()

    async def model(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n")
        writer.write(sse("Direkt ", "verbunden."))
        await writer.drain()

    async with stub_server(proxy) as proxy_url, stub_server(model) as base_url:
        proxy_environment(proxy_url.removesuffix("/v1"))
        async with httpx.AsyncClient() as ordinary:  # control: an httpx default client takes the proxy
            assert (await ordinary.get(f"{base_url}/models")).status_code == 502
        assert len(proxied) == 1
        settings = llm_settings(base_url=base_url)
        service = llm_service(settings, LlmClient(settings))

        sink = await ask(service)
        await service.close()

    assert sink.finals == [(PLACEHOLDER, "Direkt verbunden.")]
    assert len(proxied) == 1


async def redirect_away(request: httpx.Request) -> httpx.Response:
    if request.url.host == "127.0.0.1":
        return httpx.Response(302, headers={"Location": "https://203.0.113.7/v1/chat/completions"})
    return await echo(request)


async def test_a_redirect_is_not_followed() -> None:
    service, model = make_service(redirect_away)

    sink = await ask(service)

    assert [str(request.url) for request in model.requests] == ["http://127.0.0.1:9/v1/chat/completions"]
    assert sink.finals == []
    assert len(sink.failures) == 1
    await service.close()


async def test_a_redirect_is_reported_as_an_http_error() -> None:
    service, _ = make_service(redirect_away)

    sink = await ask(service)
    await service.close()

    assert sink.failures == [(PLACEHOLDER, "llm.error_http")]


async def test_models_reports_a_redirect_as_an_http_error() -> None:
    settings = llm_settings()
    client = LlmClient(settings, transport=FakeModel(redirect_away).transport())

    with pytest.raises(LlmError) as failed:
        await client.models()
    await client.close()

    assert failed.value.kind == "http"


# ---- (j) the model list --------------------------------------------------------------------------


async def test_models_lists_the_ids_and_sends_the_api_key() -> None:
    async def listing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"object": "list", "data": [{"id": "a"}, {"id": "b"}]})

    model = FakeModel(listing)
    client = LlmClient(llm_settings(api_key="geheim"), transport=model.transport())

    assert await client.models() == ["a", "b"]
    assert [(request.method, str(request.url)) for request in model.requests] == [
        ("GET", "http://127.0.0.1:9/v1/models")
    ]
    assert model.requests[0].headers["Authorization"] == "Bearer geheim"
    await client.close()


async def nameless(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"data": [{"name": "ohne id"}]})


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (connect_error, "refused"),
        (read_timeout, "timeout"),
        (status_500, "http"),
        (html_page, "malformed"),
        (nameless, "malformed"),
    ],
)
async def test_models_failures_have_a_kind(reply: Reply, kind: str) -> None:
    client = LlmClient(llm_settings(), transport=FakeModel(reply).transport())

    with pytest.raises(LlmError) as failed:
        await client.models()
    await client.close()

    assert failed.value.kind == kind


async def test_threads_are_kept_apart_by_room_and_forgetting_drops_a_members_turns() -> None:
    service, model = make_service()
    await ask(service, "Annas Frage?", user=ALICE, thread="$faden")
    await ask(service, "Bens Frage?", user=BOB, thread="$faden")

    assert service.forget(ALICE) == 1
    await ask(service, "Noch eine?", user=BOB, thread="$faden")
    other_room = RecordingSink()
    assert await service.start("!anderer:lvr.de", BOB, "Dort?", "$faden", other_room) == 0
    await service.wait_idle()

    remembered = [m["content"] for m in model.bodies[2]["messages"] if m["role"] == "user"]
    assert remembered == ["Bens Frage?", "Noch eine?"]  # Anna's turn is gone
    assert len(model.bodies[3]["messages"]) == 2  # the same thread id in another room starts afresh
    await service.close()


async def test_a_frequency_penalty_is_sent_when_set() -> None:
    service, model = make_service(frequency_penalty=1.0)

    await ask(service)

    assert model.bodies[0]["frequency_penalty"] == 1.0
    await service.close()


def test_questions_about_the_time_are_for_the_bots_clock() -> None:
    service, _ = make_service()

    for question in (
        "Wie spät ist es?",
        "wieviel Uhr haben wir",
        "Welcher Tag ist heute?",
        "What time is it?",
    ):
        assert service.clock_answer(question) is not None, question
    for question in ("Was ist ein Beschluss?", "Wann tagt der Ausschuss?", "Spätestens wann?"):
        assert service.clock_answer(question) is None, question


# ---- (i) the guard, tightened: pinned addresses, cloud models, allowed models, !status ---------------


@contextlib.asynccontextmanager
async def models_server() -> AsyncIterator[tuple[int, list[str]]]:
    """A real HTTP server on 127.0.0.1 answering /v1/models; the Host headers it saw."""
    hosts: list[str] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        hosts.extend(
            line.split(":", 1)[1].strip() for line in head.split("\r\n") if line.lower().startswith("host:")
        )
        body = json.dumps({"data": [{"id": "gemma3:270m"}, {"id": "gpt-oss:120b-cloud"}]}).encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)
        )
        writer.write(body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, hosts
    finally:
        server.close()
        await server.wait_closed()


async def test_the_client_connects_only_to_the_pinned_address_keeping_the_host_name() -> None:
    async with models_server() as (port, hosts):
        # A name no resolver knows: only the pinned address can reach the server.
        settings = llm_settings(base_url=f"http://modell.intern.invalid:{port}/v1")
        client = LlmClient(settings)
        await client.pin(Pinned("modell.intern.invalid", ("127.0.0.1",)))
        try:
            assert await client.models() == ["gemma3:270m", "gpt-oss:120b-cloud"]
            assert await client.reachable()
        finally:
            await client.close()
    assert hosts == [f"modell.intern.invalid:{port}", f"modell.intern.invalid:{port}"]


async def test_the_pinned_transport_keeps_the_tls_name_and_refuses_other_hosts() -> None:
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": []})

    transport = PinnedTransport(Pinned("ki.lvr.de", ("10.0.0.5", "10.0.0.6")), httpx.MockTransport(record))
    async with httpx.AsyncClient(transport=transport) as http:
        await http.get("https://ki.lvr.de/v1/models")
        with pytest.raises(httpx.ConnectError):
            await http.get("https://elsewhere.example/v1/models")
    assert [(r.url.host, r.headers["host"], r.extensions.get("sni_hostname")) for r in seen] == [
        ("10.0.0.5", "ki.lvr.de", "ki.lvr.de")
    ]


@pytest.mark.parametrize(
    ("name", "cloud"),
    [
        ("gpt-oss:120b-cloud", True),
        ("qwen3-coder:480b-cloud", True),
        ("kimi:cloud", True),
        ("gemma3:270m", False),
        ("cloudy-llama:7b", False),
    ],
)
def test_cloud_model_names_are_recognised(name: str, cloud: bool) -> None:
    assert is_cloud_model(name) is cloud


def test_a_cloud_model_cannot_be_configured() -> None:
    with pytest.raises(ValueError, match="cloud model"):
        llm_settings(model="deepseek-v3.1:671b-cloud")


async def test_model_choice_refuses_cloud_models_and_keeps_to_allowed_models() -> None:
    async def served(request: httpx.Request) -> httpx.Response:
        models = ["gemma3:270m", "llama3.1:8b", "gpt-oss:120b-cloud"]
        return httpx.Response(200, json={"data": [{"id": m} for m in models]})

    service, _ = make_service(served, allowed_models=["gemma3:270m"])
    service._db.table("rooms").insert({"room_id": ROOM, "model": "gpt-oss:120b-cloud"})
    assert service.model_for(ROOM) == "test"  # a stored choice no longer permitted: the default
    assert await service.available_models() == ["gemma3:270m"]
    with pytest.raises(UserError) as cloud:
        await service.choose_model(ROOM, "gpt-oss:120b-cloud", by=ALICE)
    assert cloud.value.key == "llm.cloud_model"
    with pytest.raises(UserError) as listed:
        await service.choose_model(ROOM, "llama3.1:8b", by=ALICE)
    assert listed.value.key == "llm.model_not_allowed"
    await service.choose_model(ROOM, "gemma3:270m", by=ALICE)
    assert service.model_for(ROOM) == "gemma3:270m"


# ---- (j) answers from the room's own record -----------------------------------------------------


async def test_the_answer_comes_with_the_passages_it_was_given_as_sources() -> None:
    record = FoundRecord()
    settings = llm_settings()
    model = FakeModel(echo)
    service = llm_service(settings, LlmClient(settings, transport=model.transport()), record)

    sink = await ask(service, "Wann tagt der Finanzausschuss?")

    assert record.asked == [(ROOM, "Wann tagt der Finanzausschuss?")]
    system = model.bodies[0]["messages"][0]["content"]
    assert system.endswith(
        "[1] (decision 2026/07, 2026-03-12, TOP 4 Finanzausschuss) Der Finanzausschuss tagt im März."
    )
    assert sink.sources == [DECISION]


async def test_nothing_in_the_record_is_said_at_once_and_a_general_question_skips_the_record() -> None:
    record = FoundRecord(found=False)
    settings = llm_settings()
    model = FakeModel(echo)
    service = llm_service(settings, LlmClient(settings, transport=model.transport()), record)

    with pytest.raises(UserError) as nothing:
        await service.start(ROOM, ALICE, "Was ist Matrix?", "$f", RecordingSink())
    assert nothing.value.key == "llm.nothing_in_record"
    assert model.requests == []  # the model was not asked
    assert service.stats() == (0, 0)  # nor was it counted against the member's rate

    sink = RecordingSink()
    await service.start(ROOM, ALICE, "Was ist Matrix?", "$g", sink, general=True)
    await service.wait_idle()
    assert record.asked == [(ROOM, "Was ist Matrix?")]  # only the first time
    assert model.bodies[0]["messages"][0]["content"] == settings.system_prompt
    assert sink.sources == []


async def test_thread_answer_names_the_sources_under_the_answer_with_a_link() -> None:
    sent: list[dict[str, Any]] = []

    class Adapter:
        async def send_event(
            self, room_id: str, event_type: str, content: dict[str, Any], *, background: bool = False
        ) -> str:
            sent.append(content)
            return "$e"

    service, _ = make_service()
    answer = ThreadAnswer(Adapter(), service, ROOM, "$frage", thread_root="$frage", lang="de")  # type: ignore[arg-type]
    await answer.update("$e0", "Im März.", final=True, sources=[DECISION])

    body = sent[0]["m.new_content"]["body"]
    html = sent[0]["m.new_content"]["formatted_body"]
    assert "Quellen: Beschluss 2026/07 (Sitzung 12.03.2026, TOP 4)" in body
    assert 'href="https://matrix.to/#/%21raum%3Alvr.de/%24b"' in html
    assert body.index("Quellen:") < body.index("KI-generiert")


async def test_a_summary_is_drafted_from_the_material_and_kept_for_the_chair() -> None:
    service, model = make_service()
    sink = RecordingSink()

    await service.summarise(
        ROOM, ALICE, "meeting:3", "TOP 2: Beschluss 2026/07: „Pilot verlängert“", thread_root="$z", sink=sink
    )
    await service.wait_idle()

    messages = model.bodies[0]["messages"]
    assert messages[0]["content"] == service.settings.system_prompt  # no record, no thread
    assert (
        messages[1]["content"]
        == f"{service.settings.summary_prompt}\n\nTOP 2: Beschluss 2026/07: „Pilot verlängert“"
    )
    assert service.draft(ROOM, "meeting:3") == sink.updates[-1].answer.strip()
    assert service.draft("!anderer:lvr.de", "meeting:3") is None
    assert service.drop_draft(ROOM, "meeting:3") is not None and service.draft(ROOM, "meeting:3") is None


async def test_the_hint_on_a_summary_is_out_before_the_draft_starts() -> None:
    """The chair reads how to take the draft first: the placeholder waits until the hint is sent,
    and a hint that could not be sent does not cost the draft."""
    service, _ = make_service()
    sink = RecordingSink()
    order: list[str] = []
    sent = asyncio.Event()

    async def announce() -> None:
        order.append(f"hint, placeholders so far: {len(sink.started)}")
        await asyncio.sleep(0)  # a real send yields to the event loop
        await sent.wait()

    summarising = asyncio.create_task(
        service.summarise(ROOM, ALICE, "meeting:3", "TOP 1", thread_root="$z", sink=sink, announce=announce)
    )
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert order == ["hint, placeholders so far: 0"] and sink.started == []
    sent.set()
    await summarising
    await service.wait_idle()
    assert sink.started == [0] and sink.updates[-1].final

    async def fails() -> None:
        raise RuntimeError("homeserver gone")

    with pytest.raises(RuntimeError):
        await service.summarise(
            ROOM, ALICE, "meeting:4", "TOP 1", thread_root="$y", sink=sink, announce=fails
        )
    await service.wait_idle()
    assert service.draft(ROOM, "meeting:4")


async def test_a_room_that_allows_it_gets_a_general_answer_marked_as_such() -> None:
    record = FoundRecord(found=False)
    settings = llm_settings()
    model = FakeModel(echo)
    service = llm_service(settings, LlmClient(settings, transport=model.transport()), record)
    sink = RecordingSink()

    await service.start(ROOM, ALICE, "Was ist Matrix?", "$f", sink, general_fallback=True)
    await service.wait_idle()

    assert sink.general and sink.sources == []
    assert model.bodies[0]["messages"][0]["content"] == settings.system_prompt

    sent: list[dict[str, Any]] = []

    class Adapter:
        async def send_event(
            self, room_id: str, event_type: str, content: dict[str, Any], *, background: bool = False
        ) -> str:
            sent.append(content)
            return "$e"

    answer = ThreadAnswer(Adapter(), service, ROOM, "$frage", thread_root="$frage", lang="de")  # type: ignore[arg-type]
    await answer.update("$e0", "Ein Protokoll.", final=True, general=True)
    assert "Dazu steht nichts in den Unterlagen des Arbeitskreises" in sent[0]["m.new_content"]["body"]
