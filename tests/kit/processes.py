"""The processes of the tests and benchmarks: the bot as ``python -m bot run`` (its config file, a log
per start, stopped, or SIGKILLed like a power cut), helper clients in child processes of their own,
and the CPU time processes spend.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]

# ---- the bot as a separate process ------------------------------------------------------------


def _toml_list(values: list[str]) -> str:
    # JSON strings are valid TOML basic strings.
    return "[" + ", ".join(json.dumps(value) for value in values) + "]"


def write_config(
    folder: Path,
    homeserver: str,
    user_id: str,
    password: str,
    rooms: list[str],
    chairs: list[str],
    *,
    command_rate: str | None = None,
    extra: str = "",
) -> Path:
    """The operator's ``config.toml`` in ``folder`` (data in ``folder/data``), ``encryption = true``
    as users run it; ``homeserver`` may point at a proxy in front of Synapse. ``extra``: more
    sections, as TOML text."""
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    lines = [
        "[matrix]",
        f"homeserver = {json.dumps(homeserver)}",
        f"user_id = {json.dumps(user_id)}",
        f"password = {json.dumps(password)}",
        f"rooms = {_toml_list(rooms)}",
        "encryption = true",
        'pickle_key = "test-pickle-key-0123456789"',
        "",
        "[bot]",
        f"data_dir = {json.dumps(str(folder / 'data'))}",
        f"chairs = {_toml_list(chairs)}",
    ]
    if command_rate is not None:
        lines.append(f"command_rate = {json.dumps(command_rate)}")
    config.write_text("\n".join(lines) + "\n" + extra, encoding="utf-8")
    return config


class BotProcess:
    """``python -m bot run --config …`` in a session of its own; every start logs to its own file
    next to the config (``bot-1.log``, ``bot-2.log`` …)."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.process: subprocess.Popen[bytes] | None = None
        self.logs: list[Path] = []
        self._stopped = False

    @property
    def folder(self) -> Path:
        return self.config.parent

    def start(self) -> None:
        log_path = self.folder / f"bot-{len(self.logs) + 1}.log"
        self.logs.append(log_path)
        # The config file alone decides; no proxy may capture loopback.
        env = {key: value for key, value in os.environ.items() if not key.startswith("AKBOT_")}
        env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost", PYTHONUNBUFFERED="1")
        self._stopped = False
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--config", str(self.config)],
                cwd=PROJECT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def log_path(self) -> Path:
        """The log of the current (last) run."""
        return self.logs[-1]

    @property
    def log(self) -> str:
        """What the current (last) run wrote."""
        return self.logs[-1].read_text(encoding="utf-8", errors="replace") if self.logs else ""

    def all_logs(self) -> str:
        return "".join(
            f"--- {path.name}\n" + path.read_text(encoding="utf-8", errors="replace") for path in self.logs
        )

    def tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except (OSError, IndexError):
            return "(no bot log)"
        return "\n".join(text.splitlines()[-lines:])

    def check_alive(self) -> None:
        """RuntimeError if the bot has exited without being stopped."""
        if self.process is not None and self.process.poll() is not None and not self._stopped:
            raise RuntimeError(f"the bot exited with code {self.process.returncode}:\n{self.tail()}")

    async def logged(self, pattern: str, timeout: float = 60.0, what: str = "") -> re.Match[str]:
        """The first match of ``pattern`` in the current run's log, once it is there."""
        what = what or f"logged {pattern!r}"
        deadline = time.monotonic() + timeout
        while not (found := re.search(pattern, self.log)):
            if not self.running:
                raise AssertionError(f"the bot exited before it {what}:\n{self.all_logs()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot had not {what} within {timeout} s:\n{self.log}")
            await asyncio.sleep(0.05)
        return found

    async def serving(self, timeout: float = 60.0) -> None:
        """Wait for the line the bot logs once it is connected and serving its rooms."""
        await self.logged("serving", timeout, "started serving")

    def kill(self) -> None:
        """SIGKILL, as a power cut or the OOM killer would: no handler, no clean-up runs."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    async def exited(self, timeout: float) -> int | None:
        """The exit code, or None when the process is still running after ``timeout``."""
        deadline = time.monotonic() + timeout
        while self.running and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return None if self.process is None else self.process.poll()

    async def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM (the bot shuts down cleanly on it), SIGKILL after ``timeout``."""
        self._stopped = True
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        if await self.exited(timeout) is None:
            self.kill()


# ---- helper clients in child processes ----------------------------------------------------------


HELPER_TOKEN_ENV = "KIT_HELPER_TOKEN"


class HelperProcess:
    """A helper client in a child process of its own, so that, like the bot, it has its own CPU and
    event loop: ``serve(*argv, token=token)``, where ``serve`` names an async function
    (``"module:function"``) that says "ready" with :func:`ready_until_eof`. The helper ends at the
    end of its standard input."""

    def __init__(self, name: str, serve: str, argv: list[str], token: str) -> None:
        self.name = name
        self._command = [sys.executable, "-m", "tests.kit.processes", serve, *argv]
        self._token = token
        self._proc: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 30.0) -> None:
        # The token goes through the environment, not the command line (ps shows that).
        env = {**os.environ, HELPER_TOKEN_ENV: self._token}
        self._proc = await asyncio.create_subprocess_exec(
            *self._command,
            cwd=PROJECT,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        assert self._proc.stdout is not None
        line = await asyncio.wait_for(self._proc.stdout.readline(), timeout)
        if line.strip() != b"ready":
            raise RuntimeError(f"the {self.name} did not start (said {line!r})")

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def check_alive(self) -> None:
        if self._proc is not None and self._proc.returncode is not None:
            raise RuntimeError(f"the {self.name} exited with code {self._proc.returncode}")

    async def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        if proc.stdin is not None:
            proc.stdin.close()  # the polite way: the helper ends at end of input
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def ready_until_eof() -> None:
    """In the helper: say "ready", then wait until the parent closes our standard input, on
    purpose or by dying: no orphaned helper."""
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.buffer.read)


def _helper_main(argv: list[str]) -> int:
    """The helper process: ``python -m tests.kit.processes module:function args…``."""
    module, _, function = argv[0].partition(":")
    serve = getattr(importlib.import_module(module), function)
    token = os.environ.pop(HELPER_TOKEN_ENV)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(*argv[1:], token=token))
    return 0


# ---- CPU time -----------------------------------------------------------------------------------


def proc_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process, from /proc (Linux only, 10 ms ticks)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


class CpuMeter:
    """CPU time of named processes (Synapse, the bot …) and of this one (``bench``), read around a
    round or a phase.

    Per round the tick resolution is coarse, but summed over hundreds of rounds the error
    averages out; a round's window includes the idle gap after it, so trailing work (echo
    syncs, the next long poll) counts towards the round that caused it.
    """

    def __init__(self, pids: dict[str, int | None]) -> None:
        self.pids = {name: pid for name, pid in pids.items() if pid is not None}

    def read(self) -> dict[str, float]:
        now = {"bench": time.process_time()}
        for name, pid in self.pids.items():
            seconds = proc_cpu_s(pid)
            if seconds is not None:
                now[name] = seconds
        return now

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {name: after[name] - before[name] for name in before.keys() & after.keys()}


if __name__ == "__main__":
    sys.exit(_helper_main(sys.argv[1:]))
