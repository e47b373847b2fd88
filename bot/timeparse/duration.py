"""Durations for the configuration: ``parse_duration`` reads offsets such as "7d", "30min", "1d12h"."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION_UNITS = {
    "w": timedelta(weeks=1),
    "d": timedelta(days=1),
    "h": timedelta(hours=1),
    "min": timedelta(minutes=1),
    "s": timedelta(seconds=1),
}
_DURATION_PART = re.compile(r"\s*([0-9]{1,6})\s*(min|w|d|h|s)(?![a-z])", re.IGNORECASE)
_DURATION_MAX = timedelta(days=3660)


def parse_duration(text: str) -> timedelta:
    """A configuration offset such as "7d", "1d", "1h", "24h", "30min", "90s", "2w" or "1d12h".

    Units: w, d, h, min, s (case-insensitive, spaces allowed between parts, each unit once). Zero
    ("0min") is allowed; at most 10 years. Anything else raises ValueError.
    """
    hint = "use e.g. 7d, 24h, 30min, 90s, 2w or 1d12h (units w, d, h, min, s)"
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"empty duration; {hint}")
    value = text.strip()
    if len(value) > 60:
        raise ValueError(f"duration {value[:20]!r}… is too long; {hint}")
    total = timedelta()
    seen: set[str] = set()
    position = 0
    while position < len(value):
        match = _DURATION_PART.match(value, position)
        if match is None:
            raise ValueError(f"{value!r} is not a duration; {hint}")
        unit = match[2].lower()
        if unit in seen:
            raise ValueError(f"{value!r} names the unit {unit!r} twice; {hint}")
        seen.add(unit)
        total += int(match[1]) * _DURATION_UNITS[unit]
        position = match.end()
        while position < len(value) and value[position].isspace():
            position += 1
    if total > _DURATION_MAX:
        raise ValueError(f"{value!r} is longer than 10 years; {hint}")
    return total
