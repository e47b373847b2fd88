"""What the bot answers itself when asked through the model's command."""

from __future__ import annotations

from datetime import datetime

from bot.i18n import t
from bot.render import Markdown
from bot.timeparse import format_datetime


def clock(now: datetime, lang: str) -> Markdown:
    """ "Es ist Mo., 07.12.2026, 12:15 Uhr (Europe/Berlin) – nach der Uhr des Bots, nicht vom Modell"."""
    minute = now.replace(second=0, microsecond=0)  # as a clock on the wall shows it
    return t(lang, "llm.clock", now=format_datetime(minute, lang), zone=str(now.tzinfo))
