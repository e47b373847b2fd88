"""!top (einreichen, annehmen, ablehnen, vertagen, position, zurückziehen, ändern), !tagesordnung."""

from __future__ import annotations

import re

from bot.errors import UsageError, UserError
from bot.render import Markdown, join, mention
from bot.router import Context, Rest, Router
from bot.services.agenda import LATE, Item
from bot.timeparse import format_datetime
from bot.views import agenda as views
from bot.views import file_name, item_title
from bot.views import minutes as minutes_views
from commands import said

router = Router("agenda")

DURATION = re.compile(r"^(\d{1,4})\s*(min|minuten|minutes|m)\.?$", re.IGNORECASE)
SAYS_MINUTES = re.compile(r"^\S+\s*(min|minuten|minutes)\.?$", re.IGNORECASE)
"""A part that reads as a duration ("-5 min", "zwanzig min") but is none: refused, not a description."""
MEETING_REF = re.compile(r"^#(\d{1,9})$")

top = router.group("top", alias="item")


def _meeting_ref(text: str) -> tuple[int | None, str]:
    """A leading "#12" names the meeting."""
    first, _, rest = text.strip().partition(" ")
    match = MEETING_REF.match(first)
    return (int(match.group(1)), rest.strip()) if match else (None, text.strip())


@top.default
async def submit(ctx: Context, text: Rest) -> None:
    if text.strip().isdecimal():  # "!top 3": the chair moves the running meeting to TOP 3
        if not ctx.is_chair:
            raise UserError("chair_only")
        session = ctx.services.minutes.go_to(ctx.room_id, int(text), said(ctx))
        await ctx.reply(minutes_views.switched(session, ctx.lang))
        return
    meeting_id, text = _meeting_ref(text)
    parts = [part.strip() for part in text.split(";")]
    title, description, duration = parts[0], None, None
    for part in parts[1:]:
        if match := DURATION.match(part):
            duration = int(match.group(1))
        elif SAYS_MINUTES.match(part):
            raise UsageError("usage.bad_duration", value=part)
        elif part and description is None:
            description = part
        elif part:
            description = f"{description}; {part}"
    agenda = ctx.services.agenda
    name = ctx.services.runtime.display_name(ctx.room_id, ctx.sender)
    item = agenda.submit(
        ctx.room_id,
        ctx.sender,
        name,
        title=title,
        description=description,
        duration_min=duration,
        meeting_id=meeting_id,
    )
    meeting = ctx.services.meetings.get(ctx.room_id, item.meeting_id)
    when = format_datetime(meeting.start, ctx.lang)
    if item.status == LATE:
        deadline = format_datetime(agenda.deadline_of(meeting), ctx.lang)
        await ctx.say(
            "agenda.submitted_late",
            id=item.id,
            title=item.title,
            meeting=meeting.id,
            when=when,
            deadline=deadline,
        )
    else:
        await ctx.say("agenda.submitted", id=item.id, title=item.title, meeting=meeting.id, when=when)


async def _tell_submitter(ctx: Context, key: str, item: Item, **params: object) -> None:
    who = mention(item.submitter, item.submitter_name)
    await ctx.say(key, mentions=[item.submitter], who=who, id=item.id, title=item.title, **params)


@top.command("annehmen", alias="accept", chair=True)
async def accept(ctx: Context, id: int) -> None:
    item = ctx.services.agenda.accept(ctx.room_id, id, ctx.sender)
    await _tell_submitter(ctx, "agenda.accepted", item, number=ctx.services.agenda.top_number(item))


@top.command("ablehnen", alias="reject", chair=True)
async def reject(ctx: Context, id: int, reason: Rest | None = None) -> None:
    item = ctx.services.agenda.reject(ctx.room_id, id, ctx.sender, reason)
    if reason:
        await _tell_submitter(ctx, "agenda.rejected_reason", item, reason=reason)
    else:
        await _tell_submitter(ctx, "agenda.rejected", item)


@top.command("vertagen", alias="defer", chair=True)
async def defer(ctx: Context, id: int, meeting_id: int | None = None) -> None:
    item, meeting = ctx.services.agenda.defer(ctx.room_id, id, ctx.sender, meeting_id)
    await _tell_submitter(
        ctx, "agenda.deferred", item, meeting=meeting.id, when=format_datetime(meeting.start, ctx.lang)
    )


@top.command("position", alias="move", chair=True)
async def position(ctx: Context, id: int, place: int) -> None:
    item = ctx.services.agenda.move_to(ctx.room_id, id, place, ctx.sender)
    await ctx.say("agenda.moved", id=item.id, title=item.title, number=ctx.services.agenda.top_number(item))


@top.command("zurückziehen", alias="withdraw")
async def withdraw(ctx: Context, id: int) -> None:
    item = ctx.services.agenda.withdraw(ctx.room_id, id, ctx.sender)
    await ctx.say("agenda.withdrawn", id=item.id, title=item.title)


@top.command("ändern", alias="change")
async def change(ctx: Context, id: int, title: Rest) -> None:
    title, _, description = title.partition(";")
    item = ctx.services.agenda.change(ctx.room_id, id, ctx.sender, title.strip(), description.strip() or None)
    await ctx.say("agenda.changed", id=item.id, title=item.title)


agenda_group = router.group("tagesordnung", alias="agenda")


def _meeting_number(text: str | None) -> int | None:
    if text is None:
        return None
    match = re.fullmatch(r"#?(\d{1,9})", text.strip())
    if match is None:
        raise UserError("usage.not_a_number", value=text)
    return int(match.group(1))


@agenda_group.default
async def show(ctx: Context, meeting_id: Rest | None = None) -> None:
    agenda = ctx.services.agenda.agenda(ctx.room_id, _meeting_number(meeting_id))
    shown = views.agenda(agenda, ctx.lang)
    if ctx.is_chair and agenda.pending:
        # What waits for a decision is the chair's: it goes to them alone, not into the room.
        ctx.services.runtime.tell_privately(ctx.sender, views.pending(agenda, ctx.lang))
        shown = join([shown, Markdown(""), ctx.t("agenda.pending_sent_privately", count=len(agenda.pending))])
    await ctx.reply(shown)


@agenda_group.command("export", alias="export")
async def export(ctx: Context, meeting_id: Rest | None = None) -> None:
    service = ctx.services.agenda
    agenda = service.agenda(ctx.room_id, _meeting_number(meeting_id))
    stem = file_name(ctx.lang, "agenda", id=agenda.meeting.id, date=f"{agenda.meeting.start:%Y-%m-%d}")
    record = ctx.services.minutes.approved(ctx.room_id, agenda.meeting.id)
    outcomes = minutes_views.oparl_outcomes(record, ctx.lang) if record else None
    await ctx.say("agenda.exported")
    invitation = file_name(
        ctx.lang, "invitation", id=agenda.meeting.id, date=f"{agenda.meeting.start:%Y-%m-%d}"
    )
    await ctx.upload(f"{invitation}.pdf", minutes_views.invitation_pdf(agenda, ctx.lang), "application/pdf")
    await ctx.upload(f"{stem}.md", views.markdown_file(agenda, ctx.lang), "text/markdown")
    await ctx.upload(
        f"{stem}.json",
        service.oparl_json(agenda, lambda title: item_title(title, ctx.lang), outcomes),
        "application/json",
    )
