"""``akbot demo``: the bot on an embedded local Synapse, with a console chat.

First start: Synapse in ``demo-data/``, users ``akbot``, ``vorsitz`` (chair) and ``mitglied``,
the encrypted room "Facharbeitskreis KI". Later starts reuse all of it. The console speaks as
``mitglied``; ``/als vorsitz`` switches, ``/quit`` ends. With ``--script FILE`` (or piped stdin)
every line is sent, the bot's reply printed, and the demo exits.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import secrets
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from pydantic import SecretStr

from bot import modelserver
from bot.app import App
from bot.errors import AkbotError
from bot.matrix import EventHandler, IncomingEvent, MatrixAdapter
from bot.matrix.demo_support import create_room, join_room
from bot.render import escape
from bot.services.rooms import RoomSettings
from bot.settings import AgendaSettings, BotSettings, LlmSettings, MatrixSettings, Settings
from bot.storage import open_db

if TYPE_CHECKING:
    from bot.homeserver import EmbeddedHomeserver  # needs the demo extra (matrix-synapse)

ROOM_NAME = "Facharbeitskreis KI"
FINAL_ANSWER_LABELS = ("KI-generiert", "AI-generated")
USERS = ("akbot", "vorsitz", "mitglied")
# With --federated: the bot and the member on "lvr", the chair on "lwl" (two homeservers).
HOME_SERVER = {"akbot": "lvr", "mitglied": "lvr", "vorsitz": "lwl"}
REPLY_TIMEOUT_S = 30.0

log = logging.getLogger(__name__)


@dataclass
class DemoState:
    """What the demo folder remembers between starts."""

    passwords: dict[str, str]
    room_id: str | None = None

    @classmethod
    def load(cls, path: Path) -> DemoState:
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(passwords=data["passwords"], room_id=data.get("room_id"))
        return cls(passwords={name: secrets.token_urlsafe(12) for name in USERS})

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"passwords": self.passwords, "room_id": self.room_id}, indent=2))


@dataclass
class Member:
    """A person in the console: a Matrix session of their own (own device, own E2EE store)."""

    name: str
    bot_id: str
    on_bot_message: Callable[[Member, IncomingEvent], None]
    adapter: MatrixAdapter = field(init=False)
    task: asyncio.Task[None] | None = None
    replies: dict[str, asyncio.Future[IncomingEvent]] = field(default_factory=dict)

    async def on_event(self, event: IncomingEvent) -> None:
        if event.sender != self.bot_id or event.type != "m.room.message":
            return
        if event.is_edit:
            # Clients show edits in place; the console shows only a model answer once it is complete.
            new = event.content.get("m.new_content") or {}
            if isinstance(new, dict) and any(
                label in str(new.get("body", "")) for label in FINAL_ANSWER_LABELS
            ):
                self.on_bot_message(self, replace(event, content=new))
            return
        replied_to = event.relation.get("m.in_reply_to", {}).get("event_id")
        waiting = self.replies.pop(replied_to, None) if replied_to else None
        if waiting is not None and not waiting.done():
            waiting.set_result(event)
        self.on_bot_message(self, event)

    async def say(self, room_id: str, text: str) -> str:
        return await self.adapter.send_message(room_id, escape(text), msgtype="m.text")

    def expect_reply(self, event_id: str) -> asyncio.Future[IncomingEvent]:
        future: asyncio.Future[IncomingEvent] = asyncio.get_running_loop().create_future()
        self.replies[event_id] = future
        return future


def _user_settings(
    url: str, mxid: str, password: str, rooms: list[str], allowed_inviters: list[str] | None = None
) -> MatrixSettings:
    return MatrixSettings(
        allowed_inviters=allowed_inviters or [],
        homeserver=url,
        user_id=mxid,
        password=SecretStr(password),
        rooms=rooms,
        device_name="akbot-demo",
        # The demo's own secret for the encryption store, as an operator sets one (random, kept
        # with the demo's state like the password it comes from).
        pickle_key=SecretStr(f"demo-store-{password}"),
    )


class Demo:
    def __init__(self, root: Path, out: TextIO, *, federated: bool = False) -> None:
        self.root = root.resolve()
        self.federated = federated
        self.homeservers: dict[str, EmbeddedHomeserver] = {}
        self.out = out
        self.active = "mitglied"
        self.members: dict[str, Member] = {}
        self.app: App | None = None
        self.bot_task: asyncio.Task[None] | None = None
        self.model_server: modelserver.ModelServer | None = None
        self.bot_id = ""
        self.room_id = ""
        self.files: list[tuple[Member, IncomingEvent]] = []
        """Files the bot sent to the person at the console, in the room or privately (/dateien)."""

    def print(self, text: str = "") -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def setup(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        state_path = self.root / "demo.json"
        state = DemoState.load(state_path)
        await self._start_homeservers()
        server_of = {
            name: self.homeservers[HOME_SERVER[name] if self.federated else "local"] for name in USERS
        }
        urls = {name: server_of[name].url for name in USERS}
        ids = {
            name: await asyncio.to_thread(server_of[name].register, name, state.passwords[name])
            for name in USERS
        }
        state.save(state_path)

        self.bot_id = ids["akbot"]
        for name in ("vorsitz", "mitglied"):
            member = Member(name, ids["akbot"], self._show)
            rooms = [state.room_id] if state.room_id else []
            member.adapter = self._member_adapter(
                urls[name], ids[name], state.passwords[name], rooms, member.on_event
            )
            self.members[name] = member
            await member.adapter.connect()

        if state.room_id is None:
            chair = self.members["vorsitz"].adapter
            state.room_id = await create_room(
                chair,
                ROOM_NAME,
                invite=[ids["akbot"], ids["mitglied"]],
                encrypted=True,
                power={ids["vorsitz"]: 100},
            )
            await join_room(self.members["mitglied"].adapter, state.room_id)
            state.save(state_path)
        room_id = state.room_id
        self.room_id = room_id

        # The organisation next to a name comes from the member's server.
        organisations = {"lvr": "LVR", "lwl": "LWL"}
        settings = Settings(
            matrix=_user_settings(urls["akbot"], ids["akbot"], state.passwords["akbot"], [room_id]),
            agenda=AgendaSettings(
                organisations={
                    server.server_name: organisations.get(key, key)
                    for key, server in self.homeservers.items()
                }
            ),
            # One person types for everyone at the console (or a script does): no flood limit.
            bot=BotSettings(chairs=[ids["vorsitz"]], data_dir=self.root / "bot", command_rate="1000/1s"),
            llm=await self._model(),
        )
        self.app = App(settings)
        await self.app.start()
        self.bot_task = asyncio.create_task(self._run_bot())
        for member in self.members.values():
            member.task = asyncio.create_task(member.adapter.run())
        await self._wait_until_everyone_sees_everyone(room_id, list(ids.values()))

        self.print()
        for key, server in self.homeservers.items():
            label = f"Homeserver {key.upper()}" if self.federated else "Homeserver"
            self.print(f"{label}: {server.url}   ({server.server_name})")
        self.print(f"Raum: {ROOM_NAME} ({room_id}, verschlüsselt)")
        for name in USERS:
            self.print(f"  {ids[name]}  Passwort: {state.passwords[name]}  ({urls[name]})")
        self.print("Jeder Matrix-Client (z. B. Element) kann sich mit diesen Daten anmelden.")
        return room_id

    async def _start_homeservers(self) -> None:
        """One local Synapse; with --federated two (LVR and LWL) that federate on loopback."""
        from bot.homeserver import EmbeddedHomeserver, FederatingHomeserver, start_together  # demo extra

        if not self.federated:
            self.print(f"Starte lokalen Homeserver in {self.root / 'synapse'} …")
            self.homeservers = {"local": EmbeddedHomeserver(self.root / "synapse")}
        else:
            self.print(f"Starte zwei föderierte Homeserver (LVR, LWL) in {self.root} …")
            self.homeservers = {
                key: FederatingHomeserver(self.root / f"synapse-{key}") for key in ("lvr", "lwl")
            }
        await asyncio.to_thread(start_together, list(self.homeservers.values()))

    async def _model(self) -> LlmSettings:
        """The local model server, when the model extra is installed: !frage works out of the box."""
        if not modelserver.available():
            self.print("(Kein lokales Sprachmodell installiert – !frage ist in der Demo aus.)")
            return LlmSettings()
        self.print("Starte lokales Sprachmodell (Gemma 3 270M, llama.cpp) …")
        self.model_server = modelserver.ModelServer(self.root / "model-server.log")
        await asyncio.to_thread(self.model_server.start)
        return LlmSettings(
            base_url=self.model_server.base_url,
            model=modelserver.MODEL_NAME,
            max_tokens=256,
            max_concurrent=1,  # this server computes one answer at a time: show the queue instead
            frequency_penalty=1.0,  # the small model repeats itself otherwise
        )

    def _member_adapter(
        self, url: str, mxid: str, password: str, rooms: list[str], handler: EventHandler
    ) -> MatrixAdapter:
        data_dir = self.root / "users" / mxid.split(":", maxsplit=1)[0].lstrip("@")
        db = open_db(data_dir)
        # People follow the bot into the direct room where it sends what is theirs alone.
        settings = _user_settings(url, mxid, password, rooms, allowed_inviters=[self.bot_id])
        return MatrixAdapter(settings, data_dir, db, RoomSettings(db, "de"), handler)

    async def _run_bot(self) -> None:
        assert self.app is not None
        try:
            await self.app.adapter.run()
        except AkbotError as error:
            self.print(f"akbot hat sich beendet: {error}")

    async def _wait_until_everyone_sees_everyone(self, room_id: str, user_ids: list[str]) -> None:
        # Messages are encrypted for the members a client knows; wait until all know all.
        sessions = [member.adapter for member in self.members.values()]
        assert self.app is not None
        sessions.append(self.app.adapter)
        for _ in range(300):
            if all(all(session.is_member(room_id, user) for user in user_ids) for session in sessions):
                return
            await asyncio.sleep(0.1)
        raise AkbotError("the demo room did not come together within 30 s")

    def _show(self, member: Member, event: IncomingEvent) -> None:
        if member.name != self.active:
            return  # every member receives the bot's messages; print them once
        text = event.body
        if event.msgtype == "m.file":
            self.files.append((member, event))
            number = len(self.files)
            text = f"📎 Datei {number}: {event.body} – /öffne {number} speichert sie"
        label = "  akbot │ " if event.room_id == self.room_id else "  akbot (privat) │ "
        self.print(textwrap.indent(text, label, lambda _line: True))

    async def _files_command(self, line: str) -> bool:
        """/dateien lists what the bot sent (also privately), /öffne N saves one to the demo folder."""
        words = line.split()
        if words[0] in ("/dateien", "/files"):
            if not self.files:
                self.print("(noch keine Dateien)")
            for number, (member, event) in enumerate(self.files, start=1):
                where = "Raum" if event.room_id == self.room_id else "privat"
                self.print(f"  {number}. {event.body} ({where}, an {member.name})")
            return True
        if words[0] in ("/öffne", "/oeffne", "/open"):
            if len(words) != 2 or not words[1].isdecimal() or not 1 <= int(words[1]) <= len(self.files):
                self.print(f"(/öffne <Nummer>, 1 bis {len(self.files)}; siehe /dateien)")
                return True
            member, event = self.files[int(words[1]) - 1]
            folder = self.root / "dateien"
            folder.mkdir(exist_ok=True)
            target = folder / Path(event.body).name
            target.write_bytes(await member.adapter.download_file(event.content))
            self.print(f"  gespeichert: {target}")
            return True
        return False

    async def send_line(self, room_id: str, line: str, *, wait: bool, echo: bool = True) -> bool:
        """Handle one console line; False when the user wants to quit."""
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        if line in ("/quit", "/exit", "/ende"):
            return False
        if line.startswith(("/warte ", "/wait ")):
            # For scripts: give a reminder time to fall due before the demo ends.
            seconds = line.split(maxsplit=1)[1].strip()
            if seconds.replace(".", "", 1).isdecimal():
                await asyncio.sleep(min(float(seconds), 300.0))
            else:
                self.print("(/warte <Sekunden>, z. B. /warte 5)")
            return True
        if line.split()[0] in ("/dateien", "/files", "/öffne", "/oeffne", "/open"):
            return await self._files_command(line) or True
        if line.startswith("/als ") or line.startswith("/as "):
            name = line.split(maxsplit=1)[1].strip()
            if name in self.members:
                self.active = name
                self.print(f"(Sie schreiben jetzt als {name})")
            else:
                self.print(f"(unbekannt: {name}; möglich: {', '.join(self.members)})")
            return True
        member = self.members[self.active]
        if echo:  # a script's lines are shown as if typed; at the console the user typed them
            self.print(f"{self.active}> {line}")
        event_id = await member.say(room_id, line)
        prefix = self.app.dispatcher.prefix if self.app else "!"
        if wait and line.startswith(prefix):  # only commands are answered; other lines are chat
            future = member.expect_reply(event_id)
            try:
                await asyncio.wait_for(future, REPLY_TIMEOUT_S)
            except TimeoutError:
                self.print("  (keine Antwort vom Bot innerhalb von 30 s)")
        return True

    async def shutdown(self) -> None:
        for member in self.members.values():
            member.adapter.stop()
            if member.task is not None:
                with contextlib.suppress(Exception):
                    await member.task
            await member.adapter.close()
        if self.app is not None:
            self.app.stop()
            if self.bot_task is not None:
                await self.bot_task
            await self.app.close()
        for server in self.homeservers.values():
            await asyncio.to_thread(server.stop)
        if self.model_server is not None:
            await asyncio.to_thread(self.model_server.stop)


def _line_editing(root: Path) -> None:
    """Line editing and a history kept with the demo (where the platform has readline)."""
    try:
        import readline
    except ImportError:
        return
    history = root / "console-history"
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    readline.set_history_length(500)
    atexit.register(readline.write_history_file, history)


async def run_demo(root: Path, script: TextIO | None, *, federated: bool = False) -> int:
    demo = Demo(root, sys.stdout, federated=federated)
    try:
        room_id = await demo.setup()
        interactive = script is None and sys.stdin.isatty()
        source = script or sys.stdin
        if interactive:
            demo.print(
                "\nSchreiben Sie z. B. !hilfe, !ping oder !erinnerung in 10 Sekunden; Kaffee."
                "\n/als vorsitz wechselt den Nutzer, /dateien zeigt empfangene Dateien (/öffne 1 speichert),"
                " /warte 5 wartet, /quit beendet.\n"
            )
        if interactive:
            _line_editing(root)
        while True:
            if interactive:
                try:
                    # input() with readline: arrow keys edit the line and walk the history.
                    line = await asyncio.to_thread(input, f"{demo.active}> ")
                except EOFError:
                    break
            else:
                line = await asyncio.to_thread(source.readline)
                if not line:
                    break
            if not await demo.send_line(room_id, line, wait=True, echo=not interactive):
                break
        return 0
    finally:
        await demo.shutdown()
