"""!hilfe / !help — generated from the declared commands, so it can never fall behind."""

from __future__ import annotations

from bot.i18n import t
from bot.render import Markdown, code, escape, join
from bot.router import Command, Context, Dispatcher, Rest, Router, Text

router = Router("help")


def overview(dispatcher: Dispatcher, lang: str) -> Markdown:
    lines = [Markdown(dispatcher_title(lang))]
    for command in dispatcher.commands:
        lines.append(Markdown(f"- {_names(command, dispatcher.prefix, lang)} – {escape(command.help(lang))}"))
        for sub in _distinct_subcommands(command):
            lines.append(Markdown(f"  - {_names(sub, dispatcher.prefix, lang)} – {escape(sub.help(lang))}"))
    footer_command = "help <command>" if lang == "en" else "hilfe <Befehl>"
    lines.append(Markdown(""))
    lines.append(_t(lang, "help.footer", command=code(f"{dispatcher.prefix}{footer_command}")))
    return join(lines)


def detail(command: Command, prefix: str, lang: str) -> Markdown:
    lines = [
        Markdown(f"**{_names(command, prefix, lang)}**"),
        escape(command.help(lang)),
    ]
    if command.handler is not None:
        lines.append(Markdown(f"{_t(lang, 'help.usage')}: {code(command.usage_line(prefix, lang))}"))
    subs = _distinct_subcommands(command)
    if subs:
        lines.append(Markdown(f"{_t(lang, 'help.subcommands')}:"))
        lines.extend(
            Markdown(f"- {code(sub.usage_line(prefix, lang))} – {escape(sub.help(lang))}") for sub in subs
        )
    return join(lines, "  \n")


def dispatcher_title(lang: str) -> str:
    return _t(lang, "help.title")


def _names(command: Command, prefix: str, lang: str) -> str:
    """The command in the room's language first, the other language's name after it."""
    primary = command.display(lang)
    other = command.display("de" if lang == "en" else "en")
    star = " ★" if command.chair_only or command.default_chair else ""
    if other == primary:
        return f"{code(prefix + primary)}{star}"
    return f"{code(prefix + primary)} ({code(prefix + other)}){star}"


def _distinct_subcommands(command: Command) -> list[Command]:
    seen: dict[int, Command] = {}
    for sub in command.subcommands.values():
        seen.setdefault(id(sub), sub)
    return list(seen.values())


def _t(lang: str, key: str, **params: object) -> Markdown:
    return t(lang, key, **params)


@router.command(
    "hilfe",
    alias="help",
    usage=Text(de="[<Befehl>]", en="[<command>]"),
    help=Text(
        de="Zeigt alle Befehle oder die Hilfe zu einem Befehl.",
        en="Lists all commands, or explains one.",
    ),
)
async def help_command(ctx: Context, befehl: Rest | None = None) -> None:
    dispatcher = ctx.dispatcher
    assert dispatcher is not None, "set by Dispatcher.dispatch"
    if befehl is None:
        await ctx.reply(overview(dispatcher, ctx.lang))
        return
    command = dispatcher.lookup(befehl)
    if command is None:
        other = "help" if ctx.lang == "en" else "hilfe"
        await ctx.say("help.unknown", name=code(befehl), command=code(f"{dispatcher.prefix}{other}"))
        return
    await ctx.reply(detail(command, dispatcher.prefix, ctx.lang))
