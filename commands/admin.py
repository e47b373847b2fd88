"""!ping, !status, !sprache — the bot about itself."""

from __future__ import annotations

import time
from typing import Literal

from bot.i18n import format_duration
from bot.render import Markdown, code, join
from bot.router import Context, Router, Text

router = Router("admin")


@router.command(
    "ping",
    alias="ping",
    help=Text(
        de="Prüft, ob der Bot antwortet, und nennt seine Bearbeitungszeit.",
        en="Checks that the bot answers and shows its processing time.",
    ),
)
async def ping(ctx: Context) -> None:
    elapsed_ms = (time.monotonic() - ctx.received_at) * 1000
    await ctx.say("ping.pong", ms=f"{elapsed_ms:.1f}")


@router.command(
    "status",
    alias="status",
    help=Text(
        de="Version, Laufzeit, Verschlüsselung, betreute Räume, geplante Aufgaben und Sprachmodell.",
        en="Version, uptime, encryption, rooms served, scheduled jobs and language model.",
    ),
)
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
        (ctx.t("status.cross_signed"), ctx.t("status.yes" if runtime.cross_signed else "status.no")),
        (ctx.t("status.rooms"), Markdown(str(len(runtime.served_rooms())))),
        (ctx.t("status.jobs"), Markdown(str(runtime.scheduled_jobs()))),
        (ctx.t("status.model"), model),
    ]
    if ctx.services.llm.enabled:
        questions, tokens = ctx.services.llm.stats()
        rows.append((ctx.t("status.questions"), Markdown(f"{questions} ({tokens} Tokens)")))
    lines = [ctx.t("status.title")] + [Markdown(f"- {label}: {value}") for label, value in rows]
    await ctx.reply(join(lines))


@router.command(
    "sprache",
    alias="language",
    usage="[de|en]",
    chair=False,
    help=Text(
        de="Zeigt die Sprache des Raums; der Vorsitz stellt sie mit de oder en um.",
        en="Shows the room's language; the chair switches it with de or en.",
    ),
)
async def language(ctx: Context, sprache: Literal["de", "en"] | None = None) -> None:
    rooms = ctx.services.rooms
    if sprache is None:
        current = rooms.language(ctx.room_id)
        other = "language" if current == "en" else "sprache"
        await ctx.say("language.current", command=code(f"{ctx.prefix}{other} de|en"))
        return
    if not ctx.is_chair:
        await ctx.say("chair_only")
        return
    rooms.set_language(ctx.room_id, sprache)
    ctx.lang = sprache
    await ctx.say("language.set")
