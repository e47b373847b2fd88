"""``akbot identity …`` and the identity lines of ``akbot check``, run as the operator runs them.

Every command is ``python -m bot …`` in a subprocess against the real Synapse; the bot itself
runs in the test's event loop (as in the other end-to-end tests). Whether a device counts as
cross-signed is judged from a /keys/query by another user, the way Element sees it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pty
import stat
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.app import ROUTERS
from bot.homeserver import EmbeddedHomeserver
from bot.matrix.identity import (
    CROSS_SIGNING_FILE,
    CrossSigningKeys,
    MatrixApi,
    device_signed_by_owner,
)
from bot.matrix.operator import BOT_RUNNING, RECOVERY_KEY_FILE
from bot.matrix.secret_storage import encode_recovery_key, generate_key
from bot.matrix.session import Credentials, DataDirLocked, Session
from bot.settings import BotSettings, MatrixSettings, Settings
from tests.conftest import PASSWORD, BotRunner

PROJECT = Path(__file__).resolve().parent.parent
RESET_WARNING = "Alle Mitglieder sehen danach eine geänderte Identität des Bots"


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str

    def line(self, start: str) -> str:
        """The one stdout line that starts with ``start``."""
        (found,) = [line for line in self.stdout.splitlines() if line.startswith(start)]
        return found


async def akbot(*args: str, stdin: int | None = None) -> Result:
    """``python -m bot ARGS`` with no tty on stdin (unless given), as cron or a script runs it."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AKBOT_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT), env.get("PYTHONPATH")]))
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        stdin=stdin if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=90)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode is not None
    result = Result(process.returncode, stdout.decode(), stderr.decode())
    assert "Traceback" not in result.stderr, result.stderr
    return result


@dataclass
class Account:
    """A bot account and the folder of its config files (one per "machine")."""

    homeserver: EmbeddedHomeserver
    localpart: str
    user_id: str
    folder: Path
    url: str = ""
    """Where the bot reaches its homeserver; Synapse itself unless a test puts a proxy between."""

    def __post_init__(self) -> None:
        self.url = self.url or self.homeserver.url

    def config(self, machine: str, *, password: bool = True, access_token: str | None = None) -> Path:
        lines = ["[matrix]", f'homeserver = "{self.url}"', f'user_id = "{self.user_id}"']
        if password:
            lines.append(f'password = "{PASSWORD}"')
        if access_token is not None:
            lines.append(f'access_token = "{access_token}"')
        lines.append('pickle_key = "test-pickle-key-0123456789"')
        lines += ["[bot]", f'data_dir = "{machine}"', ""]
        path = self.folder / f"{machine}.toml"
        path.write_text("\n".join(lines), encoding="utf-8")
        return path

    def data_dir(self, machine: str) -> Path:
        return self.folder / machine

    def keys(self, machine: str) -> CrossSigningKeys:
        keys = CrossSigningKeys.load(self.data_dir(machine) / CROSS_SIGNING_FILE)
        assert keys is not None
        return keys

    def device(self, machine: str) -> str:
        credentials = Credentials.load(self.data_dir(machine) / "credentials.json")
        assert credentials is not None
        return credentials.device_id

    def settings(self, machine: str) -> Settings:
        matrix = MatrixSettings(
            homeserver=self.url,
            user_id=self.user_id,
            password=SecretStr(PASSWORD),
            pickle_key=SecretStr("test-pickle-key-0123456789"),  # as in the config files
        )
        return Settings(matrix=matrix, bot=BotSettings(data_dir=self.data_dir(machine)))

    def secret_file(self, name: str, text: str) -> str:
        path = self.folder / "secrets" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return str(path)


class Observer:
    """Another user of the homeserver, who sees the bot's keys as Element does."""

    def __init__(self, homeserver: EmbeddedHomeserver) -> None:
        localpart = f"beobachter{uuid.uuid4().hex[:8]}"
        homeserver.register(localpart, PASSWORD)
        self.api = MatrixApi(homeserver.url, homeserver.login(localpart, PASSWORD))

    async def query(self, user_id: str) -> dict[str, Any]:
        status, body = await self.api.request(
            "POST", "/_matrix/client/v3/keys/query", {"device_keys": {user_id: []}}
        )
        assert status == 200, body
        return body

    async def master(self, user_id: str) -> str | None:
        key_object = (await self.query(user_id)).get("master_keys", {}).get(user_id)
        if key_object is None:
            return None
        (public,) = key_object["keys"].values()
        return str(public)

    async def signed(self, user_id: str, device_id: str) -> bool:
        return device_signed_by_owner(await self.query(user_id), user_id, device_id)


class FaultyHomeserver:
    """Fault injection between the bot and Synapse; everything else passes through unchanged.

    ``demand_password``: behave as a homeserver without MSC3967, which wants the account
    password (user-interactive auth) for the first upload of cross-signing keys too, where
    Synapse today takes it without. The password is checked by Synapse itself, in a UIA
    session for an operation that changes nothing (deleting no devices).
    ``refuse_secrets``: answer 500 to every write of secret storage account data.
    """

    UPLOAD = "/_matrix/client/v3/keys/device_signing/upload"
    CHECK = "/_matrix/client/v3/delete_devices"

    def __init__(self, upstream: str, *, demand_password: bool = False, refuse_secrets: bool = False) -> None:
        self.upstream = upstream
        self.demand_password = demand_password
        self.refuse_secrets = refuse_secrets
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> str:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        assert site._server is not None and site._server.sockets
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self.url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _handle(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
        if (
            self.refuse_secrets
            and request.method == "PUT"
            and "/account_data/m.secret_storage" in request.path
        ):
            return web.json_response({"errcode": "M_UNKNOWN", "error": "injected fault"}, status=500)
        if self.demand_password and request.method == "POST" and request.path == self.UPLOAD:
            content = json.loads(body or b"{}")
            check: dict[str, Any] = {"devices": []}
            if "auth" in content:
                check["auth"] = content.pop("auth")
            async with self._session.post(self.upstream + self.CHECK, json=check, headers=headers) as answer:
                if answer.status != 200:
                    return web.Response(
                        status=answer.status, body=await answer.read(), content_type="application/json"
                    )
            body = json.dumps(content).encode()
        async with self._session.request(
            request.method, self.upstream + request.path_qs, data=body, headers=headers
        ) as answer:
            payload = await answer.read()
            return web.Response(
                status=answer.status, body=payload, content_type=answer.content_type or "application/json"
            )


@pytest.fixture
def account(homeserver: EmbeddedHomeserver, tmp_path: Path) -> Account:
    localpart = f"akbot{uuid.uuid4().hex[:10]}"
    user_id = homeserver.register(localpart, PASSWORD)
    return Account(homeserver, localpart, user_id, tmp_path)


@pytest.fixture
async def observer(homeserver: EmbeddedHomeserver) -> AsyncIterator[Observer]:
    made = Observer(homeserver)
    yield made
    await made.api.aclose()


def assert_private(path: Path) -> None:
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def recovery_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno == logging.WARNING and "RECOVERY KEY" in r.getMessage()]


async def test_first_start_leaves_a_recovery_key_that_restores_on_a_new_machine(
    account: Account, observer: Observer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    old = account.config("alt")
    bot = BotRunner(account.settings("alt"), ROUTERS)
    await bot.start()
    try:
        recovery_key = account.data_dir("alt") / RECOVERY_KEY_FILE
        assert_private(recovery_key)
        (warning,) = recovery_warnings(caplog)
        assert str(recovery_key) in warning.getMessage()
        assert "safe place outside this machine" in warning.getMessage()
        master = account.keys("alt").master_public
        assert await observer.master(account.user_id) == master

        # status only queries: it runs beside the bot.
        status = await akbot("identity", "status", "--config", str(old))
        assert status.returncode == 0, status
        assert (
            status.line("Hauptschlüssel veröffentlicht:") == f"Hauptschlüssel veröffentlicht: ja ({master})"
        )
        assert status.line("Hauptschlüssel gehört dem Bot:") == "Hauptschlüssel gehört dem Bot: ja"
        assert status.line("Gerät quer-signiert:") == "Gerät quer-signiert: ja"
        assert status.line("Schlüsselspeicher") == (
            "Schlüsselspeicher enthält die Schlüssel: ja (mit recovery-key.txt geprüft)"
        )
        assert "sicheren Ort außerhalb dieses Rechners" in status.line("Hinweis:")

        # Whatever opens the E2EE store refuses while the bot holds it.
        for command in (["setup"], ["reset", "--yes"]):
            refused = await akbot("identity", *command, "--config", str(old))
            assert (refused.returncode, refused.stdout) == (1, BOT_RUNNING + "\n")
        assert await observer.master(account.user_id) == master
    finally:
        await bot.stop()
    # Restarts do not make another recovery key.
    await bot.start()
    await bot.stop()
    assert len(recovery_warnings(caplog)) == 1

    # The operator took the recovery key off the machine; the new machine logs in anew.
    kept = account.secret_file("recovery-key", recovery_key.read_text())
    recovery_key.unlink()
    new = account.config("neu")
    restored = await akbot("identity", "restore", "--recovery-key-file", kept, "--config", str(new))

    assert restored.returncode == 0, restored
    assert restored.line("Identität übernommen:") == f"Identität übernommen: Hauptschlüssel {master}"
    new_device = account.device("neu")
    assert new_device != account.device("alt")
    assert restored.line(f"Gerät {new_device}") == f"Gerät {new_device} quer-signiert: ja"
    assert account.keys("neu") == account.keys("alt")
    assert_private(account.data_dir("neu") / CROSS_SIGNING_FILE)
    assert await observer.master(account.user_id) == master
    assert await observer.signed(account.user_id, new_device)
    assert await observer.signed(account.user_id, account.device("alt"))

    again = await akbot("identity", "restore", "--recovery-key-file", kept, "--config", str(new))
    assert again.returncode == 1
    assert "existiert schon – bitte verschieben Sie die Datei zuerst" in again.stdout


async def test_an_access_token_bot_publishes_its_identity_by_itself(
    account: Account, observer: Observer, homeserver: EmbeddedHomeserver
) -> None:
    # Synapse takes the first upload of cross-signing keys without the password (MSC3967).
    token = homeserver.login(account.localpart, PASSWORD)
    settings = account.settings("bot")
    settings.matrix.password = None
    settings.matrix.access_token = SecretStr(token)
    bot = BotRunner(settings, ROUTERS)
    app = await bot.start()
    try:
        assert app.adapter.cross_signed
        assert_private(account.data_dir("bot") / RECOVERY_KEY_FILE)
        assert await observer.signed(account.user_id, account.device("bot"))
    finally:
        await bot.stop()


@pytest.fixture
async def demanding(homeserver: EmbeddedHomeserver) -> AsyncIterator[FaultyHomeserver]:
    proxy = FaultyHomeserver(homeserver.url, demand_password=True)
    await proxy.start()
    yield proxy
    await proxy.close()


async def test_setup_publishes_the_identity_of_an_access_token_config(
    account: Account,
    observer: Observer,
    homeserver: EmbeddedHomeserver,
    demanding: FaultyHomeserver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    account.url = demanding.url
    token = homeserver.login(account.localpart, PASSWORD)
    config = account.config("bot", password=False, access_token=token)
    settings = account.settings("bot")
    settings.matrix.password = None
    settings.matrix.access_token = SecretStr(token)
    # The first start makes the keys but may not publish them without the password.
    bot = BotRunner(settings, ROUTERS)
    app = await bot.start()
    await bot.stop()
    assert not app.adapter.cross_signed
    assert app.adapter.identity is not None and app.adapter.identity.problem is not None
    assert "akbot identity setup --password-file FILE" in app.adapter.identity.problem
    assert (account.data_dir("bot") / CROSS_SIGNING_FILE).exists()
    assert not (account.data_dir("bot") / RECOVERY_KEY_FILE).exists()
    assert recovery_warnings(caplog) == []

    before = await akbot("identity", "status", "--config", str(config))
    assert before.returncode == 1
    assert before.line("Hauptschlüssel veröffentlicht:") == "Hauptschlüssel veröffentlicht: nein"
    assert before.line("Gerät quer-signiert:") == "Gerät quer-signiert: nein"
    assert before.line("Schlüsselspeicher").startswith("Schlüsselspeicher enthält die Schlüssel: nein")
    assert "akbot identity setup --password-file" in before.line("Problem:")
    check = await akbot("check", "--config", str(config))
    assert check.returncode == 1
    assert "FEHLER Gerät quer-signiert: nein – " in check.stdout

    no_password = await akbot("identity", "setup", "--config", str(config))
    assert (no_password.returncode, no_password.stdout) == (
        1,
        "Kein Passwort: bitte --password-file DATEI angeben (oder [matrix] password setzen).\n",
    )
    wrong = account.secret_file("falsch", "nicht-das-passwort\n")
    refused = await akbot("identity", "setup", "--password-file", wrong, "--config", str(config))
    assert refused.returncode == 1 and "refused the password" in refused.stdout
    assert await observer.master(account.user_id) is None
    missing = await akbot("identity", "setup", "--password-file", "/nirgends", "--config", str(config))
    assert missing.returncode == 2 and "--password-file '/nirgends' cannot be read" in missing.stderr

    password_file = account.secret_file("passwort", PASSWORD + "\n")
    setup = await akbot("identity", "setup", "--password-file", password_file, "--config", str(config))

    assert setup.returncode == 0, setup
    master = account.keys("bot").master_public
    recovery_key = account.data_dir("bot") / RECOVERY_KEY_FILE
    assert setup.stdout == (
        f"Identität veröffentlicht: Hauptschlüssel {master}\n"
        "Gerät quer-signiert: ja\n"
        f"Wiederherstellungsschlüssel in {recovery_key} – bitte an einen sicheren Ort außerhalb "
        "dieses Rechners bringen und die Datei dann löschen.\n"
    )
    assert_private(recovery_key)
    assert await observer.master(account.user_id) == master
    assert await observer.signed(account.user_id, account.device("bot"))

    after = await akbot("identity", "status", "--config", str(config))
    assert after.returncode == 0, after
    assert after.line("Gerät quer-signiert:") == "Gerät quer-signiert: ja"
    assert after.line("Hauptschlüssel gehört dem Bot:") == "Hauptschlüssel gehört dem Bot: ja"
    assert after.line("Schlüsselspeicher").startswith("Schlüsselspeicher enthält die Schlüssel: ja")
    check = await akbot("check", "--config", str(config))
    assert check.returncode == 0, check
    assert "OK   Gerät quer-signiert: ja\n" in check.stdout

    # Once is enough: a second setup changes nothing and makes no new recovery key.
    written = recovery_key.read_text()
    again = await akbot("identity", "setup", "--password-file", password_file, "--config", str(config))
    assert again.returncode == 0
    assert (
        again.stdout
        == f"Identität war schon eingerichtet: Hauptschlüssel {master}\nGerät quer-signiert: ja\n"
    )
    assert recovery_key.read_text() == written
    # The bot finds everything in place.
    app = await bot.start()
    await bot.stop()
    assert app.adapter.cross_signed
    assert recovery_warnings(caplog) == []


async def answer_on_a_tty(answer: str, *args: str) -> Result:
    """Run akbot with a terminal on stdin on which ``answer`` has been typed."""
    main, secondary = pty.openpty()
    try:
        os.write(main, answer.encode() + b"\n")
        return await akbot(*args, stdin=secondary)
    finally:
        os.close(secondary)
        os.close(main)


async def test_reset_replaces_the_identity_only_when_confirmed(account: Account, observer: Observer) -> None:
    config = account.config("bot")
    # With the password in the config, setup is also the first start's identity, without the bot.
    first = await akbot("identity", "setup", "--config", str(config))
    assert first.returncode == 0, first
    old_master = account.keys("bot").master_public
    # A second machine with the old identity (say, a cold standby restored earlier).
    stale = account.config("kopie")
    kept = account.secret_file("recovery-key", (account.data_dir("bot") / RECOVERY_KEY_FILE).read_text())
    assert (
        await akbot("identity", "restore", "--recovery-key-file", kept, "--config", str(stale))
    ).returncode == 0

    no_tty = await akbot("identity", "reset", "--config", str(config))
    assert no_tty.returncode == 1
    assert RESET_WARNING in no_tty.stdout
    assert "Abgebrochen: ohne Terminal nur mit --yes. Nichts geändert." in no_tty.stdout
    declined = await answer_on_a_tty("nein", "identity", "reset", "--config", str(config))
    assert declined.returncode == 1
    assert RESET_WARNING in declined.stdout and "Zum Fortfahren „ja“ eingeben:" in declined.stdout
    assert declined.stdout.endswith("Abgebrochen. Nichts geändert.\n")
    assert await observer.master(account.user_id) == old_master
    assert account.keys("bot").master_public == old_master

    recovery_key = account.data_dir("bot") / RECOVERY_KEY_FILE
    old_recovery_key = recovery_key.read_text()
    confirmed = await answer_on_a_tty("ja", "identity", "reset", "--config", str(config))

    assert confirmed.returncode == 0, confirmed
    new_master = account.keys("bot").master_public
    assert new_master != old_master
    assert (
        f"Identität ersetzt: neuer Hauptschlüssel {new_master}\nGerät quer-signiert: ja\n" in confirmed.stdout
    )
    assert recovery_key.read_text() != old_recovery_key
    assert_private(recovery_key)
    assert await observer.master(account.user_id) == new_master
    assert await observer.signed(account.user_id, account.device("bot"))

    # --yes needs no terminal.
    scripted = await akbot("identity", "reset", "--yes", "--config", str(config))
    assert scripted.returncode == 0, scripted
    assert RESET_WARNING not in scripted.stdout
    newest = account.keys("bot").master_public
    assert newest not in (old_master, new_master)
    assert await observer.master(account.user_id) == newest

    fine = await akbot("check", "--config", str(config))
    assert fine.returncode == 0 and "OK   Gerät quer-signiert: ja\n" in fine.stdout
    mismatch = await akbot("check", "--config", str(stale))
    assert mismatch.returncode == 1
    assert (
        "FEHLER Gerät quer-signiert: nein – der Homeserver zeigt eine andere Identität\n" in mismatch.stdout
    )
    identity_line = next(line for line in mismatch.stdout.splitlines() if "Identität:" in line)
    assert identity_line.startswith(f"FEHLER Identität: der Homeserver zeigt Hauptschlüssel {newest}")
    assert old_master in identity_line
    assert "Mitglieder vertrauen dem Bot so nicht" in identity_line
    assert "`akbot identity reset` ersetzt die Identität (mit Warnung)" in identity_line
    status = await akbot("identity", "status", "--config", str(stale))
    assert status.returncode == 1
    assert status.line("Hauptschlüssel gehört dem Bot:") == (
        f"Hauptschlüssel gehört dem Bot: nein (cross-signing.json hat {old_master})"
    )
    # The stale keys never reach secret storage.
    refused = await akbot("identity", "recovery-key", "--config", str(stale))
    assert refused.returncode == 1
    assert "cross-signing.json ist nicht die veröffentlichte Identität – nichts gespeichert" in refused.stdout


async def test_a_new_recovery_key_restores_and_the_old_one_no_longer_does(
    account: Account, observer: Observer
) -> None:
    config = account.config("bot")
    assert (await akbot("identity", "setup", "--config", str(config))).returncode == 0
    recovery_key = account.data_dir("bot") / RECOVERY_KEY_FILE
    old = account.secret_file("alt", recovery_key.read_text())
    recovery_key.unlink()

    made = await akbot("identity", "recovery-key", "--config", str(config))

    assert made.returncode == 0, made
    assert made.line("Wiederherstellungsschlüssel in") == (
        f"Wiederherstellungsschlüssel in {recovery_key} – bitte an einen sicheren Ort außerhalb "
        "dieses Rechners bringen und die Datei dann löschen."
    )
    assert_private(recovery_key)
    assert recovery_key.read_text() != Path(old).read_text()

    stale = await akbot(
        "identity", "restore", "--recovery-key-file", old, "--config", str(account.config("a"))
    )
    assert stale.returncode == 1 and "wrong recovery key" in stale.stdout
    assert not (account.data_dir("a") / CROSS_SIGNING_FILE).exists()
    restored = await akbot(
        "identity", "restore", "--recovery-key-file", str(recovery_key), "--config", str(account.config("b"))
    )
    assert restored.returncode == 0, restored
    assert account.keys("b") == account.keys("bot")
    assert await observer.signed(account.user_id, account.device("b"))


async def test_the_data_dir_lock_refuses_a_second_store(account: Account) -> None:
    config = account.config("bot")
    holder = Session(account.settings("bot").matrix, account.data_dir("bot"))
    await holder.login(with_store=True)
    try:
        second = Session(account.settings("bot").matrix, account.data_dir("bot"))
        with pytest.raises(DataDirLocked, match="in use by another akbot process"):
            await second.login(with_store=True)
        await second.close()
        # Without the store nothing is locked (akbot check, akbot identity status).
        await second.login(with_store=False)
        await second.close()
        some_key = account.secret_file("recovery-key", encode_recovery_key(generate_key()))
        for command in (["setup"], ["reset", "--yes"], ["restore", "--recovery-key-file", some_key]):
            refused = await akbot("identity", *command, "--config", str(config))
            assert (refused.returncode, refused.stdout) == (1, BOT_RUNNING + "\n"), command
        # A second bot on the same data dir does not start.
        run = await akbot("run", "--config", str(config))
        assert run.returncode == 2 and "is in use by another akbot process" in run.stderr
    finally:
        await holder.close()
    third = Session(account.settings("bot").matrix, account.data_dir("bot"))
    await third.login(with_store=True)
    await third.close()


async def test_a_failed_secret_storage_does_not_stop_the_bot(
    account: Account, homeserver: EmbeddedHomeserver, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = FaultyHomeserver(homeserver.url, refuse_secrets=True)
    account.url = await proxy.start()
    try:
        bot = BotRunner(account.settings("bot"), ROUTERS)
        app = await bot.start()
        await bot.stop()
        assert app.adapter.cross_signed
        assert not (account.data_dir("bot") / RECOVERY_KEY_FILE).exists()
        assert recovery_warnings(caplog) == []
        (error,) = [r for r in caplog.records if "secret storage" in r.getMessage()]
        assert error.levelno == logging.ERROR
        assert "`akbot identity recovery-key` tries again" in error.getMessage()

        # Once the homeserver takes it, the operator makes up for it.
        proxy.refuse_secrets = False
        config = account.config("bot")
        status = await akbot("identity", "status", "--config", str(config))
        assert status.returncode == 0, status
        assert status.line("Schlüsselspeicher") == (
            "Schlüsselspeicher enthält die Schlüssel: nein (`akbot identity recovery-key` legt sie ab)"
        )
        made = await akbot("identity", "recovery-key", "--config", str(config))
        assert made.returncode == 0, made
        assert_private(account.data_dir("bot") / RECOVERY_KEY_FILE)
        status = await akbot("identity", "status", "--config", str(config))
        assert status.line("Schlüsselspeicher") == (
            "Schlüsselspeicher enthält die Schlüssel: ja (mit recovery-key.txt geprüft)"
        )
    finally:
        await proxy.close()
