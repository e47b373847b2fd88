"""Command routing: each command family declares its commands where they live.

A command has a German name, an English alias and a chair-only flag; its help text and usage
line are catalog entries (``cmd.<English path>.help`` / ``.usage``), its parameters' names in
the room's language ``arg.<parameter>``. Arguments are parsed from the handler's signature: ``int``, ``str``, ``Rest``
(the raw remainder of the line), ``Literal[...]`` choices, each optional with a default.
"""

from __future__ import annotations

import difflib
import inspect
import logging
import secrets
import time
import types
import typing
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Protocol

from bot.errors import UsageError, UserError
from bot.i18n import Texts, t, template
from bot.render import Markdown, code

if typing.TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger(__name__)

REST_MARKER = "rest-of-line"
Rest = Annotated[str, REST_MARKER]
"""Annotation for a parameter that takes the rest of the line as typed (for "<wann>; <Text>")."""

MAX_COMMAND_LENGTH = 4000
"""Longer commands are refused before parsing: no command needs more, and parsing is bounded."""


@dataclass(frozen=True)
class FileData:
    """A file from the room: its name, its type and its bytes (decrypted)."""

    name: str
    mimetype: str
    data: bytes
    event_id: str


class Reply(Protocol):
    async def __call__(self, markdown: Markdown, *, mentions: Sequence[str] = ()) -> str: ...


class Upload(Protocol):
    async def __call__(self, filename: str, data: bytes, mimetype: str) -> str: ...


async def _no_upload(filename: str, data: bytes, mimetype: str) -> str:
    raise RuntimeError("this context cannot send files")


@dataclass
class Context:
    """What a command handler gets: who asked, where, in which language, and how to answer."""

    room_id: str
    sender: str
    event_id: str
    body: str
    lang: str
    prefix: str
    is_chair: bool
    services: Services
    reply: Reply
    received_at: float = field(default_factory=time.monotonic)
    upload: Upload = _no_upload
    sent_at_ms: int = 0
    thread_root: str | None = None
    """The thread the command was written in, if any."""
    answer_sink: Any = None
    """Where a model answer to this command goes (a thread under it); set by the app."""
    """The command's own timestamp (origin_server_ts); the order of votes is decided by it."""
    command: Command | None = None
    dispatcher: Dispatcher | None = None
    mentioned: tuple[str, ...] = ()
    """The users the message mentions (its ``m.mentions``), e.g. an action item's owner."""
    replied_to: str | None = None
    """The event the command replies to (not a thread's fallback reply), if any."""
    replied_file: Callable[[], Awaitable[FileData | None]] | None = None
    """The file the command replies to, fetched (and decrypted) on request; None: it replies to no
    file the bot has seen."""

    def t(self, key: str, **params: Any) -> Markdown:
        return t(self.lang, key, **params)

    def spell(self, path: str, arguments: str = "") -> Markdown:
        """A command as the member would type it in this room, as code: ``spell("forget confirm")``
        gives `!vergessen bestätigen` in a German room."""
        assert self.dispatcher is not None, "set by Dispatcher.dispatch"
        return code(self.dispatcher.spell(path, self.lang, arguments))

    @property
    def spelling(self) -> Callable[[str, str, str], str]:
        """``Dispatcher.spell``, for views that name commands (``bot.views.Spell``)."""
        assert self.dispatcher is not None, "set by Dispatcher.dispatch"
        return self.dispatcher.spell

    async def say(self, key: str, *, mentions: Sequence[str] = (), **params: Any) -> str:
        return await self.reply(self.t(key, **params), mentions=mentions)


Handler = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class Param:
    name: str
    kind: Literal["int", "str", "rest", "choice"]
    required: bool
    default: Any = None
    choices: tuple[str, ...] = ()


@dataclass
class Command:
    """One command. Its texts are catalog entries named after its English path:
    ``cmd.poll.close.help`` and, when it takes arguments, ``cmd.poll.close.usage``."""

    name: str
    alias: str
    chair: bool = False
    handler: Handler | None = None
    params: tuple[Param, ...] = ()
    parent: Command | None = None
    subcommands: dict[str, Command] = field(default_factory=dict)
    default_chair: bool = False
    texts: Texts | None = None

    @property
    def key(self) -> str:
        return f"{self.parent.key}.{self.alias}" if self.parent else f"cmd.{self.alias}"

    def help(self, lang: str) -> str:
        return template(lang, f"{self.key}.help", self.texts) or ""

    def details(self, lang: str) -> str:
        """More for ``!hilfe <command>`` (Markdown), e.g. the time formats a command reads."""
        return template(lang, f"{self.key}.details", self.texts) or ""

    def usage(self, lang: str) -> str:
        return template(lang, f"{self.key}.usage", self.texts) or ""

    def display(self, lang: str) -> str:
        """ "umfrage schließen" in German rooms, "poll close" in English ones."""
        own = self.alias if lang == "en" else self.name
        return f"{self.parent.display(lang)} {own}" if self.parent else own

    @property
    def chair_only(self) -> bool:
        return self.chair or bool(self.parent and self.parent.chair_only)

    def usage_line(self, prefix: str, lang: str) -> str:
        return f"{prefix}{self.display(lang)} {self.usage(lang)}".rstrip()

    def placeholder(self, param: Param, lang: str) -> str:
        """How the usage line names a parameter, in the room's language ("<Frage>")."""
        return f"<{template(lang, f'arg.{param.name}', self.texts) or param.name}>"

    def missing(self, param: Param, lang: str) -> Markdown:
        """What a member is told is missing: in words when the catalog says
        (``cmd.remind.delete.missing.id``: "die Nummer der Erinnerung (siehe …)"), else the placeholder."""
        words = template(lang, f"{self.key}.missing.{param.name}", self.texts)
        return Markdown(words) if words is not None else code(self.placeholder(param, lang))

    def names(self) -> tuple[str, ...]:
        return (self.name,) if self.alias == self.name else (self.name, self.alias)

    def walk(self) -> Iterator[Command]:
        yield self
        seen: set[int] = set()
        for sub in self.subcommands.values():
            if id(sub) not in seen:
                seen.add(id(sub))
                yield from sub.walk()

    def command(self, name: str, *, alias: str, chair: bool = False) -> Callable[[Handler], Handler]:
        """Declare a subcommand, e.g. ``!umfrage schließen``."""

        def register(handler: Handler) -> Handler:
            sub = Command(name, alias, chair, handler, _params_of(handler), parent=self, texts=self.texts)
            for key in sub.names():
                if command_key(key) in self.subcommands:
                    raise ValueError(f"subcommand {key!r} declared twice under {self.name!r}")
                self.subcommands[command_key(key)] = sub
            return handler

        return register

    @typing.overload
    def default(self, handler: Handler, *, chair: bool = False) -> Handler: ...

    @typing.overload
    def default(self, handler: None = None, *, chair: bool = False) -> Callable[[Handler], Handler]: ...

    def default(
        self, handler: Handler | None = None, *, chair: bool = False
    ) -> Handler | Callable[[Handler], Handler]:
        """The handler for the group name without a subcommand (``!umfrage <Frage>; …``).

        ``@group.default`` or ``@group.default(chair=True)`` when only the chair may use it while
        the subcommands stay open to members.
        """

        def register(handler: Handler) -> Handler:
            self.handler = handler
            self.params = _params_of(handler)
            self.default_chair = chair
            return handler

        return register(handler) if handler is not None else register


class Router:
    """The commands of one family (one module in ``commands/``)."""

    def __init__(self, family: str, texts: Texts | None = None) -> None:
        """``texts``: the family's own texts beside the catalogs (for a family outside ``bot/``)."""
        self.family = family
        self.texts = texts
        self.commands: list[Command] = []

    def command(self, name: str, *, alias: str, chair: bool = False) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.commands.append(Command(name, alias, chair, handler, _params_of(handler), texts=self.texts))
            return handler

        return register

    def group(self, name: str, *, alias: str, chair: bool = False) -> Command:
        """A command with subcommands; give it a handler with ``@group.default``."""
        group = Command(name, alias, chair, texts=self.texts)
        self.commands.append(group)
        return group


def _params_of(handler: Handler) -> tuple[Param, ...]:
    hints = typing.get_type_hints(handler, include_extras=True)
    params = []
    for index, (name, parameter) in enumerate(inspect.signature(handler).parameters.items()):
        if index == 0:
            continue  # the Context
        hint = hints.get(name, str)
        required = parameter.default is inspect.Parameter.empty
        default = None if required else parameter.default
        params.append(_param_from_hint(name, hint, required, default))
    for param in params[:-1]:
        if param.kind == "rest":
            raise TypeError(f"{handler.__qualname__}: Rest must be the last parameter")
    return tuple(params)


def _param_from_hint(name: str, hint: Any, required: bool, default: Any) -> Param:
    if typing.get_origin(hint) is Annotated and REST_MARKER in hint.__metadata__:
        return Param(name, "rest", required, default)
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        members = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(members) == 1:
            return _param_from_hint(name, members[0], required, default)
    if typing.get_origin(hint) is Literal:
        return Param(name, "choice", required, default, tuple(str(a) for a in typing.get_args(hint)))
    if hint is int:
        return Param(name, "int", required, default)
    if hint is str:
        return Param(name, "str", required, default)
    raise TypeError(f"parameter {name!r}: unsupported annotation {hint!r}")


def parse_arguments(
    params: Sequence[Param], text: str, name_of: Callable[[Param], Markdown] = lambda p: code(f"<{p.name}>")
) -> dict[str, Any]:
    """Bind the words of ``text`` to ``params``; raises UsageError naming what does not fit
    (a missing parameter as ``name_of`` calls it in the room's language)."""
    values: dict[str, Any] = {}
    rest = text.strip()
    for param in params:
        if param.kind == "rest":
            if not rest and param.required:
                raise UsageError("usage.missing", name=name_of(param))
            values[param.name] = rest if rest else param.default
            rest = ""
            break
        word, remainder = _first_word(rest)
        if not word:
            if param.required:
                raise UsageError("usage.missing", name=name_of(param))
            values[param.name] = param.default
            continue
        values[param.name] = _convert(param, word)
        rest = remainder.strip()
    if rest:
        raise UsageError("usage.too_many", value=rest.split()[0])
    return values


def _reads_as_text(group: Command, sub: Command, remainder: str) -> bool:
    """ "!top Ändern der Satzung" is a title, not "!top ändern <id>": when a subcommand wants a number
    first and several words without one follow, the line is text for the group itself."""
    if group.handler is None or not sub.params or sub.params[0].kind != "int":
        return False
    words = remainder.split()
    return len(words) >= 2 and not words[0].lstrip("#").isdecimal()


def _first_word(text: str) -> tuple[str, str]:
    """Split off the first word at any whitespace (members type newlines and tabs too)."""
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) > 1 else ""


def _convert(param: Param, word: str) -> Any:
    if param.kind == "int":
        cleaned = word.lstrip("#")
        if not cleaned.isdecimal() or len(cleaned) > 9:
            raise UsageError("usage.not_a_number", value=word)
        return int(cleaned)
    if param.kind == "choice":
        for choice in param.choices:
            if word.casefold() == choice.casefold():
                return choice
        raise UsageError("usage.choice", value=word, choices=", ".join(param.choices))
    return word


@dataclass(frozen=True)
class Invocation:
    """A resolved command line: which command, and the text of its arguments."""

    command: Command
    arguments: str


_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def command_key(word: str) -> str:
    """How command names are compared: case-blind, and "loeschen" is "löschen" (keyboards without
    umlauts, as Germans write then)."""
    return word.casefold().translate(_TRANSLITERATION)


class Dispatcher:
    """All command families together: look up, check rights, parse, run, and answer errors."""

    def __init__(self, routers: Sequence[Router], prefix: str) -> None:
        self.prefix = prefix
        self.routers = tuple(routers)
        self._table: dict[str, Command] = {}
        for router in routers:
            for command in router.commands:
                for key in command.names():
                    if command_key(key) in self._table:
                        raise ValueError(f"command {key!r} declared twice")
                    self._table[command_key(key)] = command

    @property
    def commands(self) -> list[Command]:
        return [command for router in self.routers for command in router.commands]

    def all_commands(self) -> Iterator[Command]:
        for command in self.commands:
            yield from command.walk()

    def is_command(self, body: str) -> bool:
        return body.startswith(self.prefix) and body[len(self.prefix) : len(self.prefix) + 1].isalpha()

    def lookup(self, path: str) -> Command | None:
        """Find a command by words, e.g. "umfrage schließen" or "poll close"."""
        words = [command_key(word) for word in path.removeprefix(self.prefix).split()]
        if not words:
            return None
        command = self._table.get(words[0])
        for word in words[1:]:
            if command is None:
                return None
            command = command.subcommands.get(word)
        return command

    def resolve(self, body: str) -> Invocation | str:
        """The invocation for a command line, or the unknown name when there is none."""
        line = body[len(self.prefix) :].strip()
        name, arguments = _first_word(line)
        command = self._table.get(command_key(name))
        if command is None:
            return name
        while command.subcommands:
            word, remainder = _first_word(arguments)
            sub = command.subcommands.get(command_key(word))
            if sub is None or _reads_as_text(command, sub, remainder):
                break
            command, arguments = sub, remainder
        return Invocation(command, arguments.strip())

    def spell(self, path: str, lang: str, arguments: str = "") -> str:
        """``path`` ("forget confirm", in either language) as typed in a ``lang`` room."""
        command = self.lookup(path)
        if command is None:
            raise KeyError(f"no command {path!r}")
        return f"{self.prefix}{command.display(lang)} {arguments}".rstrip()

    def suggestion(self, name: str, lang: str) -> str:
        """The closest command, named in the room's language; else the help command."""
        close = difflib.get_close_matches(command_key(name), list(self._table), n=1, cutoff=0.6)
        if close:
            return f"{self.prefix}{self._table[close[0]].display(lang)}"
        return self.spell("help", lang)

    async def dispatch(self, ctx: Context) -> None:
        """Run the command in ``ctx.body``; every failure becomes a reply, never an exception."""
        if len(ctx.body) > MAX_COMMAND_LENGTH:
            await ctx.say("too_long", length=len(ctx.body), limit=MAX_COMMAND_LENGTH)
            return
        ctx.dispatcher = self
        resolved = self.resolve(ctx.body)
        if isinstance(resolved, str):
            await ctx.say(
                "unknown_command",
                command=code(f"{self.prefix}{resolved}"),
                suggestion=code(self.suggestion(resolved, ctx.lang)),
            )
            return
        command = resolved.command
        ctx.command = command
        try:
            try:
                if command.handler is None:
                    raise UsageError()
                if (command.chair_only or command.default_chair) and not ctx.is_chair:
                    raise UserError("chair_only")
                arguments = parse_arguments(
                    command.params, resolved.arguments, lambda param: command.missing(param, ctx.lang)
                )
                await command.handler(ctx, **arguments)
            except UsageError as error:
                await self._answer_usage(ctx, command, error)
            except UserError as error:
                await ctx.reply(t(ctx.lang, error.key, **error.params))
        except Exception:
            # Also covers a failure while explaining a user error: the member always gets an answer.
            error_id = secrets.token_hex(4)
            log.exception("command %r failed (error id %s)", command.display("de"), error_id)
            await ctx.say("internal_error", error_id=code(error_id))

    async def _answer_usage(self, ctx: Context, command: Command, error: UsageError) -> None:
        lines = []
        if error.key != "usage.generic" or command.handler is not None:
            lines.append(t(ctx.lang, error.key, **error.params))
        if command.handler is not None:
            lines.append(t(ctx.lang, "usage.line", usage=code(command.usage_line(self.prefix, ctx.lang))))
        for sub in _distinct(command.subcommands):
            lines.append(t(ctx.lang, "usage.line", usage=code(sub.usage_line(self.prefix, ctx.lang))))
        await ctx.reply(Markdown("  \n".join(lines)))


def _distinct(commands: Mapping[str, Command]) -> list[Command]:
    unique: dict[int, Command] = {}
    for command in commands.values():
        unique.setdefault(id(command), command)
    return list(unique.values())
