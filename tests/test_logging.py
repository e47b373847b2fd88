"""Secrets never reach the log."""

from __future__ import annotations

import logging

from pydantic import SecretStr

from bot.__main__ import RedactTokens
from bot.settings import MatrixSettings


def test_access_tokens_in_urls_are_redacted() -> None:
    record = logging.LogRecord(
        "nio",
        logging.WARNING,
        __file__,
        1,
        "GET %s failed",
        ("https://hs/_matrix/client/v3/sync?access_token=syt_geheim&since=s1",),
        None,
    )

    RedactTokens().filter(record)

    assert (
        record.getMessage() == "GET https://hs/_matrix/client/v3/sync?access_token=<redacted>&since=s1 failed"
    )


def test_settings_never_show_secrets() -> None:
    settings = MatrixSettings(
        homeserver="https://matrix.lvr.de",
        user_id="@akbot:lvr.de",
        password=SecretStr("geheim"),
        pickle_key=SecretStr("schlüssel"),
    )

    assert "geheim" not in repr(settings) and "geheim" not in str(settings.model_dump())
    assert "schlüssel" not in repr(settings)
