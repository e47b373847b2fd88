"""What every benchmark reports with: statistics of samples, number formatting, tables, result files.

Statistics take ``None`` for a missing value (a round without that part) and leave it out; they are
``None`` themselves when nothing is left. ``digits`` rounds the result (``None``: unrounded).
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from pathlib import Path
from typing import Any

VERDICT = {True: "met", False: "MISSED"}


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


# ---- formatting -------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    """``value`` with ``digits`` decimals and ``unit`` appended; "-" for a missing value."""
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def times(value: float | None, digits: int = 2) -> str:
    """A ratio as "1.23x"; "-" for a missing value."""
    return fmt(value, digits, "x")


# ---- tables and result files --------------------------------------------------------------------


class Table:
    """Fixed-width columns: ``(title, format spec)`` each, e.g. ``("p95", ">9")``; every cell of a
    column is formatted with its spec (so cells are strings or ints, formatted beforehand)."""

    def __init__(self, *columns: tuple[str, str], indent: str = "") -> None:
        self.columns = columns
        self.indent = indent

    def line(self, *cells: object) -> str:
        specs = [spec for _, spec in self.columns]
        return self.indent + "".join(f"{cell:{spec}}" for cell, spec in zip(cells, specs, strict=True))

    def header(self) -> str:
        return self.line(*(title for title, _ in self.columns))

    def print_header(self, *, rule: int | None = None, underline: bool = True) -> None:
        """The titles, then (``underline``) a rule as wide as they are or ``rule`` characters."""
        header = self.header()
        print(header)
        if underline:
            print(self.indent + "-" * (len(header) - len(self.indent) if rule is None else rule))

    def print_row(self, *cells: object) -> None:
        print(self.line(*cells))


def write_json(path: Path, result: dict[str, Any], *, ensure_ascii: bool = True) -> None:
    """The result as indented JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=ensure_ascii) + "\n", encoding="utf-8")
