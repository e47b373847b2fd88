"""!umfrage (anlegen, stand, erinnern, schließen, löschen), !umfragen, !abstimmen."""

from __future__ import annotations

from bot.router import Context, Rest, Router
from bot.views import polls as views

router = Router("polls")

poll = router.group("umfrage", alias="poll")


@poll.default(chair=True)
async def create(ctx: Context, question_options: Rest) -> None:
    created = await ctx.services.polls.create(ctx.room_id, ctx.sender, question_options, ctx.lang)
    await ctx.say("poll.created", id=created.id)


@poll.command("stand", alias="status")
async def standing(ctx: Context, id: int | None = None) -> None:
    await ctx.reply(views.standing(ctx.services.polls.standing(ctx.room_id, id), ctx.lang))


@poll.command("erinnern", alias="nudge", chair=True)
async def nudge(ctx: Context, id: int) -> None:
    reminded = await ctx.services.polls.nudge(ctx.room_id, id)
    if reminded:
        await ctx.say("poll.nudged", count=len(reminded))
    else:
        await ctx.say("poll.nudged_none")


@poll.command("schließen", alias="close", chair=True)
async def close(ctx: Context, id: int, option: int | None = None) -> None:
    closed, meeting = await ctx.services.polls.close(ctx.room_id, id, by=ctx.sender, pick=option)
    if meeting is not None:
        await ctx.say("poll.meeting_created", id=meeting.id)
    else:
        await ctx.say("poll.closed_ok", id=closed.id)


@poll.command("streichen", alias="drop", chair=True)
async def drop(ctx: Context, id: int, option: int) -> None:
    found = ctx.services.polls.drop(ctx.room_id, id, option, by=ctx.sender)
    await ctx.reply(views.dropped(found, option, ctx.lang))


@poll.command("löschen", alias="delete", chair=True)
async def withdraw(ctx: Context, id: int) -> None:
    withdrawn = await ctx.services.polls.withdraw(ctx.room_id, id, by=ctx.sender)
    await ctx.say("poll.withdrawn", id=withdrawn.id)


@router.command("umfragen", alias="polls")
async def list_polls(ctx: Context) -> None:
    await ctx.reply(views.listing(ctx.services.polls.listing(ctx.room_id), ctx.lang))


@router.command("abstimmen", alias="vote")
async def vote(ctx: Context, selection: Rest) -> None:
    found, recorded = ctx.services.polls.vote(ctx.room_id, ctx.sender, selection, ctx.sent_at_ms / 1000)
    await ctx.reply(views.vote_recorded(found, recorded, ctx.lang))
