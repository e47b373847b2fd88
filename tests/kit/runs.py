"""The frame of a benchmark's run: its log, a local Synapse in a temporary folder, the bot as a
benchmark runs it, SIGTERM and failures handled like Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol, TypeVar

from bot.homeserver import EmbeddedHomeserver
from tests.kit.processes import BotProcess, write_config

UNLIMITED_COMMANDS = "1000000/1s"  # a benchmark floods on purpose: no per-member command limit

T = TypeVar("T")


def configure_logging() -> None:
    """A benchmark's log (stderr): warnings, its own progress and the kit's, nio's errors only."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("bench", "tests.kit"):
        logging.getLogger(name).setLevel(logging.INFO)
    logging.getLogger("nio").setLevel(logging.ERROR)


def on_homeserver(prefix: str, run: Callable[[Path, EmbeddedHomeserver], Coroutine[Any, Any, T]]) -> T | None:
    """``run`` in an event loop of its own, with a local Synapse in a temporary folder (``prefix``);
    None when interrupted (Ctrl-C, or SIGTERM inside :func:`guarded`)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as temp:
        root = Path(temp)
        server = EmbeddedHomeserver(root / "synapse")
        print("starting Synapse …", file=sys.stderr)
        server.start()
        try:
            return asyncio.run(run(root, server))
        except (KeyboardInterrupt, asyncio.CancelledError):
            print("interrupted", file=sys.stderr)
            return None
        finally:
            server.stop()


def bench_bot(
    folder: Path, homeserver: str, user_id: str, password: str, rooms: list[str], chair: str, extra: str = ""
) -> BotProcess:
    """The bot (not started yet) with its config in ``folder``: ``encryption = true`` as users run
    it, ``chair`` its chair, no per-member command limit; ``extra``: more sections, as TOML text."""
    config = write_config(
        folder, homeserver, user_id, password, rooms, [chair], command_rate=UNLIMITED_COMMANDS, extra=extra
    )
    return BotProcess(config)


class Run(Protocol):
    def bot_log_tail(self) -> str: ...

    async def close(self) -> None: ...


R = TypeVar("R", bound=Run)


@contextlib.asynccontextmanager
async def guarded(make: Callable[[], R], logs: str = "bot log") -> AsyncIterator[R]:
    """The run ``make`` sets up, in this task: SIGTERM cancels it like Ctrl-C, so that the bots and
    helpers are stopped on the way out; on a failure the last lines of the bot's log go to stderr;
    closed in any case."""
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    run = make()
    try:
        yield run
    except Exception:
        print(f"--- last lines of the {logs} ---\n{run.bot_log_tail()}", file=sys.stderr)
        raise
    finally:
        await run.close()
