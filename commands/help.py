"""!hilfe / !help — the overview of all commands, or one command in detail (bot/views/help.py)."""

from __future__ import annotations

from bot.render import code
from bot.router import Context, Rest, Router
from bot.views.help import detail, overview

router = Router("help")


@router.command("hilfe", alias="help")
async def help_command(ctx: Context, command_name: Rest | None = None) -> None:
    dispatcher = ctx.dispatcher
    assert dispatcher is not None, "set by Dispatcher.dispatch"
    if command_name is None:
        await ctx.reply(overview(dispatcher, ctx.lang))
        return
    command = dispatcher.lookup(command_name)
    if command is None:
        await ctx.say("help.unknown", name=code(command_name), command=ctx.spell("help"))
        return
    await ctx.reply(detail(command, dispatcher.prefix, ctx.lang))
