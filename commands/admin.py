"""!ping, !status, !sprache — the bot about itself."""

from __future__ import annotations

import time
from typing import Literal

from bot.i18n import format_duration, format_number
from bot.render import Markdown, code, join
from bot.router import Context, Router

router = Router("admin")


@router.command("ping", alias="ping")
async def ping(ctx: Context) -> None:
    elapsed_ms = (time.monotonic() - ctx.received_at) * 1000
    await ctx.say("ping.pong", ms=format_number(ctx.lang, elapsed_ms))


@router.command("status", alias="status")
async def status(ctx: Context) -> None:
    runtime = ctx.services.runtime
    url, reachable = await runtime.model_endpoint()
    if url is None:
        model = ctx.t("status.model_off")
    else:
        model = ctx.t("status.model_ok" if reachable else "status.model_down", url=url)
    rows = [
        (ctx.t("status.version"), code(runtime.version)),
        (ctx.t("status.uptime"), format_duration(ctx.lang, runtime.uptime_seconds())),
        (ctx.t("status.encryption"), ctx.t("status.on" if runtime.encryption else "status.off")),
        (ctx.t("status.cross_signed"), ctx.t(_cross_signed_key(runtime.encryption, runtime.cross_signed))),
        (ctx.t("status.rooms"), Markdown(str(len(runtime.served_rooms())))),
        (ctx.t("status.jobs"), Markdown(str(runtime.scheduled_jobs()))),
        (ctx.t("status.model"), model),
    ]
    if ctx.services.llm.enabled:
        questions, tokens = ctx.services.llm.stats()
        rows.append((ctx.t("status.questions"), Markdown(f"{questions} ({tokens} Tokens)")))
    lines = [ctx.t("status.title")] + [Markdown(f"- {label}: {value}") for label, value in rows]
    await ctx.reply(join(lines))


@router.command("sprache", alias="language", chair=False)
async def language(ctx: Context, language_code: Literal["de", "en"] | None = None) -> None:
    rooms = ctx.services.rooms
    if language_code is None:
        current = rooms.language(ctx.room_id)
        other = "language" if current == "en" else "sprache"
        await ctx.say("language.current", command=code(f"{ctx.prefix}{other} de|en"))
        return
    if not ctx.is_chair:
        await ctx.say("chair_only")
        return
    rooms.set_language(ctx.room_id, language_code)
    ctx.lang = language_code
    await ctx.say("language.set")


def _cross_signed_key(encryption: bool, cross_signed: bool) -> str:
    if not encryption:
        return "status.cross_signed_unused"  # no keys without encryption: "no" would alarm for nothing
    return "status.yes" if cross_signed else "status.no"
