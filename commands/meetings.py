"""!sitzung (anlegen), !sitzung absagen / verschieben / ics, !sitzungen."""

from __future__ import annotations

from bot.errors import UserError
from bot.render import Markdown, code, join
from bot.router import Context, Rest, Router, Text
from bot.services.meetings import ICS_MIMETYPE, Meeting, announcement, describe, ics_filename, to_ics
from bot.timeparse import format_datetime, parse_when

router = Router("meetings")

meeting = router.group(
    "sitzung",
    alias="meeting",
    usage=Text(de="<wann>; <Titel>[; <Ort oder Link>]", en="<when>; <title>[; <place or link>]"),
    help=Text(
        de="Legt eine Sitzung an (Vorsitz), mit Erinnerungen und Kalenderdatei.",
        en="Creates a meeting (chair), with reminders and a calendar file.",
    ),
)


def _announce(ctx: Context, key: str, found: Meeting) -> Markdown:
    return announcement(found, key, ctx.lang, ctx.services.meetings.reminders_of(found))


async def _send_ics(ctx: Context, found: Meeting) -> None:
    await ctx.upload(ics_filename(found), to_ics(found), ICS_MIMETYPE)


@meeting.default(chair=True)
async def create(ctx: Context, wann_titel_ort: Rest) -> None:
    when_text, separator, rest = wann_titel_ort.partition(";")
    title, _, location = rest.partition(";")
    if not separator or not title.strip():
        example = (
            "!meeting 12.06. 10am; Working group"
            if ctx.lang == "en"
            else "!sitzung 12.06. 10 Uhr; Sitzung des FAK KI"
        )
        raise UserError("meeting.need_title", example=code(example))
    service = ctx.services.meetings
    when = parse_when(when_text, now=service.now(), tz=service.tz, lang=ctx.lang)
    found = service.create(ctx.room_id, ctx.sender, when, title.strip(), location.strip() or None)
    ctx.services.audit.record(
        ctx.room_id, ctx.sender, "sitzung angelegt", f"#{found.id} {found.start.isoformat()}"
    )
    await ctx.reply(_announce(ctx, "meeting.created", found))
    await _send_ics(ctx, found)


@meeting.command(
    "verschieben",
    alias="move",
    chair=True,
    usage=Text(de="<id> <wann>", en="<id> <when>"),
    help=Text(
        de="Verlegt eine Sitzung; Erinnerungen und Kalender folgen.",
        en="Moves a meeting; reminders and calendar follow.",
    ),
)
async def move(ctx: Context, id: int, wann: Rest) -> None:
    service = ctx.services.meetings
    when = parse_when(wann, now=service.now(), tz=service.tz, lang=ctx.lang)
    found = service.reschedule(ctx.room_id, id, when)
    ctx.services.audit.record(
        ctx.room_id, ctx.sender, "sitzung verschoben", f"#{found.id} {found.start.isoformat()}"
    )
    await ctx.reply(_announce(ctx, "meeting.moved", found))
    await _send_ics(ctx, found)


@meeting.command(
    "absagen",
    alias="cancel",
    chair=True,
    usage="<id>",
    help=Text(
        de="Sagt eine Sitzung ab; ihre Erinnerungen entfallen.",
        en="Cancels a meeting; its reminders are dropped.",
    ),
)
async def cancel(ctx: Context, id: int) -> None:
    found = ctx.services.meetings.cancel(ctx.room_id, id)
    ctx.services.audit.record(ctx.room_id, ctx.sender, "sitzung abgesagt", f"#{found.id}")
    await ctx.say(
        "meeting.cancelled", id=found.id, title=found.title, when=format_datetime(found.start, ctx.lang)
    )
    await _send_ics(ctx, found)
    handed, target = ctx.services.agenda.hand_over(ctx.room_id, found)
    if handed and target is not None:
        when = format_datetime(target.start, ctx.lang)
        await ctx.say("agenda.handed_over", count=len(handed), meeting=target.id, when=when)
    elif handed:
        await ctx.say("agenda.left_open", count=len(handed))


@meeting.command(
    "ics",
    alias="ics",
    usage="<id>",
    help=Text(
        de="Schickt die Kalenderdatei (.ics) einer Sitzung.", en="Sends a meeting's calendar file (.ics)."
    ),
)
async def ics(ctx: Context, id: int) -> None:
    await _send_ics(ctx, ctx.services.meetings.get(ctx.room_id, id))


@router.command(
    "sitzungen",
    alias="meetings",
    help=Text(de="Listet die kommenden Sitzungen.", en="Lists the upcoming meetings."),
)
async def list_meetings(ctx: Context) -> None:
    found = ctx.services.meetings.upcoming(ctx.room_id)
    if not found:
        await ctx.say("meeting.list_empty")
        return
    lines = [ctx.t("meeting.list_title")] + [Markdown(f"- {describe(item, ctx.lang)}") for item in found]
    await ctx.reply(join(lines))
