"""``akbot check``: configuration, homeserver, login, rooms, encryption, model endpoint."""

from __future__ import annotations

import contextlib
from typing import TextIO

from bot.errors import AkbotError
from bot.matrix import Credentials, MatrixAdapter, identity
from bot.services.llm import check_on_premises, model_endpoint_reachable
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
        if settings.matrix.encryption:
            for passed, text in await identity_lines(settings, credentials):
                report(passed, text)
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


async def identity_lines(settings: Settings, credentials: Credentials) -> list[tuple[bool, str]]:
    """The bot's cross-signing as members' clients see it; a query only, nothing is changed."""
    keys_path = settings.bot.data_dir / identity.CROSS_SIGNING_FILE
    try:
        async with identity.MatrixApi(settings.matrix.homeserver, credentials.access_token) as api:
            status = await identity.inspect(api, credentials.user_id, credentials.device_id, keys_path)
    except identity.IdentityError as error:
        return [(False, f"Gerät quer-signiert: unbekannt – {error}")]
    if status.mismatch:
        keys = identity.CrossSigningKeys.load(keys_path)
        ours = keys.master_public if keys else "?"
        if status.cross_signed:
            signed = (True, "Gerät quer-signiert: ja (von der Identität auf dem Server)")
            consequence = "der Bot kann sie so nicht pflegen (neue Geräte bleiben unsigniert)"
        else:
            signed = (False, "Gerät quer-signiert: nein – der Homeserver zeigt eine andere Identität")
            consequence = "Mitglieder vertrauen dem Bot so nicht"
        return [
            signed,
            (
                False,
                f"Identität: der Homeserver zeigt Hauptschlüssel {status.master_key}, {keys_path.name} hat "
                f"{ours} – {consequence}. `akbot identity restore` holt die passenden Schlüssel zurück; "
                "`akbot identity reset` ersetzt die Identität (mit Warnung).",
            ),
        ]
    if status.cross_signed:
        return [(True, "Gerät quer-signiert: ja")]
    never_started = status.master_key is None and not keys_path.exists()
    ours_unsigned = status.master_key is not None and keys_path.exists()
    if never_started or ours_unsigned:
        # The first start publishes the identity; a start signs a device of our own identity.
        return [(True, f"Gerät quer-signiert: noch nicht – {status.problem}")]
    return [(False, f"Gerät quer-signiert: nein – {status.problem}")]


async def _ignore(_event: object) -> None:
    return None
