"""Tools of the fault tests: the bot as its own process (so it can be SIGKILLed), a counting
reverse proxy between it and Synapse (so a fault can hit an exact moment), and the room's history
as the homeserver keeps it (so "exactly once" is counted on the server, not in a client's sync).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from nio import MegolmEvent, RoomMessagesResponse
from yarl import URL

from bot.homeserver import EmbeddedHomeserver
from tests.chat import ChatClient, Seen
from tests.conftest import PASSWORD

_room_numbers = itertools.count(1)
HOP_BY_HOP = frozenset(
    {
        "connection",
        "content-encoding",
        "content-length",
        "host",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
REMINDER_TRANSACTION = "akbot-reminder-"


# ---- the bot as a separate process -----------------------------------------------------------


def write_config(folder: Path, homeserver_url: str, bot_id: str, room_id: str, chair: str) -> Path:
    """The operator's config file; ``homeserver_url`` may point at a proxy in front of Synapse."""
    config = folder / "config.toml"
    config.write_text(
        f'[matrix]\nhomeserver = "{homeserver_url}"\nuser_id = "{bot_id}"\npassword = "{PASSWORD}"\n'
        f'rooms = ["{room_id}"]\n'
        f'[bot]\nchairs = ["{chair}"]\ndata_dir = "{folder / "data"}"\n'
    )
    return config


class BotProcess:
    """``python -m bot run --config …``; every start logs to its own file next to the config."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []

    def start(self) -> None:
        log_path = self.config.parent / f"bot-{len(self.logs) + 1}.log"
        self.logs.append(log_path)
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--config", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.config.parent,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    @property
    def log(self) -> str:
        """What the current (last) run wrote."""
        return self.logs[-1].read_text(encoding="utf-8", errors="replace") if self.logs else ""

    def all_logs(self) -> str:
        return "".join(
            f"--- {path.name}\n" + path.read_text(encoding="utf-8", errors="replace") for path in self.logs
        )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def serving(self, timeout: float = 60.0) -> None:
        """Wait for the line the bot logs once it is connected and serving its rooms."""
        deadline = time.monotonic() + timeout
        while "serving" not in self.log:
            if not self.running:
                raise AssertionError(f"the bot exited before serving:\n{self.all_logs()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot did not start serving within {timeout} s:\n{self.log}")
            await asyncio.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer would: no handler, no clean-up runs."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    async def exited(self, timeout: float) -> int | None:
        """The exit code, or None when the process is still running after ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.running and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return None if self.process is None else self.process.poll()

    async def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        if await self.exited(20) is None:
            self.kill()


# ---- a counting reverse proxy ----------------------------------------------------------------


@dataclass(eq=False)
class Exchange:
    """One HTTP request of the bot, as the proxy saw it."""

    started: float
    method: str
    path: str
    size: int = 0
    status: int | None = None
    finished: float | None = None

    @property
    def is_send(self) -> bool:
        return self.method == "PUT" and "/send/" in self.path

    @property
    def transaction_id(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def is_reminder_send(self) -> bool:
        return self.is_send and self.transaction_id.startswith(REMINDER_TRANSACTION)

    @property
    def is_other_send(self) -> bool:
        """A send with a random transaction id: a command's answer or a summary edit."""
        return self.is_send and not self.is_reminder_send


Watch = Callable[[str, "Exchange", bytes], Awaitable[bool]]
"""Sees every request three times: ``"request"`` before it is forwarded, ``"answer"`` once the
homeserver answered (before the bot gets the answer), ``"relayed"`` after the bot got it. True at
"request" or "answer": drop the request, or the answer (the watch has killed the bot)."""


class HomeserverProxy:
    """Forwards every request of the bot to Synapse and notes it, with timestamps.

    ``watch`` lets a test kill the bot at an exact moment: before a request reaches the homeserver,
    after the homeserver acted on it but before the bot heard back, or right after the bot got an
    answer. ``hold`` keeps new requests from the homeserver; ``cut`` (right after a kill) drops
    whatever the dead bot left, held or in flight — as if the machine had lost power.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.exchanges: list[Exchange] = []
        self.watch: Watch | None = None
        self._open = asyncio.Event()
        self._open.set()
        self._generation = 0
        self._upstream: set[Exchange] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    async def start(self) -> str:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=10), auto_decompress=False
        )
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        self.cut()
        self.release()
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    def hold(self) -> None:
        self._open.clear()

    def cut(self) -> None:
        self._generation += 1

    def release(self) -> None:
        self._open.set()

    def sends_outstanding(self, but: Exchange | None = None) -> list[Exchange]:
        """Room sends the homeserver may have acted on while the bot has not had the answer."""
        return [e for e in self._upstream if e.is_send and e is not but]

    def requests_since(self, moment: float) -> list[Exchange]:
        return [e for e in self.exchanges if e.started >= moment]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        exchange = Exchange(time.monotonic(), request.method, request.path)
        self.exchanges.append(exchange)
        generation = self._generation
        body = await request.read()
        exchange.size = len(body)
        await self._open.wait()
        if self._gone(request, generation) or await self._watch("request", exchange, body):
            return self._sever(request)
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        self._upstream.add(exchange)
        try:
            try:
                async with self._session.request(
                    request.method,
                    URL(self.upstream + request.raw_path, encoded=True),
                    headers=headers,
                    data=body,
                    allow_redirects=False,
                ) as answer:
                    payload = await answer.read()
                    exchange.status = answer.status
                    answer_headers = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
                    if encoding := answer.headers.get("Content-Encoding"):
                        answer_headers["Content-Encoding"] = encoding
            except (aiohttp.ClientError, OSError) as error:
                exchange.status = 502
                return web.Response(status=502, text=f"proxy: {error}")
            if await self._watch("answer", exchange, payload) or self._gone(request, generation):
                return self._sever(request)
            response = web.Response(status=exchange.status, body=payload, headers=answer_headers)
            with contextlib.suppress(ConnectionError):
                await response.prepare(request)
                await response.write_eof()
            exchange.finished = time.monotonic()
        finally:
            self._upstream.discard(exchange)
        await self._watch("relayed", exchange, payload)
        return response

    def _gone(self, request: web.Request, generation: int) -> bool:
        """Did the bot that sent this die (cut since, or its connection closed)?"""
        transport = request.transport
        return generation != self._generation or transport is None or transport.is_closing()

    async def _watch(self, stage: str, exchange: Exchange, payload: bytes) -> bool:
        return self.watch is not None and await self.watch(stage, exchange, payload)

    @staticmethod
    def _sever(request: web.Request) -> web.StreamResponse:
        if request.transport is not None:
            request.transport.abort()
        return web.Response(status=503)


# ---- an encrypted room served by the bot process ---------------------------------------------


@dataclass
class BotRoom:
    homeserver: EmbeddedHomeserver
    room_id: str
    bot_id: str
    bot: BotProcess
    chair: ChatClient
    members: list[ChatClient]
    proxy: HomeserverProxy | None = None
    clients: list[ChatClient] = field(default_factory=list)

    async def ask(self, who: ChatClient, text: str, timeout: float = 30.0) -> Seen:
        return await who.ask(self.room_id, text, self.bot_id, timeout)

    async def close(self) -> None:
        await self.bot.stop()
        for client in self.clients:
            with contextlib.suppress(Exception):
                await client.stop()
        if self.proxy is not None:
            await self.proxy.close()


def has_joined(client: ChatClient, room_id: str, user_id: str) -> bool:
    room = client.client.rooms.get(room_id)
    return room is not None and user_id in room.users and user_id not in room.invited_users


async def open_bot_room(
    homeserver: EmbeddedHomeserver, root: Path, *, members: int = 1, behind_proxy: bool = False
) -> BotRoom:
    """A chair and ``members`` people in an encrypted room, and the bot started as its own process
    (optionally talking to Synapse through a :class:`HomeserverProxy`), answering ``!ping``."""
    number = next(_room_numbers)
    bot_id = homeserver.register(f"resbot{number}", PASSWORD)
    names = [f"resvorsitz{number}"] + [f"resmitglied{number}x{i}" for i in range(1, members + 1)]
    people = [
        ChatClient(homeserver.url, homeserver.register(name, PASSWORD), PASSWORD, root / "clients" / name)
        for name in names
    ]
    room = BotRoom(homeserver, "", bot_id, BotProcess(root / "config.toml"), people[0], people[1:])
    room.clients = people
    try:
        for person in people:
            await person.start()
        room.room_id = await room.chair.create_room(
            "Resilienz", invite=[bot_id] + [m.user_id for m in room.members]
        )
        for member in room.members:
            await member.join(room.room_id)
        url = homeserver.url
        if behind_proxy:
            room.proxy = HomeserverProxy(homeserver.url)
            url = await room.proxy.start()
        root.mkdir(parents=True, exist_ok=True)
        write_config(root, url, bot_id, room.room_id, room.chair.user_id)
        room.bot.start()
        await room.bot.serving()
        await settle(room)
    except BaseException:
        await room.close()
        raise
    return room


async def settle(room: BotRoom, timeout: float = 60.0) -> None:
    """Everyone sees everyone joined with their devices, and the bot answers a ``!ping``."""
    everyone = [room.bot_id] + [c.user_id for c in room.clients]
    deadline = time.monotonic() + timeout
    while not all(
        has_joined(c, room.room_id, p) and c.keys_settled() for c in room.clients for p in everyone
    ):
        if time.monotonic() > deadline:
            raise AssertionError(f"the room did not settle:\n{room.bot.log}")
        await asyncio.sleep(0.1)
    await answered_ping(room, room.members[0] if room.members else room.chair, timeout)


async def answered_ping(room: BotRoom, who: ChatClient, timeout: float = 60.0) -> Seen:
    """Ping until the bot answers (a message encrypted before its keys arrived may stay unread)."""
    deadline = time.monotonic() + timeout
    pings: list[str] = []
    while True:
        pings.append(await who.send(room.room_id, "!ping"))
        with contextlib.suppress(AssertionError):
            return await who.wait_for(
                lambda e: e.sender == room.bot_id and e.in_reply_to in pings,
                timeout=min(10.0, max(0.1, deadline - time.monotonic())),
            )
        if time.monotonic() > deadline:
            raise AssertionError(f"the bot answered no !ping within {timeout} s:\n{room.bot.log}")


# ---- the room as the homeserver keeps it -----------------------------------------------------


async def history(client: ChatClient, room_id: str) -> list[Seen]:
    """Every event of the room, oldest first, decrypted with ``client``'s keys.

    A client's own sync can skip events when many arrive at once (a limited timeline), so
    "exactly once" is counted here, from the server's /messages.
    """
    collected: list[Seen] = []
    token: str | None = None
    for _ in range(100):
        response = await client.client.room_messages(room_id, start=token, limit=100)
        assert isinstance(response, RoomMessagesResponse), response
        for event in response.chunk:
            source: dict[str, Any] = getattr(event, "source", {}) or {}
            content = source.get("content", {})
            if isinstance(event, MegolmEvent):
                content = {"body": "<undecryptable>", "session_id": event.session_id}
            collected.append(
                Seen(
                    room_id,
                    event.event_id,
                    event.sender,
                    source.get("type", "") if not isinstance(event, MegolmEvent) else "m.room.encrypted",
                    content,
                    bool(getattr(event, "decrypted", False)),
                )
            )
        if not response.chunk or not response.end or response.end == token:
            break
        token = response.end
    collected.reverse()
    return collected


def undecryptable(events: list[Seen], sender: str) -> list[Seen]:
    return [e for e in events if e.sender == sender and e.type == "m.room.encrypted"]


def reminders_in(events: list[Seen], bot_id: str, text: str) -> list[Seen]:
    """The bot's reminder messages carrying ``text``."""
    return [e for e in events if e.sender == bot_id and e.body.startswith("⏰") and text in e.body]


def replies_in(events: list[Seen], bot_id: str, event_id: str) -> list[Seen]:
    return [e for e in events if e.sender == bot_id and e.in_reply_to == event_id]


async def ask_on_record(room: BotRoom, who: ChatClient, text: str, timeout: float = 60.0) -> Seen:
    """Send ``text``; the bot's answer as the homeserver keeps it (a burst of messages may leave a
    gap in ``who``'s own sync)."""
    event_id = await who.send(room.room_id, text)
    found: list[Seen] = []

    async def answered() -> bool:
        found[:] = replies_in(await history(who, room.room_id), room.bot_id, event_id)
        return bool(found)

    await until(answered, timeout, f"an answer to {text!r}", interval=0.3)
    return found[0]


async def until(
    check: Callable[[], Awaitable[bool]], timeout: float, what: str, interval: float = 0.5
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        await asyncio.sleep(interval)


def event_id_of(payload: bytes) -> str | None:
    with contextlib.suppress(ValueError, AttributeError):
        value = json.loads(payload).get("event_id")
        return value if isinstance(value, str) else None
    return None
