"""The ``akbot`` command line, run as the operator runs it: ``python -m bot …`` in a subprocess.

Each run imports matrix-nio (about half a second), so all runs are started together once per
module and the tests below only read their results.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent

BAD_LANGUAGE = """\
[matrix]
homeserver = "https://matrix.lvr.de"
user_id = "@akbot:lvr.de"
password = "geheim-123"

[bot]
language = "fr"
"""


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True)
class Runs:
    folder: Path
    """The working directory of every run except ``version`` (which runs in the checkout)."""
    results: dict[str, Result]

    def __getitem__(self, name: str) -> Result:
        return self.results[name]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    folder = tmp_path_factory.mktemp("cli")
    (folder / "bad.toml").write_text(BAD_LANGUAGE, encoding="utf-8")
    bad = str(folder / "bad.toml")
    scenarios: dict[str, tuple[list[str], Path, dict[str, str]]] = {
        "version": (["--version"], PROJECT, {}),
        "check_missing": (["check", "--config", "missing.toml"], folder, {}),
        "run_bad_language": (["run", "--config", "bad.toml"], folder, {}),
        "check_akbot_config": (["check"], folder, {"AKBOT_CONFIG": bad}),
        "run_argument_beats_variable": (["run", "--config", "missing.toml"], folder, {"AKBOT_CONFIG": bad}),
        "check_default_file": (["check"], folder, {}),
    }
    clean = {name: value for name, value in os.environ.items() if not name.startswith("AKBOT_")}
    # The checkout must be importable from any working directory.
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), clean.get("PYTHONPATH")]))
    started = {
        name: subprocess.Popen(
            [sys.executable, "-m", "bot", *args],
            cwd=cwd,
            env={**clean, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (args, cwd, env) in scenarios.items()
    }
    results = {}
    for name, process in started.items():
        try:
            stdout, stderr = process.communicate(timeout=60)
        finally:
            process.kill()
        results[name] = Result(process.returncode, stdout, stderr)
    return Runs(folder, results)


def assert_one_line_config_error(result: Result, *names: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert result.stderr == lines[0] + "\n"
    for name in names:
        assert name in lines[0]
    assert result.stdout == ""


def test_version(runs: Runs) -> None:
    assert runs["version"] == Result(0, "akbot 0.1.0\n", "")


def test_check_with_missing_config_file(runs: Runs) -> None:
    assert_one_line_config_error(runs["check_missing"], "missing.toml", "not found")


def test_run_with_bad_language_exits_before_creating_anything(runs: Runs) -> None:
    assert_one_line_config_error(runs["run_bad_language"], "bad.toml", "bot.language")
    assert not (runs.folder / "data").exists()


def test_akbot_config_environment_variable_is_honoured(runs: Runs) -> None:
    assert_one_line_config_error(runs["check_akbot_config"], str(runs.folder / "bad.toml"), "bot.language")


def test_config_argument_beats_akbot_config(runs: Runs) -> None:
    result = runs["run_argument_beats_variable"]

    assert_one_line_config_error(result, "missing.toml", "not found")
    assert "bot.language" not in result.stderr


def test_without_argument_or_variable_config_toml_in_the_working_directory_is_read(runs: Runs) -> None:
    assert_one_line_config_error(runs["check_default_file"], "config.toml", "not found")


@pytest.mark.parametrize(
    ("pickle_line", "problem"),
    [
        ("", "matrix.pickle_key is not set"),
        (
            'pickle_key = "bitte-ändern-und-sicher-aufbewahren"',
            "matrix.pickle_key is still the example value",
        ),
        ('pickle_key = "kurz"', "matrix.pickle_key is too short"),
    ],
)
def test_run_refuses_an_encryption_store_without_a_real_pickle_key(
    tmp_path: Path, pickle_line: str, problem: str
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[matrix]\nhomeserver = "http://127.0.0.1:9"\nuser_id = "@akbot:lvr.de"\npassword = "x"\n'
        f'{pickle_line}\n[bot]\ndata_dir = "{tmp_path / "data"}"\n',
        encoding="utf-8",
    )

    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert result.stderr.startswith(f"akbot: Konfigurationsfehler / configuration error: {problem}")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "data").exists()  # nothing was created with a weak key
