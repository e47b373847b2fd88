"""Command families, one module each; what several of them need is here."""

from __future__ import annotations

import time

from bot.router import Context
from bot.services.minutes import Said


def said(ctx: Context) -> Said:
    """The command's provenance for what the minutes record: who, which event, and when it was
    written (its server time, so a command whose keys came late is filed where it was written)."""
    at = ctx.sent_at_ms / 1000 if ctx.sent_at_ms else time.time()
    return Said(ctx.sender, ctx.services.runtime.display_name(ctx.room_id, ctx.sender), ctx.event_id, at)
