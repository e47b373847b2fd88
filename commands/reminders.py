"""!erinnerung, !erinnerung raum, !erinnerung löschen, !erinnerungen."""

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
    service = ctx.services.reminders
    return parse_when(when_text, now=service.now(), tz=service.tz, lang=ctx.lang), text.strip()


@reminder.default
async def personal(ctx: Context, when_text: Rest) -> None:
    example = ctx.spell("remind", ctx.t("reminder.example_personal"))
    when, text = split_time_and_text(ctx, when_text, example)
    found = ctx.services.reminders.create(ctx.room_id, ctx.sender, when, text, kind="personal")
    delete = ctx.spell("remind delete", str(found.id))
    await ctx.reply(views.confirmation(found, when, ctx.lang, room=False, delete=delete))


@reminder.command("raum", alias="room")
async def room(ctx: Context, when_text: Rest) -> None:
    example = ctx.spell("remind room", ctx.t("reminder.example_room"))
    when, text = split_time_and_text(ctx, when_text, example)
    found = ctx.services.reminders.create(
        ctx.room_id, ctx.sender, when, text, kind="room", mention_room=ctx.is_chair
    )
    delete = ctx.spell("remind delete", str(found.id))
    await ctx.reply(views.room_confirmation(found, when, ctx.lang, delete=delete, pings_room=ctx.is_chair))


@reminder.command("löschen", alias="delete")
async def delete(ctx: Context, id: int) -> None:
    found = ctx.services.reminders.delete(ctx.room_id, id, ctx.sender, is_chair=ctx.is_chair)
    await ctx.say("reminder.deleted", id=found.id, text=found.text)


@router.command("erinnerungen", alias="reminders")
async def list_reminders(ctx: Context) -> None:
    found = ctx.services.reminders.list_for(ctx.room_id, ctx.sender, everyone=ctx.is_chair)
    await ctx.reply(views.listing(found, ctx.lang, chair=ctx.is_chair))
