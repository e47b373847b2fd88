"""The on-premises guard as an operator meets it: `akbot run` refuses a model endpoint outside."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CONFIG = """[matrix]
homeserver = "http://127.0.0.1:9"
user_id = "@akbot:lvr.de"
password = "geheim"
pickle_key = "test-pickle-key-0123456789"
[llm]
base_url = "{url}"
"""


def run(tmp_path: Path, url: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(url=url))
    return subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_public_model_endpoint_stops_the_bot_with_one_clear_line(tmp_path: Path) -> None:
    result = run(tmp_path, "http://8.8.8.8:11434/v1")

    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "llm.base_url: '8.8.8.8' resolves to 8.8.8.8, which is not on the premises" in lines[0]
    assert "Traceback" not in result.stderr
