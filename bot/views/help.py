"""The help, generated from the declared commands so that it can never fall behind: the overview of
all commands and the detail of one, in the room's language."""

from __future__ import annotations

from bot.i18n import LANGUAGES, as_language, t
from bot.render import Markdown, code, escape, join
from bot.router import Command, Dispatcher


def overview(dispatcher: Dispatcher, lang: str) -> Markdown:
    lines = [Markdown(dispatcher_title(lang))]
    for command in dispatcher.commands:
        lines.append(Markdown(f"- {_names(command, dispatcher.prefix, lang)} – {escape(command.help(lang))}"))
        for sub in _distinct_subcommands(command):
            lines.append(Markdown(f"  - {_names(sub, dispatcher.prefix, lang)} – {escape(sub.help(lang))}"))
    help_line = dispatcher.spell("help", lang, f"<{_t(lang, 'arg.command_name')}>")
    lines.append(Markdown(""))
    lines.append(_t(lang, "help.footer", command=code(help_line)))
    return join(lines)


def detail(command: Command, prefix: str, lang: str) -> Markdown:
    lines = [
        Markdown(f"**{_names(command, prefix, lang)}**"),
        escape(command.help(lang)),
    ]
    if command.handler is not None:
        lines.append(Markdown(f"{_t(lang, 'help.usage')}: {code(command.usage_line(prefix, lang))}"))
    if command.details(lang):
        lines.append(Markdown(command.details(lang)))
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
    other = command.display(next(other for other in LANGUAGES if other != as_language(lang)))
    # A word, not a symbol: a screen reader reads "★" as "black star".
    star = f" {_t(lang, 'help.chair_mark')}" if command.chair_only or command.default_chair else ""
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
