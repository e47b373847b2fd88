"""Backup while the bot runs, and the administrators' export — through the real CLI."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.conftest import PASSWORD, World


def config_for(world: World, folder: Path) -> Path:
    settings = world.bot.settings
    config = folder / "config.toml"
    config.write_text(
        f'[matrix]\nhomeserver = "{settings.matrix.homeserver}"\nuser_id = "{settings.matrix.user_id}"\n'
        f'password = "{PASSWORD}"\n[bot]\ndata_dir = "{settings.bot.data_dir}"\n'
    )
    return config


def akbot(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *arguments], capture_output=True, text=True, timeout=60
    )


async def test_backup_while_running_is_consistent_and_complete(world: World, tmp_path: Path) -> None:
    await world.ask(world.member, "!erinnerung morgen um 9; Sicherung prüfen")
    target = tmp_path / "sicherung"

    result = akbot("backup", str(target), "--config", str(config_for(world, tmp_path)))

    assert result.returncode == 0, result.stderr
    manifest = json.loads((target / "manifest.json").read_text())
    assert "akbot.db" in manifest["files"] and "credentials.json" in manifest["files"]
    assert any(name.startswith("e2ee-store/") for name in manifest["files"])
    with sqlite3.connect(target / "akbot.db") as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        texts = [row[0] for row in copy.execute("SELECT text FROM reminders")]
    assert "Sicherung prüfen" in texts
    assert (target / "credentials.json").stat().st_mode & 0o777 == 0o600

    again = akbot("backup", str(target), "--config", str(config_for(world, tmp_path)))
    assert again.returncode == 2 and "is not empty" in again.stderr


async def test_export_lists_all_state_but_no_secrets(world: World, tmp_path: Path) -> None:
    await world.ask(world.member, "!erinnerung übermorgen 10 Uhr; Export prüfen")

    result = akbot("export", "--json", "--config", str(config_for(world, tmp_path)))

    assert result.returncode == 0, result.stderr
    exported = json.loads(result.stdout)
    assert {"reminders", "polls", "votes", "meetings", "agenda_items", "audit"} <= set(exported["tables"])
    assert "Export prüfen" in [r["text"] for r in exported["tables"]["reminders"]]
    credentials = json.loads((world.bot.settings.bot.data_dir / "credentials.json").read_text())
    assert credentials["access_token"] not in result.stdout
