"""Reminders and meetings end to end: real Synapse, encrypted room, real clients, real clock
(moved on once, where a test would otherwise wait for a due time)."""

from __future__ import annotations

import contextlib
import re
import sqlite3
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import time_machine

from bot.storage import DB_FILENAME
from tests.conftest import World
from tests.kit.users import Seen

BERLIN = ZoneInfo("Europe/Berlin")


def in_days(days: int, hour: int) -> str:
    """An absolute date as members write it, "dd.mm.yyyy HH:00"."""
    day = datetime.now(BERLIN) + timedelta(days=days)
    return f"{day:%d.%m.%Y} {hour}:00"


def is_ics_from(bot: str, after: list[str]) -> object:
    return lambda e: e.sender == bot and e.content.get("msgtype") == "m.file" and e.event_id not in after


async def test_reminder_in_three_seconds_arrives_with_a_mention(world: World) -> None:
    confirmation = await world.ask(world.member, "!erinnerung in 3 Sekunden; Tee aufsetzen")
    assert confirmation.startswith("Ich erinnere Sie am ")
    assert confirmation.split("\n")[0].endswith(": Tee aufsetzen")

    reminder = await world.member.wait_for(
        lambda e: e.sender == world.bot_id and "Tee aufsetzen" in e.body and e.body.startswith("Erinnerung"),
        timeout=20,
    )

    assert reminder.encrypted
    assert reminder.content["msgtype"] == "m.text"
    assert reminder.content["m.mentions"] == {"user_ids": [world.member.user_id]}
    assert "verspätet" not in reminder.body


async def test_list_and_delete_own_reminders_but_not_someone_elses(world: World) -> None:
    created = await world.ask(world.member, "!erinnerung morgen um 9; Akten lesen")
    reminder_id = re.search(r"Nr\. (\d+)", created).group(1)  # type: ignore[union-attr]

    listing = await world.ask(world.member, "!erinnerungen")
    assert f"#{reminder_id} · " in listing and "Akten lesen" in listing

    refused = await world.ask(world.power_chair, f"!erinnerung löschen {reminder_id}")
    assert refused.startswith(f"Erinnerung #{reminder_id} gelöscht")  # a chair may delete any

    created_again = await world.ask(world.member, "!erinnerung übermorgen 14:30; Eigenes")
    own_id = re.search(r"Nr\. (\d+)", created_again).group(1)  # type: ignore[union-attr]
    other = await world.ask(world.chair, "!erinnerung in 2 Stunden; Vom Vorsitz")
    chair_id = re.search(r"Nr\. (\d+)", other).group(1)  # type: ignore[union-attr]
    not_yours = await world.ask(world.member, f"!erinnerung löschen {chair_id}")
    assert (
        not_yours == f"Erinnerung #{chair_id} hat jemand anderes angelegt; löschen kann sie nur der Vorsitz."
    )
    assert (
        await world.ask(world.member, f"!erinnerung löschen {own_id}")
    ) == f"Erinnerung #{own_id} gelöscht: Eigenes"


async def test_misread_or_incomplete_times_get_a_friendly_answer(world: World) -> None:
    no_time = await world.ask(world.member, "!erinnerung 12.06.; Ohne Uhrzeit")
    assert "Uhrzeit" in no_time
    nonsense = await world.ask(world.member, "!erinnerung irgendwann mal; Text")
    assert "nicht verstanden" in nonsense and "Beispiele" in nonsense
    no_semicolon = await world.ask(world.member, "!erinnerung morgen 9 Uhr Bericht")
    assert "Semikolon" in no_semicolon


async def test_meeting_creates_reminders_and_a_calendar_file_and_follows_a_reschedule(world: World) -> None:
    seen_files = [e.event_id for e in world.member.seen if e.content.get("msgtype") == "m.file"]
    refused = await world.ask(world.member, f"!sitzung {in_days(10, 10)}; Sitzung FAK KI")
    assert refused == "Diesen Befehl darf nur der Vorsitz verwenden."

    created = await world.ask(world.chair, f"!sitzung {in_days(10, 10)}; Sitzung FAK KI; Köln, Landeshaus")
    meeting_id = re.search(r"Sitzung #(\d+) angelegt", created).group(1)  # type: ignore[union-attr]
    assert "**" not in created and "Ort: Köln, Landeshaus" in created
    assert created.count("Uhr") >= 4  # the date and three reminder times

    first_file = await world.member.wait_for(is_ics_from(world.bot_id, seen_files))  # type: ignore[arg-type]
    seen_files.append(first_file.event_id)
    first = icalendar.Calendar.from_ical(await world.member.download(first_file))
    event = first.walk("VEVENT")[0]
    assert int(event["SEQUENCE"]) == 0
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert first_file.encrypted and "file" in first_file.content

    reminders_before = await world.ask(world.chair, "!erinnerungen")
    assert reminders_before.count(f"· Sitzung #{meeting_id}") == 3

    moved = await world.ask(world.chair, f"!sitzung verschieben {meeting_id} {in_days(12, 14)}")
    assert f"Sitzung #{meeting_id} Sitzung FAK KI ist verschoben auf" in moved
    second_file = await world.member.wait_for(is_ics_from(world.bot_id, seen_files))  # type: ignore[arg-type]
    second = icalendar.Calendar.from_ical(await world.member.download(second_file)).walk("VEVENT")[0]
    assert str(second["UID"]) == str(event["UID"])
    assert int(second["SEQUENCE"]) == 1
    assert second.decoded("DTSTART").hour == 14

    reminders_after = await world.ask(world.chair, "!erinnerungen")
    assert reminders_after.count(f"· Sitzung #{meeting_id}") == 3
    assert reminders_after != reminders_before

    listing = await world.ask(world.member, "!sitzungen")
    assert f"#{meeting_id} · " in listing and "Sitzung FAK KI" in listing

    cancelled = await world.ask(world.chair, f"!sitzung absagen {meeting_id}")
    assert cancelled.endswith("ist abgesagt.")
    assert f"Sitzung #{meeting_id}" not in await world.ask(world.chair, "!erinnerungen")


async def test_reminder_due_while_the_bot_is_stopped_arrives_once_marked_late(world: World) -> None:
    await world.ask(world.member, "!erinnerung in 1 Minute; Während der Pause")
    await world.bot.stop()
    with contextlib.closing(sqlite3.connect(world.bot.settings.bot.data_dir / DB_FILENAME)) as db:
        (due_ts,) = db.execute("SELECT next_ts FROM reminders WHERE text = 'Während der Pause'").fetchone()
    # Instead of waiting out the minute: the bot (in this process) comes back one second after the
    # due time, its clock running on from there.
    with time_machine.travel(due_ts + 1, tick=True):
        await world.bot.start()

        late: Seen = await world.member.wait_for(
            lambda e: (
                e.sender == world.bot_id and "Während der Pause" in e.body and e.body.startswith("Erinnerung")
            ),
            timeout=30,
        )
        assert "(verspätet – fällig war " in late.body
        await world.ask(world.member, "!ping")  # anything after it would have arrived by now
    assert (
        len(
            [
                e
                for e in world.member.seen
                if e.sender == world.bot_id
                and "Während der Pause" in e.body
                and e.body.startswith("Erinnerung")
            ]
        )
        == 1
    )
