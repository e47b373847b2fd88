"""!frage (!ask, !ki), !modelle, !modell — quick questions to the on-premises model."""

from __future__ import annotations

from bot.errors import UserError
from bot.render import Markdown, code, join
from bot.router import Context, Rest, Router, Text
from bot.services.llm import LlmError

router = Router("ask")


@router.command(
    "frage",
    alias="ask",
    usage=Text(de="<Frage>", en="<question>"),
    help=Text(
        de="Fragt das hauseigene Sprachmodell; die Antwort erscheint als Thread (auch !ki).",
        en="Asks the on-premises language model; the answer appears in a thread (also !ki).",
    ),
)
async def ask(ctx: Context, frage: Rest) -> None:
    if ctx.answer_sink is None:
        raise UserError("llm.not_configured")
    ctx.services.llm.start(ctx.room_id, ctx.sender, frage, ctx.thread_root or ctx.event_id, ctx.answer_sink)


@router.command(
    "ki",
    alias="ai",
    usage=Text(de="<Frage>", en="<question>"),
    help=Text(de="Wie !frage.", en="Same as !ask."),
)
async def ki(ctx: Context, frage: Rest) -> None:
    await ask(ctx, frage)


@router.command(
    "modelle",
    alias="models",
    help=Text(de="Listet die Modelle des lokalen Endpunkts.", en="Lists the models of the local endpoint."),
)
async def models(ctx: Context) -> None:
    llm = ctx.services.llm
    if llm.client is None:
        raise UserError("llm.not_configured")
    try:
        names = await llm.client.models()
    except LlmError as error:
        raise UserError(f"llm.error_{error.kind}") from error
    current = llm.model_for(ctx.room_id)
    lines = [ctx.t("llm.models_title")]
    lines += [Markdown(f"- {code(name)}" + (" ✓" if name == current else "")) for name in names]
    await ctx.reply(join(lines))


@router.command(
    "modell",
    alias="model",
    chair=True,
    usage="<Name>",
    help=Text(de="Stellt das Modell dieses Raums ein (Vorsitz).", en="Sets this room's model (chair)."),
)
async def model(ctx: Context, name: str) -> None:
    llm = ctx.services.llm
    if llm.client is None:
        raise UserError("llm.not_configured")
    try:
        available = await llm.client.models()
    except LlmError as error:
        raise UserError(f"llm.error_{error.kind}") from error
    if name not in available:
        raise UserError("llm.unknown_model", name=name, available=", ".join(available))
    llm.set_model(ctx.room_id, name)
    ctx.services.audit.record(ctx.room_id, ctx.sender, "modell gewechselt", name)
    await ctx.say("llm.model_set", name=name)
