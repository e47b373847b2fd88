"""The operator's side of the bot's identity: secret storage at the first start, ``akbot identity``.

When the bot publishes its cross-signing keys (first start, ``setup``, ``reset``) it also puts
them into secret storage and writes the recovery key to ``data_dir/recovery-key.txt``: with
it, ``restore`` takes the identity over on a new machine. The operator moves that file off the
machine.

The commands print short German lines (the operator's language, as ``akbot check`` does) and
return the exit code: 0 ok, 1 failure; configuration errors raise :class:`ConfigError` (2).
``status`` and ``recovery-key`` leave the E2EE store alone and may run beside the bot; ``setup``,
``reset`` and ``restore`` open it and so refuse while the bot holds ``data_dir``'s lock.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import aiohttp
from nio import KeysUploadResponse

from bot.errors import ConfigError, FatalMatrixError
from bot.matrix import identity, secret_storage
from bot.matrix.identity import CrossSigningKeys, IdentityError, IdentityStatus, MatrixApi
from bot.matrix.secret_storage import SecretStorageError
from bot.matrix.session import Credentials, DataDirLocked, Session, write_private
from bot.settings import Settings

log = logging.getLogger(__name__)

RECOVERY_KEY_FILE = "recovery-key.txt"
BOT_RUNNING = "Der Bot läuft noch (data_dir gesperrt) – bitte stoppen Sie ihn vorher."
KEEP_SAFE = "bitte an einen sicheren Ort außerhalb dieses Rechners bringen und die Datei dann löschen."
RESET_WARNING = (
    "ACHTUNG: Dies ersetzt die Identität des Bots (Quer-Signierung).\n"
    "Alle Mitglieder sehen danach eine geänderte Identität des Bots; wer ihn verifiziert hat,\n"
    "muss das neu tun, und Element warnt bis dahin. Der bisherige Wiederherstellungsschlüssel\n"
    "gilt danach nicht mehr.\n"
)


class OperatorError(Exception):
    """A command cannot go on; ``str(error)`` is the German line for the operator."""


def keys_path(data_dir: Path) -> Path:
    return data_dir / identity.CROSS_SIGNING_FILE


def recovery_key_path(data_dir: Path) -> Path:
    return data_dir / RECOVERY_KEY_FILE


async def save_recovery_key(api: MatrixApi, user_id: str, keys: CrossSigningKeys, data_dir: Path) -> Path:
    """Put ``keys`` into a new secret storage key and write its recovery key (0600); the file's path."""
    recovery_key = await identity.store_in_secret_storage(api, user_id, keys)
    path = recovery_key_path(data_dir)
    write_private(path, recovery_key + "\n")
    return path


# -- at every start ----------------------------------------------------------------------


async def ensure_at_start(
    homeserver: str, credentials: Credentials, data_dir: Path, password: str | None
) -> IdentityStatus:
    """:func:`identity.ensure`; when that published our keys, also secret storage and recovery key.

    Never raises for the identity: a bot without one still serves unencrypted rooms and old
    clients, and a failed secret storage only costs the way back on a new machine.
    """
    try:
        async with MatrixApi(homeserver, credentials.access_token) as api:
            status = await identity.ensure(
                api, credentials.user_id, credentials.device_id, keys_path(data_dir), password
            )
            ours = status.problem is None and not status.mismatch
            # Also when an earlier start published the keys but could not store them.
            if status.published or (
                ours and not await identity.secret_storage_holds_keys(api, credentials.user_id)
            ):
                await _store_at_start(api, credentials.user_id, data_dir)
    except IdentityError as error:
        return IdentityStatus(cross_signed=False, master_key=None, problem=str(error))
    except OSError as error:  # the keys file, not the network
        return IdentityStatus(
            cross_signed=False, master_key=None, problem=f"cannot write the keys file: {error}"
        )
    return status


async def _store_at_start(api: MatrixApi, user_id: str, data_dir: Path) -> None:
    try:
        keys = CrossSigningKeys.load(keys_path(data_dir))
        if keys is None:
            return
        path = await save_recovery_key(api, user_id, keys, data_dir)
    except (IdentityError, OSError) as error:
        log.error(
            "could not put the cross-signing keys into secret storage (%s); the bot runs on, "
            "`akbot identity recovery-key` tries again",
            error,
        )
        return
    log.warning(
        "RECOVERY KEY in %s: move it to a safe place outside this machine, then delete the file. "
        "It restores the bot's identity on a new machine (`akbot identity restore --recovery-key-file FILE`)",
        path,
    )


# -- akbot identity … --------------------------------------------------------------------


@dataclass
class _Login:
    credentials: Credentials
    api: MatrixApi
    data_dir: Path

    @property
    def user_id(self) -> str:
        return self.credentials.user_id

    @property
    def device_id(self) -> str:
        return self.credentials.device_id

    @property
    def keys_path(self) -> Path:
        return keys_path(self.data_dir)


@asynccontextmanager
async def _logged_in(settings: Settings, *, with_store: bool) -> AsyncIterator[_Login]:
    """Log in as the bot; with the E2EE store (bot stopped) the device keys get published too."""
    data_dir = settings.bot.data_dir
    session = Session(settings.matrix, data_dir)
    if not with_store:
        stored = Credentials.load(session.credentials_path)
        has_device = stored is not None and (stored.user_id, stored.homeserver) == (
            settings.matrix.user_id,
            settings.matrix.homeserver,
        )
        if not has_device and settings.matrix.access_token is None:
            # A password login would make a new device: that is the bot's own business.
            raise OperatorError(
                f"Noch keine Anmeldung gespeichert ({session.credentials_path} fehlt) – "
                "bitte den Bot einmal starten."
            )
    elif not settings.matrix.encryption:
        raise OperatorError(
            "Verschlüsselung ist aus (matrix.encryption = false): der Bot braucht keine Identität."
        )
    try:
        try:
            credentials = await session.login(with_store=with_store)
        except DataDirLocked:
            raise OperatorError(BOT_RUNNING) from None
        if with_store:
            await _upload_device_keys(session)
        async with MatrixApi(settings.matrix.homeserver, credentials.access_token) as api:
            yield _Login(credentials, api, data_dir)
    finally:
        await session.close()


async def _upload_device_keys(session: Session) -> None:
    client = session.client
    if client.olm is None or not client.should_upload_keys:
        return
    response = await client.keys_upload()
    session.raise_for_token(response)
    if not isinstance(response, KeysUploadResponse):
        raise OperatorError(f"Geräteschlüssel nicht hochgeladen: {response}")


def _read_secret(path: str, option: str) -> str:
    try:
        value = Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ConfigError(f"{option} {path!r} cannot be read: {error.strerror}") from None
    if not value:
        raise ConfigError(f"{option} {path!r} is empty")
    return value


def _password(settings: Settings, password_file: str | None) -> str:
    if password_file is not None:
        return _read_secret(password_file, "--password-file")
    if settings.matrix.password is not None:
        return settings.matrix.password.get_secret_value()
    raise OperatorError("Kein Passwort: bitte --password-file DATEI angeben (oder [matrix] password setzen).")


async def _run(out: TextIO, command: Callable[[], Awaitable[int]]) -> int:
    """The command's exit code; the reason for a failure as one line."""
    try:
        return await command()
    except OperatorError as error:
        out.write(f"{error}\n")
    except (IdentityError, FatalMatrixError) as error:
        out.write(f"FEHLER {error}\n")
    except (aiohttp.ClientError, TimeoutError, ConnectionError) as error:
        out.write(f"FEHLER Homeserver nicht erreichbar: {error}\n")
    except OSError as error:  # the data dir, a key file
        out.write(f"FEHLER {error}\n")
    return 1


def _yes(value: bool) -> str:
    return "ja" if value else "nein"


async def _store_and_tell(login: _Login, keys: CrossSigningKeys, out: TextIO) -> None:
    path = await save_recovery_key(login.api, login.user_id, keys, login.data_dir)
    out.write(f"Wiederherstellungsschlüssel in {path} – {KEEP_SAFE}\n")


def _load_keys(path: Path) -> CrossSigningKeys:
    keys = CrossSigningKeys.load(path)
    if keys is None:
        raise OperatorError(f"FEHLER {path} fehlt – die Identität holt `akbot identity restore` zurück.")
    return keys


async def status(settings: Settings, out: TextIO) -> int:
    """``akbot identity status``: what the server shows, compared with ``data_dir``; changes nothing."""

    async def command() -> int:
        async with _logged_in(settings, with_store=False) as login:
            keys = CrossSigningKeys.load(login.keys_path)
            state = await identity.inspect(login.api, login.user_id, login.device_id, login.keys_path)
            out.write(f"Konto {login.user_id}, Gerät {login.device_id}\n")
            published = state.master_key is not None
            out.write(f"Hauptschlüssel veröffentlicht: {_yes(published)}")
            out.write(f" ({state.master_key})\n" if published else "\n")
            if published and keys is None:
                out.write(f"Hauptschlüssel gehört dem Bot: unbekannt ({login.keys_path} fehlt)\n")
            elif published and keys is not None:
                ours = keys.master_public == state.master_key
                detail = "" if ours else f" (cross-signing.json hat {keys.master_public})"
                out.write(f"Hauptschlüssel gehört dem Bot: {_yes(ours)}{detail}\n")
            out.write(f"Gerät quer-signiert: {_yes(state.cross_signed)}\n")
            out.write(f"Schlüsselspeicher enthält die Schlüssel: {await _stored(login, keys)}\n")
            if state.problem is not None:
                out.write(f"Problem: {state.problem}\n")
            if recovery_key_path(login.data_dir).exists():
                out.write(f"Hinweis: {recovery_key_path(login.data_dir)} – {KEEP_SAFE}\n")
            return 0 if state.problem is None else 1

    return await _run(out, command)


async def _stored(login: _Login, keys: CrossSigningKeys | None) -> str:
    """ja/nein, checked against recovery-key.txt when that still lies in data_dir."""
    if not await identity.secret_storage_holds_keys(login.api, login.user_id):
        return "nein (`akbot identity recovery-key` legt sie ab)" if keys is not None else "nein"
    path = recovery_key_path(login.data_dir)
    if keys is None or not path.exists():
        return "ja"
    try:
        stored = await identity.keys_from_secret_storage(login.api, login.user_id, path.read_text("utf-8"))
    except IdentityError as error:
        return f"ja, aber {path.name} öffnet ihn nicht ({error})"
    if stored != keys:
        return f"ja, aber andere als in {login.keys_path.name}"
    return f"ja (mit {path.name} geprüft)"


async def setup(settings: Settings, password_file: str | None, out: TextIO) -> int:
    """``akbot identity setup``: publish the identity with the account password (token-only configs)."""

    async def command() -> int:
        password = _password(settings, password_file)
        async with _logged_in(settings, with_store=True) as login:
            state = await identity.ensure(
                login.api, login.user_id, login.device_id, login.keys_path, password
            )
            keys = CrossSigningKeys.load(login.keys_path)
            ours = keys is not None and state.master_key == keys.master_public
            if ours and state.published:
                out.write(f"Identität veröffentlicht: Hauptschlüssel {state.master_key}\n")
            elif ours:
                out.write(f"Identität war schon eingerichtet: Hauptschlüssel {state.master_key}\n")
            out.write(f"Gerät quer-signiert: {_yes(state.cross_signed)}\n")
            if keys is not None and ours:
                holds = await identity.secret_storage_holds_keys(login.api, login.user_id)
                if state.published or not holds:
                    await _store_and_tell(login, keys, out)
            if state.problem is not None:
                out.write(f"FEHLER {state.problem}\n")
                return 1
            return 0

    return await _run(out, command)


async def reset(settings: Settings, password_file: str | None, yes: bool, out: TextIO, stdin: TextIO) -> int:
    """``akbot identity reset``: new keys replace the published identity, after a warning."""

    async def command() -> int:
        password = _password(settings, password_file)
        if not yes and not stdin.isatty():
            out.write(RESET_WARNING)
            raise OperatorError("Abgebrochen: ohne Terminal nur mit --yes. Nichts geändert.")
        async with _logged_in(settings, with_store=True) as login:
            if not yes:
                out.write(RESET_WARNING)
                out.write("Zum Fortfahren „ja“ eingeben: ")
                out.flush()
                if stdin.readline().strip().lower() != "ja":
                    raise OperatorError("Abgebrochen. Nichts geändert.")
            state = await identity.reset(login.api, login.user_id, login.device_id, login.keys_path, password)
            out.write(f"Identität ersetzt: neuer Hauptschlüssel {state.master_key}\n")
            out.write(f"Gerät quer-signiert: {_yes(state.cross_signed)}\n")
            await _store_and_tell(login, _load_keys(login.keys_path), out)
            if state.problem is not None:
                out.write(f"FEHLER {state.problem}\n")
                return 1
            return 0

    return await _run(out, command)


async def restore(settings: Settings, recovery_key_file: str, out: TextIO) -> int:
    """``akbot identity restore``: take the identity over from secret storage (a new machine)."""

    async def command() -> int:
        path = keys_path(settings.bot.data_dir)
        if path.exists():
            raise OperatorError(
                f"{path} existiert schon – bitte verschieben Sie die Datei zuerst "
                "(z. B. nach cross-signing.json.alt); restore überschreibt sie nicht."
            )
        recovery_key = _read_secret(recovery_key_file, "--recovery-key-file")
        try:
            secret_storage.decode_recovery_key(recovery_key)  # a typo shows before any login
        except SecretStorageError as error:
            raise OperatorError(f"FEHLER {recovery_key_file}: {error}") from None
        async with _logged_in(settings, with_store=True) as login:
            state = await identity.restore_from_secret_storage(
                login.api, login.user_id, login.device_id, recovery_key, login.keys_path
            )
            if state.mismatch:
                out.write(f"FEHLER {state.problem}\n")
                return 1
            out.write(f"Identität übernommen: Hauptschlüssel {state.master_key}\n")
            out.write(f"Gerät {login.device_id} quer-signiert: {_yes(state.cross_signed)}\n")
            if state.problem is not None:
                out.write(f"FEHLER {state.problem}\n")
                return 1
            return 0

    return await _run(out, command)


async def new_recovery_key(settings: Settings, out: TextIO) -> int:
    """``akbot identity recovery-key``: the keys into a new secret storage key, its recovery key in a file."""

    async def command() -> int:
        keys = _load_keys(keys_path(settings.bot.data_dir))
        async with _logged_in(settings, with_store=False) as login:
            state = await identity.inspect(login.api, login.user_id, login.device_id, login.keys_path)
            if state.master_key != keys.master_public:
                raise OperatorError(
                    "FEHLER cross-signing.json ist nicht die veröffentlichte Identität – nichts gespeichert. "
                    f"{state.problem}"
                )
            await _store_and_tell(login, keys, out)
            out.write("Der bisherige Wiederherstellungsschlüssel öffnet die Schlüssel nicht mehr.\n")
            return 0

    return await _run(out, command)
