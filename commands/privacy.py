"""!datenschutz, !meinedaten, !vergessen, !audit — what is stored, a member's copy, forgetting, the log."""

from __future__ import annotations

from bot.errors import UserError
from bot.i18n import format_duration
from bot.render import Markdown, code, escape, join
from bot.router import Context, Router, Text
from bot.services.privacy import FORMER_MEMBER
from bot.timeparse import format_datetime

router = Router("privacy")


@router.command(
    "datenschutz",
    alias="privacy",
    help=Text(
        de="Was der Bot speichert, wo und wie lange.",
        en="What the bot stores, where, and for how long.",
    ),
)
async def privacy(ctx: Context) -> None:
    retention = ctx.services.privacy.retention
    await ctx.say(
        "privacy.notice",
        retention=format_duration(ctx.lang, retention.total_seconds()),
        mydata=code(f"{ctx.prefix}{'mydata' if ctx.lang == 'en' else 'meinedaten'}"),
        forget=code(f"{ctx.prefix}{'forget' if ctx.lang == 'en' else 'vergessen'}"),
    )


@router.command(
    "meinedaten",
    alias="mydata",
    help=Text(
        de="Schickt Ihnen Ihre gespeicherten Daten als JSON-Datei in einen direkten Raum.",
        en="Sends you your stored data as a JSON file in a direct room.",
    ),
)
async def my_data(ctx: Context) -> None:
    data = ctx.services.privacy.export_json(ctx.sender)
    ctx.services.runtime.send_privately(ctx.sender, "meine-daten-akbot.json", data, "application/json")
    await ctx.say("privacy.sent_privately")


forget = router.group(
    "vergessen",
    alias="forget",
    help=Text(
        de="Löscht Ihre Erinnerungen und anonymisiert Ihre Stimmen und TOPs (mit Bestätigung).",
        en="Deletes your reminders and anonymises your votes and agenda items (asks to confirm).",
    ),
)


@forget.default
async def ask_to_forget(ctx: Context) -> None:
    ctx.services.privacy.ask_to_forget(ctx.sender)
    command = "forget confirm" if ctx.lang == "en" else "vergessen bestätigen"
    await ctx.say("privacy.confirm_forget", command=code(f"{ctx.prefix}{command}"))


@forget.command(
    "bestätigen",
    alias="confirm",
    help=Text(de="Bestätigt das Vergessen.", en="Confirms the forgetting."),
)
async def confirm_forget(ctx: Context) -> None:
    service = ctx.services.privacy
    if not service.confirmed(ctx.sender):
        raise UserError("privacy.nothing_to_confirm")
    counts = service.forget(ctx.sender)
    summary = ", ".join(f"{kind}={count}" for kind, count in counts.items())
    ctx.services.audit.record(ctx.room_id, FORMER_MEMBER, "vergessen", summary)
    await ctx.say(
        "privacy.forgotten",
        reminders=counts["reminders"],
        votes=counts["votes"],
        items=counts["agenda_items"],
    )


@router.command(
    "audit",
    alias="audit",
    chair=True,
    help=Text(
        de="Die letzten 20 Aktionen des Vorsitzes (und Löschwünsche) in diesem Raum.",
        en="The last 20 chair actions (and forget requests) in this room.",
    ),
)
async def audit(ctx: Context) -> None:
    entries = ctx.services.audit.recent(ctx.room_id)
    if not entries:
        await ctx.say("audit.empty")
        return
    lines = [ctx.t("audit.title")]
    for entry in entries:
        detail = f" – {escape(entry.detail)}" if entry.detail else ""
        lines.append(
            Markdown(
                f"- {escape(format_datetime(entry.at, ctx.lang))} · {escape(entry.actor)} · {escape(entry.action)}{detail}"
            )
        )
    await ctx.reply(join(lines))
