"""!ping, !status, !sprache — the bot about itself."""

from __future__ import annotations

import time
from typing import Literal

from bot.i18n import format_number
from bot.router import Context, Router
from bot.services import status_report
from bot.views import admin as views

router = Router("admin")


@router.command("ping", alias="ping")
async def ping(ctx: Context) -> None:
    elapsed_ms = (time.monotonic() - ctx.received_at) * 1000
    await ctx.say("ping.pong", ms=format_number(ctx.lang, elapsed_ms))


@router.command("status", alias="status")
async def status(ctx: Context) -> None:
    await ctx.reply(views.status(await status_report(ctx.services), ctx.lang, chair=ctx.is_chair))


@router.command("sprache", alias="language", chair=False)
async def language(ctx: Context, language_code: Literal["de", "en"] | None = None) -> None:
    rooms = ctx.services.rooms
    if language_code is None:
        await ctx.say("language.current", command=ctx.spell("language", "de|en"))
        return
    if not ctx.is_chair:
        await ctx.say("chair_only")
        return
    rooms.set_language(ctx.room_id, language_code)
    ctx.lang = language_code
    await ctx.say("language.set")
