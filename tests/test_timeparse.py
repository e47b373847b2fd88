"""Reading times members type: parse_when, format_datetime, describe_rrule, next_occurrence, parse_duration.

Most cases use a fixed ``now``: Wednesday 2026-06-10 10:00 Europe/Berlin (CEST, +02:00). Expected
moments are ISO strings, so the UTC offset (and with it the DST side) is compared too.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.errors import UserError
from bot.timeparse import (
    TimeParseError,
    When,
    describe_rrule,
    format_datetime,
    next_occurrence,
    parse_duration,
    parse_when,
)

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
    micro: int = 0,
    *,
    fold: int = 0,
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=BERLIN, fold=fold)


WED = berlin(2026, 6, 10, 10, 0)  # Wednesday morning
LATE = berlin(2026, 6, 10, 23, 30)  # the same Wednesday, late evening
MON = berlin(2026, 6, 15, 8, 0)  # a Monday before 09:00
SPRING = berlin(2026, 3, 28, 10, 0)  # Saturday before 2026-03-29 02:00 -> 03:00
AUTUMN = berlin(2026, 10, 24, 10, 0)  # Saturday before 2026-10-25 03:00 -> 02:00
Y2025 = berlin(2025, 6, 1, 12, 0)  # a Sunday in 2025, for the examples with that year
UTC_LATE = datetime(2026, 6, 10, 22, 30, tzinfo=UTC)  # already Thursday 00:30 in Berlin
NEW_YORK = datetime(2026, 6, 10, 2, 0, tzinfo=ZoneInfo("America/New_York"))  # 08:00 in Berlin
SUN = berlin(2026, 6, 14, 10, 0)  # the Sunday before the next calendar week
EARLY = berlin(2026, 6, 10, 2, 0)  # the same Wednesday, before 03:00
AFTERNOON = berlin(2026, 6, 10, 16, 0)  # the same Wednesday, after 15:00
AFTER_XMAS = berlin(2026, 12, 27, 10, 0)  # Heiligabend has passed this year, Silvester has not
NYE = berlin(2026, 12, 31, 23, 59, 30)  # Silvester, after 23:59

WORKDAYS = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"

# (input, lang, now, expected at, expected rrule)
CASES: list[tuple[str, str, datetime, str, str | None]] = [
    # absolute dates
    ("12.06. 15 Uhr", "de", WED, "2026-06-12T15:00:00+02:00", None),
    ("12.06.2026 15:00", "de", WED, "2026-06-12T15:00:00+02:00", None),
    ("12.6.26 15:30", "de", WED, "2026-06-12T15:30:00+02:00", None),
    ("12.06 15 Uhr", "de", WED, "2026-06-12T15:00:00+02:00", None),
    ("am 3. Juli um 10 Uhr", "de", WED, "2026-07-03T10:00:00+02:00", None),
    ("3. Juli 2027 10:15", "de", WED, "2027-07-03T10:15:00+02:00", None),
    ("2026-06-12 15:00", "de", WED, "2026-06-12T15:00:00+02:00", None),
    ("2026-06-12T15:00", "de", WED, "2026-06-12T15:00:00+02:00", None),
    ("June 12 3pm", "en", WED, "2026-06-12T15:00:00+02:00", None),
    ("12 June 2027 15:00", "en", WED, "2027-06-12T15:00:00+02:00", None),
    ("Jun 12, 2027 at 3:30 pm", "en", WED, "2027-06-12T15:30:00+02:00", None),
    ("12th of june at 3pm", "en", WED, "2026-06-12T15:00:00+02:00", None),
    ("09.06. 10 Uhr", "de", WED, "2027-06-09T10:00:00+02:00", None),  # passed this year: next year
    ("29.02. 10 Uhr", "de", WED, "2028-02-29T10:00:00+01:00", None),  # the next leap year
    ("31.12. 23:59", "de", WED, "2026-12-31T23:59:00+01:00", None),
    ("1.1. 0:00", "de", WED, "2027-01-01T00:00:00+01:00", None),
    ("Freitag, 12.06. 15 Uhr", "de", WED, "2026-06-12T15:00:00+02:00", None),
    ("am 15. um 9 Uhr", "de", WED, "2026-06-15T09:00:00+02:00", None),
    ("  Am 3. JULI   um 10 Uhr!  ", "de", WED, "2026-07-03T10:00:00+02:00", None),
    ("12.06.2025 15:00", "de", Y2025, "2025-06-12T15:00:00+02:00", None),
    ("12.06. 15 Uhr", "de", Y2025, "2025-06-12T15:00:00+02:00", None),
    ("12.6.25 15:30", "de", Y2025, "2025-06-12T15:30:00+02:00", None),
    ("2025-06-12 15:00", "de", Y2025, "2025-06-12T15:00:00+02:00", None),
    ("2025-06-12T15:00", "en", Y2025, "2025-06-12T15:00:00+02:00", None),
    ("June 12 3pm", "en", Y2025, "2025-06-12T15:00:00+02:00", None),
    # relative: exact elapsed time
    ("in 30 Sekunden", "de", WED, "2026-06-10T10:00:30+02:00", None),
    ("in 10 Minuten", "de", WED, "2026-06-10T10:10:00+02:00", None),
    ("in einer Minute", "de", WED, "2026-06-10T10:01:00+02:00", None),
    ("in 2 Stunden", "de", WED, "2026-06-10T12:00:00+02:00", None),
    ("in einer Stunde", "de", WED, "2026-06-10T11:00:00+02:00", None),
    ("in 3 Tagen", "de", WED, "2026-06-13T10:00:00+02:00", None),
    ("in einem Tag", "de", WED, "2026-06-11T10:00:00+02:00", None),
    ("in einer Woche", "de", WED, "2026-06-17T10:00:00+02:00", None),
    ("in 2 Wochen", "de", WED, "2026-06-24T10:00:00+02:00", None),
    ("in 1,5 Stunden", "de", WED, "2026-06-10T11:30:00+02:00", None),
    ("in einer halben Stunde", "de", WED, "2026-06-10T10:30:00+02:00", None),
    ("in 2 Std. 30 Min.", "de", WED, "2026-06-10T12:30:00+02:00", None),
    ("in 2 hours", "en", WED, "2026-06-10T12:00:00+02:00", None),
    ("in 5 minutes", "en", WED, "2026-06-10T10:05:00+02:00", None),
    ("in a week", "en", WED, "2026-06-17T10:00:00+02:00", None),
    ("in 1 day", "en", WED, "2026-06-11T10:00:00+02:00", None),
    ("in half an hour", "en", WED, "2026-06-10T10:30:00+02:00", None),
    ("in 3 Tagen um 9", "de", WED, "2026-06-13T09:00:00+02:00", None),
    ("in 2 Monaten", "de", WED, "2026-08-10T10:00:00+02:00", None),
    # day words and weekdays
    ("heute 17 Uhr", "de", WED, "2026-06-10T17:00:00+02:00", None),
    ("heute um 17:30", "de", WED, "2026-06-10T17:30:00+02:00", None),
    ("morgen um 9", "de", WED, "2026-06-11T09:00:00+02:00", None),
    ("morgen 9 Uhr", "de", WED, "2026-06-11T09:00:00+02:00", None),
    ("morgen 9", "de", WED, "2026-06-11T09:00:00+02:00", None),
    ("übermorgen 14:30", "de", WED, "2026-06-12T14:30:00+02:00", None),
    ("uebermorgen 14:30", "de", WED, "2026-06-12T14:30:00+02:00", None),
    ("Freitag 10:00", "de", WED, "2026-06-12T10:00:00+02:00", None),
    ("Fr 10 Uhr", "de", WED, "2026-06-12T10:00:00+02:00", None),
    ("Do 14 Uhr", "de", WED, "2026-06-11T14:00:00+02:00", None),
    ("Do. 14 Uhr", "de", WED, "2026-06-11T14:00:00+02:00", None),
    ("nächsten Montag 10 Uhr", "de", WED, "2026-06-15T10:00:00+02:00", None),
    ("naechsten Montag 10 Uhr", "de", WED, "2026-06-15T10:00:00+02:00", None),
    ("kommenden Montag 10 Uhr", "de", WED, "2026-06-15T10:00:00+02:00", None),
    ("am Montag um 9", "de", WED, "2026-06-15T09:00:00+02:00", None),
    ("Mittwoch 11 Uhr", "de", WED, "2026-06-10T11:00:00+02:00", None),  # today, still ahead
    ("Mittwoch 9 Uhr", "de", WED, "2026-06-17T09:00:00+02:00", None),  # today, passed: next week
    ("nächsten Mittwoch 11 Uhr", "de", WED, "2026-06-17T11:00:00+02:00", None),  # strictly after today
    ("Montag 9 Uhr", "de", MON, "2026-06-15T09:00:00+02:00", None),
    ("nächsten Montag 9 Uhr", "de", MON, "2026-06-22T09:00:00+02:00", None),
    ("next monday 9am", "en", MON, "2026-06-22T09:00:00+02:00", None),
    ("tomorrow 9am", "en", WED, "2026-06-11T09:00:00+02:00", None),
    ("today 5pm", "en", WED, "2026-06-10T17:00:00+02:00", None),
    ("next tuesday 14:00", "en", WED, "2026-06-16T14:00:00+02:00", None),
    ("friday at 10", "en", WED, "2026-06-12T10:00:00+02:00", None),
    ("fri 10:00", "en", WED, "2026-06-12T10:00:00+02:00", None),
    ("heute abend um 8", "de", WED, "2026-06-10T20:00:00+02:00", None),
    ("morgen früh um 7", "de", WED, "2026-06-11T07:00:00+02:00", None),
    ("morgen 14.30", "de", WED, "2026-06-11T14:30:00+02:00", None),
    ("um 12 am Freitag", "de", WED, "2026-06-12T12:00:00+02:00", None),  # "am" as a preposition
    # the calendar week after this one (Monday-based), whatever today is
    ("nächste Woche Dienstag 11 Uhr", "de", WED, "2026-06-16T11:00:00+02:00", None),
    ("naechste Woche Dienstag 11 Uhr", "de", WED, "2026-06-16T11:00:00+02:00", None),
    ("NÄCHSTE WOCHE DIENSTAG 11 UHR", "de", WED, "2026-06-16T11:00:00+02:00", None),
    ("kommende Woche Dienstag 11 Uhr", "de", WED, "2026-06-16T11:00:00+02:00", None),
    ("Dienstag nächster Woche 11 Uhr", "de", WED, "2026-06-16T11:00:00+02:00", None),
    ("Dienstag naechster Woche 11 Uhr", "de", WED, "2026-06-16T11:00:00+02:00", None),
    ("Dienstag in der nächsten Woche um 11", "de", WED, "2026-06-16T11:00:00+02:00", None),
    ("nächste Woche Montag 9 Uhr", "de", MON, "2026-06-22T09:00:00+02:00", None),  # not today
    ("nächste Woche Montag 9 Uhr", "de", SUN, "2026-06-15T09:00:00+02:00", None),  # tomorrow
    ("nächste Woche Freitag 9 Uhr", "de", WED, "2026-06-19T09:00:00+02:00", None),  # not this Friday
    ("next week tuesday 11am", "en", WED, "2026-06-16T11:00:00+02:00", None),
    ("tuesday next week at 11", "en", WED, "2026-06-16T11:00:00+02:00", None),
    # holidays: read as their date without a year
    ("Silvester 23:59", "de", WED, "2026-12-31T23:59:00+01:00", None),
    ("an Silvester um 20 Uhr", "de", AFTER_XMAS, "2026-12-31T20:00:00+01:00", None),
    ("Heiligabend 18 Uhr", "de", WED, "2026-12-24T18:00:00+01:00", None),
    ("Heiligabend 18 Uhr", "de", AFTER_XMAS, "2027-12-24T18:00:00+01:00", None),  # passed: next year
    ("Neujahr 10 Uhr", "de", WED, "2027-01-01T10:00:00+01:00", None),
    ("zu Neujahr 2028 um 10", "de", WED, "2028-01-01T10:00:00+01:00", None),
    # spoken times: "halb 10" is 09:30; the 24-hour rule of bare numbers unless a day part moves them
    ("um halb 10", "de", WED, "2026-06-11T09:30:00+02:00", None),  # 09:30 has passed: tomorrow
    ("um halb 10", "de", MON, "2026-06-15T09:30:00+02:00", None),
    ("halb 10 Uhr", "de", MON, "2026-06-15T09:30:00+02:00", None),
    ("morgen um halb 9", "de", WED, "2026-06-11T08:30:00+02:00", None),
    ("morgen halb 3", "de", WED, "2026-06-11T02:30:00+02:00", None),
    ("heute nachmittag um halb 3", "de", WED, "2026-06-10T14:30:00+02:00", None),
    ("viertel nach 3", "de", WED, "2026-06-11T03:15:00+02:00", None),
    ("viertel vor 4", "de", WED, "2026-06-11T03:45:00+02:00", None),
    ("dreiviertel 4", "de", WED, "2026-06-11T03:45:00+02:00", None),
    ("morgen um viertel nach 3", "de", WED, "2026-06-11T03:15:00+02:00", None),
    ("morgen viertel vor 4", "de", WED, "2026-06-11T03:45:00+02:00", None),
    ("Freitag um halb zehn", "de", WED, "2026-06-12T09:30:00+02:00", None),
    ("übermorgen um viertel nach eins", "de", WED, "2026-06-12T01:15:00+02:00", None),
    ("mittags um halb 1", "de", WED, "2026-06-10T12:30:00+02:00", None),  # goes by the 1 it names
    ("halb 12 abends", "de", WED, "2026-06-10T23:30:00+02:00", None),  # goes by the clock's 11
    ("nachts um halb 1", "de", WED, "2026-06-11T00:30:00+02:00", None),
    ("half past 9", "en", MON, "2026-06-15T09:30:00+02:00", None),
    ("quarter to 4 tomorrow", "en", WED, "2026-06-11T03:45:00+02:00", None),
    ("tomorrow at a quarter past 3 in the afternoon", "en", WED, "2026-06-11T15:15:00+02:00", None),
    # bare times
    ("17 Uhr", "de", WED, "2026-06-10T17:00:00+02:00", None),
    ("um 9", "de", WED, "2026-06-11T09:00:00+02:00", None),
    ("um 9.", "de", WED, "2026-06-11T09:00:00+02:00", None),
    ("14:30", "de", WED, "2026-06-10T14:30:00+02:00", None),
    ("14.30 Uhr", "de", WED, "2026-06-10T14:30:00+02:00", None),
    ("9am", "en", WED, "2026-06-11T09:00:00+02:00", None),
    ("at 9", "en", WED, "2026-06-11T09:00:00+02:00", None),
    ("3pm", "en", WED, "2026-06-10T15:00:00+02:00", None),
    ("12am", "en", WED, "2026-06-11T00:00:00+02:00", None),
    ("12pm", "en", WED, "2026-06-10T12:00:00+02:00", None),
    ("17 Uhr", "de", LATE, "2026-06-11T17:00:00+02:00", None),
    ("um 23:45", "de", LATE, "2026-06-10T23:45:00+02:00", None),
    ("morgen um 9", "de", LATE, "2026-06-11T09:00:00+02:00", None),
    ("in 45 Minuten", "de", LATE, "2026-06-11T00:15:00+02:00", None),
    ("heute um 3", "de", EARLY, "2026-06-10T03:00:00+02:00", None),  # still ahead: no question
    # recurring
    ("jeden Montag 9 Uhr", "de", WED, "2026-06-15T09:00:00+02:00", "FREQ=WEEKLY;BYDAY=MO"),
    ("jeden Montag um 9", "de", WED, "2026-06-15T09:00:00+02:00", "FREQ=WEEKLY;BYDAY=MO"),
    ("montags 9 Uhr", "de", WED, "2026-06-15T09:00:00+02:00", "FREQ=WEEKLY;BYDAY=MO"),
    ("werktags 8:30", "de", WED, "2026-06-11T08:30:00+02:00", WORKDAYS),
    ("werktags 11:00", "de", WED, "2026-06-10T11:00:00+02:00", WORKDAYS),
    ("Mo-Fr 8 Uhr", "de", WED, "2026-06-11T08:00:00+02:00", WORKDAYS),
    ("täglich 7:00", "de", WED, "2026-06-11T07:00:00+02:00", "FREQ=DAILY"),
    ("jeden Tag 7 Uhr", "de", WED, "2026-06-11T07:00:00+02:00", "FREQ=DAILY"),
    ("alle 3 Tage 8 Uhr", "de", WED, "2026-06-11T08:00:00+02:00", "FREQ=DAILY;INTERVAL=3"),
    (
        "alle 2 Wochen Mittwoch 14 Uhr",
        "de",
        WED,
        "2026-06-10T14:00:00+02:00",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
    ),
    (
        "alle 2 Wochen Mittwoch 9 Uhr",
        "de",
        WED,
        "2026-06-17T09:00:00+02:00",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
    ),
    (
        "jeden zweiten Mittwoch 14 Uhr",
        "de",
        WED,
        "2026-06-10T14:00:00+02:00",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
    ),
    ("jeden ersten Montag im Monat 10 Uhr", "de", WED, "2026-07-06T10:00:00+02:00", "FREQ=MONTHLY;BYDAY=1MO"),
    (
        "jeden letzten Freitag im Monat 12 Uhr",
        "de",
        WED,
        "2026-06-26T12:00:00+02:00",
        "FREQ=MONTHLY;BYDAY=-1FR",
    ),
    # the second Wednesday of June is today, at exactly 10:00 = now: not strictly after, so July
    (
        "jeden zweiten Mittwoch im Monat 10 Uhr",
        "de",
        WED,
        "2026-07-08T10:00:00+02:00",
        "FREQ=MONTHLY;BYDAY=2WE",
    ),
    ("monatlich am 15. um 9 Uhr", "de", WED, "2026-06-15T09:00:00+02:00", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("jeden 15. im Monat 9 Uhr", "de", WED, "2026-06-15T09:00:00+02:00", "FREQ=MONTHLY;BYMONTHDAY=15"),
    ("jeden 31. im Monat 9 Uhr", "de", WED, "2026-07-31T09:00:00+02:00", "FREQ=MONTHLY;BYMONTHDAY=31"),
    (
        "jeden letzten Tag im Monat 18 Uhr",
        "de",
        WED,
        "2026-06-30T18:00:00+02:00",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
    ),
    ("jeden Montag und Donnerstag 9 Uhr", "de", WED, "2026-06-11T09:00:00+02:00", "FREQ=WEEKLY;BYDAY=MO,TH"),
    ("jeden Montag um halb 8", "de", WED, "2026-06-15T07:30:00+02:00", "FREQ=WEEKLY;BYDAY=MO"),
    ("täglich viertel nach 7", "de", WED, "2026-06-11T07:15:00+02:00", "FREQ=DAILY"),
    ("wöchentlich 9 Uhr", "de", WED, "2026-06-11T09:00:00+02:00", "FREQ=WEEKLY;BYDAY=TH"),
    ("every monday at 9", "en", WED, "2026-06-15T09:00:00+02:00", "FREQ=WEEKLY;BYDAY=MO"),
    ("every day 7am", "en", WED, "2026-06-11T07:00:00+02:00", "FREQ=DAILY"),
    ("daily 7:00", "en", WED, "2026-06-11T07:00:00+02:00", "FREQ=DAILY"),
    ("weekdays 8:30", "en", WED, "2026-06-11T08:30:00+02:00", WORKDAYS),
    ("every other wednesday 2pm", "en", WED, "2026-06-10T14:00:00+02:00", "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"),
    (
        "every 2 weeks on wednesday at 14:00",
        "en",
        WED,
        "2026-06-10T14:00:00+02:00",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
    ),
    ("first monday of every month 10am", "en", WED, "2026-07-06T10:00:00+02:00", "FREQ=MONTHLY;BYDAY=1MO"),
    ("monthly on the 15th at 9am", "en", WED, "2026-06-15T09:00:00+02:00", "FREQ=MONTHLY;BYMONTHDAY=15"),
    # DST: wall-clock times stay wall-clock, relative amounts are elapsed time
    ("morgen um 9", "de", SPRING, "2026-03-29T09:00:00+02:00", None),
    ("morgen um 2:30", "de", SPRING, "2026-03-29T03:30:00+02:00", None),  # gap: moved forward
    ("in 2 Stunden", "de", SPRING, "2026-03-28T12:00:00+01:00", None),
    ("in 24 Stunden", "de", SPRING, "2026-03-29T11:00:00+02:00", None),
    ("täglich 2:30", "de", SPRING, "2026-03-30T02:30:00+02:00", "FREQ=DAILY"),  # no start in the gap
    ("jeden Montag 9 Uhr", "de", SPRING, "2026-03-30T09:00:00+02:00", "FREQ=WEEKLY;BYDAY=MO"),
    ("morgen um 9", "de", AUTUMN, "2026-10-25T09:00:00+01:00", None),
    ("morgen um 2:30", "de", AUTUMN, "2026-10-25T02:30:00+02:00", None),  # ambiguous: the first one
    ("in 24 Stunden", "de", AUTUMN, "2026-10-25T09:00:00+01:00", None),
    ("täglich 2:30", "de", AUTUMN, "2026-10-25T02:30:00+02:00", "FREQ=DAILY"),
    # now in another zone is converted first
    ("morgen um 9", "de", UTC_LATE, "2026-06-12T09:00:00+02:00", None),
    ("heute 17 Uhr", "de", NEW_YORK, "2026-06-10T17:00:00+02:00", None),
]


@pytest.mark.parametrize(
    ("text", "lang", "now", "at", "rrule"), CASES, ids=[f"{c[0]}|{c[2]:%m-%d %H:%M}" for c in CASES]
)
def test_parse_when(text: str, lang: str, now: datetime, at: str, rrule: str | None) -> None:
    when = parse_when(text, now=now, tz=BERLIN, lang=lang)
    assert (when.at.isoformat(), when.rrule) == (at, rrule)
    assert when.at.tzinfo is BERLIN
    assert when.at.astimezone(UTC) > now.astimezone(UTC)


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 80


def test_german_and_english_inputs_are_read_whatever_the_language() -> None:
    for lang in ("de", "en"):
        assert parse_when("tomorrow 9am", now=WED, tz=BERLIN, lang=lang).at == berlin(2026, 6, 11, 9)
        assert parse_when("morgen um 9", now=WED, tz=BERLIN, lang=lang).at == berlin(2026, 6, 11, 9)


def test_relative_times_keep_the_seconds_of_now() -> None:
    now = berlin(2026, 6, 10, 10, 0, 17, 500)
    assert parse_when("in 10 Minuten", now=now, tz=BERLIN).at == berlin(2026, 6, 10, 10, 10, 17, 500)


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_when("morgen um 9", now=datetime(2026, 6, 10, 10), tz=BERLIN)


# --------------------------------------------------------------------------------------------------
# errors: (input, now, reason, German phrase, English phrase)

ERRORS: list[tuple[str, datetime, str, str, str]] = [
    (
        "heute 9 Uhr",
        WED,
        "past",
        "liegt in der Vergangenheit (Mi., 10.06.2026, 09:00 Uhr)",
        "is in the past (Wed, 10 Jun 2026, 09:00)",
    ),
    ("heute 10 Uhr", WED, "past", "liegt in der Vergangenheit", "is in the past"),  # == now: not after it
    ("heute 23 Uhr", LATE, "past", "liegt in der Vergangenheit", "is in the past"),
    ("today 9am", WED, "past", "liegt in der Vergangenheit", "is in the past"),
    (
        "12.06.2025 15:00",
        WED,
        "past",
        "liegt in der Vergangenheit (Do., 12.06.2025, 15:00 Uhr)",
        "is in the past",
    ),
    ("10.06. 9 Uhr", WED, "past", "liegt in der Vergangenheit", "is in the past"),  # today's date, passed
    ("heute 17 Uhr", AFTERNOON.replace(hour=18), "past", "liegt in der Vergangenheit", "is in the past"),
    (
        "gestern um 9",
        WED,
        "past",
        "liegt in der Vergangenheit (Di., 09.06.2026, 09:00 Uhr)",
        "is in the past (Tue, 9 Jun 2026, 09:00)",
    ),
    (
        "vorgestern 14 Uhr",
        WED,
        "past",
        "liegt in der Vergangenheit (Mo., 08.06.2026, 14:00 Uhr)",
        "is in the past",
    ),
    # a past day without a time: the day alone
    (
        "gestern",
        WED,
        "past",
        "liegt in der Vergangenheit (Di., 09.06.2026)",
        "is in the past (Tue, 9 Jun 2026)",
    ),
    ("vorgestern abend", WED, "past", "liegt in der Vergangenheit (Mo., 08.06.2026)", "is in the past"),
    ("yesterday 9am", WED, "past", "liegt in der Vergangenheit", "is in the past (Tue, 9 Jun 2026, 09:00)"),
    ("Silvester 23:59", NYE, "past", "liegt in der Vergangenheit", "is in the past"),  # as "31.12. 23:59"
    # 03:00 has passed, 15:00 is ahead: ask instead of calling it past
    (
        "heute um 3",
        WED,
        "ambiguous_hour",
        "03:00 oder 15:00? Bitte schreiben Sie z. B. „heute 15 Uhr“.",
        "03:00 or 15:00? Please write e.g. “today 3pm”.",
    ),
    ("heute 3", WED, "ambiguous_hour", "03:00 oder 15:00?", "03:00 or 15:00?"),
    ("today at 3", WED, "ambiguous_hour", "„heute 15 Uhr“", "“today 3pm”"),
    ("10.06. um 3", WED, "ambiguous_hour", "03:00 oder 15:00?", "03:00 or 15:00?"),  # today's date
    (
        "heute um halb 3",
        WED,
        "ambiguous_hour",
        "02:30 oder 14:30? Bitte schreiben Sie z. B. „heute 14:30 Uhr“.",
        "02:30 or 14:30? Please write e.g. “today 2:30pm”.",
    ),
    (
        "heute um 3",
        AFTERNOON,
        "past",
        "liegt in der Vergangenheit (Mi., 10.06.2026, 03:00 Uhr)",
        "is in the past",
    ),
    ("heute 3 Uhr", WED, "past", "liegt in der Vergangenheit", "is in the past"),  # "Uhr": meant as said
    ("heute um 3:00", WED, "past", "liegt in der Vergangenheit", "is in the past"),
    ("heute morgen um 3", WED, "past", "liegt in der Vergangenheit", "is in the past"),  # a day part
    (
        "morgen",
        WED,
        "no_time",
        "Bitte nennen Sie auch die Uhrzeit, z. B. „12.06. 15 Uhr“",
        "Please add the time",
    ),
    ("12.06.", WED, "no_time", "fehlt die Uhrzeit", "has no time of day"),
    ("3. Juli", WED, "no_time", "fehlt die Uhrzeit", "has no time of day"),
    ("Freitag", WED, "no_time", "fehlt die Uhrzeit", "has no time of day"),
    ("morgen abend", WED, "no_time", "fehlt die Uhrzeit", "has no time of day"),
    ("jeden Montag", WED, "no_time_rule", "Bitte nennen Sie auch die Uhrzeit", "Please add the time"),
    ("every day", WED, "no_time_rule", "fehlt die Uhrzeit", "has no time of day"),
    ("bla", WED, "unknown", "habe ich nicht verstanden", "I did not understand"),
    ("nächste Woche 11 Uhr", WED, "unknown", "habe ich nicht verstanden", "I did not understand"),
    ("morgen nächste Woche 9 Uhr", WED, "unknown", "habe ich nicht verstanden", "I did not understand"),
    ("viertel 4", WED, "unknown", "habe ich nicht verstanden", "I did not understand"),
    ("12/06 15 Uhr", WED, "unknown", "habe ich nicht verstanden", "I did not understand"),
    ("monatlich 9 Uhr", WED, "unknown", "habe ich nicht verstanden", "I did not understand"),
    ("in 2 Stunden um 9", WED, "unknown", "habe ich nicht verstanden", "I did not understand"),
    ("morgen heute 9 Uhr", WED, "unknown", "habe ich nicht verstanden", "I did not understand"),
    ("31.02. 10 Uhr", WED, "bad_date", "Den 31. Februar gibt es nicht", "There is no 31 February"),
    (
        "29.02.2027 10 Uhr",
        WED,
        "bad_date",
        "Den 29. Februar 2027 gibt es nicht",
        "There is no 29 February 2027",
    ),
    ("31. April 10 Uhr", WED, "bad_date", "Den 31. April gibt es nicht", "There is no 31 April"),
    ("13.13. 10 Uhr", WED, "bad_month", "Einen 13. Monat gibt es nicht", "There is no month 13"),
    ("25:00", WED, "bad_time", "Die Uhrzeit „25:00“ gibt es nicht", "There is no time “25:00”"),
    ("morgen 25 Uhr", WED, "bad_time", "Die Uhrzeit „25:00“ gibt es nicht", "There is no time “25:00”"),
    ("14:61", WED, "bad_time", "gibt es nicht", "There is no time"),
    ("13pm", WED, "bad_time", "Die Uhrzeit „13 pm“ gibt es nicht", "There is no time “13 pm”"),
    ("halb 0", WED, "bad_time", "Die Uhrzeit „halb 0“ gibt es nicht", "There is no time “halb 0”"),
    ("viertel nach 24", WED, "bad_time", "„viertel nach 24“ gibt es nicht", "There is no time"),
    ("in 0 Minuten", WED, "not_positive", "muss größer als null sein", "must be greater than zero"),
    ("in -5 Minuten", WED, "not_positive", "muss größer als null sein", "must be greater than zero"),
    ("in 11 Jahren", WED, "too_far", "mehr als 10 Jahre in der Zukunft", "more than 10 years ahead"),
    ("in 99999999999 Tagen", WED, "too_far", "mehr als 10 Jahre", "more than 10 years"),
    ("1.1.2040 10 Uhr", WED, "too_far", "mehr als 10 Jahre", "more than 10 years"),
    (
        "Donnerstag, 12.06. 15 Uhr",
        WED,
        "weekday_mismatch",
        "ist ein Freitag, kein Donnerstag",
        "is a Friday, not a Thursday",
    ),
    ("", WED, "empty", "Bitte geben Sie eine Zeitangabe an", "Please give a time"),
    ("   \n\t ", WED, "empty", "Bitte geben Sie eine Zeitangabe an", "Please give a time"),
    ("morgen um 9 " * 30, WED, "too_long", "zu lang", "too long"),
    ("x" * 100_000, WED, "too_long", "zu lang", "too long"),
]


@pytest.mark.parametrize(
    ("text", "now", "reason", "german", "english"), ERRORS, ids=[e[0][:30] for e in ERRORS]
)
def test_errors_explain_in_both_languages(
    text: str, now: datetime, reason: str, german: str, english: str
) -> None:
    for lang, phrase in (("de", german), ("en", english)):
        with pytest.raises(TimeParseError) as caught:
            parse_when(text, now=now, tz=BERLIN, lang=lang)
        error = caught.value
        assert error.reason == reason
        assert phrase in error.message
        assert isinstance(error, UserError)
        assert error.key == "plain"
        assert error.params == {"text": error.message}
        assert str(error) == error.message
        assert error.__cause__ is None  # a real answer, not the safety net


def test_not_understood_message_is_the_agreed_one() -> None:
    with pytest.raises(TimeParseError) as german:
        parse_when("bla", now=WED, tz=BERLIN)
    assert german.value.message == (
        "Die Zeitangabe „bla“ habe ich nicht verstanden. "
        "Beispiele: „morgen um 9“, „Freitag 14:30“, „in 2 Stunden“, „jeden Montag 10 Uhr“."
    )
    with pytest.raises(TimeParseError) as english:
        parse_when("bla", now=WED, tz=BERLIN, lang="en")
    assert english.value.message == (
        "I did not understand the time “bla”. "
        "Examples: “tomorrow 9am”, “friday 14:30”, “in 2 hours”, “every monday at 10”."
    )


def test_an_unknown_language_falls_back_to_german() -> None:
    with pytest.raises(TimeParseError, match="nicht verstanden"):
        parse_when("bla", now=WED, tz=BERLIN, lang="fr")


# --------------------------------------------------------------------------------------------------
# long forms

TEXTS: list[tuple[str, datetime, str, str]] = [
    ("morgen um 9", WED, "Do., 11.06.2026, 09:00 Uhr", "Thu, 11 Jun 2026, 09:00"),
    ("in 30 Sekunden", WED, "Mi., 10.06.2026, 10:00:30 Uhr", "Wed, 10 Jun 2026, 10:00:30"),
    ("1.1. 0:00", WED, "Fr., 01.01.2027, 00:00 Uhr", "Fri, 1 Jan 2027, 00:00"),
    (
        "jeden Montag 9 Uhr",
        WED,
        "jeden Montag, 09:00 Uhr (ab Mo., 15.06.2026, 09:00 Uhr)",
        "every Monday, 09:00 (from Mon, 15 Jun 2026, 09:00)",
    ),
    (
        "werktags 8:30",
        WED,
        "werktags, 08:30 Uhr (ab Do., 11.06.2026, 08:30 Uhr)",
        "weekdays, 08:30 (from Thu, 11 Jun 2026, 08:30)",
    ),
    (
        "alle 2 Wochen Mittwoch 14 Uhr",
        WED,
        "alle 2 Wochen mittwochs, 14:00 Uhr (ab Mi., 10.06.2026, 14:00 Uhr)",
        "every 2 weeks on Wednesday, 14:00 (from Wed, 10 Jun 2026, 14:00)",
    ),
    (
        "jeden ersten Montag im Monat 10 Uhr",
        WED,
        "jeden ersten Montag im Monat, 10:00 Uhr (ab Mo., 06.07.2026, 10:00 Uhr)",
        "first Monday of every month, 10:00 (from Mon, 6 Jul 2026, 10:00)",
    ),
    (
        "monatlich am 15. um 9 Uhr",
        WED,
        "monatlich am 15., 09:00 Uhr (ab Mo., 15.06.2026, 09:00 Uhr)",
        "monthly on the 15th, 09:00 (from Mon, 15 Jun 2026, 09:00)",
    ),
    (
        "täglich 7:00",
        WED,
        "täglich, 07:00 Uhr (ab Do., 11.06.2026, 07:00 Uhr)",
        "daily, 07:00 (from Thu, 11 Jun 2026, 07:00)",
    ),
]


@pytest.mark.parametrize(("text", "now", "german", "english"), TEXTS, ids=[t[0] for t in TEXTS])
def test_when_text(text: str, now: datetime, german: str, english: str) -> None:
    assert parse_when(text, now=now, tz=BERLIN, lang="de").text == german
    assert parse_when(text, now=now, tz=BERLIN, lang="en").text == english


# deadlines: a day without a time is 23:59 of it -- (input, now, expected at, German, English)

END_OF_DAY: list[tuple[str, datetime, str, str, str]] = [
    (
        "20.01.2027",
        WED,
        "2027-01-20T23:59:00+01:00",
        "Mi., 20.01.2027, 23:59 Uhr (Ende des Tages)",
        "Wed, 20 Jan 2027, 23:59 (end of day)",
    ),
    (
        "morgen",
        WED,
        "2026-06-11T23:59:00+02:00",
        "Do., 11.06.2026, 23:59 Uhr (Ende des Tages)",
        "Thu, 11 Jun 2026, 23:59 (end of day)",
    ),
    (
        "Freitag",
        WED,
        "2026-06-12T23:59:00+02:00",
        "Fr., 12.06.2026, 23:59 Uhr (Ende des Tages)",
        "Fri, 12 Jun 2026, 23:59 (end of day)",
    ),
    (
        "heute",
        WED,
        "2026-06-10T23:59:00+02:00",
        "Mi., 10.06.2026, 23:59 Uhr (Ende des Tages)",
        "Wed, 10 Jun 2026, 23:59 (end of day)",
    ),
    (
        "nächste Woche Dienstag",
        WED,
        "2026-06-16T23:59:00+02:00",
        "Di., 16.06.2026, 23:59 Uhr (Ende des Tages)",
        "Tue, 16 Jun 2026, 23:59 (end of day)",
    ),
    (
        "Silvester",
        WED,
        "2026-12-31T23:59:00+01:00",
        "Do., 31.12.2026, 23:59 Uhr (Ende des Tages)",
        "Thu, 31 Dec 2026, 23:59 (end of day)",
    ),
    # with a time the time counts, and the text does not mention the end of the day
    (
        "morgen 9 Uhr",
        WED,
        "2026-06-11T09:00:00+02:00",
        "Do., 11.06.2026, 09:00 Uhr",
        "Thu, 11 Jun 2026, 09:00",
    ),
]


@pytest.mark.parametrize(
    ("text", "now", "at", "german", "english"), END_OF_DAY, ids=[e[0] for e in END_OF_DAY]
)
def test_end_of_day_reads_a_day_without_a_time_as_2359(
    text: str, now: datetime, at: str, german: str, english: str
) -> None:
    for lang, long_form in (("de", german), ("en", english)):
        when = parse_when(text, now=now, tz=BERLIN, lang=lang, end_of_day=True)
        assert (when.at.isoformat(), when.rrule, when.text) == (at, None, long_form)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("morgen abend", "no_time"), ("jeden Montag", "no_time_rule"), ("gestern", "past"), ("bla", "unknown")],
)
def test_end_of_day_still_refuses_what_is_no_single_day(text: str, reason: str) -> None:
    with pytest.raises(TimeParseError) as caught:
        parse_when(text, now=WED, tz=BERLIN, end_of_day=True)
    assert caught.value.reason == reason


def test_when_is_immutable() -> None:
    when = parse_when("morgen um 9", now=WED, tz=BERLIN)
    assert isinstance(when, When)
    with pytest.raises(AttributeError):
        when.rrule = "FREQ=DAILY"  # type: ignore[misc]


def test_format_datetime() -> None:
    moment = berlin(2025, 6, 5, 9, 0)
    assert format_datetime(moment, "de") == "Do., 05.06.2025, 09:00 Uhr"
    assert format_datetime(moment, "en") == "Thu, 5 Jun 2025, 09:00"
    assert format_datetime(moment.replace(second=30, microsecond=9), "de") == "Do., 05.06.2025, 09:00:30 Uhr"
    # converts nothing: a UTC moment is printed in UTC
    assert format_datetime(datetime(2025, 6, 5, 7, 0, tzinfo=UTC), "de") == "Do., 05.06.2025, 07:00 Uhr"
    week = [format_datetime(berlin(2026, 6, 15 + day, 12), "de")[:3] for day in range(7)]
    assert week == ["Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So."]
    assert format_datetime(berlin(2026, 12, 24, 18, 5), "en") == "Thu, 24 Dec 2026, 18:05"


DESCRIPTIONS: list[tuple[str, datetime, str, str]] = [
    ("FREQ=WEEKLY;BYDAY=MO", berlin(2026, 6, 15, 9), "jeden Montag, 09:00 Uhr", "every Monday, 09:00"),
    (WORKDAYS, berlin(2026, 6, 11, 8, 30), "werktags, 08:30 Uhr", "weekdays, 08:30"),
    (
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
        berlin(2026, 6, 10, 14),
        "alle 2 Wochen mittwochs, 14:00 Uhr",
        "every 2 weeks on Wednesday, 14:00",
    ),
    (
        "FREQ=MONTHLY;BYDAY=1MO",
        berlin(2026, 7, 6, 10),
        "jeden ersten Montag im Monat, 10:00 Uhr",
        "first Monday of every month, 10:00",
    ),
    (
        "FREQ=MONTHLY;BYDAY=-1FR",
        berlin(2026, 6, 26, 12),
        "jeden letzten Freitag im Monat, 12:00 Uhr",
        "last Friday of every month, 12:00",
    ),
    (
        "FREQ=MONTHLY;BYMONTHDAY=15",
        berlin(2026, 6, 15, 9),
        "monatlich am 15., 09:00 Uhr",
        "monthly on the 15th, 09:00",
    ),
    (
        "FREQ=MONTHLY;BYMONTHDAY=1",
        berlin(2026, 7, 1, 9),
        "monatlich am 1., 09:00 Uhr",
        "monthly on the 1st, 09:00",
    ),
    ("FREQ=DAILY", berlin(2026, 6, 11, 7), "täglich, 07:00 Uhr", "daily, 07:00"),
    ("FREQ=DAILY;INTERVAL=3", berlin(2026, 6, 11, 7), "alle 3 Tage, 07:00 Uhr", "every 3 days, 07:00"),
    (
        "FREQ=WEEKLY;BYDAY=MO,WE,FR",
        berlin(2026, 6, 12, 9),
        "jeden Montag, Mittwoch und Freitag, 09:00 Uhr",
        "every Monday, Wednesday and Friday, 09:00",
    ),
    ("FREQ=WEEKLY", berlin(2026, 6, 12, 9), "jeden Freitag, 09:00 Uhr", "every Friday, 09:00"),
    (
        "FREQ=YEARLY",
        berlin(2026, 6, 12, 9),
        "wiederkehrend (FREQ=YEARLY), 09:00 Uhr",
        "recurring (FREQ=YEARLY), 09:00",
    ),
]


@pytest.mark.parametrize(("rrule", "at", "german", "english"), DESCRIPTIONS, ids=[d[0] for d in DESCRIPTIONS])
def test_describe_rrule(rrule: str, at: datetime, german: str, english: str) -> None:
    assert describe_rrule(rrule, at, "de") == german
    assert describe_rrule(rrule, at, "en") == english


def test_describe_rrule_refuses_what_is_no_rule() -> None:
    with pytest.raises(ValueError, match="RRULE"):
        describe_rrule("jeden Montag", berlin(2026, 6, 15, 9), "de")


# --------------------------------------------------------------------------------------------------
# series across DST


def chain(rrule: str, first: datetime, count: int) -> list[str]:
    moments, current = [], first
    for _ in range(count):
        following = next_occurrence(rrule, first, current)
        assert following is not None
        moments.append(following.isoformat())
        current = following
    return moments


def test_weekly_stays_at_nine_across_both_changes() -> None:
    assert chain("FREQ=WEEKLY;BYDAY=MO", berlin(2026, 3, 23, 9), 2) == [
        "2026-03-30T09:00:00+02:00",
        "2026-04-06T09:00:00+02:00",
    ]
    assert chain("FREQ=WEEKLY;BYDAY=MO", berlin(2026, 10, 19, 9), 2) == [
        "2026-10-26T09:00:00+01:00",
        "2026-11-02T09:00:00+01:00",
    ]
    # one series across a whole year: always 09:00 local
    first = berlin(2026, 1, 5, 9)
    moments = [datetime.fromisoformat(m) for m in chain("FREQ=WEEKLY;BYDAY=MO", first, 52)]
    assert {(m.hour, m.minute, m.weekday()) for m in moments} == {(9, 0, 0)}
    assert {m.utcoffset() for m in moments} == {timedelta(hours=1), timedelta(hours=2)}


def test_daily_0230_in_the_spring_gap_moves_forward_by_the_gap() -> None:
    assert chain("FREQ=DAILY", berlin(2026, 3, 27, 2, 30), 3) == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:30:00+02:00",  # 02:30 does not exist that night
        "2026-03-30T02:30:00+02:00",
    ]


def test_daily_0230_in_the_repeated_autumn_hour_takes_the_first() -> None:
    first = berlin(2026, 10, 24, 2, 30)
    assert chain("FREQ=DAILY", first, 2) == ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
    during_second_pass = berlin(2026, 10, 25, 2, 45, fold=1)
    assert next_occurrence("FREQ=DAILY", first, during_second_pass) == berlin(2026, 10, 26, 2, 30)


def test_next_occurrence_details() -> None:
    first = berlin(2026, 6, 15, 9)
    assert next_occurrence("FREQ=WEEKLY;BYDAY=MO", first, berlin(2026, 1, 1)) == first
    assert next_occurrence("FREQ=WEEKLY;BYDAY=MO", first, first) == berlin(2026, 6, 22, 9)  # strictly after
    assert next_occurrence(
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE", berlin(2026, 6, 10, 14), berlin(2026, 6, 11)
    ) == (berlin(2026, 6, 24, 14))
    assert chain("FREQ=MONTHLY;BYDAY=-1FR", berlin(2026, 6, 26, 12), 2) == [
        "2026-07-31T12:00:00+02:00",
        "2026-08-28T12:00:00+02:00",
    ]
    assert next_occurrence("FREQ=DAILY;COUNT=2", first, berlin(2026, 6, 16, 10)) is None
    # `after` in another zone
    assert next_occurrence("FREQ=DAILY", first, datetime(2026, 6, 20, 7, 30, tzinfo=UTC)) == berlin(
        2026, 6, 21, 9
    )
    with pytest.raises(ValueError, match="aware"):
        next_occurrence("FREQ=DAILY", datetime(2026, 6, 15, 9), first)


def test_parsed_series_continue_with_next_occurrence() -> None:
    when = parse_when("jeden letzten Freitag im Monat 12 Uhr", now=WED, tz=BERLIN)
    assert when.rrule is not None
    assert next_occurrence(when.rrule, when.at, when.at) == berlin(2026, 7, 31, 12)
    spring = parse_when("täglich 2:30", now=berlin(2026, 3, 26, 10), tz=BERLIN)
    assert spring.rrule is not None
    assert chain(spring.rrule, spring.at, 3) == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:30:00+02:00",
        "2026-03-30T02:30:00+02:00",
    ]


# --------------------------------------------------------------------------------------------------
# durations for the configuration

DURATIONS: list[tuple[str, timedelta]] = [
    ("7d", timedelta(days=7)),
    ("1d", timedelta(days=1)),
    ("1h", timedelta(hours=1)),
    ("24h", timedelta(hours=24)),
    ("30min", timedelta(minutes=30)),
    ("90s", timedelta(seconds=90)),
    ("2w", timedelta(weeks=2)),
    ("1d12h", timedelta(days=1, hours=12)),
    (" 1D 12H ", timedelta(days=1, hours=12)),
    ("1h30min", timedelta(minutes=90)),
    ("0min", timedelta(0)),
]


@pytest.mark.parametrize(("text", "expected"), DURATIONS)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["", "  ", "7", "d", "7x", "7 days", "1d1d", "-1d", "1.5h", "30m", "9999999d", "1000w", "1d 12"]
)
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match=r"e\.g\. 7d"):
        parse_duration(text)


# --------------------------------------------------------------------------------------------------
# robustness

VOCABULARY = [
    "am", "um", "at", "on", "the", "Uhr", "h", "in", "jeden", "every", "alle", "other", "Montag", "Mo",
    "montags", "Freitag", "Fr", "Do.", "wed", "friday", "heute", "morgen", "übermorgen", "tomorrow",
    "today", "tonight", "nächsten", "next", "this", "täglich", "daily", "werktags", "weekdays",
    "monatlich", "monthly", "wöchentlich", "im", "Monat", "month", "of", "letzten", "last", "ersten",
    "first", "zweiten", "Tag", "day", "Woche", "Wochen", "weeks", "Tage", "Stunden", "hours", "Minuten",
    "min", "Sekunden", "Jahre", "Monate", "einer", "a", "an", "half", "halben", "pm", "abends", "nachts",
    "mittags", "früh", "Juni", "June", "März", "Dez", "bis", "-", "und", "and", ",", ".", "!", "st", "th",
    "12.06.", "31.02.", "2025-06-12", "2026-06-12T15:00", "12.6.25", "1,5", "1.5", "14.30", "3.", "15.",
    "0", "9", "12", "13", "24", "25", "99", "2027", "0000", "9999", "15:00", "25:61", "23:59:59", "-5",
    "3pm", "12am", "9am", "99999999999999999999",
    "halb", "viertel", "nach", "vor", "dreiviertel", "zehn", "eins", "quarter", "past", "to", "gestern",
    "vorgestern", "yesterday", "Silvester", "Neujahr", "an", "nächste", "naechster", "kommende", "week",
    "der",
]  # fmt: skip
mixed_text = st.lists(st.sampled_from(VOCABULARY), max_size=10).map(" ".join)
some_now = st.one_of(
    st.sampled_from(
        [WED, LATE, MON, SPRING, AUTUMN, berlin(2026, 3, 29, 1, 59), berlin(2026, 10, 25, 2, 30, fold=1)]
    ),
    st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2080, 1, 1),
        timezones=st.sampled_from([BERLIN, ZoneInfo("UTC"), ZoneInfo("America/New_York")]),
    ),
)


def check_reading(text: str, now: datetime, lang: str, *, end_of_day: bool = False) -> None:
    try:
        when = parse_when(text, now=now, tz=BERLIN, lang=lang, end_of_day=end_of_day)
    except TimeParseError as error:
        assert error.__cause__ is None, f"safety net caught {error.__cause__!r}"
        assert error.message
        return
    assert when.at.astimezone(UTC) > now.astimezone(UTC)
    assert when.at.tzinfo is BERLIN
    assert when.at.astimezone(UTC) <= now.astimezone(UTC) + timedelta(days=3660)
    assert when.text


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=250), some_now, st.sampled_from(["de", "en"]))
def test_any_text_gives_a_reading_or_a_time_parse_error(text: str, now: datetime, lang: str) -> None:
    check_reading(text, now, lang)


@settings(max_examples=600, deadline=None)
@given(mixed_text, some_now, st.sampled_from(["de", "en"]), st.booleans())
def test_time_words_give_a_reading_or_a_time_parse_error(
    text: str, now: datetime, lang: str, end_of_day: bool
) -> None:
    check_reading(text, now, lang, end_of_day=end_of_day)


def test_hostile_inputs_are_fast() -> None:
    hostile = [
        "1." * 100,
        "1:" * 100,
        "1-" * 100,
        "a." * 100,
        "jeden " * 33,
        "in 1 " * 40,
        "p.m." * 50,
        "9" * 200,
        "montag und " * 18,
        "x" * 1_000_000,
    ]
    started = time.perf_counter()
    for text in hostile:
        with pytest.raises(TimeParseError):
            parse_when(text, now=WED, tz=BERLIN)
    assert time.perf_counter() - started < 1.0
