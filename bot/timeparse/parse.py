"""Reading the times members type, in German or English: ``parse_when`` gives a ``When``.

German and English inputs are understood whatever ``lang`` is; ``lang`` ("de", default, or "en")
chooses the language of ``When.text`` and of the error messages (formal "Sie"). Case does not
matter, and umlauts and ß may be written "ae", "oe", "ue", "ss" ("naechste", "uebermorgen",
"Maerz"): the input is normalized to that spelling before the words are looked up.

Readings (``now`` is first converted to ``tz``; "today" is the date of ``now`` in ``tz``):

- Relative amounts ("in 2 Stunden", "in 1,5 Stunden", "in 3 Tagen", "in a week") are exact elapsed
  time: ``now + timedelta`` computed in UTC, seconds (and microseconds of ``now``) kept, so "in 2
  Stunden" across a DST change is two real hours. Months and years ("in 2 Monaten") are calendar
  steps on the local wall clock (31 Jan + 1 month = 28/29 Feb). "in 3 Tagen um 9" is a day offset
  with a wall-clock time: the date three days ahead at 09:00.
- "Montag 9 Uhr" (plain weekday) is the next Monday whose 09:00 is still ahead: today if today is a
  Monday before 09:00, otherwise the coming one. "nächsten Montag" / "naechsten" / "kommenden" /
  "next monday" is the next Monday strictly after today (a week ahead when today is a Monday), even
  if today's 09:00 is still ahead. "diesen Montag" / "this monday" reads like the plain weekday.
  "nächste Woche Dienstag", "Dienstag nächster Woche", "Dienstag in der nächsten Woche", "kommende
  Woche Dienstag", "next week tuesday", "tuesday next week" is the Tuesday of the next calendar
  week (weeks start on Monday), whatever today is; "nächste Woche" without a weekday is not
  understood.
- "gestern", "vorgestern", "yesterday", "the day before yesterday" (with or without a time) are
  errors saying the time is past, not "not understood".
- A bare time ("17 Uhr", "um 9", "14:30", "9am") is today if still ahead, otherwise tomorrow.
  "heute 17 Uhr" after 17:00 is an error, never silently moved to tomorrow. "heute um 3" when 03:00
  has passed but 15:00 is still ahead asks back ("03:00 oder 15:00?", reason "ambiguous_hour")
  instead of calling it past; only for an hour 1–11 without "Uhr", minutes, "am"/"pm" or a day part
  (or "halb"/"viertel" around such an hour), on today's date ("heute", "today", today's date).
- A date without a year is its next future occurrence (this year or a later one; "29.02." the next
  leap year). Exception: a date without a year that is *today* with a time already passed is the
  same mistake as "heute 17 Uhr" and an error, not a date next year. A date with a year in the past
  is an error. A lone day of the month ("am 15. um 9 Uhr") is the next 15th at 09:00. "Silvester"
  (31.12.), "Heiligabend" (24.12.) and "Neujahr" (01.01.), also "an Silvester", "zu Neujahr 2028",
  are read as that date: "Silvester 23:59" on 31 December after 23:59 is an error like "31.12. 23:59".
- "9" after "um"/"at"/"gegen" is 09:00 (24-hour reading in both languages); "3pm" = 15:00,
  "12am" = 00:00, "12pm" = 12:00. A bare number without "um"/"Uhr" is an hour only as the last word
  after a day ("morgen 9", "Freitag 10"). "9 am Freitag" reads "am" as the German preposition when
  a day follows and it was written apart from the number; "9am" is always the meridiem. Day parts
  move hours 1–11 to the afternoon: "heute abend um 8" = 20:00 ("nachmittags", "abends",
  "evening"); "nachts" does so for 6–11 only ("11 Uhr nachts" = 23:00, "2 Uhr nachts" = 02:00);
  "morgen früh", "morgens", "vormittags" leave the hour alone; "mittags"/"noon" alone is 12:00.
- Spoken times name the hour they lead up to: "halb 10" = 09:30, "viertel nach 3" = 03:15, "viertel
  vor 4" = "dreiviertel 4" = 03:45, also "half past 9", "quarter past 3", "quarter to 4"; the hour
  in digits or as a word ("halb zehn", "viertel nach eins"), "Uhr" optional ("halb 10 Uhr"), "um"
  optional ("morgen halb 3"). They follow the 24-hour rule of bare numbers ("halb 3" = 02:30) and
  go with days, rules and day parts like any time ("heute nachmittag um halb 3" = 14:30, "jeden
  Montag um halb 8"); a day part judges the hour on the clock ("halb 12 abends" = 23:30), except
  that "halb 1" / "viertel vor 1" count as 1 ("mittags um halb 1" = 12:30).
- A day without a time ("morgen", "12.06.", "jeden Montag") is an error asking for the time; there
  is no default time. With ``end_of_day=True`` (deadlines) a single day without a time or day part
  ("20.01.2027", "morgen", "Freitag", "Silvester") is 23:59 of that day and ``When.text`` ends in
  "(Ende des Tages)" / "(end of day)"; "morgen abend" and "jeden Montag" still ask for the time.
  Every reading must be strictly after ``now`` and at most 10 years ahead.
- "24:00", "midnight", "12/06", "14.30" without "Uhr" (except after a day: "morgen 14.30"), "viertel
  4" (for 03:15), "halb 3 pm", "Weihnachten", "übernächste Woche" and "diese Woche Dienstag" are not
  understood; neither are umlauts left without their dots ("nachste" for "nächste").

Recurring: ``When.rrule`` is an RFC 5545 RRULE value (no "RRULE:", no DTSTART); the series starts at
``When.at``, the first occurrence strictly after ``now``. Supported: "täglich", "jeden Tag", "alle 3
Tage"; "jeden Montag", "montags", "jeden Montag und Donnerstag", "werktags"/"jeden Werktag"
(Mon–Fri, holidays not considered), "montags bis freitags", "wöchentlich am Montag"; "alle 2 Wochen
Mittwoch", "jeden zweiten Mittwoch" (= every 2 weeks; "jeden dritten Mittwoch" every 3 weeks),
"every other wednesday"; "jeden ersten Montag im Monat" (BYDAY=1MO; "jeden ersten Montag" without
"im Monat" reads the same), "jeden letzten Freitag im Monat" (BYDAY=-1FR), "jeden zweiten Mittwoch
im Monat" (BYDAY=2WE); "monatlich am 15.", "jeden 15. im Monat", "am 15. jedes Monats", "jeden
letzten Tag im Monat" (BYMONTHDAY=-1; BYMONTHDAY=31 skips shorter months, as RFC 5545 says);
English equivalents. "wöchentlich 9 Uhr" / "alle 2 Wochen 14 Uhr" without a weekday repeat on the
weekday of the first occurrence; "monatlich 9 Uhr" without a day is not understood. Start dates
("ab 1. Juli"), end dates and yearly rules are not supported.

Daylight saving time (in ``tz``): times of day stay wall-clock times. A local time that does not
exist (the spring-forward gap, e.g. 02:30 on 2026-03-29 in Europe/Berlin) is moved forward by the
length of the gap (02:30 → 03:30 CEST): the time is read with the offset before the change (PEP
495, fold=0), which is also what RFC 5545 prescribes. An ambiguous time (the repeated autumn hour)
is its first occurrence (fold=0, summer time). ``next_occurrence`` computes the series on naive
local times with dateutil and attaches the zone afterwards, so a daily 02:30 series gives 03:30 on
the spring-forward day and 02:30 again the day after. ``parse_when`` never starts a series inside a
gap (it takes the next occurrence that exists), because ``When.at`` is the series' DTSTART and its
wall-clock time is the series' time.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from bot.errors import UserError
from bot.i18n import template
from bot.timeparse.format import (
    MONTH_DE,
    MONTH_EN,
    WEEKDAY_DE,
    WEEKDAY_EN,
    format_date,
    format_datetime,
    language,
)
from bot.timeparse.recurrence import RRULE_DAYS, describe_rrule, exists, localize, naive_after

MAX_LENGTH = 200
"""Longer inputs are refused before parsing."""
MAX_YEARS_AHEAD = 10
_MAX_INTERVAL = 99


@dataclass(frozen=True)
class When:
    """A reading of a time: the first (or only) moment, the repetition rule, and a long form."""

    at: datetime
    """Aware (tzinfo is the requested zone), strictly after ``now``; the series' DTSTART."""
    rrule: str | None
    """RFC 5545 RRULE value without "RRULE:" and DTSTART, e.g. "FREQ=WEEKLY;BYDAY=MO"; None once."""
    text: str
    """"Do., 05.06.2025, 09:00 Uhr" or "jeden Montag, 09:00 Uhr (ab Mo., 15.06.2026, 09:00 Uhr)"."""


class TimeParseError(UserError):
    """A time the member typed could not be read; ``message`` explains it in their language.

    ``reason`` names the case for programs: "empty", "too_long", "unknown", "no_time",
    "no_time_rule", "past", "ambiguous_hour", "too_far", "bad_date", "bad_month", "bad_time",
    "weekday_mismatch", "not_positive".
    """

    def __init__(self, message: str, *, reason: str = "unknown") -> None:
        super().__init__("plain", text=message)
        self.message = message
        self.reason = reason

    def __str__(self) -> str:
        return self.message


def _catalog_text(lang: str, key: str) -> str:
    text = template(language(lang), key)
    assert text is not None, f"{key} missing from the catalogs"
    return text


def _error(lang: str, reason: str, **params: Any) -> TimeParseError:
    """The explanation from the catalog (``time.<reason>``), plain text in the member's language."""
    return TimeParseError(_catalog_text(lang, f"time.{reason}").format(**params), reason=reason)


# --------------------------------------------------------------------------------------------------
# Tokens

_WEEKDAYS = {
    "montag": 0, "mo": 0, "monday": 0, "mon": 0,
    "dienstag": 1, "di": 1, "tuesday": 1, "tue": 1, "tues": 1,
    "mittwoch": 2, "mi": 2, "wednesday": 2, "wed": 2,
    "donnerstag": 3, "do": 3, "thursday": 3, "thu": 3, "thur": 3, "thurs": 3,
    "freitag": 4, "fr": 4, "friday": 4, "fri": 4,
    "samstag": 5, "sonnabend": 5, "sa": 5, "saturday": 5, "sat": 5,
    "sonntag": 6, "so": 6, "sunday": 6, "sun": 6,
}  # fmt: skip
_WEEKDAY_ADVERBS = {
    "montags": 0, "dienstags": 1, "mittwochs": 2, "donnerstags": 3, "freitags": 4,
    "samstags": 5, "sonnabends": 5, "sonntags": 6,
    "mondays": 0, "tuesdays": 1, "wednesdays": 2, "thursdays": 3, "fridays": 4,
    "saturdays": 5, "sundays": 6,
}  # fmt: skip
_MONTHS = {
    "januar": 1, "jaenner": 1, "jan": 1, "january": 1,
    "februar": 2, "feber": 2, "feb": 2, "february": 2,
    "maerz": 3, "maer": 3, "mrz": 3, "mar": 3, "march": 3,
    "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "october": 10, "oct": 10,
    "november": 11, "nov": 11,
    "dezember": 12, "dez": 12, "december": 12, "dec": 12,
}  # fmt: skip
_NUMBER_WORDS = {
    "ein": 1, "eine": 1, "einer": 1, "einem": 1, "einen": 1, "a": 1, "an": 1, "one": 1,
    "zwei": 2, "two": 2, "drei": 3, "three": 3, "vier": 4, "four": 4, "fuenf": 5, "five": 5,
    "sechs": 6, "six": 6, "sieben": 7, "seven": 7, "acht": 8, "eight": 8, "neun": 9, "nine": 9,
    "zehn": 10, "ten": 10, "elf": 11, "eleven": 11, "zwoelf": 12, "twelve": 12,
    "vierzehn": 14, "fourteen": 14, "fuenfzehn": 15, "fifteen": 15,
    "zwanzig": 20, "twenty": 20, "dreissig": 30, "thirty": 30,
}  # fmt: skip
_ORDINAL_WORDS = {
    "erste": 1, "ersten": 1, "erster": 1, "erstes": 1, "first": 1,
    "zweite": 2, "zweiten": 2, "zweiter": 2, "zweites": 2, "second": 2,
    "dritte": 3, "dritten": 3, "dritter": 3, "drittes": 3, "third": 3,
    "vierte": 4, "vierten": 4, "vierter": 4, "viertes": 4, "fourth": 4,
    "fuenfte": 5, "fuenften": 5, "fuenfter": 5, "fuenftes": 5, "fifth": 5,
    "letzte": -1, "letzten": -1, "letzter": -1, "letztes": -1, "last": -1,
    "vorletzte": -2, "vorletzten": -2, "vorletzter": -2, "vorletztes": -2,
}  # fmt: skip
_ORDINAL_SUFFIXES = frozenset({"st", "nd", "rd", "th"})
_MONTH_NTH = frozenset({1, 2, 3, 4, 5, -1, -2})

_SECOND = Fraction(1)
_UNITS: dict[str, tuple[str, Fraction]] = {
    **dict.fromkeys(("s", "sek", "sekunde", "sekunden", "sec", "secs", "second", "seconds"), ("s", _SECOND)),
    **dict.fromkeys(("min", "mins", "minute", "minuten", "minutes"), ("s", 60 * _SECOND)),
    **dict.fromkeys(("h", "std", "stunde", "stunden", "hour", "hours", "hr", "hrs"), ("s", 3600 * _SECOND)),
    **dict.fromkeys(("d", "tag", "tage", "tagen", "day", "days"), ("s", 86400 * _SECOND)),
    **dict.fromkeys(("w", "wo", "woche", "wochen", "week", "weeks", "wk", "wks"), ("s", 604800 * _SECOND)),
    **dict.fromkeys(("monat", "monate", "monaten", "month", "months"), ("months", Fraction(1))),
    **dict.fromkeys(("jahr", "jahre", "jahren", "year", "years"), ("months", Fraction(12))),
}
_DAY_UNITS = frozenset({"d", "tag", "tage", "tagen", "day", "days"})
_WEEK_UNITS = frozenset({"w", "wo", "woche", "wochen", "week", "weeks", "wk", "wks"})
_MONTH_UNITS = frozenset({"monat", "monate", "monaten", "month", "months"})

_DAYWORDS = {
    "heute": 0, "today": 0, "tonight": 0, "morgen": 1, "tomorrow": 1, "uebermorgen": 2,
    "gestern": -1, "yesterday": -1, "vorgestern": -2,  # read only to say they are past
}  # fmt: skip
_HOLIDAYS = {"silvester": (31, 12), "heiligabend": (24, 12), "neujahr": (1, 1), "neujahrstag": (1, 1)}
"""Days named by the holiday on them: (day, month), read like a date without a year."""
_HOLIDAY_PREPOSITIONS = frozenset({"an", "zu"})
_DAYPARTS = {
    "morgens": "am", "frueh": "am", "vormittag": "am", "vormittags": "am", "morning": "am",
    "mittag": "noon", "mittags": "noon", "noon": "noon", "midday": "noon",
    "nachmittag": "pm", "nachmittags": "pm", "afternoon": "pm",
    "abend": "pm", "abends": "pm", "evening": "pm",
    "nacht": "night", "nachts": "night", "night": "night",
}  # fmt: skip
_NEXT_WORDS = frozenset(
    {
        "naechsten",
        "naechste",
        "naechster",
        "naechstes",
        "kommenden",
        "kommende",
        "kommender",
        "next",
        "coming",
    }
)
_THIS_WORDS = frozenset({"diesen", "diese", "dieser", "this"})
_NEXT_WEEK_LEAD = frozenset({"in", "der"})  # "Dienstag in der nächsten Woche"
_SPOKEN_CLOCK: dict[tuple[str, ...], int] = {
    ("halb",): -30,
    ("viertel", "nach"): 15,
    ("viertel", "vor"): -15,
    ("dreiviertel",): -15,
    ("drei", "viertel"): -15,
    ("half", "past"): 30,
    ("quarter", "past"): 15,
    ("a", "quarter", "past"): 15,
    ("quarter", "to"): -15,
    ("a", "quarter", "to"): -15,
}
"""Times said around a named hour, in minutes from it: "halb 10" is 30 minutes before 10:00."""
_HOUR_WORDS = {
    **{word: n for word, n in _NUMBER_WORDS.items() if n <= 12 and word not in {"a", "an"}},
    "eins": 1,
}
"""Hours written as words after "halb"/"viertel nach" ("halb zehn", "viertel nach eins")."""
_TIME_PREPOSITIONS = frozenset({"um", "at", "gegen", "around"})
_FILLERS = frozenset({"am", "on", "the", "den", "der", "dem"})
_TIME_MARKERS = frozenset({"uhr", "h"})
_EVERY_WORDS = frozenset({"jeden", "jede", "jedes", "jeder", "every", "each"})
_DAILY_WORDS = frozenset({"taeglich", "daily", "alltaeglich"})
_WORKDAY_WORDS = frozenset({"werktags", "wochentags", "weekdays", "werktaeglich", "arbeitstags"})
_WORKDAY_NOUNS = frozenset({"werktag", "wochentag", "arbeitstag", "weekday", "workday"})
_WEEKLY_WORDS = frozenset({"woechentlich", "weekly"})
_BIWEEKLY_WORDS = frozenset({"zweiwoechentlich", "vierzehntaeglich", "vierzehntaegig", "fortnightly"})
_MONTHLY_WORDS = frozenset({"monatlich", "monthly"})
_DAY_NOUNS = frozenset({"tag", "day"})
_WEEK_NOUNS = frozenset({"woche", "week"})
_MONTH_NOUNS = frozenset({"monat", "month"})
_MONTH_SUFFIX_LEAD = frozenset(
    {"im", "in", "des", "jedes", "jeden", "pro", "of", "the", "each", "every", "a", "per", "eines"}
)
_MONTH_SUFFIX_NOUNS = frozenset({"monat", "monats", "month"})
_AND_WORDS = frozenset({"und", "and", "sowie", "&", "+"})
_RANGE_WORDS = frozenset({"bis", "-", "to", "through", "thru", "till", "until"})
_TAIL_FILLERS = frozenset({"am", "on", "the", "den", "jeweils"})

_TOKEN_RE = re.compile(r"[0-9]+(?:[.:,/-][0-9]+)*\.?|[a-z]+\.?|\S")
_ISO_RE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})\.?")
_CLOCK_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?\.?")
_DMY_RE = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.(?:([0-9]{4}|[0-9]{2})\.?)?")
_DOT2_RE = re.compile(r"([0-9]+)\.([0-9]+)")
_DEC_RE = re.compile(r"([0-9]+),([0-9]+)\.?")
_ORD_RE = re.compile(r"([0-9]+)\.")
_SKIPPED = frozenset(",;!?.:\"'()[]“”„‚‘’«»")
_DASHES = frozenset("-–—")


@dataclass(frozen=True)
class _Tok:
    kind: str  # word, num, ord, dec, dot2, date, iso, clock, other
    text: str  # normalized; words without a trailing dot
    a: int = 0
    b: int = 0
    c: int | None = None
    glued: bool = False  # written directly after the previous token
    final: bool = False  # the last token


def _normalize(text: str) -> str:
    value = unicodedata.normalize("NFKC", text).lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("’", "'")):
        value = value.replace(umlaut, plain)
    value = value.replace("o'clock", " uhr")
    value = re.sub(r"(?<![a-z])([ap])\.\s?m(?![a-z])\.?", r"\1m", value)
    return re.sub(r"([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})t(?=[0-9])", r"\1 ", value)


def _classify(raw: str) -> _Tok | None:
    if "0" <= raw[0] <= "9":
        if match := _ISO_RE.fullmatch(raw):
            return _Tok("iso", raw, int(match[1]), int(match[2]), int(match[3]))
        if match := _CLOCK_RE.fullmatch(raw):
            return _Tok("clock", raw, int(match[1]), int(match[2]), int(match[3] or 0))
        if match := _DMY_RE.fullmatch(raw):
            year = match[3]
            full_year = None if year is None else int(year) + (2000 if len(year) == 2 else 0)
            return _Tok("date", raw, int(match[1]), int(match[2]), full_year)
        if match := _DOT2_RE.fullmatch(raw):
            return _Tok("dot2", raw, int(match[1]), int(match[2]))
        if match := _DEC_RE.fullmatch(raw):
            return _Tok("dec", raw.rstrip("."), int(match[1]), int(match[2]))
        if match := _ORD_RE.fullmatch(raw):
            return _Tok("ord", match[1], int(match[1]))
        if raw.isdigit():
            return _Tok("num", raw, int(raw))
        return _Tok("other", raw)
    if "a" <= raw[0] <= "z":
        return _Tok("word", raw.rstrip("."))
    if raw in _SKIPPED:
        return None
    if raw in _DASHES:
        return _Tok("word", "-")
    if raw in {"&", "+"}:
        return _Tok("word", raw)
    return _Tok("other", raw)


def _tokenize(text: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    previous_end = -1
    for match in _TOKEN_RE.finditer(_normalize(text)):
        token = _classify(match[0])
        if token is not None:
            tokens.append(replace(token, glued=match.start() == previous_end))
        previous_end = match.end()
    if tokens:
        tokens[-1] = replace(tokens[-1], final=True)
    return tokens


# --------------------------------------------------------------------------------------------------
# Grammar


@dataclass(frozen=True)
class _Rule:
    freq: str  # DAILY, WEEKLY, MONTHLY
    interval: int = 1
    days: tuple[int, ...] = ()
    nth: int | None = None  # MONTHLY: BYDAY=<nth><day>
    monthday: int | None = None  # MONTHLY: BYMONTHDAY

    def value(self) -> str:
        parts = [f"FREQ={self.freq}"]
        if self.interval > 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.days:
            if self.nth is not None:
                parts.append(f"BYDAY={self.nth}{RRULE_DAYS[self.days[0]]}")
            else:
                parts.append("BYDAY=" + ",".join(RRULE_DAYS[d] for d in sorted(self.days)))
        if self.monthday is not None:
            parts.append(f"BYMONTHDAY={self.monthday}")
        return ";".join(parts)


@dataclass(frozen=True)
class _Clock:
    hour: int
    minute: int
    second: int
    meridiem: str | None  # "am", "pm"
    shown: str  # for messages, e.g. "25:00" or "13 pm"
    twelve_hour: bool = False  # "um 3", "halb 3": could be either half of the day
    named_hour: int | None = None  # "halb 1": 1, the hour the words name (the clock shows 00:30)


@dataclass(frozen=True)
class _DateSpec:
    day: int
    month: int | None  # None: only a day of the month ("am 15.")
    year: int | None


@dataclass(frozen=True)
class _Relative:
    parts: tuple[tuple[Fraction, str, str], ...]  # (amount, kind "s"/"months", unit word)
    negative: bool


@dataclass
class _Reading:
    rule: _Rule | None = None
    relative: _Relative | None = None
    date: _DateSpec | None = None
    offset: int | None = None  # heute 0, morgen 1, übermorgen 2
    weekday: int | None = None
    next_week: bool = False  # "nächsten Montag": strictly after today
    next_calendar_week: bool = False  # "nächste Woche Dienstag": in the Monday-based week after this one
    clock: _Clock | None = None
    daypart: str | None = None

    def has_day(self) -> bool:
        return self.date is not None or self.offset is not None or self.weekday is not None


class _Parser:
    """Recursive descent over the tokens; every method returns (value, next index) or None."""

    def __init__(self, tokens: list[_Tok]) -> None:
        self.toks = tokens
        self.n = len(tokens)

    # helpers -------------------------------------------------------------------------------------

    def word(self, i: int) -> str | None:
        if 0 <= i < self.n and self.toks[i].kind == "word":
            return self.toks[i].text
        return None

    def tok(self, i: int) -> _Tok | None:
        return self.toks[i] if 0 <= i < self.n else None

    def skip(self, i: int, words: frozenset[str]) -> int:
        while self.word(i) in words:
            i += 1
        return i

    def small_number(self, i: int) -> tuple[int, int] | None:
        """A whole number written in digits or as a word ("2", "zwei", "two")."""
        token = self.tok(i)
        if token is not None and token.kind == "num" and len(token.text) <= 4:
            return token.a, i + 1
        word = self.word(i)
        if word in _NUMBER_WORDS:
            return _NUMBER_WORDS[word], i + 1
        return None

    def weekday(self, i: int, adverbs: bool = True) -> tuple[int, int] | None:
        word = self.word(i)
        if word in _WEEKDAYS:
            return _WEEKDAYS[word], i + 1
        if adverbs and word in _WEEKDAY_ADVERBS:
            return _WEEKDAY_ADVERBS[word], i + 1
        return None

    def weekday_list(self, i: int) -> tuple[tuple[int, ...], int] | None:
        """ "Montag", "montags und donnerstags", "Mo, Mi, Fr", "montags bis freitags", "mo-fr"."""
        first = self.weekday(i)
        if first is None:
            return None
        days = [first[0]]
        j = first[1]
        while True:
            word = self.word(j)
            if word in _RANGE_WORDS and (end := self.weekday(j + 1)) is not None:
                start = days[-1]
                span = (end[0] - start) % 7
                days.extend((start + k) % 7 for k in range(1, span + 1))
                j = end[1]
            elif (more := self.weekday(j + 1 if word in _AND_WORDS else j)) is not None:
                days.append(more[0])
                j = more[1]
            else:
                return tuple(sorted(set(days))), j

    def ordinal(self, i: int) -> tuple[int, bool, int] | None:
        """(n, written in digits, next index): "3.", "3rd", "dritten", "letzten"."""
        token = self.tok(i)
        if token is None:
            return None
        if token.kind == "ord" and len(token.text) <= 2:
            return token.a, True, i + 1
        if token.kind == "num" and len(token.text) <= 2 and self.word(i + 1) in _ORDINAL_SUFFIXES:
            return token.a, True, i + 2
        word = self.word(i)
        if word in _ORDINAL_WORDS:
            return _ORDINAL_WORDS[word], False, i + 1
        return None

    def month_suffix(self, i: int) -> int | None:
        """ "im Monat", "des Monats", "jedes Monats", "of every month", "of the month", "each month"."""
        j = i
        for _ in range(2):
            if self.word(j) in _MONTH_SUFFIX_LEAD:
                j += 1
        if self.word(j) in _MONTH_SUFFIX_NOUNS:
            return j + 1
        return None

    def starts_day(self, i: int) -> bool:
        """Whether a date or a day begins at ``i`` (used to read "am" as a preposition)."""
        token = self.tok(i)
        if token is None:
            return False
        if token.kind in {"date", "iso", "ord", "dot2"}:
            return True
        if token.kind == "num":
            return self.word(i + 1) in _MONTHS
        word = token.text if token.kind == "word" else ""
        return (
            word in _WEEKDAYS
            or word in _DAYWORDS
            or word in _MONTHS
            or word in _NEXT_WORDS
            or word in _THIS_WORDS
            or word in _ORDINAL_WORDS
            or word in _HOLIDAYS
        )

    # recurring -----------------------------------------------------------------------------------

    def rule(self, i: int) -> tuple[_Rule, int] | None:
        word = self.word(i)
        if word in _DAILY_WORDS:
            return _Rule("DAILY"), i + 1
        if word in _WORKDAY_WORDS:
            return _Rule("WEEKLY", days=(0, 1, 2, 3, 4)), i + 1
        if word in _WEEKDAY_ADVERBS or (word in _WEEKDAYS and self.word(i + 1) in _RANGE_WORDS):
            # "montags", "montags und donnerstags"; a range repeats even without "jeden": "Mo-Fr"
            listed = self.weekday_list(i)
            if listed is not None and (len(listed[0]) > 1 or word in _WEEKDAY_ADVERBS):
                return _Rule("WEEKLY", days=listed[0]), listed[1]
        if word in _WEEKLY_WORDS:
            return self.weekly_tail(i + 1, 1)
        if word in _BIWEEKLY_WORDS:
            return self.weekly_tail(i + 1, 2)
        if word in _MONTHLY_WORDS:
            return self.monthly_tail(i + 1, 1)
        if word in _EVERY_WORDS:
            return self.every(i + 1)
        if word == "alle":
            return self.every_n(i + 1)
        # "erster Montag im Monat", "am 15. jedes Monats", "first monday of every month"
        ordinal = self.ordinal(i)
        if ordinal is not None:
            n, digits, j = ordinal
            day = self.weekday(j, adverbs=False)
            if day is not None and n in _MONTH_NTH and (end := self.month_suffix(day[1])) is not None:
                return _Rule("MONTHLY", days=(day[0],), nth=n), end
            if digits and 1 <= n <= 31 and (end := self.month_suffix(j)) is not None:
                return _Rule("MONTHLY", monthday=n), end
            if n == -1 and self.word(j) in _DAY_NOUNS and (end := self.month_suffix(j + 1)) is not None:
                return _Rule("MONTHLY", monthday=-1), end
        return None

    def weekly_tail(self, i: int, interval: int) -> tuple[_Rule, int] | None:
        if not 1 <= interval <= _MAX_INTERVAL:
            return None
        j = self.skip(i, _TAIL_FILLERS)
        listed = self.weekday_list(j)
        if listed is not None:
            return _Rule("WEEKLY", interval=interval, days=listed[0]), listed[1]
        if self.word(j) in _WORKDAY_WORDS or self.word(j) in _WORKDAY_NOUNS:
            return _Rule("WEEKLY", interval=interval, days=(0, 1, 2, 3, 4)), j + 1
        return _Rule("WEEKLY", interval=interval), i

    def monthly_tail(self, i: int, interval: int) -> tuple[_Rule, int] | None:
        if not 1 <= interval <= _MAX_INTERVAL:
            return None
        j = self.skip(i, _TAIL_FILLERS)
        ordinal = self.ordinal(j)
        if ordinal is None:
            return None
        n, digits, k = ordinal
        rule: _Rule
        day = self.weekday(k, adverbs=False)
        if day is not None:
            if n not in _MONTH_NTH:
                return None
            rule, k = _Rule("MONTHLY", interval=interval, days=(day[0],), nth=n), day[1]
        elif n == -1 and self.word(k) in _DAY_NOUNS:
            rule, k = _Rule("MONTHLY", interval=interval, monthday=-1), k + 1
        elif 1 <= n <= 31 and (digits or self.word(k) in _DAY_NOUNS):
            if not digits:
                k += 1
            rule = _Rule("MONTHLY", interval=interval, monthday=n)
        else:
            return None
        end = self.month_suffix(k)
        return rule, k if end is None else end

    def every(self, i: int) -> tuple[_Rule, int] | None:
        """After "jeden"/"every"."""
        word = self.word(i)
        if word in _DAY_NOUNS:
            return _Rule("DAILY"), i + 1
        if word in _WORKDAY_NOUNS:
            return _Rule("WEEKLY", days=(0, 1, 2, 3, 4)), i + 1
        if word in _WEEK_NOUNS:
            return self.weekly_tail(i + 1, 1)
        if word in _MONTH_NOUNS:
            return self.monthly_tail(i + 1, 1)
        listed = self.weekday_list(i)
        if listed is not None:
            return _Rule("WEEKLY", days=listed[0]), listed[1]
        if word == "other":
            n, digits, j = 2, False, i + 1
            other = True
        elif (ordinal := self.ordinal(i)) is not None:
            n, digits, j = ordinal
            other = False
        else:
            amount = self.small_number(i)
            if amount is None:
                return None
            return self.every_n(i)
        day = self.weekday(j, adverbs=False)
        if day is not None:
            end = self.month_suffix(day[1])
            if end is not None and not other:
                if n not in _MONTH_NTH:
                    return None
                return _Rule("MONTHLY", days=(day[0],), nth=n), end
            if n == 1 or n < 0:
                if n not in _MONTH_NTH:
                    return None
                return _Rule("MONTHLY", days=(day[0],), nth=n), day[1]
            if 2 <= n <= _MAX_INTERVAL:
                return _Rule("WEEKLY", interval=n, days=(day[0],)), day[1]
            return None
        next_word = self.word(j)
        if next_word in _WEEK_NOUNS and n >= 1:
            return self.weekly_tail(j + 1, n)
        if next_word in _DAY_NOUNS:
            if n == -1 and (end := self.month_suffix(j + 1)) is not None:
                return _Rule("MONTHLY", monthday=-1), end
            if 1 <= n <= _MAX_INTERVAL:
                return _Rule("DAILY", interval=n), j + 1
            return None
        if next_word in _MONTH_NOUNS and n >= 1:
            return self.monthly_tail(j + 1, n)
        if digits and 1 <= n <= 31 and not other:
            end = self.month_suffix(j)
            return _Rule("MONTHLY", monthday=n), j if end is None else end
        if not digits and not other and 1 <= n <= 31 and (end := self.month_suffix(j)) is not None:
            return _Rule("MONTHLY", monthday=n), end
        return None

    def every_n(self, i: int) -> tuple[_Rule, int] | None:
        """After "alle" / "every": "2 Wochen …", "zwei Wochen …", "3 Tage", "2 Monate am 15."."""
        amount = self.small_number(i)
        if amount is None:
            return None
        n, j = amount
        unit = self.word(j)
        if not 1 <= n <= _MAX_INTERVAL or unit is None:
            return None
        if unit in _WEEK_UNITS:
            return self.weekly_tail(j + 1, n)
        if unit in _MONTH_UNITS:
            return self.monthly_tail(j + 1, n)
        if unit in _DAY_UNITS:
            if n % 7 == 0:
                weekly = self.weekly_tail(j + 1, n // 7)
                if weekly is not None and weekly[0].days:
                    return weekly
            return _Rule("DAILY", interval=n), j + 1
        return None

    # relative ------------------------------------------------------------------------------------

    def amount(self, i: int) -> tuple[Fraction, int] | None:
        token = self.tok(i)
        if token is None:
            return None
        if token.kind == "num" and len(token.text) <= 12:
            return Fraction(token.a), i + 1
        if token.kind in {"dec", "dot2"} and len(token.text) <= 12:
            return Fraction(token.text.replace(",", ".")), i + 1
        word = self.word(i)
        if word in {"anderthalb", "eineinhalb", "einundhalb"}:
            return Fraction(3, 2), i + 1
        if word == "half" and self.word(i + 1) in {"a", "an"}:
            return Fraction(1, 2), i + 2
        if word in _NUMBER_WORDS:
            if self.word(i + 1) in {"halbe", "halben", "halber"} and _NUMBER_WORDS[word] == 1:
                return Fraction(1, 2), i + 2
            if self.word(i + 1) in {"einhalb", "and-a-half"}:
                return _NUMBER_WORDS[word] + Fraction(1, 2), i + 2
            return Fraction(_NUMBER_WORDS[word]), i + 1
        if word in {"halbe", "halben"}:
            return Fraction(1, 2), i + 1
        return None

    def relative(self, i: int) -> tuple[_Relative, int] | None:
        if self.word(i) != "in":
            return None
        j = i + 1
        negative = False
        if self.word(j) == "-":
            negative = True
            j += 1
        parts: list[tuple[Fraction, str, str]] = []
        while True:
            amount = self.amount(j)
            if amount is None:
                break
            unit = self.word(amount[1])
            if unit not in _UNITS:
                break
            kind, size = _UNITS[unit]
            parts.append((amount[0] * size, kind, unit))
            j = amount[1] + 1
            if self.word(j) in _AND_WORDS and self.amount(j + 1) is not None:
                j += 1
        if not parts:
            return None
        return _Relative(tuple(parts), negative), j

    # one-off -------------------------------------------------------------------------------------

    def year(self, i: int) -> tuple[int, int] | None:
        token = self.tok(i)
        if (
            token is not None
            and len(token.text) == 4
            and (token.kind == "num" or (token.kind == "ord" and token.final))
        ):
            return token.a, i + 1
        return None

    def date(self, i: int, *, dot2: bool, lone_day: bool) -> tuple[_DateSpec, int] | None:
        token = self.tok(i)
        if token is None:
            return None
        if (holiday := self.holiday(i)) is not None:
            return holiday
        if token.kind == "iso":
            return _DateSpec(token.c or 0, token.b, token.a), i + 1
        if token.kind == "date":
            return _DateSpec(token.a, token.b, token.c), i + 1
        if token.kind == "dot2":
            if not dot2 or len(token.text.split(".")[1]) > 2 or not 1 <= token.b <= 12:
                return None
            if self.word(i + 1) in _TIME_MARKERS or self.word(i + 1) in {"am", "pm"}:
                return None
            return _DateSpec(token.a, token.b, None), i + 1
        # "3. Juli [2027]", "12 June [2027]", "12th of June"
        if token.kind in {"ord", "num"} and len(token.text) <= 2:
            j = i + 1
            if token.kind == "num" and self.word(j) in _ORDINAL_SUFFIXES:
                j += 1
            if self.word(j) == "of":
                j += 1
            month = self.word(j)
            if month in _MONTHS:
                year = self.year(j + 1)
                return _DateSpec(token.a, _MONTHS[month], year[0] if year else None), year[
                    1
                ] if year else j + 1
            if token.kind == "ord" and lone_day:
                return _DateSpec(token.a, None, None), i + 1
            return None
        # "June 12", "Jun 12, 2027", "June 12th"
        word = self.word(i)
        if word in _MONTHS:
            day = self.tok(i + 1)
            if day is None or day.kind not in {"num", "ord"} or len(day.text) > 2:
                return None
            j = i + 2
            if day.kind == "num" and self.word(j) in _ORDINAL_SUFFIXES:
                j += 1
            year = self.year(j)
            return _DateSpec(day.a, _MONTHS[word], year[0] if year else None), year[1] if year else j
        return None

    def holiday(self, i: int) -> tuple[_DateSpec, int] | None:
        """ "Silvester", "an Silvester 2027", "zu Neujahr": the holiday's date."""
        j = i + 1 if self.word(i) in _HOLIDAY_PREPOSITIONS else i
        word = self.word(j)
        if word not in _HOLIDAYS:
            return None
        day, month = _HOLIDAYS[word]
        year = self.year(j + 1)
        return _DateSpec(day, month, year[0] if year else None), year[1] if year else j + 1

    def dayword(self, i: int) -> tuple[int, str | None, int] | None:
        word = self.word(i)
        if word == "day" and self.word(i + 1) == "after" and self.word(i + 2) == "tomorrow":
            offset, daypart, j = 2, None, i + 3
        elif word == "day" and self.word(i + 1) == "before" and self.word(i + 2) == "yesterday":
            offset, daypart, j = -2, None, i + 3
        elif word in _DAYWORDS:
            offset, daypart, j = _DAYWORDS[word], ("pm" if word == "tonight" else None), i + 1
        else:
            return None
        following = self.word(j)
        if daypart is None and following == "morgen":
            return offset, "am", j + 1
        if daypart is None and following in _DAYPARTS:
            return offset, _DAYPARTS[following], j + 1
        return offset, daypart, j

    def weekday_one(self, i: int) -> tuple[int, bool, int] | None:
        word = self.word(i)
        next_week = word in _NEXT_WORDS
        j = i + 1 if next_week or word in _THIS_WORDS else i
        day = self.weekday(j, adverbs=False)
        if day is None:
            return None
        return day[0], next_week, day[1]

    def next_calendar_week(self, i: int) -> int | None:
        """ "nächste Woche", "(in der) nächsten Woche", "kommende Woche", "next week": the index after it."""
        j = i
        for _ in range(2):
            if self.word(j) in _NEXT_WEEK_LEAD:
                j += 1
        if self.word(j) in _NEXT_WORDS and self.word(j + 1) in _WEEK_NOUNS:
            return j + 2
        return None

    def meridiem(self, i: int) -> tuple[str | None, int]:
        word = self.word(i)
        if word == "pm":
            return "pm", i + 1
        if word == "am":
            token = self.toks[i]
            if token.glued or not self.starts_day(i + 1):
                return "am", i + 1
        return None, i

    def clock(self, i: int, *, loose: bool) -> tuple[_Clock, int] | None:
        """A time of day at ``i``; ``loose``: a bare number counts as the hour ("um 9", "morgen 9")."""
        token = self.tok(i)
        if token is None:
            return None
        if (spoken := self.spoken_clock(i)) is not None:
            return spoken
        hour: int
        minute = second = 0
        bare = False  # an hour without "Uhr" or minutes
        if token.kind == "clock":
            hour, minute, second = token.a, token.b, token.c or 0
            shown = token.text.rstrip(".")
            j = i + 1
            if self.word(j) in _TIME_MARKERS:
                j += 1
        elif token.kind == "num" and len(token.text) <= 2:
            hour, j = token.a, i + 1
            shown = f"{hour}:00"
            if self.word(j) in _TIME_MARKERS:
                j += 1
                minutes = self.tok(j)
                if minutes is not None and minutes.kind == "num" and len(minutes.text) == 2:
                    minute, j = minutes.a, j + 1
                    shown = f"{hour}:{minutes.text}"
            elif self.word(j) not in {"am", "pm"} and not loose:
                return None
            else:
                bare = True
        elif (
            token.kind == "dot2" and len(token.text.split(".")[1]) == 2 and len(token.text.split(".")[0]) <= 2
        ):
            hour, minute, j = token.a, token.b, i + 1
            shown = token.text.replace(".", ":")
            if self.word(j) in _TIME_MARKERS:
                j += 1
            elif self.word(j) not in {"am", "pm"} and not loose:
                return None
        elif token.kind == "ord" and token.final and loose and len(token.text) <= 2:
            hour, j = token.a, i + 1
            shown = f"{hour}:00"
            bare = True
        else:
            return None
        meridiem, j = self.meridiem(j)
        if meridiem is not None:
            shown = f"{shown.removesuffix(':00')} {meridiem}"
        twelve_hour = bare and meridiem is None and 1 <= hour <= 11
        return _Clock(hour, minute, second, meridiem, shown, twelve_hour), j

    def spoken_clock(self, i: int) -> tuple[_Clock, int] | None:
        """ "halb 10" (09:30), "viertel nach 3" (03:15), "viertel vor 4" / "dreiviertel 4" (03:45),
        "half past 9", "quarter to 4"; the hour in digits or as a word ("halb zehn")."""
        for words, minutes in _SPOKEN_CLOCK.items():
            if all(self.word(i + k) == word for k, word in enumerate(words)):
                named = self.named_hour(i + len(words))
                if named is None:
                    return None
                hour, minute = divmod(named[0] * 60 + minutes, 60)  # "halb 0": hour -1, a bad time
                j = named[1] + 1 if self.word(named[1]) in _TIME_MARKERS else named[1]
                shown = f"{' '.join(words)} {named[0]}"
                return _Clock(hour, minute, 0, None, shown, 0 <= hour <= 11, named[0]), j
        return None

    def named_hour(self, i: int) -> tuple[int, int] | None:
        """The hour after "halb"/"viertel nach": "10", "10." at the end, "zehn"."""
        token = self.tok(i)
        if token is None:
            return None
        if len(token.text) <= 2 and (token.kind == "num" or (token.kind == "ord" and token.final)):
            return token.a, i + 1
        word = self.word(i)
        if word in _HOUR_WORDS:
            return _HOUR_WORDS[word], i + 1
        return None

    def daypart(self, i: int) -> tuple[str, int] | None:
        word = self.word(i)
        if word in _DAYPARTS:
            return _DAYPARTS[word], i + 1
        if (
            word == "in"
            and self.word(i + 1) == "the"
            and self.word(i + 2) in {"morning", "afternoon", "evening"}
        ):
            return _DAYPARTS[self.word(i + 2) or ""], i + 3
        return None

    # the whole input -----------------------------------------------------------------------------

    def reading(self) -> _Reading | None:
        """All components of the input, or None when some word fits nowhere or comes twice."""
        result = _Reading()
        i = 0
        after_preposition = False
        previous = ""
        while i < self.n:
            word = self.word(i)
            if word in _TIME_PREPOSITIONS:
                after_preposition = True
                i += 1
                continue
            if word in _FILLERS:
                i += 1
                continue
            loose = after_preposition or (previous in {"day", "rule", "daypart"} and i == self.n - 1)
            after_preposition = False
            if loose or (self.toks[i].kind == "dot2" and result.has_day()):
                found = self.clock(i, loose=True)
                if found is not None:
                    if result.clock is not None:
                        return None
                    result.clock, i, previous = found[0], found[1], "clock"
                    continue
            step = self.component(result, i)
            if step is None:
                return None
            i, previous = step
        return result

    def component(self, result: _Reading, i: int) -> tuple[int, str] | None:
        """Read one component at ``i`` into ``result``: (next index, its kind), or None."""
        if result.rule is None and (rule := self.rule(i)) is not None:
            result.rule = rule[0]
            return rule[1], "rule"
        if result.relative is None and (relative := self.relative(i)) is not None:
            result.relative = relative[0]
            return relative[1], "relative"
        if result.date is None and result.rule is None:
            found_date = self.date(i, dot2=not result.has_day(), lone_day=True)
            if found_date is not None:
                result.date = found_date[0]
                return found_date[1], "day"
        if result.offset is None and (dayword := self.dayword(i)) is not None:
            if dayword[1] is not None:
                if result.daypart is not None:
                    return None
                result.daypart = dayword[1]
            result.offset = dayword[0]
            return dayword[2], "day"
        if result.weekday is None and (weekday := self.weekday_one(i)) is not None:
            result.weekday, result.next_week = weekday[0], weekday[1]
            return weekday[2], "day"
        if not result.next_calendar_week and (end := self.next_calendar_week(i)) is not None:
            result.next_calendar_week = True
            return end, "day"
        if result.clock is None and (clock := self.clock(i, loose=False)) is not None:
            result.clock = clock[0]
            return clock[1], "clock"
        if result.daypart is None and (daypart := self.daypart(i)) is not None:
            result.daypart = daypart[0]
            return daypart[1], "daypart"
        return None


# --------------------------------------------------------------------------------------------------
# Resolution


@dataclass(frozen=True)
class _Context:
    text: str  # the input as shown in messages
    lang: str
    tz: tzinfo
    now_utc: datetime
    now_local: datetime
    limit_utc: datetime
    end_of_day: bool = False  # a day without a time is 23:59 of it (deadlines)

    @property
    def today(self) -> date:
        return self.now_local.date()

    def error(self, reason: str, **params: Any) -> TimeParseError:
        return _error(self.lang, reason, text=self.text, **params)

    def check(self, at: datetime) -> datetime:
        """``at`` if it lies in the allowed future, else the fitting error."""
        if at.astimezone(UTC) <= self.now_utc:
            raise self.error("past", reading=format_datetime(at, self.lang))
        if at.astimezone(UTC) > self.limit_utc:
            raise self.error("too_far", years=MAX_YEARS_AHEAD)
        return at

    def after_now(self, at: datetime) -> bool:
        return at.astimezone(UTC) > self.now_utc


def _add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, _days_in_month(year, month + 1))
    return moment.replace(year=year, month=month + 1, day=day)


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - date(year, month, 1)).days


_AFTERNOON_HOURS = {"pm": range(1, 12), "night": range(6, 12), "noon": range(1, 6)}


def _hms(clock: _Clock, daypart: str | None, ctx: _Context) -> time:
    hour = clock.hour
    if clock.meridiem is not None:
        if not 1 <= hour <= 12:
            raise ctx.error("bad_time", time=clock.shown)
        hour = hour % 12 + (12 if clock.meridiem == "pm" else 0)
    elif _daypart_judges(clock) in _AFTERNOON_HOURS.get(daypart or "", range(0)):
        hour += 12
    if not (0 <= hour <= 23 and 0 <= clock.minute <= 59 and 0 <= clock.second <= 59):
        raise ctx.error("bad_time", time=clock.shown)
    return time(hour, clock.minute, clock.second)


def _daypart_judges(clock: _Clock) -> int:
    """The hour a day part looks at: the clock's, but "halb 1" / "viertel vor 1" (00:30, 00:45) go by
    the 1 they name, so "mittags um halb 1" is 12:30 as "mittags um 1" is 13:00."""
    if clock.hour == 0 and clock.named_hour is not None:
        return clock.named_hour
    return clock.hour


def _date_or_error(year: int, month: int, day: int, ctx: _Context, *, with_year: bool) -> date:
    if not 1 <= month <= 12:
        raise ctx.error("bad_month", month=month)
    try:
        return date(year, month, day)
    except ValueError:
        raise ctx.error(
            "bad_date", date=_date_words(day, month, year if with_year else None, ctx.lang)
        ) from None


def _date_words(day: int, month: int, year: int | None, lang: str) -> str:
    text = f"{day} {MONTH_EN[month - 1]}" if language(lang) == "en" else f"{day}. {MONTH_DE[month - 1]}"
    return text if year is None else f"{text} {year}"


def _resolve_day(reading: _Reading, clock: time, ctx: _Context) -> datetime:
    """The one-off moment for a day component plus a time."""
    today = ctx.today
    spec = reading.date
    day: date | None = None
    if spec is not None and spec.month is not None and spec.year is not None:
        day = _date_or_error(spec.year, spec.month, spec.day, ctx, with_year=True)
    elif spec is not None and spec.month is not None:
        month = spec.month
        if not 1 <= month <= 12:
            raise ctx.error("bad_month", month=month)
        _date_or_error(2000, month, spec.day, ctx, with_year=False)  # 2000 is a leap year
        for year in range(today.year, today.year + 9):
            try:
                candidate = date(year, month, spec.day)
            except ValueError:
                continue
            if candidate < today:
                continue
            if candidate == today and not ctx.after_now(localize(datetime.combine(candidate, clock), ctx.tz)):
                day = candidate  # today with a time already passed: an error below, not next year
                break
            day = candidate
            break
    elif spec is not None:
        if not 1 <= spec.day <= 31:
            raise ctx.error("bad_date", date=f"{spec.day}.")
        first = today.replace(day=1)
        for months in range(14):
            month_start = _add_months(datetime.combine(first, time()), months).date()
            if spec.day > _days_in_month(month_start.year, month_start.month):
                continue
            candidate = month_start.replace(day=spec.day)
            if candidate >= today:
                day = candidate
                break
    elif reading.offset is not None:
        day = today + timedelta(days=reading.offset)
    if day is None and reading.weekday is not None:
        day = _weekday_date(reading, reading.weekday, clock, ctx)
    if day is None:
        raise ctx.error("unknown")
    if reading.weekday is not None and day.weekday() != reading.weekday:
        en = language(ctx.lang) == "en"
        raise ctx.error(
            "weekday_mismatch",
            date=(f"{day.day} {MONTH_EN[day.month - 1][:3]} {day.year}" if en else f"{day:%d.%m.}{day.year}"),
            actual=(WEEKDAY_EN if en else WEEKDAY_DE)[day.weekday()],
            given=(WEEKDAY_EN if en else WEEKDAY_DE)[reading.weekday],
        )
    at = localize(datetime.combine(day, clock), ctx.tz)
    _refuse_ambiguous_hour(reading, at, ctx)
    return ctx.check(at)


def _weekday_date(reading: _Reading, weekday: int, clock: time, ctx: _Context) -> date | None:
    """The day a weekday names: "Montag" the next one whose time is ahead, "nächsten Montag" the
    next one after today, "nächste Woche Montag" the one in the calendar week after this one."""
    today = ctx.today
    if reading.next_calendar_week:
        return today + timedelta(days=7 - today.weekday() + weekday)  # weeks start on Monday
    start = 1 if reading.next_week else 0
    for ahead in range(start, start + 8):
        candidate = today + timedelta(days=ahead)
        if candidate.weekday() != weekday:
            continue
        if reading.next_week or ctx.after_now(localize(datetime.combine(candidate, clock), ctx.tz)):
            return candidate
    return None


def _refuse_ambiguous_hour(reading: _Reading, at: datetime, ctx: _Context) -> None:
    """ "heute um 3" at 10:00: 03:00 has passed but 15:00 is ahead, so ask back instead of calling
    it past; only for an hour written without "Uhr", minutes, "am"/"pm" or a day part."""
    clock = reading.clock
    if clock is None or not clock.twelve_hour or reading.daypart is not None or ctx.after_now(at):
        return
    if at.date() != ctx.today:
        return
    late = localize(at.replace(tzinfo=None, fold=0) + timedelta(hours=12), ctx.tz)
    if not ctx.after_now(late):
        return
    en = language(ctx.lang) == "en"
    raise ctx.error(
        "ambiguous_hour", early=f"{at:%H:%M}", late=f"{late:%H:%M}", example=_hour_example(late, en)
    )


def _hour_example(at: datetime, en: bool) -> str:
    """ "15 Uhr" / "3pm", "14:30 Uhr" / "2:30pm": an afternoon time that cannot be misread."""
    if en:
        hour = at.hour % 12 or 12
        return f"{hour}pm" if at.minute == 0 else f"{hour}:{at.minute:02d}pm"
    return f"{at.hour} Uhr" if at.minute == 0 else f"{at.hour}:{at.minute:02d} Uhr"


def _resolve_relative(relative: _Relative, clock: time | None, ctx: _Context) -> datetime:
    if relative.negative or any(amount <= 0 for amount, _, _ in relative.parts):
        raise ctx.error("not_positive")
    seconds = sum((amount for amount, kind, _ in relative.parts if kind == "s"), Fraction(0))
    months = sum((amount for amount, kind, _ in relative.parts if kind == "months"), Fraction(0))
    if seconds > (MAX_YEARS_AHEAD * 366 + 1) * 86400 or months > MAX_YEARS_AHEAD * 12:
        raise ctx.error("too_far", years=MAX_YEARS_AHEAD)
    if months.denominator != 1:
        raise ctx.error("unknown")
    if clock is not None:
        # "in 3 Tagen um 9": a number of days (or weeks), then the wall-clock time
        if any(unit not in _DAY_UNITS | _WEEK_UNITS for _, _, unit in relative.parts):
            raise ctx.error("unknown")
        days = seconds / 86400
        if days.denominator != 1:
            raise ctx.error("unknown")
        day = ctx.today + timedelta(days=int(days))
        return ctx.check(localize(datetime.combine(day, clock), ctx.tz))
    base = ctx.now_utc
    if months:
        base = localize(_add_months(ctx.now_local.replace(tzinfo=None), int(months)), ctx.tz).astimezone(UTC)
    micro = round(seconds * 1_000_000)
    return ctx.check((base + timedelta(microseconds=micro)).astimezone(ctx.tz))


def _resolve_rule(rule: _Rule, clock: time, ctx: _Context) -> tuple[datetime, str]:
    today = ctx.today
    if rule.freq == "WEEKLY" and not rule.days:
        # "wöchentlich 9 Uhr", "alle 2 Wochen 14 Uhr": the weekday of the next such time
        first = localize(datetime.combine(today, clock), ctx.tz)
        anchor = today if ctx.after_now(first) else today + timedelta(days=1)
        rule = replace(rule, days=(anchor.weekday(),))
    dtstart = datetime.combine(today, clock)
    single = replace(rule, interval=1).value()
    for candidate in naive_after(single, dtstart, dtstart):
        if not exists(candidate, ctx.tz):
            continue  # a series never starts in the spring-forward gap
        at = localize(candidate, ctx.tz)
        if ctx.after_now(at):
            return ctx.check(at), rule.value()
    raise ctx.error("unknown")


def _long_text(at: datetime, rrule: str | None, lang: str) -> str:
    if rrule is None:
        return format_datetime(at, lang)
    word = "from" if language(lang) == "en" else "ab"
    return f"{describe_rrule(rrule, at, lang)} ({word} {format_datetime(at, lang)})"


_END_OF_DAY = time(23, 59)


def _resolve(reading: _Reading, ctx: _Context) -> When:
    if reading.next_calendar_week and not _names_a_day_of_next_week(reading):
        raise ctx.error("unknown")  # "nächste Woche" alone names no day
    clock: time | None = None
    if reading.clock is not None:
        clock = _hms(reading.clock, reading.daypart, ctx)
    elif reading.daypart == "noon":
        clock = time(12)
    if reading.relative is not None:
        if reading.rule is not None or reading.has_day() or (reading.daypart and clock is None):
            raise ctx.error("unknown")
        at = _resolve_relative(reading.relative, clock, ctx)
        return When(at, None, _long_text(at, None, ctx.lang))
    if reading.rule is not None:
        if reading.has_day():
            raise ctx.error("unknown")
        if clock is None:
            raise ctx.error("no_time_rule")
        at, rrule = _resolve_rule(reading.rule, clock, ctx)
        return When(at, rrule, _long_text(at, rrule, ctx.lang))
    if clock is None:
        if reading.offset is not None and reading.offset < 0:
            raise ctx.error("past", reading=format_date(ctx.today + timedelta(days=reading.offset), ctx.lang))
        if ctx.end_of_day and reading.has_day() and reading.daypart is None:
            at = _resolve_day(reading, _END_OF_DAY, ctx)
            return When(
                at, None, f"{_long_text(at, None, ctx.lang)} {_catalog_text(ctx.lang, 'time.end_of_day')}"
            )
        if reading.has_day() or reading.daypart is not None:
            raise ctx.error("no_time")
        raise ctx.error("unknown")
    if not reading.has_day():
        at = localize(datetime.combine(ctx.today, clock), ctx.tz)
        if not ctx.after_now(at):
            at = localize(datetime.combine(ctx.today + timedelta(days=1), clock), ctx.tz)
        return When(ctx.check(at), None, _long_text(at, None, ctx.lang))
    at = _resolve_day(reading, clock, ctx)
    return When(at, None, _long_text(at, None, ctx.lang))


def _names_a_day_of_next_week(reading: _Reading) -> bool:
    """ "nächste Woche" goes with a weekday alone: not with a date, "morgen" or "nächsten Montag"."""
    return (
        reading.weekday is not None
        and not reading.next_week
        and reading.date is None
        and reading.offset is None
        and reading.rule is None
        and reading.relative is None
    )


def _parse(text: str, now: datetime, tz: ZoneInfo, lang: str, *, end_of_day: bool = False) -> When:
    """The parser without the safety net of ``parse_when``; raises TimeParseError for bad input."""
    shown = " ".join(text.split())
    if not shown:
        raise _error(lang, "empty")
    if len(shown) > MAX_LENGTH:
        raise _error(lang, "too_long", length=len(shown), limit=MAX_LENGTH)
    now_local = now.astimezone(tz)
    limit = localize(_add_months(now_local.replace(tzinfo=None, fold=0), MAX_YEARS_AHEAD * 12), tz)
    ctx = _Context(shown, lang, tz, now.astimezone(UTC), now_local, limit.astimezone(UTC), end_of_day)
    reading = _Parser(_tokenize(shown)).reading()
    if reading is None:
        raise ctx.error("unknown")
    return _resolve(reading, ctx)


def parse_when(text: str, *, now: datetime, tz: ZoneInfo, lang: str = "de", end_of_day: bool = False) -> When:
    """Read a time a member typed; see the module docstring for what is understood and how.

    Raises TimeParseError (message in ``lang``) for anything it cannot read, and for readings in
    the past, more than 10 years ahead, without a time of day, or with impossible dates and times.
    ``end_of_day`` (for deadlines): a day without a time ("20.01.2027", "morgen", "Freitag") is
    23:59 of that day instead of an error, and ``When.text`` says so ("… (Ende des Tages)").
    ``now`` must be aware (any zone; it is converted to ``tz``), else ValueError.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    lang = language(lang)
    try:
        return _parse(text if isinstance(text, str) else "", now, tz, lang, end_of_day=end_of_day)
    except TimeParseError:
        raise
    except Exception as error:  # a safety net: a member's text must never crash a command
        shown = " ".join(str(text).split())[:MAX_LENGTH]
        raise _error(lang, "unknown", text=shown) from error
