"""Times for tests: Berlin wall-clock moments and one-off readings, and a frozen clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from bot.timeparse import When, format_datetime

BERLIN = ZoneInfo("Europe/Berlin")


def at(text: str) -> datetime:
    """ "2026-06-10T10:00:00" as a Berlin wall-clock moment."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def once(moment: datetime) -> When:
    return When(at=moment, rrule=None, text=format_datetime(moment, "de"))


def frozen(text: str) -> Iterator[time_machine.Coordinates]:
    """A clock standing still at ``text`` (Berlin) until the test moves it."""
    with time_machine.travel(at(text), tick=False) as traveller:
        yield traveller
