"""The embedded Synapse starts, registers users idempotently and survives a restart."""

from __future__ import annotations

from pathlib import Path

import httpx

from bot.homeserver import EmbeddedHomeserver


def _whoami(hs: EmbeddedHomeserver, token: str) -> str:
    resp = httpx.get(
        f"{hs.url}/_matrix/client/v3/account/whoami",
        headers={"Authorization": f"Bearer {token}"},
        trust_env=False,
    )
    resp.raise_for_status()
    user_id: str = resp.json()["user_id"]
    return user_id


def test_start_register_login_restart(tmp_path: Path) -> None:
    root = tmp_path / "hs"
    hs = EmbeddedHomeserver(root)
    try:
        hs.start()
        assert hs.is_running()
        url = hs.url

        mxid = hs.register("alice", "secret-pw", admin=True)
        assert mxid == "@alice:localhost"
        assert hs.register("alice", "secret-pw", admin=True) == mxid  # idempotent

        token = hs.login("alice", "secret-pw")
        assert _whoami(hs, token) == mxid

        hs.stop()
        assert not hs.is_running()
        hs.stop()  # idempotent
    finally:
        hs.stop()

    # A fresh manager on the same folder reuses port, secret, database and users.
    again = EmbeddedHomeserver(root)
    with again:
        assert again.url == url
        assert again.register("alice", "secret-pw") == mxid
        assert _whoami(again, again.login("alice", "secret-pw")) == mxid
    assert not again.is_running()
