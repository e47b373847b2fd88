"""!erinnerung, !erinnerung raum, !erinnerung löschen, !erinnerungen."""

from __future__ import annotations

from bot.errors import UserError
from bot.render import Markdown, code, escape, join
from bot.router import Context, Rest, Router, Text
from bot.services.reminders import Reminder
from bot.timeparse import When, format_datetime, parse_when

router = Router("reminders")

reminder = router.group(
    "erinnerung",
    alias="remind",
    usage=Text(de="<wann>; <Text>", en="<when>; <text>"),
    help=Text(
        de="Erinnert Sie persönlich, z. B. „!erinnerung morgen um 9; Bericht schicken“.",
        en="Reminds you personally, e.g. “!remind tomorrow 9am; send the report”.",
    ),
)


def split_time_and_text(ctx: Context, rest: str, example: str) -> tuple[When, str]:
    """ "<wann>; <Text>" → the parsed time and the text (both required)."""
    when_text, separator, text = rest.partition(";")
    if not separator:
        raise UserError("reminder.need_semicolon", example=code(example))
    if not text.strip():
        raise UserError("reminder.need_text")
    service = ctx.services.reminders
    return parse_when(when_text, now=service.now(), tz=service.tz, lang=ctx.lang), text.strip()


def _confirmation(ctx: Context, found: Reminder, when: When, *, room: bool) -> Markdown:
    key = "reminder.confirm_room" if room else "reminder.confirm"
    key += "_series" if when.rrule else "_once"
    delete = "remind delete" if ctx.lang == "en" else "erinnerung löschen"
    lines = [
        ctx.t(key, when=when.text, text=found.text),
        ctx.t("reminder.id_note", id=found.id, command=code(f"{ctx.prefix}{delete} {found.id}")),
    ]
    return join(lines, "  \n")


@reminder.default
async def personal(ctx: Context, wann_text: Rest) -> None:
    example = (
        "!remind tomorrow 9am; send the report" if ctx.lang == "en" else "!erinnerung morgen um 9; Bericht"
    )
    when, text = split_time_and_text(ctx, wann_text, example)
    found = ctx.services.reminders.create(ctx.room_id, ctx.sender, when, text, kind="personal")
    await ctx.reply(_confirmation(ctx, found, when, room=False))


@reminder.command(
    "raum",
    alias="room",
    usage=Text(de="<wann>; <Text>", en="<when>; <text>"),
    help=Text(
        de="Erinnert den ganzen Raum; beim Vorsitz mit @room-Benachrichtigung.",
        en="Reminds the whole room; with an @room notification when set by the chair.",
    ),
)
async def room(ctx: Context, wann_text: Rest) -> None:
    example = (
        "!remind room friday 10am; agenda"
        if ctx.lang == "en"
        else "!erinnerung raum Freitag 10 Uhr; Tagesordnung"
    )
    when, text = split_time_and_text(ctx, wann_text, example)
    found = ctx.services.reminders.create(
        ctx.room_id, ctx.sender, when, text, kind="room", mention_room=ctx.is_chair
    )
    answer = _confirmation(ctx, found, when, room=True)
    if not ctx.is_chair:
        answer = join([answer, ctx.t("reminder.no_room_ping")], "  \n")
    await ctx.reply(answer)


@reminder.command(
    "löschen",
    alias="delete",
    usage="<id>",
    help=Text(
        de="Löscht eine eigene Erinnerung (der Vorsitz: jede).",
        en="Deletes one of your reminders (the chair: any).",
    ),
)
async def delete(ctx: Context, id: int) -> None:
    found = ctx.services.reminders.delete(ctx.room_id, id, ctx.sender, is_chair=ctx.is_chair)
    await ctx.say("reminder.deleted", id=found.id, text=found.text)


@router.command(
    "erinnerungen",
    alias="reminders",
    help=Text(
        de="Ihre Erinnerungen mit Nummer, nächstem Termin und Wiederholung (der Vorsitz sieht alle im Raum).",
        en="Your reminders with number, next time and repetition (the chair sees all in the room).",
    ),
)
async def list_reminders(ctx: Context) -> None:
    found = ctx.services.reminders.list_for(ctx.room_id, ctx.sender, everyone=ctx.is_chair)
    if not found:
        await ctx.say("reminder.list_empty_room" if ctx.is_chair else "reminder.list_empty_own")
        return
    lines = [ctx.t("reminder.list_room" if ctx.is_chair else "reminder.list_own")]
    for item in found:
        lines.append(Markdown(f"- {describe(ctx, item)}"))
    await ctx.reply(join(lines))


def describe(ctx: Context, item: Reminder) -> Markdown:
    """ "#4 · Mo., 08.06.2025, 09:00 Uhr · jeden Montag, 09:00 Uhr · Text"."""
    assert item.next_at is not None
    parts = [f"#{item.id}", escape(format_datetime(item.next_at, ctx.lang))]
    if item.rrule:
        parts.append(escape(item.describe(ctx.lang)))
    if item.meeting_id is not None:
        kind = {"agenda_deadline": "reminder.kind_agenda_deadline", "agenda_publish": "reminder.kind_agenda"}
        label = ctx.t(kind[item.kind]) + " – " if item.kind in kind else ""
        parts.append(f"{label}{ctx.t('reminder.kind_meeting')} #{item.meeting_id}")
    else:
        if item.kind == "room":
            parts.append(ctx.t("reminder.kind_room"))
        parts.append(escape(item.text))
    if ctx.is_chair and item.meeting_id is None:
        parts.append(escape(item.creator))
    return Markdown(" · ".join(parts))
