"""Recurring series as RFC 5545 RRULE values: in words, and their next occurrence.

``describe_rrule`` names a series ("jeden Montag, 09:00 Uhr"), ``next_occurrence`` computes its next
date, wall-clock stable across DST; ``localize`` and ``exists`` are the local-time rules both this
module and the parser follow.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from dateutil.rrule import rrulestr  # type: ignore[import-untyped, unused-ignore]

from bot.timeparse.format import WEEKDAY_DE, WEEKDAY_EN, clock_long, language

_SEARCH_LIMIT = 2000  # candidates examined when looking for an occurrence

_WEEKDAY_ADVERB_DE = ("montags", "dienstags", "mittwochs", "donnerstags", "freitags", "samstags", "sonntags")
RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_NTH_DE = {
    1: "ersten",
    2: "zweiten",
    3: "dritten",
    4: "vierten",
    5: "fünften",
    -1: "letzten",
    -2: "vorletzten",
}
_NTH_EN = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last", -2: "second-to-last"}


def _join(items: Sequence[str], en: bool) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {'and' if en else 'und'} {items[-1]}"


def _ordinal_en(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


_BYDAY_RE = re.compile(r"([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_RRULE_KEYS = frozenset({"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "WKST"})


def _rrule_parts(rrule: str) -> dict[str, str]:
    """ "FREQ=WEEKLY;BYDAY=MO" -> {"FREQ": "WEEKLY", "BYDAY": "MO"}; ValueError when malformed."""
    value = rrule.strip()
    if value.upper().startswith("RRULE:"):
        value = value[6:]
    parts: dict[str, str] = {}
    for item in value.split(";"):
        key, sep, val = item.partition("=")
        if not sep or not key.strip() or not val.strip():
            raise ValueError(f"not an RRULE value: {rrule!r}")
        parts[key.strip().upper()] = val.strip().upper()
    if "FREQ" not in parts:
        raise ValueError(f"RRULE without FREQ: {rrule!r}")
    return parts


def _rule_phrase(parts: dict[str, str], at: datetime, en: bool) -> str | None:
    """The repetition in words without the time, or None when it has no wording here."""
    if set(parts) - _RRULE_KEYS:
        return None
    freq = parts["FREQ"]
    interval_text = parts.get("INTERVAL", "1")
    if not interval_text.isdigit() or int(interval_text) < 1:
        return None
    interval = int(interval_text)
    byday: list[tuple[int | None, int]] = []
    for item in parts.get("BYDAY", "").split(",") if "BYDAY" in parts else []:
        match = _BYDAY_RE.fullmatch(item)
        if match is None:
            return None
        byday.append((int(match[1]) if match[1] else None, RRULE_DAYS.index(match[2])))
    monthdays: list[int] = []
    for item in parts.get("BYMONTHDAY", "").split(",") if "BYMONTHDAY" in parts else []:
        if not re.fullmatch(r"[+-]?[0-9]{1,2}", item) or int(item) == 0 or not -31 <= int(item) <= 31:
            return None
        monthdays.append(int(item))

    if freq == "DAILY" and not byday and not monthdays:
        if interval == 1:
            return "daily" if en else "täglich"
        return f"every {interval} days" if en else f"alle {interval} Tage"
    if freq in {"WEEKLY", "DAILY"} and not monthdays and (freq == "WEEKLY" or interval == 1):
        if any(nth is not None for nth, _ in byday):
            return None
        days = sorted({day for _, day in byday}) or [at.weekday()]
        workdays = days == [0, 1, 2, 3, 4]
        if interval == 1:
            if workdays:
                return "weekdays" if en else "werktags"
            if en:
                return "every " + _join([WEEKDAY_EN[d] for d in days], en)
            return "jeden " + _join([WEEKDAY_DE[d] for d in days], en)
        if en:
            return f"every {interval} weeks on " + (
                "weekdays" if workdays else _join([WEEKDAY_EN[d] for d in days], en)
            )
        return f"alle {interval} Wochen " + (
            "werktags" if workdays else _join([_WEEKDAY_ADVERB_DE[d] for d in days], en)
        )
    if freq == "MONTHLY":
        if byday and not monthdays:
            if len(byday) != 1:
                return None
            nth, day = byday[0]
            if nth is None or nth not in _NTH_DE:
                return None
            if en:
                what = f"{_NTH_EN[nth]} {WEEKDAY_EN[day]}"
                return f"{what} of every month" if interval == 1 else f"every {interval} months on the {what}"
            what = f"{_NTH_DE[nth]} {WEEKDAY_DE[day]}"
            return f"jeden {what} im Monat" if interval == 1 else f"alle {interval} Monate am {what}"
        if byday:
            return None
        days_of_month = monthdays or [at.day]
        if en:
            named = [
                ("the last day" if d == -1 else f"the {_ordinal_en(d)}")
                for d in days_of_month
                if d > 0 or d == -1
            ]
            if len(named) != len(days_of_month):
                return None
            what = _join(named, en)
            return f"monthly on {what}" if interval == 1 else f"every {interval} months on {what}"
        named = [("letzten Tag" if d == -1 else f"{d}.") for d in days_of_month if d > 0 or d == -1]
        if len(named) != len(days_of_month):
            return None
        what = _join(named, en)
        return f"monatlich am {what}" if interval == 1 else f"alle {interval} Monate am {what}"
    return None


def describe_rrule(rrule: str, at: datetime, lang: str) -> str:
    """The series in words with its time of day (taken from ``at``), e.g. "jeden Montag, 09:00 Uhr".

    Rules outside what ``parse_when`` produces are shown as "wiederkehrend (…)" / "recurring (…)";
    a value that is not an RRULE at all (no FREQ) raises ValueError.
    """
    en = language(lang) == "en"
    parts = _rrule_parts(rrule)
    phrase = _rule_phrase(parts, at, en)
    if phrase is None:
        phrase = f"recurring ({rrule.strip()})" if en else f"wiederkehrend ({rrule.strip()})"
    return f"{phrase}, {clock_long(at, en)}"


# --------------------------------------------------------------------------------------------------
# Time zones and series


def localize(naive: datetime, tz: tzinfo) -> datetime:
    """Attach ``tz`` to a local wall-clock time.

    Ambiguous times get their first occurrence (fold=0); nonexistent ones (spring-forward gap) are
    read with the offset before the change, i.e. moved forward by the gap (02:30 -> 03:30).
    """
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


def exists(naive: datetime, tz: tzinfo) -> bool:
    return localize(naive, tz).replace(tzinfo=None) == naive


def naive_after(rrule: str, dtstart: datetime, start: datetime) -> Iterator[datetime]:
    """Occurrences (naive) of the series from ``dtstart`` at or after ``start``, at most a bounded number."""
    series: Any = rrulestr(rrule, dtstart=dtstart)
    for count, value in enumerate(series.xafter(start, inc=True)):
        if count >= _SEARCH_LIMIT:
            return
        yield value


def next_occurrence(rrule: str, first: datetime, after: datetime) -> datetime | None:
    """The next occurrence strictly after ``after`` of the series that starts at ``first``.

    ``first`` must be aware; its wall-clock time and zone are the series' own: occurrences are
    computed on naive local times (dateutil) and get ``first.tzinfo`` afterwards, so "every Monday
    09:00" stays 09:00 local across DST changes. A nonexistent local time is moved forward by the
    gap (daily 02:30 gives 03:30 on the spring-forward day); an ambiguous one is its first
    occurrence (fold=0). None when the series has ended (COUNT/UNTIL). UNTIL, if used, must be a
    floating (local) time.
    """
    tz = first.tzinfo
    if tz is None or first.utcoffset() is None:
        raise ValueError("first must be timezone-aware")
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("after must be timezone-aware")
    dtstart = first.replace(tzinfo=None, fold=0)
    after_utc = after.astimezone(UTC)
    start = max(dtstart, after.astimezone(tz).replace(tzinfo=None, fold=0) - timedelta(days=1))
    for candidate in naive_after(rrule, dtstart, start):
        aware = localize(candidate, tz)
        if aware.astimezone(UTC) > after_utc:
            return aware
    return None
