"""Tools of the fault tests: an encrypted room served by the bot as its own process (so it can be
SIGKILLed; ``tests.kit.processes.BotProcess``), a counting reverse proxy between it and Synapse (so
a fault can hit an exact moment), and the room's history as the homeserver keeps it (so "exactly
once" is counted on the server, not in a client's sync).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web
from yarl import URL

from bot.homeserver import EmbeddedHomeserver
from tests.conftest import PASSWORD
from tests.kit.processes import BotProcess, write_config
from tests.kit.users import ChatClient, Seen, until

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
        write_config(root, url, bot_id, PASSWORD, [room.room_id], [room.chair.user_id])
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
    while not all(c.has_joined(room.room_id, p) and c.keys_settled() for c in room.clients for p in everyone):
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
    """Every event of the room, oldest first, decrypted with ``client``'s keys (``ChatClient.history``)."""
    return await client.history(room_id)


def undecryptable(events: list[Seen], sender: str) -> list[Seen]:
    return [e for e in events if e.sender == sender and e.type == "m.room.encrypted"]


def reminders_in(events: list[Seen], bot_id: str, text: str) -> list[Seen]:
    """The bot's reminder messages carrying ``text``."""
    return [e for e in events if e.sender == bot_id and e.body.startswith("Erinnerung") and text in e.body]


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


def event_id_of(payload: bytes) -> str | None:
    with contextlib.suppress(ValueError, AttributeError):
        value = json.loads(payload).get("event_id")
        return value if isinstance(value, str) else None
    return None
