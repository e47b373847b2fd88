"""!sitzung (anlegen), !sitzung absagen / verschieben / ics, !sitzungen."""

from __future__ import annotations

from bot.errors import UserError
from bot.render import Markdown, join
from bot.router import Context, Rest, Router
from bot.services.meetings import ICS_MIMETYPE, Meeting, to_ics
from bot.timeparse import format_datetime, parse_when
from bot.views import meetings as views

router = Router("meetings")

meeting = router.group("sitzung", alias="meeting")


def _announce(ctx: Context, key: str, found: Meeting) -> Markdown:
    return views.announcement(found, key, ctx.lang, ctx.services.meetings.reminders_of(found))


async def _send_ics(ctx: Context, found: Meeting) -> None:
    await ctx.upload(views.ics_filename(found, ctx.lang), to_ics(found), ICS_MIMETYPE)


@meeting.default(chair=True)
async def create(ctx: Context, when_title_place: Rest) -> None:
    when_text, separator, rest = when_title_place.partition(";")
    title, _, location = rest.partition(";")
    if not separator or not title.strip():
        raise UserError("meeting.need_title", example=ctx.spell("meeting", ctx.t("meeting.example")))
    service = ctx.services.meetings
    when = parse_when(when_text, now=service.now(), tz=service.tz, lang=ctx.lang)
    found = service.create(ctx.room_id, ctx.sender, when, title.strip(), location.strip() or None)
    await ctx.reply(_announce(ctx, "meeting.created", found))
    await _send_ics(ctx, found)


@meeting.command("verschieben", alias="move", chair=True)
async def move(ctx: Context, id: int, when: Rest) -> None:
    service = ctx.services.meetings
    ctx.services.minutes.ensure_not_running(ctx.room_id, id)
    parsed = parse_when(when, now=service.now(), tz=service.tz, lang=ctx.lang)
    found = service.reschedule(ctx.room_id, id, parsed, by=ctx.sender)
    await ctx.reply(_announce(ctx, "meeting.moved", found))
    await _send_ics(ctx, found)


@meeting.command("absagen", alias="cancel", chair=True)
async def cancel(ctx: Context, id: int) -> None:
    ctx.services.minutes.ensure_not_running(ctx.room_id, id)
    cancellation = ctx.services.meetings.cancel_and_hand_over(ctx.room_id, id, by=ctx.sender)
    found, target = cancellation.meeting, cancellation.handed_to
    await ctx.say(
        "meeting.cancelled", id=found.id, title=found.title, when=format_datetime(found.start, ctx.lang)
    )
    await _send_ics(ctx, found)
    if cancellation.open_items and target is not None:
        when = format_datetime(target.start, ctx.lang)
        await ctx.say("agenda.handed_over", count=cancellation.open_items, meeting=target.id, when=when)
    elif cancellation.open_items:
        await ctx.say("agenda.left_open", count=cancellation.open_items)


@meeting.command("ics", alias="ics")
async def ics(ctx: Context, id: int) -> None:
    await _send_ics(ctx, ctx.services.meetings.get(ctx.room_id, id))


@router.command("sitzungen", alias="meetings")
async def list_meetings(ctx: Context) -> None:
    found = ctx.services.meetings.upcoming(ctx.room_id)
    if not found:
        await ctx.say("meeting.list_empty")
        return
    lines = [ctx.t("meeting.list_title")] + [
        Markdown(f"- {views.describe(item, ctx.lang)}") for item in found
    ]
    await ctx.reply(join(lines))
