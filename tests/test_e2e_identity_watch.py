"""The running bot notices when its identity is replaced on the server (a reset from another
machine, or in Element) and says so, instead of claiming to be cross-signed until a restart."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.matrix import identity
from tests.conftest import PASSWORD, World


async def test_a_master_key_replaced_under_the_running_bot_is_noticed(world: World, tmp_path: Path) -> None:
    app = world.bot.app
    assert app is not None
    assert app.adapter.cross_signed
    assert "Gerät quer-signiert: ja" in await world.ask(world.member, "!status")
    # Someone resets the bot account's identity on another device, with the account password.
    localpart = world.bot_id.split(":")[0].lstrip("@")
    token = await asyncio.to_thread(world.homeserver.login, localpart, PASSWORD)
    async with identity.MatrixApi(world.homeserver.url, token) as api:
        status, who = await api.request("GET", "/_matrix/client/v3/account/whoami")
        assert status == 200
        await identity.reset(
            api, world.bot_id, who["device_id"], tmp_path / identity.CROSS_SIGNING_FILE, PASSWORD
        )

    async with asyncio.timeout(60):
        while app.adapter.identity is None or not app.adapter.identity.mismatch:
            await app.adapter.synced.wait()
    assert not app.adapter.cross_signed  # by the new master key, our device is nobody's
    assert "Gerät quer-signiert: nein" in await world.ask(world.member, "!status")


async def test_data_dir_and_e2ee_store_are_for_the_owner_only(world: World) -> None:
    app = world.bot.app
    assert app is not None
    data_dir = app.settings.bot.data_dir
    assert data_dir.stat().st_mode & 0o777 == 0o700
    assert (data_dir / "e2ee-store").stat().st_mode & 0o777 == 0o700
