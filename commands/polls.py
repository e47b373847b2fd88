"""!umfrage (anlegen, stand, erinnern, schließen, löschen), !umfragen, !abstimmen."""

from __future__ import annotations

import re

from bot.errors import UserError
from bot.render import Markdown, join
from bot.router import Context, Rest, Router, Text
from bot.timeparse import format_datetime

router = Router("polls")

poll = router.group(
    "umfrage",
    alias="poll",
    usage=Text(
        de="<Frage>; <Option 1>; <Option 2>[; …][; frist: <wann>][; anonym]",
        en="<question>; <option 1>; <option 2>[; …][; deadline: <when>][; anonymous]",
    ),
    help=Text(
        de="Startet eine Terminumfrage (Vorsitz); Optionen wie „Di 14.10. 10 Uhr“ werden Termine.",
        en="Starts a date poll (chair); options like “Tue 14.10. 10am” become dates.",
    ),
)


@poll.default(chair=True)
async def create(ctx: Context, frage_optionen: Rest) -> None:
    created = await ctx.services.polls.create(ctx.room_id, ctx.sender, frage_optionen, ctx.lang)
    ctx.services.audit.record(ctx.room_id, ctx.sender, "umfrage gestartet", f"#{created.id}")
    await ctx.say("poll.created", id=created.id)


@poll.command(
    "stand",
    alias="status",
    usage="[<id>]",
    help=Text(
        de="Zwischenstand: Stimmen je Option mit Namen, und wer noch nicht abgestimmt hat.",
        en="Standing: votes per option with names, and who has not voted yet.",
    ),
)
async def standing(ctx: Context, id: int | None = None) -> None:
    service = ctx.services.polls
    found = service.get(ctx.room_id, id) if id is not None else service.newest(ctx.room_id, open_only=False)
    await ctx.reply(service.standing(found, ctx.lang))


@poll.command(
    "erinnern",
    alias="nudge",
    chair=True,
    usage="<id>",
    help=Text(
        de="Erinnert alle, die noch nicht abgestimmt haben, mit Erwähnung.",
        en="Reminds everyone who has not voted yet, with a mention.",
    ),
)
async def nudge(ctx: Context, id: int) -> None:
    reminded = await ctx.services.polls.nudge(ctx.room_id, id)
    if reminded:
        await ctx.say("poll.nudged", count=len(reminded))
    else:
        await ctx.say("poll.nudged_none")


@poll.command(
    "schließen",
    alias="close",
    chair=True,
    usage=Text(de="<id> [<Option-Nr>]", en="<id> [<option no.>]"),
    help=Text(
        de="Beendet die Umfrage; ist der Sieger ein Termin, wird er eine Sitzung.",
        en="Closes the poll; a winning date becomes a meeting.",
    ),
)
async def close(ctx: Context, id: int, option: int | None = None) -> None:
    closed, meeting = await ctx.services.polls.close(ctx.room_id, id, by=ctx.sender, pick=option)
    ctx.services.audit.record(
        ctx.room_id, ctx.sender, "umfrage geschlossen", f"#{closed.id} Sieger {closed.winner}"
    )
    if meeting is not None:
        await ctx.say("poll.meeting_created", id=meeting.id)
    else:
        await ctx.say("poll.closed_ok", id=closed.id)


@poll.command(
    "löschen",
    alias="delete",
    chair=True,
    usage="<id>",
    help=Text(de="Zieht eine offene Umfrage zurück.", en="Withdraws an open poll."),
)
async def withdraw(ctx: Context, id: int) -> None:
    withdrawn = await ctx.services.polls.withdraw(ctx.room_id, id)
    ctx.services.audit.record(ctx.room_id, ctx.sender, "umfrage zurückgezogen", f"#{withdrawn.id}")
    await ctx.say("poll.withdrawn", id=withdrawn.id)


@router.command(
    "umfragen",
    alias="polls",
    help=Text(de="Listet die offenen Umfragen.", en="Lists the open polls."),
)
async def list_polls(ctx: Context) -> None:
    service = ctx.services.polls
    found = service.open_polls(ctx.room_id)
    if not found:
        await ctx.say("poll.list_empty")
        return
    lines = [ctx.t("poll.list_title")]
    for item in found:
        line = ctx.t("poll.list_line", id=item.id, question=item.question, voted=len(service.votes(item.id)))
        if item.deadline is not None:
            line = Markdown(
                f"{line} · {ctx.t('poll.deadline', when=format_datetime(item.deadline, ctx.lang))}"
            )
        lines.append(Markdown(f"- {line}"))
    await ctx.reply(join(lines))


@router.command(
    "abstimmen",
    alias="vote",
    usage=Text(de="[#<Umfrage-Nr>] <Auswahl>", en="[#<poll no.>] <choice>"),
    help=Text(
        de="Stimmt ab: Nummern der passenden Optionen, „?“ dahinter = wenn nötig, „keine“ = nichts passt. "
        "Die Umfrage mit # davor (#7); ohne sie zählt die neueste offene.",
        en="Votes: numbers of the options that suit you, “?” after one = if need be, “none” = nothing fits. "
        "Name the poll with # (#7); without it, the newest open poll.",
    ),
)
async def vote(ctx: Context, auswahl: Rest) -> None:
    service = ctx.services.polls
    poll_id, selection = _poll_and_selection(ctx, auswahl)
    found, recorded = service.vote_text(ctx.room_id, ctx.sender, poll_id, selection, ctx.sent_at_ms / 1000)
    await ctx.reply(service.describe_vote(found, recorded, ctx.lang))


def _poll_and_selection(ctx: Context, text: str) -> tuple[int | None, str]:
    """Which poll: "#7 1 3?" always names poll 7; a bare leading "7" does only while several polls
    are open and 7 is one of them — with a single open poll, "1 3?" are simply the options."""
    words = text.split(maxsplit=1)
    if len(words) == 2 and (match := re.fullmatch(r"#?(\d{1,9})", words[0])):
        number = int(match.group(1))
        open_ids = [p.id for p in ctx.services.polls.open_polls(ctx.room_id)]
        if words[0].startswith("#") or (len(open_ids) > 1 and number in open_ids):
            return number, words[1]
    if not text.strip():
        raise UserError("poll.bad_selection", token="")
    return None, text
