"""Fixtures: a real Synapse for the whole session, and "worlds" of an encrypted room with a bot
and the people in it (a chair by list, a chair by power level, a member, a stranger)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import time_machine
from pydantic import SecretStr

from bot.app import ROUTERS, App
from bot.homeserver import EmbeddedHomeserver
from bot.modelserver import ModelServer
from bot.router import Router
from bot.settings import BotSettings, LlmSettings, MatrixSettings, Settings
from tests.clock import frozen
from tests.kit.users import ChatClient

PASSWORD = "test-passwort-123"
_world_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def homeserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedHomeserver]:
    server = EmbeddedHomeserver(tmp_path_factory.mktemp("synapse"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    """The real llama.cpp server with the small Gemma 3 270M model, on a free loopback port."""
    server = ModelServer(tmp_path_factory.mktemp("model") / "server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def admin_token(homeserver: EmbeddedHomeserver) -> str:
    homeserver.register("admin", PASSWORD, admin=True)
    return homeserver.login("admin", PASSWORD)


class BotRunner:
    """The bot as the CLI runs it (App.run), inside the test's event loop."""

    def __init__(self, settings: Settings, routers: Sequence[Router]) -> None:
        self.settings = settings
        self.routers = routers
        self.app: App | None = None
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> App:
        self.app = App(self.settings, routers=self.routers)
        self.task = asyncio.create_task(self.app.run())
        ready = asyncio.create_task(self.app.ready.wait())
        await asyncio.wait({self.task, ready}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if self.task.done():
            self.task.result()  # raises what made the bot stop
        assert self.app.ready.is_set(), "bot did not become ready within 60 s"
        return self.app

    async def stop(self) -> None:
        if self.app is not None and self.task is not None:
            self.app.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.task, 30)
        self.app = None
        self.task = None


@dataclass
class World:
    homeserver: EmbeddedHomeserver
    room_id: str
    bot_id: str
    bot: BotRunner
    chair: ChatClient
    power_chair: ChatClient
    member: ChatClient
    stranger: ChatClient
    clients: list[ChatClient] = field(default_factory=list)

    async def ask(self, who: ChatClient, text: str, timeout: float = 20.0) -> str:
        """Send ``text`` as ``who``; the body of the bot's reply."""
        return (await who.ask(self.room_id, text, self.bot_id, timeout)).body

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until every client (and the bot) knows every member and their devices."""
        people = [self.bot_id, self.chair.user_id, self.power_chair.user_id, self.member.user_id]
        in_room = [self.chair, self.power_chair, self.member]
        for _ in range(int(timeout * 10)):
            app = self.bot.app
            bot_sees = app is not None and all(app.adapter.is_member(self.room_id, p) for p in people)
            clients_see = all(
                c.sees_member(self.room_id, p) and c.keys_settled() for c in in_room for p in people
            )
            if bot_sees and clients_see:
                return
            await asyncio.sleep(0.1)
        raise AssertionError("the room did not settle")


async def build_world(
    homeserver: EmbeddedHomeserver,
    root: Path,
    routers: Sequence[Router] = ROUTERS,
    llm: LlmSettings | None = None,
    **bot_options: object,
) -> World:
    number = next(_world_numbers)
    names = {role: f"{role}{number}" for role in ("akbot", "vorsitz", "leitung", "mitglied", "fremd")}
    ids = {role: homeserver.register(name, PASSWORD) for role, name in names.items()}
    clients = {
        role: ChatClient(homeserver.url, ids[role], PASSWORD, root / "clients" / role)
        for role in ("vorsitz", "leitung", "mitglied", "fremd")
    }
    for client in clients.values():
        await client.start()
    room_id = await clients["vorsitz"].create_room(
        "Facharbeitskreis KI",
        invite=[ids["akbot"], ids["leitung"], ids["mitglied"]],
        power={ids["leitung"]: 50},
    )
    await clients["leitung"].join(room_id)
    await clients["mitglied"].join(room_id)
    matrix = MatrixSettings(
        homeserver=homeserver.url,
        user_id=ids["akbot"],
        password=SecretStr(PASSWORD),
        rooms=[room_id],
        allowed_inviters=[ids["vorsitz"]],
        pickle_key=SecretStr("test-pickle-key-0123456789"),
    )
    settings = Settings(
        llm=llm or LlmSettings(),
        matrix=matrix,
        bot=BotSettings(chairs=[ids["vorsitz"]], data_dir=root / "bot", **bot_options),  # type: ignore[arg-type]
    )
    runner = BotRunner(settings, routers)
    world = World(
        homeserver,
        room_id,
        ids["akbot"],
        runner,
        clients["vorsitz"],
        clients["leitung"],
        clients["mitglied"],
        clients["fremd"],
        list(clients.values()),
    )
    await runner.start()
    await world.settle()
    return world


async def close_world(world: World) -> None:
    await world.bot.stop()
    for client in world.clients:
        await client.stop()


async def fresh_start(world: World) -> World:
    """Undo what an earlier test may have left in a shared world, so that each test starts alike.

    Built once per module (a world takes seconds), a world is handed to every test of the module;
    this puts back what tests change in passing: a stopped bot runs again, the room speaks its
    default language and asks the configured model, and nobody's earlier commands count against
    the flood limit.
    """
    app = world.bot.app or await world.bot.start()
    with app.db.atomic():
        app.db.execute("UPDATE rooms SET language = NULL, model = NULL WHERE room_id = ?", [world.room_id])
    guard = app.inbox.flood
    app.inbox.flood = type(guard)(guard.limit, guard.window_s)
    return world


@pytest.fixture(scope="module")
async def shared_world(
    homeserver: EmbeddedHomeserver, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """The module's world; a module with other needs overrides this fixture, not ``world``."""
    built = await build_world(homeserver, tmp_path_factory.mktemp("world"))
    yield built
    await close_world(built)


@pytest.fixture
async def world(shared_world: World) -> World:
    """The module's world as each test finds it: independent of what ran before."""
    return await fresh_start(shared_world)


def admin_api(homeserver: EmbeddedHomeserver, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=homeserver.url, headers={"Authorization": f"Bearer {token}"}, trust_env=False
    )


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    """Monday, 1 June 2026, 09:00 in Berlin, frozen: the offline app's tests move it on themselves.
    A module that needs another moment defines its own ``clock``."""
    yield from frozen("2026-06-01T09:00:00")
