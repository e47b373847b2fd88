"""Statistics of a benchmark's samples, and the round trip most of them measure.

Statistics take ``None`` for a missing value (a round without that part) and leave it out; they are
``None`` themselves when nothing is left. ``digits`` rounds the result (``None``: unrounded).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

# ---- statistics ---------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _present(values: Iterable[float | None]) -> list[float]:
    return [value for value in values if value is not None]


def _rounded(value: float, digits: int | None) -> float:
    return value if digits is None else round(value, digits)


def median_of(values: Iterable[float | None], digits: int | None = None) -> float | None:
    present = _present(values)
    return _rounded(statistics.median(present), digits) if present else None


def mean_of(values: Iterable[float | None], digits: int | None = None) -> float | None:
    present = _present(values)
    return _rounded(statistics.fmean(present), digits) if present else None


def percentile_of(values: Iterable[float | None], fraction: float, digits: int | None = None) -> float | None:
    present = _present(values)
    return _rounded(percentile(present, fraction), digits) if present else None


def ratio(value: float | None, reference: float | None) -> float | None:
    """``value / reference``; None when either is missing or the reference is zero."""
    return value / reference if value is not None and reference else None


# ---- round trips ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One round trip, in milliseconds: in total, and split at the server timestamps (``send`` the
    sender's request, ``turn`` the responder's turnaround, ``back`` the delivery of the answer,
    ``self`` the processing time the bot writes into its answer)."""

    total_ms: float
    send_ms: float
    turn_ms: float | None
    back_ms: float | None
    self_ms: float | None


def breakdown(
    samples: Sequence[Sample], average: Callable[[Iterable[float | None]], float | None] = median_of
) -> dict[str, float | None]:
    """``send``, ``turn``, ``back`` and ``self`` of the samples, each averaged (median by default)."""
    return {
        "send": average([s.send_ms for s in samples]),
        "turn": average([s.turn_ms for s in samples]),
        "back": average([s.back_ms for s in samples]),
        "self": average([s.self_ms for s in samples]),
    }
