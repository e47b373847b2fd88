"""Restarts, outages of the bot, rate limits and a revoked token — against the real Synapse."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.homeserver import EmbeddedHomeserver
from bot.storage import KeyValue, open_db
from tests.conftest import PASSWORD, admin_api, build_world, close_world


def write_config(folder: Path, homeserver: EmbeddedHomeserver, bot_id: str, rooms: str = "[]") -> Path:
    """A config file as an operator writes it, for the bot run as a separate process."""
    config = folder / "config.toml"
    config.write_text(
        f'[matrix]\nhomeserver = "{homeserver.url}"\nuser_id = "{bot_id}"\npassword = "{PASSWORD}"\n'
        f'rooms = {rooms}\npickle_key = "test-pickle-key-0123456789"\n[bot]\ndata_dir = "data"\n'
    )
    return config


async def test_restart_answers_every_command_exactly_once(
    homeserver: EmbeddedHomeserver, tmp_path: Path
) -> None:
    world = await build_world(homeserver, tmp_path)
    try:
        app = world.bot.app
        assert app is not None
        token_before = KeyValue(app.db).get("sync.next_batch")
        answered = []
        for _ in range(3):
            event_id = await world.member.send(world.room_id, "!ping")
            await world.member.reply_to(event_id, world.bot_id)
            answered.append(event_id)
        await world.bot.stop()

        # As if the bot had crashed after answering but before saving its sync position:
        # the homeserver hands it the three commands again.
        db = open_db(world.bot.settings.bot.data_dir)
        KeyValue(db).set("sync.next_batch", token_before or "")
        db.close()
        while_down = await world.member.send(world.room_id, "!ping")

        await world.bot.start()
        await world.member.reply_to(while_down, world.bot_id, timeout=30)
        # The bot answers in order; once this fresh command is answered, replays would be visible.
        await world.ask(world.member, "!ping")
        for event_id in answered:
            assert len(world.member.replies_to(event_id, world.bot_id)) == 1
        assert len(world.member.replies_to(while_down, world.bot_id)) == 1
    finally:
        await close_world(world)


async def test_rate_limited_bot_still_delivers_every_reply(
    homeserver: EmbeddedHomeserver, admin_token: str, tmp_path: Path
) -> None:
    world = await build_world(homeserver, tmp_path)
    limit_url = f"/_synapse/admin/v1/users/{world.bot_id}/override_ratelimit"
    with admin_api(homeserver, admin_token) as admin:
        admin.post(limit_url, json={"messages_per_second": 1, "burst_count": 1}).raise_for_status()
    try:
        commands = [await world.member.send(world.room_id, "!ping") for _ in range(5)]
        for event_id in commands:
            await world.member.reply_to(event_id, world.bot_id, timeout=30)
        assert all(len(world.member.replies_to(e, world.bot_id)) == 1 for e in commands)
    finally:
        with admin_api(homeserver, admin_token) as admin:
            admin.delete(limit_url)
        await close_world(world)


async def test_first_start_ignores_room_history(homeserver: EmbeddedHomeserver, tmp_path: Path) -> None:
    # The bot account is already in a room (say, joined by hand) when akbot starts the first time.
    world = await build_world(homeserver, tmp_path)
    await world.bot.stop()
    try:
        late_bot = homeserver.register("akbot-spaet", PASSWORD)
        token = homeserver.login("akbot-spaet", PASSWORD)
        plain_room = await world.chair.create_room(
            "Unverschlüsselt", invite=[late_bot, world.member.user_id], encrypted=False
        )
        await world.member.join(plain_room)
        with httpx.Client(
            base_url=homeserver.url, headers={"Authorization": f"Bearer {token}"}, trust_env=False
        ) as raw:
            raw.post(f"/_matrix/client/v3/join/{plain_room}", json={}).raise_for_status()
        old_command = await world.member.send(plain_room, "!ping")

        world.bot.settings.matrix.user_id = late_bot
        world.bot.settings.matrix.rooms = [plain_room]
        world.bot.settings.bot.data_dir = tmp_path / "late-bot"
        await world.bot.start()
        fresh = await world.member.send(plain_room, "!ping")
        await world.member.reply_to(fresh, late_bot)
        assert world.member.replies_to(old_command, late_bot) == []
    finally:
        await close_world(world)


def test_revoked_token_ends_the_bot_with_a_clear_line_and_exit_code(
    homeserver: EmbeddedHomeserver, admin_token: str, tmp_path: Path
) -> None:
    bot_id = homeserver.register("akbot-widerruf", PASSWORD)
    config = write_config(tmp_path, homeserver, bot_id)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines: list[str] = []
        assert process.stderr is not None
        while not any("serving" in line for line in lines):
            line = process.stderr.readline()
            assert line, "".join(lines)
            lines.append(line)
        with admin_api(homeserver, admin_token) as admin:
            devices = admin.get(f"/_synapse/admin/v2/users/{bot_id}/devices").json()["devices"]
            for device in devices:
                admin.delete(
                    f"/_synapse/admin/v2/users/{bot_id}/devices/{device['device_id']}"
                ).raise_for_status()
        try:
            _, rest = process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            # Still running: have it log where each task waits, then fail with all it said.
            process.send_signal(signal.SIGUSR1)
            time.sleep(1)
            process.kill()
            _, rest = process.communicate()
            pytest.fail("the bot did not stop after its token was revoked:\n" + "".join(lines) + rest)
    finally:
        if process.poll() is None:
            process.kill()
    output = "".join(lines) + rest
    assert process.returncode == 1
    # At once: the first refusal ends it, nothing is tried again with the dead token.
    assert "retrying" not in rest and "trying again" not in rest, rest
    assert "no longer accepts the bot's access token (M_UNKNOWN_TOKEN)" in output
    assert "Traceback" not in output


class LogSeen(logging.Handler):
    """Sets ``seen`` once ``times`` log records containing one of ``texts`` have arrived."""

    def __init__(self, *texts: str, times: int = 1) -> None:
        super().__init__(logging.DEBUG)
        self.texts = texts
        self.times = times
        self.count = 0
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if any(text in record.getMessage() for text in self.texts):
            self.count += 1
            if self.count >= self.times:
                self.seen.set()


async def test_bot_recovers_by_itself_when_the_homeserver_was_away(
    homeserver: EmbeddedHomeserver, tmp_path: Path
) -> None:
    world = await build_world(homeserver, tmp_path)
    # Away for as long as it takes the bot to notice and to fail once more on its own: a failed
    # sync, then a failed retry.
    failing = LogSeen("sync failed", "sync error", times=2)
    logging.getLogger("bot.matrix").addHandler(failing)
    try:
        try:
            await asyncio.to_thread(homeserver.stop)
            await asyncio.wait_for(failing.seen.wait(), 30)
        finally:
            logging.getLogger("bot.matrix").removeHandler(failing)
            await asyncio.to_thread(homeserver.start)
        body = await world.ask(world.member, "!ping", timeout=45)
        assert body.startswith("pong")
        assert world.bot.task is not None and not world.bot.task.done()
    finally:
        await close_world(world)


def test_check_reports_login_rooms_and_encryption(homeserver: EmbeddedHomeserver, tmp_path: Path) -> None:
    bot_id = homeserver.register("akbot-check", PASSWORD)
    config = write_config(tmp_path, homeserver, bot_id, rooms='["#gibt-es-nicht:localhost"]')
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"OK   Anmeldung am Homeserver {homeserver.url} als {bot_id}" in result.stdout
    assert "Raum #gibt-es-nicht:localhost: NICHT beigetreten" in result.stdout
    assert "OK   Sprachmodell: nicht eingerichtet" in result.stdout
    # Never started: the identity is published at the first start, which check does not do.
    assert "OK   Gerät quer-signiert: noch nicht – the homeserver publishes no cross-signing" in result.stdout

    wrong = config.read_text().replace(f'password = "{PASSWORD}"', 'password = "falsch"')
    config.write_text(wrong)
    (tmp_path / "data" / "credentials.json").unlink()
    failed = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode == 1
    assert "FEHLER" in failed.stdout and "login as" in failed.stdout


async def test_bot_waits_for_a_homeserver_that_is_not_up_yet(
    homeserver: EmbeddedHomeserver, tmp_path: Path
) -> None:
    world = await build_world(homeserver, tmp_path)
    try:
        await world.bot.stop()
        await asyncio.to_thread(homeserver.stop)
        retrying = LogSeen("not reachable", "sync failed")
        logging.getLogger("bot.matrix").addHandler(retrying)
        try:
            starting = asyncio.create_task(world.bot.start())
            await asyncio.wait_for(retrying.seen.wait(), 30)  # it is waiting, not giving up
        finally:
            logging.getLogger("bot.matrix").removeHandler(retrying)
        assert not starting.done()
        await asyncio.to_thread(homeserver.start)
        await asyncio.wait_for(starting, 60)
        assert (await world.ask(world.member, "!ping", timeout=45)).startswith("pong")
    finally:
        await close_world(world)


async def test_command_buried_under_a_long_chat_while_down_is_still_answered(
    homeserver: EmbeddedHomeserver, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.matrix")
    # More events than one sync's timeline holds: the bot has to page back to find the command.
    world = await build_world(homeserver, tmp_path)
    try:
        await world.bot.stop()
        buried = await world.member.send(world.room_id, "!ping")
        for number in range(120):
            await world.chair.send(world.room_id, f"Wortmeldung {number}")
        await world.bot.start()
        reply = await world.member.reply_to(buried, world.bot_id, timeout=45)
        assert reply.body.startswith("pong")
        assert "backfilled" in caplog.text
    finally:
        await close_world(world)


async def test_a_flood_from_one_member_is_held_and_the_others_still_get_answers(
    homeserver: EmbeddedHomeserver, tmp_path: Path
) -> None:
    # The limit of the default (20 in 10 s), over a window no flood takes longer to send than.
    world = await build_world(homeserver, tmp_path, command_rate="20/10min")
    try:
        flood = [await world.member.send(world.room_id, f"!ping {n}") for n in range(50)]
        answer = await world.ask(world.chair, "!ping", timeout=20)
        assert answer.startswith("pong")
        await world.ask(world.power_chair, "!ping")  # after the flood was handled
        replies = [r for e in flood for r in world.member.replies_to(e, world.bot_id)]
        warnings = [r for r in replies if r.body.startswith("Bitte etwas langsamer")]
        assert len(warnings) == 1
        assert len(replies) == 21  # twenty commands inside the limit, then one warning, then silence
    finally:
        await close_world(world)
