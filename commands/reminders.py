"""!erinnerung, !erinnerung raum, !erinnerung löschen, !erinnerungen, !später, !ich auch."""

from __future__ import annotations

from bot.errors import UserError
from bot.render import Markdown
from bot.router import Context, Rest, Router
from bot.timeparse import When, parse_when
from bot.views import reminders as views

router = Router("reminders")

reminder = router.group("erinnerung", alias="remind")


def split_time_and_text(ctx: Context, rest: str, example: Markdown) -> tuple[When, str]:
    """ "<wann>; <Text>" → the parsed time and the text (both required)."""
    when_text, separator, text = rest.partition(";")
    if not separator:
        raise UserError("reminder.need_semicolon", example=example)
    if not text.strip():
        raise UserError("reminder.need_text")
    return parse_time(ctx, when_text), text.strip()


def parse_time(ctx: Context, when_text: str) -> When:
    """A time as the member says it, in the room's time zone."""
    service = ctx.services.reminders
    zone = service.zone_of(ctx.room_id)
    return parse_when(when_text, now=service.now(ctx.room_id), tz=zone, lang=ctx.lang)


@reminder.default
async def personal(ctx: Context, when_text: Rest) -> None:
    example = ctx.spell("remind", ctx.t("reminder.example_personal"))
    when, text = split_time_and_text(ctx, when_text, example)
    found = ctx.services.reminders.create(ctx.room_id, ctx.sender, when, text, kind="personal")
    delete = ctx.spell("remind delete", str(found.id))
    answer = await ctx.reply(views.confirmation(found, when, ctx.lang, room=False, delete=delete))
    ctx.services.reminders.remember_messages(found.id, [ctx.event_id, answer])


@reminder.command("raum", alias="room")
async def room(ctx: Context, when_text: Rest) -> None:
    example = ctx.spell("remind room", ctx.t("reminder.example_room"))
    when, text = split_time_and_text(ctx, when_text, example)
    found = ctx.services.reminders.create(
        ctx.room_id, ctx.sender, when, text, kind="room", mention_room=ctx.is_chair, limited=not ctx.is_chair
    )
    delete = ctx.spell("remind delete", str(found.id))
    answer = await ctx.reply(
        views.room_confirmation(found, when, ctx.lang, delete=delete, pings_room=ctx.is_chair)
    )
    ctx.services.reminders.remember_messages(found.id, [ctx.event_id, answer])


@reminder.command("löschen", alias="delete")
async def delete(ctx: Context, id: int) -> None:
    found = ctx.services.reminders.delete(ctx.room_id, id, ctx.sender, is_chair=ctx.is_chair)
    await ctx.say("reminder.deleted", id=found.id, text=found.text)


@router.command("erinnerungen", alias="reminders")
async def list_reminders(ctx: Context) -> None:
    service = ctx.services.reminders
    found = service.list_for(ctx.room_id, ctx.sender, everyone=ctx.is_chair, limit=views.LISTED)
    total = (
        service.count_for(ctx.room_id, ctx.sender, everyone=ctx.is_chair)
        if len(found) == views.LISTED
        else len(found)
    )
    await ctx.reply(views.listing(found, ctx.lang, chair=ctx.is_chair, total=total))


@router.command("später", alias="snooze")
async def snooze(ctx: Context, when_text: Rest | None = None) -> None:
    text = (when_text or "").strip() or ctx.t("reminder.snooze_default")
    if text[:1].isdigit():
        text = f"{ctx.t('reminder.snooze_in')} {text}"  # "15 min" is "in 15 min"
    when = parse_time(ctx, text)
    found = ctx.services.reminders.snooze(ctx.room_id, ctx.sender, ctx.replied_to, when)
    delete = ctx.spell("remind delete", str(found.id))
    await ctx.reply(views.snoozed(found, when, ctx.lang, delete=delete))


me = router.group("ich", alias="me")


@me.command("auch", alias="too")
async def join(ctx: Context) -> None:
    found = ctx.services.reminders.join(ctx.room_id, ctx.sender, ctx.replied_to)
    await ctx.reply(views.joined(found, ctx.lang))
