"""How a benchmark reports: numbers, ratios and verdicts, fixed-width tables, the result file
(``--output``) and the exit code (``--check``)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

VERDICT = {True: "met", False: "MISSED"}


# ---- formatting -------------------------------------------------------------------------------


def fmt(value: float | None, digits: int = 1, unit: str = "") -> str:
    """``value`` with ``digits`` decimals and ``unit`` appended; "-" for a missing value."""
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def times(value: float | None, digits: int = 2) -> str:
    """A ratio as "1.23x"; "-" for a missing value."""
    return fmt(value, digits, "x")


# ---- tables --------------------------------------------------------------------------------


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


# ---- the result file and the exit code ------------------------------------------------------------


def result_options(parser: argparse.ArgumentParser, results: Path, metavar: str | None = None) -> None:
    """``--check`` and ``--output``, which every benchmark has."""
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument(
        "--output", type=Path, default=results, metavar=metavar, help=f"JSON file ({results})"
    )


def write_json(path: Path, result: dict[str, Any], *, ensure_ascii: bool = True) -> None:
    """The result as indented JSON, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, ensure_ascii=ensure_ascii) + "\n", encoding="utf-8")


def finish(
    result: dict[str, Any], path: Path, check: bool, *, note: str = "", ensure_ascii: bool = True
) -> int:
    """Write the result, say where (``note`` appended), and return the exit code: 1 if ``check``
    and any boolean entry of ``result["targets"]`` is false, else 0."""
    write_json(path, result, ensure_ascii=ensure_ascii)
    print(f"written to {path}{note}")
    missed = not all(value for value in result["targets"].values() if isinstance(value, bool))
    return 1 if check and missed else 0
