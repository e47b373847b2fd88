"""Operations: consistent backups while the bot runs, and a full export for administrators."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot import __version__
from bot.errors import ConfigError
from bot.storage import DB_FILENAME


def _sqlite_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while the bot writes (WAL)."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def _is_sqlite(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def backup(data_dir: Path, target: Path) -> dict[str, Any]:
    """Copy the database, the E2EE store and the device credentials into ``target``."""
    if not (data_dir / DB_FILENAME).exists():
        raise ConfigError(f"bot.data_dir: no {DB_FILENAME} in {data_dir} — nothing to back up")
    if target.exists() and any(target.iterdir()):
        raise ConfigError(f"backup target {target} is not empty")
    if target.resolve().is_relative_to(data_dir.resolve()):
        raise ConfigError(f"backup target {target} lies inside bot.data_dir; choose a folder outside it")
    target.mkdir(parents=True, exist_ok=True)
    target.chmod(0o700)  # keys and personal data: for the operator's eyes only
    files: dict[str, str] = {}
    for source in sorted(data_dir.rglob("*")):
        relative = source.relative_to(data_dir)
        if not source.is_file() or source.name.endswith(("-wal", "-shm", ".tmp", ".lock")):
            continue  # WAL files are folded into the online copy of their database; locks are runtime
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if _is_sqlite(source):
            _sqlite_copy(source, destination)
        else:
            shutil.copy2(source, destination)
        destination.chmod(0o600)
        files[str(relative)] = hashlib.sha256(destination.read_bytes()).hexdigest()
    manifest = {"akbot": __version__, "created": datetime.now(UTC).isoformat(), "files": files}
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def export_all(data_dir: Path) -> dict[str, Any]:
    """All state as JSON-ready data (no secrets: the credentials and E2EE keys stay out)."""
    path = data_dir / DB_FILENAME
    if not path.exists():
        raise ConfigError(f"bot.data_dir: no {DB_FILENAME} in {data_dir}")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        connection.row_factory = sqlite3.Row
        tables = [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if not row[0].startswith(("sqlite_", "_sqlite"))
        ]
        data = {
            table: [dict(row) for row in connection.execute(f'SELECT * FROM "{table}"')]  # noqa: S608 — names from the schema
            for table in tables
        }
    return {"akbot": __version__, "exported": datetime.now(UTC).isoformat(), "tables": data}
