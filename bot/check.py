"""``akbot check``: configuration, homeserver, login, rooms, encryption, model endpoint."""

from __future__ import annotations

import contextlib
from typing import TextIO

from bot.app import model_endpoint_reachable
from bot.errors import AkbotError
from bot.matrix import MatrixAdapter
from bot.services.llm import check_on_premises
from bot.services.rooms import RoomSettings
from bot.settings import Settings
from bot.storage import open_memory_db


async def run_check(settings: Settings, out: TextIO) -> int:
    """Print one line per check; 0 when everything needed to run is fine, else 1."""
    ok = True

    def report(passed: bool, text: str) -> None:
        nonlocal ok
        ok = ok and passed
        out.write(f"{'OK  ' if passed else 'FEHLER'} {text}\n")

    report(True, f"Konfiguration gültig (data_dir {settings.bot.data_dir})")
    db = open_memory_db()
    # No E2EE store: a health check must never touch the running bot's keys.
    adapter = MatrixAdapter(settings.matrix, settings.bot.data_dir, db, RoomSettings(db, "de"), _ignore)
    try:
        credentials = await adapter.login(with_store=False)
        report(True, f"Anmeldung am Homeserver {settings.matrix.homeserver} als {credentials.user_id}")
        rooms = await adapter.check_rooms()
        for room, (joined, encrypted) in rooms.items():
            state = "beigetreten" if joined else "NICHT beigetreten (wird beim Start versucht)"
            report(True, f"Raum {room}: {state}, {'verschlüsselt' if encrypted else 'unverschlüsselt'}")
        report(True, f"Ende-zu-Ende-Verschlüsselung {'an' if settings.matrix.encryption else 'aus'}")
    except AkbotError as error:
        report(False, str(error))
    except OSError as error:
        report(False, f"Homeserver {settings.matrix.homeserver} nicht erreichbar: {error}")
    finally:
        with contextlib.suppress(Exception):
            await adapter.close()
    if settings.llm.base_url is None:
        report(True, "Sprachmodell: nicht eingerichtet")
    else:
        llm = settings.llm
        try:
            check_on_premises(settings.llm.base_url, llm.allowed_hosts, llm.allow_external)
            report(True, f"Sprachmodell {llm.base_url}: im Haus (Loopback/privat) oder ausdrücklich erlaubt")
        except AkbotError as error:
            report(False, str(error))
        reachable = await model_endpoint_reachable(settings.llm.base_url)
        report(
            reachable,
            f"Sprachmodell {settings.llm.base_url}: {'erreichbar' if reachable else 'NICHT erreichbar'}",
        )
    return 0 if ok else 1


async def _ignore(_event: object) -> None:
    return None
