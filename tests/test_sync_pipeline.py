"""The sync loop hands a batch to its handlers and goes on fetching: one member's events stay in
order across batches, members run side by side, and a batch's token is stored only once it and every
batch before it are handled (a crash replays the rest). Stubs stand in for nio; the whole loop runs
against Synapse in the e2e tests."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from sqlite_utils import Database

from bot.matrix.events import IncomingEvent
from bot.matrix.sync import SyncLoop
from bot.storage import EventLedger, KeyValue, open_memory_db

ROOM = "!raum:lvr.de"


class Event:
    def __init__(self, event_id: str, sender: str, body: str) -> None:
        self.event_id = event_id
        self.sender = sender
        self.server_timestamp = 2_000_000_000_000
        self.source = {"type": "m.room.message", "content": {"msgtype": "m.text", "body": body}}


def batch(token: str, *events: Event) -> Any:
    timeline = SimpleNamespace(events=list(events), limited=False, prev_batch=None)
    return SimpleNamespace(
        next_batch=token,
        rooms=SimpleNamespace(join={ROOM: SimpleNamespace(timeline=timeline)}),
        device_list=SimpleNamespace(changed=[]),
        to_device_events=[],
    )


class Rooms:
    def __init__(self) -> None:
        self.served_since = {ROOM: 0.0}

    def note_creators(self, response: Any) -> None:
        return None

    async def handle_invites(self, response: Any) -> None:
        return None

    async def refresh_new_rooms(self) -> None:
        return None

    def is_encrypted(self, room_id: str) -> bool:
        return False


class Handlers:
    """Each event waits until the test releases its body; what ran is recorded in order."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []
        self.gates: dict[str, asyncio.Event] = {}

    def gate(self, body: str) -> asyncio.Event:
        return self.gates.setdefault(body, asyncio.Event())

    async def on_event(self, event: IncomingEvent) -> None:
        body = str(event.content["body"])
        self.started.append(body)
        await self.gate(body).wait()
        self.finished.append(body)


def sync_loop(db: Database, handlers: Handlers) -> SyncLoop:
    session = SimpleNamespace(
        client=SimpleNamespace(olm=None), user_id="@akbot:lvr.de", stopping=asyncio.Event(), fatal=None
    )
    trust = SimpleNamespace(enforce=False)

    async def no_hint(hint: object) -> bool:
        return False

    return SyncLoop(
        session,  # type: ignore[arg-type]
        Rooms(),  # type: ignore[arg-type]
        trust,  # type: ignore[arg-type]
        ledger=EventLedger(db),
        kv=KeyValue(db),
        on_event=handlers.on_event,
        on_hint=no_hint,
    )


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_the_next_batch_is_taken_while_the_last_is_handled_and_tokens_wait_for_their_handlers() -> None:
    db = open_memory_db()
    handlers = Handlers()
    loop = sync_loop(db, handlers)

    await loop._receive(
        batch("t1", Event("$a1", "@anna:lvr.de", "anna 1"), Event("$b1", "@ben:lwl.org", "ben 1")),
        dispatch=True,
    )
    await settle()
    assert handlers.started == ["anna 1", "ben 1"]  # members side by side
    # The next batch is received while the first is still being handled.
    await loop._receive(
        batch("t2", Event("$a2", "@anna:lvr.de", "anna 2"), Event("$c1", "@cara:lvr.de", "cara 1")),
        dispatch=True,
    )
    await settle()
    assert "cara 1" in handlers.started  # a member with nothing before her is not held up
    assert "anna 2" not in handlers.started  # Anna's second waits for her first
    assert KeyValue(db).get("sync.next_batch") is None  # nothing is done: no token stored

    handlers.gate("cara 1").set()
    handlers.gate("anna 1").set()
    await settle()
    assert handlers.started[-1] == "anna 2"
    assert KeyValue(db).get("sync.next_batch") is None  # batch 1 still waits for Ben

    handlers.gate("ben 1").set()
    await settle()
    assert KeyValue(db).get("sync.next_batch") == "t1"  # batch 2 still waits for Anna's second
    handlers.gate("anna 2").set()
    await settle()
    assert KeyValue(db).get("sync.next_batch") == "t2"
    assert handlers.finished == ["cara 1", "anna 1", "ben 1", "anna 2"]
    assert all(EventLedger(db).seen(event_id) for event_id in ("$a1", "$b1", "$a2", "$c1"))


async def test_an_event_brought_again_while_it_is_handled_runs_once() -> None:
    db = open_memory_db()
    handlers = Handlers()
    loop = sync_loop(db, handlers)
    event = Event("$a1", "@anna:lvr.de", "anna 1")
    await loop._receive(batch("t1", event), dispatch=True)
    await settle()
    await loop._receive(batch("t2", event), dispatch=True)
    handlers.gate("anna 1").set()
    await loop._drain()
    assert handlers.finished == ["anna 1"]
    assert KeyValue(db).get("sync.next_batch") == "t2"
