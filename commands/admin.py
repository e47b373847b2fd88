"""!ping, !status, !sprache, !zeitzone — the bot about itself and the room's settings."""

from __future__ import annotations

import time
from typing import Literal

from bot.i18n import format_number
from bot.router import Context, Router
from bot.services import status_report
from bot.services.audit import Action
from bot.timeparse import format_datetime
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


@router.command("zeitzone", alias="timezone")
async def timezone(ctx: Context, zone: str | None = None) -> None:
    reminders = ctx.services.reminders
    if zone is None:
        own = ctx.services.rooms.timezone(ctx.room_id)
        default = ctx.t("timezone.is_default") if own is None else ""
        command = ctx.spell("timezone", "Europe/Berlin")
        await ctx.say(
            "timezone.current", zone=str(reminders.zone_of(ctx.room_id)), default=default, command=command
        )
        return
    if not ctx.is_chair:
        await ctx.say("chair_only")
        return
    reset = zone.casefold() in ("standard", "default")
    chosen = ctx.services.rooms.set_timezone(ctx.room_id, None if reset else zone)
    ctx.services.audit.record(
        ctx.room_id, ctx.sender, Action.TIMEZONE_CHANGED, name=str(chosen or reminders.tz)
    )
    now = format_datetime(reminders.now(ctx.room_id), ctx.lang)
    await ctx.say(
        "timezone.set", zone=str(reminders.zone_of(ctx.room_id)), now=now, bot_zone=str(reminders.tz)
    )
