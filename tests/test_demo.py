"""`akbot demo --script`: what a new user sees on a fresh machine, in German, in the encrypted room."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_demo_script_answers_hilfe_and_ping_then_reuses_its_folder(tmp_path: Path) -> None:
    script = tmp_path / "befehle.txt"
    script.write_text(
        "!hilfe\n!ping\n!erinnerung in 1 Sekunde; Kaffee holen\n/warte 3\n/als vorsitz\n!sprache en\n!ping\n"
    )
    command = [sys.executable, "-m", "bot", "demo", "--dir", str(tmp_path / "demo"), "--script", str(script)]

    first = subprocess.run(command, capture_output=True, text=True, timeout=180)

    assert first.returncode == 0, first.stdout + first.stderr
    out = first.stdout
    assert "Raum: Facharbeitskreis KI" in out and "verschlüsselt" in out
    assert "@mitglied:localhost  Passwort: " in out
    assert "akbot │ Befehle von akbot" in out
    assert "akbot │ pong – Bearbeitungszeit" in out
    assert "akbot │ Ich erinnere Sie am " in out
    assert "akbot │ Erinnerung für mitglied: Kaffee holen" in out
    assert "(Sie schreiben jetzt als vorsitz)" in out
    assert "akbot │ From now on I answer in English in this room." in out
    assert "akbot │ pong – processing time" in out
    assert "Traceback" not in first.stderr

    second = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert second.returncode == 0, second.stdout + second.stderr
    assert (
        first.stdout.split("Homeserver: ")[1].split()[0] == second.stdout.split("Homeserver: ")[1].split()[0]
    )
    assert "akbot │ pong – processing time" in second.stdout


def test_a_long_script_is_not_cut_short_by_the_flood_limit_and_chat_is_not_awaited(tmp_path: Path) -> None:
    script = tmp_path / "viele.txt"
    script.write_text("Guten Morgen zusammen\n" + "!ping\n" * 25)
    command = [sys.executable, "-m", "bot", "demo", "--dir", str(tmp_path / "demo"), "--script", str(script)]

    run = subprocess.run(command, capture_output=True, text=True, timeout=300)

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("akbot │ pong – Bearbeitungszeit") == 25
    assert "langsamer" not in run.stdout and "keine Antwort" not in run.stdout
    assert "pickle_key" not in run.stdout + run.stderr  # the demo sets its own


def test_files_sent_privately_are_listed_and_saved_from_the_console(tmp_path: Path) -> None:
    script = tmp_path / "dateien.txt"
    script.write_text("!meinedaten\n/warte 8\n/dateien\n/öffne 1\n")
    command = [sys.executable, "-m", "bot", "demo", "--dir", str(tmp_path / "demo"), "--script", str(script)]

    run = subprocess.run(command, capture_output=True, text=True, timeout=300)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "akbot (privat) │ 📎 Datei 1: meine-daten-akbot.json – /öffne 1 speichert sie" in run.stdout
    assert "  1. meine-daten-akbot.json (privat, an mitglied)" in run.stdout
    saved = tmp_path / "demo" / "dateien" / "meine-daten-akbot.json"
    assert f"  gespeichert: {saved}" in run.stdout
    assert json.loads(saved.read_text())["user_id"] == "@mitglied:localhost"


def test_the_federated_demo_puts_the_chair_on_the_other_homeserver(tmp_path: Path) -> None:
    script = tmp_path / "foederiert.txt"
    script.write_text("!ping\n/als vorsitz\n!sitzung in 30 Tagen 10 Uhr; Gemeinsame Sitzung\n")
    command = [
        sys.executable, "-m", "bot", "demo", "--federated", "--dir", str(tmp_path / "demo"), "--script", str(script),
    ]  # fmt: skip

    run = subprocess.run(command, capture_output=True, text=True, timeout=300)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "Homeserver LVR: " in run.stdout and "Homeserver LWL: " in run.stdout
    lvr = run.stdout.split("Homeserver LVR: ")[1].split()[0]
    lwl = run.stdout.split("Homeserver LWL: ")[1].split()[0]
    assert lvr != lwl
    assert "@vorsitz:localhost:" in run.stdout and f"({lwl})" in run.stdout
    assert "akbot │ pong – Bearbeitungszeit" in run.stdout
    assert "akbot │ Sitzung #1 angelegt: Gemeinsame Sitzung" in run.stdout  # the remote chair, by power level
    assert "Traceback" not in run.stderr
