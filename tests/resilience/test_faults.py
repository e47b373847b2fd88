"""Faults end to end: the bot as its own process in an encrypted room on the real Synapse, killed
with SIGKILL mid-burst, cut off from its homeserver, its token revoked, its sending rate-limited.

What counts is what the homeserver keeps: answers and reminders are counted in the room's history.
The kills go through a proxy between bot and Synapse, so each story dies at a named moment (a sync
just relayed, an answer on the wire, a reminder taken by Synapse but not yet acknowledged) instead
of wherever the scheduler of the day puts a random kill.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.homeserver import EmbeddedHomeserver
from bot.storage import DB_FILENAME
from tests.kit.users import Seen, until
from tests.resilience.harness import (
    BotRoom,
    Exchange,
    ask_on_record,
    event_id_of,
    history,
    open_bot_room,
    reminders_in,
    replies_in,
    undecryptable,
)

BERLIN = ZoneInfo("Europe/Berlin")  # the bot's default time zone


class RepeatedConfirmation(AssertionError):
    """A command was answered twice."""


class NotMarkedLate(AssertionError):
    """A reminder that fell due while the homeserver was away came without the late mark."""


# ---- kill -9 in the middle of a burst of votes and due reminders ---------------------------------

CHOICES = ["1", "2 3?", "3", "1 2", "2?", "1? 3", "2", "1 3", "3?", "1 2 3"]
VOTES = 20
KILL_AT = 10  # votes sent before the bot dies; the rest arrive while it is dead
ANSWER_MAX_BYTES = 2000
REMINDERS = {"Lüften A": 4, "Lüften B": 4, "Lüften C": 4, "Lüften D": 5, "Lüften E": 5}
OPTION_LINE = re.compile(r"Option (\d+): [^\n]*? – (\d+) ja, (\d+) wenn nötig")


def vote_plan() -> list[tuple[int, str]]:
    """(member index, selection): three members take turns and keep changing their minds."""
    return [(number % 3, CHOICES[number % len(CHOICES)]) for number in range(VOTES)]


def expected_standing(plan: list[tuple[int, str]]) -> dict[int, tuple[int, int]]:
    """Option → (ja, wenn nötig), counting only each member's last vote."""
    last = dict(plan)
    counts = {position: [0, 0] for position in (1, 2, 3)}
    for selection in last.values():
        for token in selection.split():
            counts[int(token.rstrip("?"))][token.endswith("?")] += 1
    return {position: (yes, maybe) for position, (yes, maybe) in counts.items()}


def standing_counts(body: str) -> dict[int, tuple[int, int]]:
    return {int(o): (int(y), int(m)) for o, y, m in OPTION_LINE.findall(body)}


@dataclass
class AfterTheKill:
    room: BotRoom
    poll_id: str
    vote_ids: list[str]
    events: list[Seen]
    standing: str
    moment: str


Matches = Callable[[Exchange, bytes], Awaitable[bool]]


@dataclass(frozen=True)
class KillPoint:
    """When the bot dies: at the first exchange the proxy sees at ``stage`` that ``matches``."""

    moment: str
    stage: str  # "request" (not yet forwarded) | "answer" (done by Synapse, not yet relayed) | "relayed"
    matches: Callable[[BotRoom, list[str]], Matches]
    armed_at_vote: int = KILL_AT - 1  # just before the last vote the bot is meant to see
    cleanly: bool = True  # never while the homeserver has an answer the bot has not recorded


def sync_bringing_a_vote(room: BotRoom, _: list[str]) -> Matches:
    async def matches(exchange: Exchange, payload: bytes) -> bool:
        if exchange.method != "GET" or not exchange.path.endswith("/sync") or exchange.status != 200:
            return False
        joined = json.loads(payload).get("rooms", {}).get("join", {}).get(room.room_id, {})
        return any(e.get("sender") != room.bot_id for e in joined.get("timeline", {}).get("events", []))

    return matches


def answer_leaving(_: BotRoom, __: list[str]) -> Matches:
    async def matches(exchange: Exchange, _: bytes) -> bool:
        # An answer to a vote is about 1 KB encrypted; the poll summary's edits, the only other
        # sends with random transaction ids now, carry the whole summary twice (3.5 KB).
        return exchange.is_other_send and exchange.size < ANSWER_MAX_BYTES

    return matches


def reminder_taken(_: BotRoom, __: list[str]) -> Matches:
    async def matches(exchange: Exchange, _: bytes) -> bool:
        return exchange.is_reminder_send and exchange.status == 200

    return matches


def vote_confirmation_taken(room: BotRoom, vote_ids: list[str]) -> Matches:
    async def matches(exchange: Exchange, payload: bytes) -> bool:
        event_id = event_id_of(payload)
        if not exchange.is_other_send or exchange.status != 200 or event_id is None:
            return False
        try:  # which message it was, the chair's client can tell once Synapse shows it
            sent = await room.chair.wait_for(lambda e: e.event_id == event_id, timeout=10)
        except AssertionError:
            return False
        return sent.in_reply_to in vote_ids

    return matches


KILL_POINTS = {
    "as_votes_arrive": KillPoint(
        "right after a sync brought it votes, before it could answer them", "relayed", sync_bringing_a_vote
    ),
    "answer_on_the_wire": KillPoint(
        "with its answer to a vote on the wire, not yet at the homeserver", "request", answer_leaving
    ),
    "reminder_taken": KillPoint(
        "after the homeserver took a due reminder, before the bot heard back",
        "answer",
        reminder_taken,
        armed_at_vote=0,  # the reminders fall due around the middle of the burst
    ),
    "confirmation_taken": KillPoint(
        "after the homeserver took a vote confirmation, before the bot heard back",
        "answer",
        vote_confirmation_taken,
        cleanly=False,
    ),
}


def handled_events(room: BotRoom) -> set[str]:
    """What the bot has recorded as handled (its ledger), read from its database."""
    database = room.bot.config.parent / "data" / DB_FILENAME
    with contextlib.closing(sqlite3.connect(database, timeout=5)) as connection:
        return {row[0] for row in connection.execute("SELECT event_id FROM handled_events")}


async def kill_cleanly(room: BotRoom, but: Exchange | None = None) -> None:
    """SIGKILL at a moment when no command is answered on the homeserver without the bot knowing:
    hold new requests, let the sends the homeserver already has come back, wait until the bot
    has recorded every command the room shows an answer to — then kill. (Killing inside that
    window is a test of its own below.)"""
    assert room.proxy is not None
    proxy = room.proxy
    proxy.hold()
    deadline = time.monotonic() + 20
    while proxy.sends_outstanding(but):
        assert time.monotonic() < deadline, proxy.sends_outstanding(but)
        await asyncio.sleep(0.01)
    while True:
        events = await history(room.chair, room.room_id)
        answered = {e.in_reply_to for e in events if e.sender == room.bot_id and e.in_reply_to}
        if not undecryptable(events, room.bot_id) and answered <= handled_events(room):
            break
        assert time.monotonic() < deadline, "the bot did not record the commands it had answered"
        await asyncio.sleep(0.05)
    room.bot.kill()
    proxy.cut()


def arm(room: BotRoom, point: KillPoint, vote_ids: list[str]) -> asyncio.Event:
    """Kill the bot at ``point``; the exchange that triggered it never reaches its receiver."""
    assert room.proxy is not None
    proxy, matches = room.proxy, point.matches(room, vote_ids)
    triggered, killed = asyncio.Event(), asyncio.Event()

    async def watch(stage: str, exchange: Exchange, payload: bytes) -> bool:
        if stage != point.stage or triggered.is_set() or not await matches(exchange, payload):
            return False
        if triggered.is_set():  # another exchange matched while this one was being checked
            return False
        triggered.set()
        if point.cleanly:
            await kill_cleanly(room, but=exchange)
        else:
            proxy.hold()
            room.bot.kill()
            proxy.cut()
        killed.set()
        return True

    proxy.watch = watch
    return killed


async def kill_story(homeserver: EmbeddedHomeserver, root: Path, kill: str) -> AfterTheKill:
    """A poll, five reminders falling due around the kill, three members casting twenty votes;
    SIGKILL after ten, the other ten while the bot is dead; restart with the same data."""
    room = await open_bot_room(homeserver, root, members=3, behind_proxy=True)
    try:
        return await _kill_story(room, KILL_POINTS[kill])
    except BaseException:
        await room.close()
        raise


async def _kill_story(room: BotRoom, point: KillPoint) -> AfterTheKill:
    assert room.proxy is not None
    created = (await room.ask(room.chair, "!umfrage Welche Farbe?; Rot; Grün; Blau")).body
    poll_id = re.search(r"Umfrage #(\d+) ist gestartet", created).group(1)  # type: ignore[union-attr]
    for number, (text, seconds) in enumerate(REMINDERS.items()):
        confirmed = await room.ask(room.members[number % 3], f"!erinnerung in {seconds} Sekunden; {text}")
        assert confirmed.body.startswith("Ich erinnere Sie am "), confirmed.body

    vote_ids: list[str] = []
    killed = asyncio.Event()
    for number, (member, selection) in enumerate(vote_plan()):
        if number == point.armed_at_vote:
            killed = arm(room, point, vote_ids)
        if number == KILL_AT:
            await asyncio.wait_for(killed.wait(), 30)
        vote_ids.append(await room.members[member].send(room.room_id, f"!abstimmen #{poll_id} {selection}"))
        await asyncio.sleep(0.1)
    assert not room.bot.running

    await asyncio.sleep(0.5)  # what the dead bot left in its sockets is dropped, not forwarded
    room.proxy.watch = None
    room.proxy.release()
    room.bot.start()
    await room.bot.serving()
    # The first sync after the start carries every vote sent meanwhile, and the bot handles it
    # before it logs "serving": by the time this is answered, every vote has been handled.
    await ask_on_record(room, room.members[0], "!ping")

    async def every_reminder_arrived() -> bool:
        events = await history(room.chair, room.room_id)
        return all(reminders_in(events, room.bot_id, text) for text in REMINDERS)

    await until(every_reminder_arrived, 30, "all five reminders")
    standing = (await ask_on_record(room, room.chair, f"!umfrage stand {poll_id}")).body
    events = await history(room.chair, room.room_id)
    return AfterTheKill(room, poll_id, vote_ids, events, standing, point.moment)


def check_reminders_and_standing(after: AfterTheKill) -> None:
    room, events = after.room, after.events
    assert undecryptable(events, room.bot_id) == []
    for text in REMINDERS:
        arrived = reminders_in(events, room.bot_id, text)
        assert len(arrived) == 1, (text, [e.body for e in arrived], after.moment)
    assert standing_counts(after.standing) == expected_standing(vote_plan()), after.standing
    assert "Alle haben abgestimmt." not in after.standing  # the chair did not vote


def check_one_confirmation_per_vote(after: AfterTheKill) -> None:
    room, events = after.room, after.events
    for event_id in after.vote_ids:
        answers = replies_in(events, room.bot_id, event_id)
        assert answers, f"vote {event_id} got no confirmation ({after.moment})"
        assert all(a.body.startswith(f"Ihre Stimme zu Umfrage #{after.poll_id}: ") for a in answers)
        if len(answers) != 1:
            raise RepeatedConfirmation(
                f"vote {event_id} confirmed {len(answers)} times; killed during {after.moment}"
            )


@pytest.mark.parametrize("kill", ["as_votes_arrive", "answer_on_the_wire", "reminder_taken"])
async def test_sigkill_mid_burst_loses_no_vote_and_repeats_no_answer_or_reminder(
    homeserver: EmbeddedHomeserver, tmp_path: Path, kill: str
) -> None:
    after = await kill_story(homeserver, tmp_path, kill)
    try:
        check_reminders_and_standing(after)
        check_one_confirmation_per_vote(after)
    finally:
        await after.room.close()


async def test_sigkill_after_the_homeserver_took_a_vote_confirmation_does_not_repeat_it(
    homeserver: EmbeddedHomeserver, tmp_path: Path
) -> None:
    after = await kill_story(homeserver, tmp_path, "confirmation_taken")
    try:
        check_reminders_and_standing(after)
        check_one_confirmation_per_vote(after)
    finally:
        await after.room.close()


# ---- the homeserver away for 30 s ---------------------------------------------------------------


async def test_bot_rides_out_a_30_s_homeserver_outage_and_delivers_overdue_reminders_marked_late(
    homeserver: EmbeddedHomeserver, tmp_path: Path
) -> None:
    room = await open_bot_room(homeserver, tmp_path, members=1)
    member = room.members[0]
    texts = ("Während des Ausfalls A", "Während des Ausfalls B")
    try:
        for text in texts:
            await room.ask(member, f"!erinnerung in 10 Sekunden; {text}")
        due = time.monotonic() + 10
        try:
            await asyncio.to_thread(homeserver.stop)
            assert time.monotonic() < due - 2, "the homeserver took too long to stop"
            await asyncio.sleep(30)
        finally:
            await asyncio.to_thread(homeserver.start)

        pong = await ask_on_record(room, member, "!ping", timeout=60)
        assert pong.body.startswith("pong")
        assert room.bot.running, room.bot.log

        async def both_arrived() -> bool:
            events = await history(member, room.room_id)
            return all(reminders_in(events, room.bot_id, text) for text in texts)

        # Usually within seconds; a reminder whose send gave up is tried again after 10 s.
        await until(both_arrived, 100, "both reminders after the outage")
        await ask_on_record(room, member, "!ping")
        events = await history(member, room.room_id)
        arrived = {text: reminders_in(events, room.bot_id, text) for text in texts}
        assert all(len(found) == 1 for found in arrived.values()), arrived
        unmarked = [f[0].body for f in arrived.values() if "(verspätet – fällig war " not in f[0].body]
        if unmarked:
            raise NotMarkedLate(f"delivered without the late mark: {unmarked}")
    finally:
        await room.close()


# ---- the access token revoked -------------------------------------------------------------------


async def test_revoked_token_stops_the_process_at_once_with_few_requests_and_a_clear_line(
    homeserver: EmbeddedHomeserver, admin_token: str, tmp_path: Path
) -> None:
    room = await open_bot_room(homeserver, tmp_path, members=1, behind_proxy=True)
    assert room.proxy is not None
    try:
        async with httpx.AsyncClient(
            base_url=homeserver.url, headers={"Authorization": f"Bearer {admin_token}"}, trust_env=False
        ) as admin:
            listed = await admin.get(f"/_synapse/admin/v2/users/{room.bot_id}/devices")
            devices = listed.raise_for_status().json()["devices"]
            revoked_at = time.monotonic()
            for device in devices:
                deleted = await admin.delete(
                    f"/_synapse/admin/v2/users/{room.bot_id}/devices/{device['device_id']}"
                )
                deleted.raise_for_status()
        code = await room.bot.exited(timeout=15)
        elapsed = time.monotonic() - revoked_at
        after = room.proxy.requests_since(revoked_at)
        log = room.bot.log
        assert code == 1, (code, log)
        assert elapsed < 10, elapsed
        made = [f"{e.method} {e.path} → {e.status}" for e in after]
        assert len(after) <= 10, made
        assert any(e.status == 401 for e in after), made
        assert [line for line in log.splitlines() if "ERROR" in line and "M_UNKNOWN_TOKEN" in line], log
        assert "Traceback" not in log, log
    finally:
        await room.close()


# ---- 1 message per second, ten reminders due at once --------------------------------------------


async def test_ten_reminders_due_at_once_all_arrive_once_at_one_message_per_second(
    homeserver: EmbeddedHomeserver, admin_token: str, tmp_path: Path
) -> None:
    room = await open_bot_room(homeserver, tmp_path, members=2)
    texts = [f"Stapel {letter}" for letter in "ABCDEFGHIJ"]
    limit_url = f"/_synapse/admin/v1/users/{room.bot_id}/override_ratelimit"
    admin = httpx.AsyncClient(
        base_url=homeserver.url, headers={"Authorization": f"Bearer {admin_token}"}, trust_env=False
    )
    try:
        # One instant for all ten, written as members write a time with seconds.
        due = (datetime.now(BERLIN) + timedelta(seconds=8)).replace(microsecond=0)
        due += timedelta(seconds=due.second == 0)  # the bot shows seconds only when not zero
        due_at = time.monotonic() + (due - datetime.now(BERLIN)).total_seconds()
        commands = []
        for number, text in enumerate(texts):
            member = room.members[number % 2]
            command = f"!erinnerung {due:%d.%m.%Y %H:%M:%S}; {text}"
            commands.append(await member.send(room.room_id, command))

        async def all_confirmed() -> bool:
            events = await history(room.chair, room.room_id)
            return all(replies_in(events, room.bot_id, event_id) for event_id in commands)

        await until(all_confirmed, 20, "ten confirmations", interval=0.2)
        limited = await admin.post(limit_url, json={"messages_per_second": 1, "burst_count": 1})
        limited.raise_for_status()
        assert time.monotonic() < due_at, "the reminders were not all set before they fell due"
        events = await history(room.chair, room.room_id)
        for event_id in commands:
            confirmation = replies_in(events, room.bot_id, event_id)[0].body
            assert f"{due:%H:%M:%S} Uhr" in confirmation, confirmation

        async def all_arrived() -> bool:
            events = await history(room.chair, room.room_id)
            return all(reminders_in(events, room.bot_id, text) for text in texts)

        await until(all_arrived, due_at + 40 - time.monotonic(), "ten reminders at 1 message/s")
        delivered = time.monotonic() - due_at
        await ask_on_record(room, room.members[0], "!ping")
        events = await history(room.chair, room.room_id)
        for text in texts:
            assert len(reminders_in(events, room.bot_id, text)) == 1, text
        assert delivered > 5, f"the rate limit did not hold the bot back ({delivered:.1f} s)"
        assert room.bot.running, room.bot.log
    finally:
        await admin.delete(limit_url)
        await admin.aclose()
        await room.close()
