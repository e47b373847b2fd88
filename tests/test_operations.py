"""Backup while the bot runs, and the administrators' export — through the real CLI."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from bot.homeserver import EmbeddedHomeserver
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


def test_json_logs_and_prometheus_metrics(homeserver: EmbeddedHomeserver, tmp_path: Path) -> None:
    bot_id = homeserver.register("akbot-metrik", PASSWORD)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = tmp_path / "config.toml"
    config.write_text(
        f'[matrix]\nhomeserver = "{homeserver.url}"\nuser_id = "{bot_id}"\npassword = "{PASSWORD}"\n'
        f'pickle_key = "test-pickle-key-0123456789"\n[bot]\ndata_dir = "data"\nlog_format = "json"\n[metrics]\nport = {port}\n'
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stderr is not None
        lines = []
        while not any("serving" in line for line in lines):
            line = process.stderr.readline()
            assert line, "".join(lines)
            lines.append(line)
        records = [json.loads(line) for line in lines]
        assert {"ts", "level", "logger", "message"} <= set(records[-1])
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", trust_env=False, timeout=5).text
        assert "akbot_scheduled_jobs" in metrics and "akbot_model_queue 0.0" in metrics
        assert "akbot_command_seconds_bucket" in metrics
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
