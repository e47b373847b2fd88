"""Times as members type them: „morgen um 9“, „Freitag 14:30“, „in 2 Stunden“, „jeden Montag 10 Uhr“.

Pure functions without I/O or global state; the current time is always passed in (``now``).

    parse_when(text, now=…, tz=…, lang=…) -> When(at, rrule, text)
    format_datetime(dt, lang)              "Do., 05.06.2025, 09:00 Uhr" / "Thu, 5 Jun 2025, 09:00"
    describe_rrule(rrule, at, lang)        "jeden Montag, 09:00 Uhr" / "every Monday, 09:00"
    next_occurrence(rrule, first, after)   the next date of a series, wall-clock stable across DST
    parse_duration(text)                   "7d", "24h", "30min", "90s", "2w", "1d12h" for the config

One module per concern: ``parse`` (what members type, read into a ``When``; what is understood and
how is described there), ``format`` (dates and times for people), ``recurrence`` (RRULE series: in
words, their next occurrence, local wall-clock times across DST) and ``duration`` (offsets in the
configuration). The package re-exports the names the rest of the bot imports.
"""

from __future__ import annotations

from bot.timeparse.duration import parse_duration
from bot.timeparse.format import format_datetime
from bot.timeparse.parse import TimeParseError, When, parse_when
from bot.timeparse.recurrence import describe_rrule, next_occurrence

__all__ = [
    "TimeParseError",
    "When",
    "describe_rrule",
    "format_datetime",
    "next_occurrence",
    "parse_duration",
    "parse_when",
]
