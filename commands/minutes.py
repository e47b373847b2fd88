"""!sitzung beginnen / beenden, !top weiter, !anwesend, !abwesend, !beschluss, !aufgabe (erledigt),
!aufgaben, !info, !rückgängig, !protokoll (ändern, freigeben), !beschlüsse.

Running a meeting extends the meeting's and the agenda's command groups (``!sitzung``, ``!top``);
``!top <n>`` (a number) is answered in ``commands/agenda.py`` beside submitting a TOP.
"""

from __future__ import annotations

import re

from bot.errors import UsageError, UserError
from bot.router import Context, Rest, Router
from bot.services.minutes import Minutes, State, Vote
from bot.timeparse import parse_when
from bot.timeparse.parse import TimeParseError
from bot.views import minutes as views
from commands import said
from commands.agenda import top
from commands.meetings import meeting

router = Router("minutes")


def _name(ctx: Context, user_id: str | None = None) -> str:
    return ctx.services.runtime.display_name(ctx.room_id, user_id or ctx.sender)


# ---- running the meeting ------------------------------------------------------------------------


@meeting.command("beginnen", alias="start", chair=True)
async def begin(ctx: Context, id: int | None = None) -> None:
    session = ctx.services.minutes.begin(ctx.room_id, id, said(ctx))
    await ctx.reply(views.started(session, ctx.lang, ctx.spelling))


@meeting.command("beenden", alias="end", chair=True)
async def end(ctx: Context) -> None:
    minutes = ctx.services.minutes.end(ctx.room_id, said(ctx))
    await ctx.reply(views.minutes_message(minutes, ctx.lang, ctx.spelling))


@top.command("weiter", alias="next", chair=True)
async def next_top(ctx: Context) -> None:
    session = ctx.services.minutes.next_top(ctx.room_id, said(ctx))
    await ctx.reply(views.switched(session, ctx.lang))


@router.command("anwesend", alias="present")
async def present(ctx: Context) -> None:
    ctx.services.minutes.mark(ctx.room_id, said(ctx), present=True)
    await ctx.reply(views.attendance_noted(True, ctx.lang))


@router.command("abwesend", alias="absent")
async def absent(ctx: Context) -> None:
    ctx.services.minutes.mark(ctx.room_id, said(ctx), present=False)
    await ctx.reply(views.attendance_noted(False, ctx.lang))


# ---- tags ---------------------------------------------------------------------------------------

_UNANIMOUS = {"einstimmig", "unanimous", "unanimously", "einstimmig angenommen", "einstimmig beschlossen"}
_COUNT = re.compile(
    r"(\d{1,4})\s*(ja|yes|dafür|nein|no|dagegen|enthaltungen|enthaltung|abstentions|abstention|abstained)\b",
    re.IGNORECASE,
)
_COUNT_FIELD = {
    "ja": "yes",
    "yes": "yes",
    "dafür": "yes",
    "nein": "no",
    "no": "no",
    "dagegen": "no",
}
_FILLER = re.compile(r"[\s,;.]|\bund\b|\band\b", re.IGNORECASE)


def parse_vote(text: str) -> Vote | None:
    """ "einstimmig", "8 ja, 1 nein, 2 Enthaltungen" (also English); None when it is no vote."""
    cleaned = text.strip().strip("()").strip()
    if cleaned.casefold() in _UNANIMOUS:
        return Vote(unanimous=True)
    counts: dict[str, int] = {}
    for number, word in _COUNT.findall(cleaned):
        counts[_COUNT_FIELD.get(word.casefold(), "abstain")] = int(number)
    if not counts or _FILLER.sub("", _COUNT.sub("", cleaned)):
        return None  # words besides the counts: it is part of the decision's text
    return Vote(yes=counts.get("yes"), no=counts.get("no"), abstain=counts.get("abstain"))


def split_vote(text: str) -> tuple[str, Vote | None]:
    """The decision and how it was taken: after the last ";" or in closing brackets."""
    text = text.strip()
    head, separator, tail = text.rpartition(";")
    if separator and (vote := parse_vote(tail)) is not None:
        return head.strip(), vote
    if text.endswith(")") and "(" in text:
        head, _, tail = text.rpartition("(")
        if (vote := parse_vote(tail)) is not None:
            return head.strip(), vote
    return text, None


@router.command("beschluss", alias="decision", chair=True)
async def decision(ctx: Context, content: Rest) -> None:
    words, vote = split_vote(content)
    if not words:
        raise UsageError("minutes.need_text")
    tag = ctx.services.minutes.decide(ctx.room_id, said(ctx), words, vote)
    await ctx.reply(views.acknowledged(tag, ctx.lang, reminded=False))


@router.command("info", alias="note")
async def note(ctx: Context, content: Rest) -> None:
    tag = ctx.services.minutes.note(ctx.room_id, said(ctx), content)
    await ctx.reply(views.acknowledged(tag, ctx.lang, reminded=False))


action = router.group("aufgabe", alias="action")

_QUOTED = re.compile(r'^[„"“](?P<name>[^"“”]{1,80})["“”]\s*(?P<rest>.*)$', re.DOTALL)
_DUE = re.compile(r"\s(?:bis|until|by)\s", re.IGNORECASE)


def owner_and_text(ctx: Context, text: str) -> tuple[str, str, str]:
    """(owner, their name, the task): a Matrix ID, a mention (pill) whose name starts the text,
    „a name in quotes“, or the first word."""
    text = text.strip()
    first, _, rest = text.partition(" ")
    if first.startswith("@") and ":" in first:
        user = first.rstrip(":,")
        return user, _name(ctx, user), rest.strip()
    for user in ctx.mentioned:
        name = _name(ctx, user)
        for shown in (name, f"@{name}"):
            if name and text.casefold().startswith(shown.casefold()):
                return user, name, text[len(shown) :].lstrip(" :,")
    if match := _QUOTED.match(text):
        return match["name"].strip(), match["name"].strip(), match["rest"].strip()
    return first.rstrip(":,"), first.rstrip(":,"), rest.strip()


@action.default
async def assign(ctx: Context, content: Rest) -> None:
    owner, owner_name, task = owner_and_text(ctx, content)
    service = ctx.services.minutes
    due = None
    if matches := list(_DUE.finditer(task)):
        last = matches[-1]
        tail = task[last.end() :]
        try:
            when = parse_when(tail, now=service.now(), tz=service.tz, lang=ctx.lang, end_of_day=True)
        except TimeParseError as error:
            if error.reason != "unknown" or any(char.isdigit() for char in tail):
                raise  # "bis gestern", "bis 31.02.": meant as a date, so say what is wrong with it
            when = None  # "bis zur Klärung": part of the task, no date
        if when is not None:
            if when.rrule is not None:
                raise UserError("minutes.due_once")
            due, task = when.at, task[: last.start()].rstrip()
    if not task:
        raise UsageError("minutes.need_task")
    tag = service.assign(
        ctx.room_id,
        said(ctx),
        owner=owner,
        owner_name=owner_name,
        text=task,
        due=due,
    )
    mentions = [tag.owner] if tag.owner_is_member and tag.owner else []
    reminded = tag.owner_is_member and tag.due is not None
    await ctx.reply(views.acknowledged(tag, ctx.lang, reminded=reminded), mentions=mentions)


@action.command("erledigt", alias="done")
async def done(ctx: Context, id: int) -> None:
    tag = ctx.services.minutes.complete(ctx.room_id, id, ctx.sender, is_chair=ctx.is_chair)
    await ctx.reply(views.completed(tag, ctx.lang))


@router.command("aufgaben", alias="actions")
async def actions(ctx: Context) -> None:
    found = ctx.services.minutes.actions(ctx.room_id, ctx.sender, everyone=ctx.is_chair)
    await ctx.reply(views.actions(found, ctx.lang, everyone=ctx.is_chair, spell=ctx.spelling))


@router.command("rückgängig", alias="undo")
async def undo(ctx: Context) -> None:
    result = ctx.services.minutes.undo(ctx.room_id, said(ctx), is_chair=ctx.is_chair)
    await ctx.reply(views.undone(result, ctx.lang))


# ---- the minutes and the register ---------------------------------------------------------------

minutes_group = router.group("protokoll", alias="minutes")


async def _send_files(ctx: Context, minutes: Minutes) -> None:
    stem = views.minutes_stem(minutes, ctx.lang)
    await ctx.upload(f"{stem}.pdf", views.minutes_pdf(minutes, ctx.lang), "application/pdf")
    await ctx.upload(f"{stem}.md", views.minutes_file(minutes, ctx.lang), "text/markdown")


@minutes_group.default
async def show(ctx: Context, meeting_id: int | None = None) -> None:
    """The minutes; released ones come with their files again (for whoever missed them)."""
    minutes = ctx.services.minutes.minutes(ctx.room_id, meeting_id)
    await ctx.reply(views.minutes_message(minutes, ctx.lang, ctx.spelling))
    if minutes.state == State.APPROVED:
        await _send_files(ctx, minutes)


@minutes_group.command("ändern", alias="change", chair=True)
async def change(ctx: Context, id: int, content: Rest) -> None:
    tag = ctx.services.minutes.correct(ctx.room_id, id, content, ctx.sender)
    await ctx.reply(views.corrected(tag, ctx.lang))


@minutes_group.command("freigeben", alias="approve", chair=True)
async def approve(ctx: Context, meeting_id: int | None = None) -> None:
    minutes = ctx.services.minutes.approve(ctx.room_id, meeting_id, ctx.sender)
    await ctx.reply(views.minutes_message(minutes, ctx.lang, ctx.spelling))
    await _send_files(ctx, minutes)


@router.command("beschlüsse", alias="decisions")
async def decisions(ctx: Context, word: Rest | None = None) -> None:
    found = ctx.services.minutes.decisions(ctx.room_id, word)
    await ctx.reply(views.decisions(found, ctx.lang, word))


# ---- a summary by the model, for the chair to take or leave ---------------------------------------

summary = router.group("zusammenfassung", alias="summary", chair=True)


@summary.default
async def summarise(ctx: Context, meeting_id: int | None = None) -> None:
    """Released minutes (the latest without a number) — or, written in a thread, that thread."""
    if meeting_id is None and ctx.thread_root is not None:
        if ctx.answer_sink is None:
            raise UserError("llm.not_configured")
        texts = await ctx.services.runtime.thread_texts(ctx.room_id, ctx.thread_root)
        if not texts:
            raise UserError("minutes.thread_empty")
        key, material = f"thread:{ctx.thread_root}", views.thread_material(texts)
        coming = views.thread_summary_coming(ctx.lang, ctx.spelling)
    else:
        minutes = ctx.services.minutes.released(ctx.room_id, meeting_id)
        key, material = f"meeting:{minutes.meeting.id}", views.minutes_file(minutes, ctx.lang).decode()
        coming = views.summary_coming(minutes, ctx.lang, ctx.spelling)
    if ctx.answer_sink is None:
        raise UserError("llm.not_configured")
    await ctx.services.llm.summarise(
        ctx.room_id,
        ctx.sender,
        key,
        material,
        thread_root=ctx.thread_root or ctx.event_id,
        sink=ctx.answer_sink,
        announce=lambda: ctx.reply(coming),
    )


def _draft_key(ctx: Context, meeting_id: int | None) -> str:
    if meeting_id is not None:
        return f"meeting:{meeting_id}"
    if ctx.thread_root is not None:
        return f"thread:{ctx.thread_root}"
    raise UsageError("usage.missing", name=ctx.t("arg.meeting_id"))


@summary.command("übernehmen", alias="accept")
async def accept_summary(ctx: Context, meeting_id: int | None = None) -> None:
    key = _draft_key(ctx, meeting_id)
    text = ctx.services.llm.draft(ctx.room_id, key)
    if meeting_id is None:  # a thread's summary becomes a note of the record
        if text is None:
            raise UserError("minutes.no_thread_summary")
        tag = ctx.services.minutes.note(ctx.room_id, said(ctx), views.thread_summary_note(text, ctx.lang))
        ctx.services.llm.drop_draft(ctx.room_id, key)
        await ctx.reply(views.acknowledged(tag, ctx.lang, reminded=False))
        return
    minutes = ctx.services.minutes.accept_summary(ctx.room_id, meeting_id, text, ctx.sender)
    ctx.services.llm.drop_draft(ctx.room_id, key)
    await ctx.reply(views.summary_accepted(minutes, ctx.lang))


@summary.command("verwerfen", alias="discard")
async def discard_summary(ctx: Context, meeting_id: int | None = None) -> None:
    if ctx.services.llm.drop_draft(ctx.room_id, _draft_key(ctx, meeting_id)) is None:
        raise UserError("minutes.no_summary", id=meeting_id or "")
    await ctx.say("minutes.summary_discarded", id=meeting_id or "")
