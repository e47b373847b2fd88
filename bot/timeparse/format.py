"""Dates and times for people: ``format_datetime``, ``format_date`` and the German and English calendar names.

``language`` is the package's choice of output language: "en", anything else "de".
"""

from __future__ import annotations

from datetime import date, datetime


def language(lang: str) -> str:
    return "en" if lang == "en" else "de"


_WEEKDAY_SHORT_DE = ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So.")
_WEEKDAY_SHORT_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_DE = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
WEEKDAY_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTH_DE = (
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
)  # fmt: skip
MONTH_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def _clock(dt: datetime) -> str:
    """ "09:00", or "09:00:30" when the seconds are not zero."""
    text = f"{dt.hour:02d}:{dt.minute:02d}"
    return f"{text}:{dt.second:02d}" if dt.second else text


def clock_long(dt: datetime, en: bool) -> str:
    return _clock(dt) if en else f"{_clock(dt)} Uhr"


def format_datetime(dt: datetime, lang: str) -> str:
    """ "Do., 05.06.2025, 09:00 Uhr" (de) or "Thu, 5 Jun 2025, 09:00" (en), in dt's own wall clock.

    Seconds appear only when they are not zero ("09:00:30 Uhr"); microseconds never.
    """
    return f"{format_date(dt.date(), lang)}, {clock_long(dt, language(lang) == 'en')}"


def format_date(day: date, lang: str) -> str:
    """ "Do., 05.06.2025" (de) or "Thu, 5 Jun 2025" (en): a day without a time."""
    if language(lang) == "en":
        return f"{_WEEKDAY_SHORT_EN[day.weekday()]}, {day.day} {MONTH_EN[day.month - 1][:3]} {day.year}"
    return f"{_WEEKDAY_SHORT_DE[day.weekday()]}, {day.day:02d}.{day.month:02d}.{day.year:04d}"
