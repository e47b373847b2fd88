"""!frage (!ask, !ki), !modelle, !modell — quick questions to the on-premises model."""

from __future__ import annotations

from typing import Literal

from bot.errors import UserError
from bot.render import Markdown, code, join
from bot.router import Context, Rest, Router
from bot.views import ask as views

router = Router("ask")


frage = router.group("frage", alias="ask")


async def _ask(ctx: Context, question: str, *, general: bool) -> None:
    if (now := ctx.services.llm.clock_answer(question)) is not None:
        await ctx.reply(views.clock(now, ctx.lang))
        return
    if not general and ctx.services.llm.asks_next_meeting(question):
        # Exact from the database, not worded by a model.
        await ctx.reply(views.next_meeting(ctx.services.agenda.next_agenda(ctx.room_id), ctx.lang))
        return
    if ctx.answer_sink is None:
        raise UserError("llm.not_configured")
    await ctx.services.llm.start(
        ctx.room_id,
        ctx.sender,
        question,
        ctx.thread_root or ctx.event_id,
        ctx.answer_sink,
        general=general,
        general_fallback=ctx.services.rooms.general_answers(ctx.room_id),
    )


@frage.default
async def ask(ctx: Context, question: Rest) -> None:
    """From the group's own record; when it holds nothing on the question, the bot says so."""
    await _ask(ctx, question, general=False)


@frage.command("allgemein", alias="general")
async def general(ctx: Context, question: Rest) -> None:
    await _ask(ctx, question, general=True)


@frage.command("modus", alias="mode")
async def mode(
    ctx: Context, mode: Literal["unterlagen", "allgemein", "record", "general"] | None = None
) -> None:
    """Whether ``!frage`` answers generally when the record holds nothing on a question (members
    see it; the chair sets it)."""
    rooms = ctx.services.rooms
    if mode is not None and not ctx.is_chair:
        raise UserError("chair_only")
    if mode is not None:
        rooms.set_general_answers(ctx.room_id, mode in ("allgemein", "general"))
    key = "llm.mode_general" if rooms.general_answers(ctx.room_id) else "llm.mode_record"
    await ctx.say(
        key, command=ctx.spell("ask mode", "unterlagen|allgemein" if ctx.lang == "de" else "record|general")
    )


@router.command("ki", alias="ai")
async def ki(ctx: Context, question: Rest) -> None:
    await _ask(ctx, question, general=False)


@router.command("modelle", alias="models")
async def models(ctx: Context) -> None:
    llm = ctx.services.llm
    names = await llm.available_models()
    current = llm.model_for(ctx.room_id)
    lines = [ctx.t("llm.models_title")]
    lines += [
        Markdown(f"- {code(name)}" + (f" {ctx.t('llm.model_current')}" if name == current else ""))
        for name in names
    ]
    await ctx.reply(join(lines))


@router.command("modell", alias="model", chair=True)
async def model(ctx: Context, name: str) -> None:
    await ctx.services.llm.choose_model(ctx.room_id, name, by=ctx.sender)
    await ctx.say("llm.model_set", name=name)
