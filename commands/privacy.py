"""!datenschutz, !meinedaten, !vergessen, !audit — what is stored, a member's copy, forgetting, the log."""

from __future__ import annotations

from bot.i18n import format_duration
from bot.router import Context, Router
from bot.views import file_name
from bot.views import privacy as views

router = Router("privacy")


@router.command("datenschutz", alias="privacy")
async def privacy(ctx: Context) -> None:
    retention = ctx.services.privacy.retention
    await ctx.say(
        "privacy.notice",
        retention=format_duration(ctx.lang, retention.total_seconds()),
        mydata=ctx.spell("mydata"),
        forget=ctx.spell("forget"),
    )


@router.command("meinedaten", alias="mydata")
async def my_data(ctx: Context) -> None:
    data = ctx.services.privacy.export_json(ctx.sender)
    ctx.services.runtime.send_privately(ctx.sender, file_name(ctx.lang, "my_data"), data, "application/json")
    await ctx.say("privacy.sent_privately")


forget = router.group("vergessen", alias="forget")


@forget.default
async def ask_to_forget(ctx: Context) -> None:
    ctx.services.privacy.ask_to_forget(ctx.sender)
    await ctx.say("privacy.confirm_forget", command=ctx.spell("forget confirm"))


@forget.command("bestätigen", alias="confirm")
async def confirm_forget(ctx: Context) -> None:
    counts = ctx.services.privacy.confirm_forget(ctx.sender, ctx.room_id)
    await ctx.say(
        "privacy.forgotten",
        reminders=counts["reminders"],
        votes=counts["votes"],
        items=counts["agenda_items"],
    )


@router.command("audit", alias="audit", chair=True)
async def audit(ctx: Context) -> None:
    # Who did what is for the chair (and the data-protection officer), not for the shared room.
    ctx.services.runtime.tell_privately(
        ctx.sender, views.audit_log(ctx.services.audit.recent(ctx.room_id), ctx.lang)
    )
    await ctx.say("audit.sent_privately")
