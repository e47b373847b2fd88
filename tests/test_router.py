"""The Dispatcher: lookup, rights, argument binding, and how every failure becomes a reply.

``Context.reply`` is replaced by a recorder of the Markdown it is given: that is the boundary of
the router. Services are not needed by the test commands (``services=None``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any, Literal, cast

import pytest

from bot.errors import UsageError, UserError
from bot.render import Markdown, escape
from bot.router import MAX_COMMAND_LENGTH, Context, Dispatcher, Rest, Router
from commands import help as help_commands

TEXTS = {
    "de": {
        "cmd.number.help": "Eine Zahl.",
        "cmd.number.usage": "<n>",
        "cmd.words.help": "Zwei Worte.",
        "cmd.words.usage": "<erstes> [<zweites>]",
        "cmd.note.help": "Eine Notiz.",
        "cmd.note.usage": "<nr> [<Text>]",
        "cmd.colour.help": "Eine Farbe.",
        "cmd.colour.usage": "rot|grün",
        "cmd.page.help": "Optional.",
        "cmd.page.usage": "[<nr>] [kurz|lang]",
        "cmd.lock.help": "Nur für den Vorsitz.",
        "cmd.poll.help": "a",
        "cmd.poll.usage": "<Frage>",
        "cmd.poll.close.help": "Schließt.",
        "cmd.poll.close.usage": "<nr>",
        "cmd.poll.show.help": "Zeigt.",
        "cmd.poll.show.usage": "[<nr>]",
        "cmd.board.help": "Vorstand.",
        "cmd.board.clear.help": "Leert.",
        "cmd.broken.help": "Wirft einen Fehler.",
        "cmd.usererror.help": "Nutzerfehler.",
        "cmd.usererror.usage": "<wert>",
        "cmd.wrong.help": "Nutzungsfehler.",
        "cmd.wrong.usage": "<wert>",
        "cmd.forgotten.help": "Parameter fehlt.",
    },
    "en": {
        "cmd.number.help": "A number.",
        "cmd.number.usage": "<n>",
        "cmd.words.help": "Two words.",
        "cmd.words.usage": "<erstes> [<zweites>]",
        "cmd.note.help": "A note.",
        "cmd.note.usage": "<nr> [<Text>]",
        "cmd.colour.help": "A colour.",
        "cmd.colour.usage": "rot|grün",
        "cmd.page.help": "Optional.",
        "cmd.page.usage": "[<nr>] [kurz|lang]",
        "cmd.lock.help": "Chair only.",
        "cmd.poll.help": "a",
        "cmd.poll.usage": "<Frage>",
        "cmd.poll.close.help": "Closes.",
        "cmd.poll.close.usage": "<nr>",
        "cmd.poll.show.help": "Shows.",
        "cmd.poll.show.usage": "[<nr>]",
        "cmd.board.help": "Board.",
        "cmd.board.clear.help": "Clears.",
        "cmd.broken.help": "Raises an error.",
        "cmd.usererror.help": "User error.",
        "cmd.usererror.usage": "<wert>",
        "cmd.wrong.help": "Usage error.",
        "cmd.wrong.usage": "<wert>",
        "cmd.forgotten.help": "Missing parameter.",
    },
}


router = Router("test", texts=TEXTS)
calls: list[tuple[str, dict[str, Any]]] = []


def called(name: str, **arguments: Any) -> None:
    calls.append((name, arguments))


@router.command("zahl", alias="number")
async def number(ctx: Context, n: int) -> None:
    called("zahl", n=n)


@router.command("worte", alias="words")
async def words(ctx: Context, erstes: str, zweites: str = "leer") -> None:
    called("worte", erstes=erstes, zweites=zweites)


@router.command("notiz", alias="note")
async def note(ctx: Context, nr: int, text: Rest | None = None) -> None:
    called("notiz", nr=nr, text=text)


@router.command("farbe", alias="colour")
async def colour(ctx: Context, farbe: Literal["rot", "grün"]) -> None:
    called("farbe", farbe=farbe)


@router.command("seite", alias="page")
async def page(ctx: Context, nr: int | None = None, art: Literal["kurz", "lang"] = "kurz") -> None:
    called("seite", nr=nr, art=art)


@router.command("sperren", alias="lock", chair=True)
async def lock(ctx: Context) -> None:
    called("sperren")


poll = router.group("umfrage", alias="poll")


@poll.default
async def poll_start(ctx: Context, frage: Rest) -> None:
    called("umfrage", frage=frage)


@poll.command("schließen", alias="close")
async def poll_close(ctx: Context, nr: int) -> None:
    called("umfrage schließen", nr=nr)


@poll.command("zeigen", alias="show")
async def poll_show(ctx: Context, nr: int | None = None) -> None:
    called("umfrage zeigen", nr=nr)


board = router.group("vorstand", alias="board", chair=True)


@board.command("leeren", alias="clear")
async def board_clear(ctx: Context) -> None:
    called("vorstand leeren")


@router.command("kaputt", alias="broken")
async def broken(ctx: Context) -> None:
    raise RuntimeError("geheimes internes Detail /srv/akbot")


@router.command("nutzerfehler", alias="usererror")
async def user_error(ctx: Context, wert: str) -> None:
    raise UserError("usage.not_a_number", value=wert)


@router.command("falsch", alias="wrong")
async def usage_error(ctx: Context, wert: str) -> None:
    raise UsageError("usage.choice", value=wert, choices="a, b")


@router.command("vergessen", alias="forgotten")
async def forgotten_parameter(ctx: Context) -> None:
    raise UserError("usage.missing")  # the template needs {name}: a programming mistake


# The help command is always there: replies name it ("Meinten Sie !hilfe?").
dispatcher = Dispatcher([router, help_commands.router], "!")


class RecordingReply:
    """Stands in for the Matrix adapter: remembers what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[str, ...]]] = []

    async def __call__(self, markdown: Markdown, *, mentions: Sequence[str] = ()) -> str:
        self.sent.append((str(markdown), tuple(mentions)))
        return f"$reply{len(self.sent)}"

    @property
    def texts(self) -> list[str]:
        return [text for text, _ in self.sent]


@pytest.fixture(autouse=True)
def _forget_calls() -> None:
    calls.clear()


def make_context(body: str, *, lang: str = "de", is_chair: bool = False) -> tuple[Context, RecordingReply]:
    reply = RecordingReply()
    ctx = Context(
        room_id="!raum:lvr.de",
        sender="@mitglied:lvr.de",
        event_id="$befehl",
        body=body,
        lang=lang,
        prefix="!",
        is_chair=is_chair,
        services=cast("Any", None),
        reply=reply,
    )
    return ctx, reply


async def send(body: str, *, lang: str = "de", is_chair: bool = False) -> list[str]:
    """Dispatch ``body``; the Markdown of every reply."""
    ctx, reply = make_context(body, lang=lang, is_chair=is_chair)
    await dispatcher.dispatch(ctx)
    return reply.texts


# ---- binding and conversion --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("!zahl 12", ("zahl", {"n": 12})),
        ("!zahl #12", ("zahl", {"n": 12})),
        ("!number 007", ("zahl", {"n": 7})),
        ("!ZAHL   12  ", ("zahl", {"n": 12})),
        ("!zahl 999999999", ("zahl", {"n": 999999999})),
        ("!worte eins", ("worte", {"erstes": "eins", "zweites": "leer"})),
        ("!worte eins zwei", ("worte", {"erstes": "eins", "zweites": "zwei"})),
        ("!words **eins**   zwei", ("worte", {"erstes": "**eins**", "zweites": "zwei"})),
        ("!seite", ("seite", {"nr": None, "art": "kurz"})),
        ("!seite 3", ("seite", {"nr": 3, "art": "kurz"})),
        ("!seite 3 lang", ("seite", {"nr": 3, "art": "lang"})),
        ("!farbe rot", ("farbe", {"farbe": "rot"})),
        ("!farbe ROT", ("farbe", {"farbe": "rot"})),
        ("!colour Grün", ("farbe", {"farbe": "grün"})),
        ("!notiz 4", ("notiz", {"nr": 4, "text": None})),
    ],
)
async def test_arguments_are_bound_and_converted(body: str, expected: tuple[str, dict[str, Any]]) -> None:
    replies = await send(body)

    assert calls == [expected]
    assert replies == []


async def test_rest_takes_the_raw_rest_of_the_line() -> None:
    await send("!notiz #5   morgen 10:00;  **Raum** 3  \n  zweite Zeile  ")

    assert calls == [("notiz", {"nr": 5, "text": "morgen 10:00;  **Raum** 3  \n  zweite Zeile"})]


async def test_required_rest_gets_everything_after_the_command() -> None:
    await send("!umfrage Wann treffen wir uns? 1 2 3")

    assert calls == [("umfrage", {"frage": "Wann treffen wir uns? 1 2 3"})]


async def test_too_many_arguments() -> None:
    replies = await send("!zahl 1 2 3")

    assert calls == []
    assert replies == ["Zu viele Angaben: „2“ ist überzählig.  \nAufruf: `!zahl <n>`"]


async def test_missing_argument() -> None:
    replies = await send("!zahl")

    assert calls == []
    assert replies == ["Es fehlt noch: `<n>`.  \nAufruf: `!zahl <n>`"]


async def test_missing_argument_in_an_english_room_shows_the_english_usage_line() -> None:
    replies = await send("!zahl", lang="en")

    assert replies == ["Missing: `<n>`.  \nUsage: `!number <n>`"]


@pytest.mark.parametrize("word", ["zwölf", "1.5", "-3", "#", "1234567890"])
async def test_bad_number(word: str) -> None:
    replies = await send(f"!zahl {word}")

    assert calls == []
    assert replies == [f"„{escape(word)}“ ist keine Zahl.  \nAufruf: `!zahl <n>`"]


async def test_bad_number_in_english() -> None:
    replies = await send("!number zwölf", lang="en")

    assert replies == ["“zwölf” is not a number.  \nUsage: `!number <n>`"]


async def test_choice_that_is_not_allowed() -> None:
    replies = await send("!farbe blau")

    assert calls == []
    assert replies == ["„blau“ ist nicht möglich. Erlaubt: rot, grün.  \nAufruf: `!farbe rot|grün`"]


# ---- groups ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "!umfrage schließen 3",
        "!umfrage SCHLIESSEN #3",
        "!Umfrage Schließen 3",
        "!poll close 3",
        "!POLL Close #3",
        "!umfrage close 3",
        "!poll schließen 3",
    ],
)
async def test_subcommand_by_german_name_or_english_alias(body: str) -> None:
    replies = await send(body)

    assert calls == [("umfrage schließen", {"nr": 3})]
    assert replies == []


async def test_subcommand_with_optional_argument_left_out() -> None:
    await send("!poll show")

    assert calls == [("umfrage zeigen", {"nr": None})]


async def test_group_default_handler_gets_text_that_is_not_a_subcommand() -> None:
    await send("!umfrage Wann zeigen wir den Entwurf? Morgen; Freitag")

    assert calls == [("umfrage", {"frage": "Wann zeigen wir den Entwurf? Morgen; Freitag"})]


async def test_text_that_starts_like_a_subcommand_goes_to_the_group() -> None:
    replies = await send("!umfrage zeigen wir den Entwurf?")

    assert calls == [("umfrage", {"frage": "zeigen wir den Entwurf?"})]
    assert replies == []


async def test_subcommand_word_with_one_wrong_argument_gets_the_subcommand_usage() -> None:
    replies = await send("!umfrage zeigen bald")

    assert calls == []
    assert replies == ["„bald“ ist keine Zahl.  \nAufruf: `!umfrage zeigen [<nr>]`"]


async def test_group_default_without_arguments_lists_its_usage_and_subcommands() -> None:
    replies = await send("!umfrage")

    assert calls == []
    assert replies == [
        "Es fehlt noch: `<frage>`.  \n"
        "Aufruf: `!umfrage <Frage>`  \n"
        "Aufruf: `!umfrage schließen <nr>`  \n"
        "Aufruf: `!umfrage zeigen [<nr>]`"
    ]


async def test_group_default_usage_in_english() -> None:
    replies = await send("!poll", lang="en")

    assert replies == [
        "Missing: `<frage>`.  \n"
        "Usage: `!poll <Frage>`  \n"
        "Usage: `!poll close <nr>`  \n"
        "Usage: `!poll show [<nr>]`"
    ]


async def test_group_without_default_handler_lists_its_subcommands() -> None:
    replies = await send("!vorstand", is_chair=True)

    assert calls == []
    assert replies == ["Aufruf: `!vorstand leeren`"]


async def test_subcommand_usage_error_shows_the_subcommand_usage() -> None:
    replies = await send("!poll close soon", lang="en")

    assert replies == ["“soon” is not a number.  \nUsage: `!poll close <nr>`"]


# ---- rights ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "refusal"),
    [("de", "Diesen Befehl darf nur der Vorsitz verwenden."), ("en", "Only the chair may use this command.")],
)
@pytest.mark.parametrize("body", ["!sperren", "!lock", "!vorstand leeren", "!board clear"])
async def test_chair_only_command_refused_for_members(body: str, lang: str, refusal: str) -> None:
    replies = await send(body, lang=lang, is_chair=False)

    assert calls == []
    assert replies == [refusal]


async def test_chair_only_refusal_comes_before_argument_checks() -> None:
    replies = await send("!sperren mit zu vielen Angaben")

    assert replies == ["Diesen Befehl darf nur der Vorsitz verwenden."]


@pytest.mark.parametrize(
    ("body", "expected"), [("!sperren", ("sperren", {})), ("!board clear", ("vorstand leeren", {}))]
)
async def test_chair_only_command_runs_for_the_chair(body: str, expected: tuple[str, dict[str, Any]]) -> None:
    replies = await send(body, is_chair=True)

    assert calls == [expected]
    assert replies == []


# ---- unknown commands --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "lang", "expected"),
    [
        ("!zahll 3", "de", "Den Befehl `!zahll` kenne ich nicht. Meinten Sie `!zahl`?"),
        ("!numbr 3", "de", "Den Befehl `!numbr` kenne ich nicht. Meinten Sie `!zahl`?"),
        ("!zahll 3", "en", "I don't know the command `!zahll`. Did you mean `!number`?"),
        ("!umfrag", "en", "I don't know the command `!umfrag`. Did you mean `!poll`?"),
        ("!xyzzy", "de", "Den Befehl `!xyzzy` kenne ich nicht. Meinten Sie `!hilfe`?"),
        ("!xyzzy", "en", "I don't know the command `!xyzzy`. Did you mean `!help`?"),
    ],
)
async def test_unknown_command_suggests_close_match_in_room_language_or_help(
    body: str, lang: str, expected: str
) -> None:
    replies = await send(body, lang=lang)

    assert calls == []
    assert replies == [expected]


async def test_unknown_command_name_with_backticks_stays_inside_its_code_span() -> None:
    replies = await send("!a`b")

    assert replies == ["Den Befehl ``!a`b`` kenne ich nicht. Meinten Sie `!hilfe`?"]


@pytest.mark.parametrize("body", ["!zahl\n5", "!zahl\t5"])
async def test_command_name_may_be_followed_by_a_newline_or_tab(body: str) -> None:
    replies = await send(body)

    assert calls == [("zahl", {"n": 5})]
    assert replies == []


# ---- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"), [("de", "„zwölf“ ist keine Zahl."), ("en", "“zwölf” is not a number.")]
)
async def test_user_error_is_rendered_in_the_room_language_without_usage_line(
    lang: str, expected: str
) -> None:
    replies = await send("!nutzerfehler zwölf", lang=lang)

    assert replies == [expected]


async def test_usage_error_from_the_handler_adds_the_usage_line() -> None:
    replies = await send("!falsch c")

    assert replies == ["„c“ ist nicht möglich. Erlaubt: a, b.  \nAufruf: `!falsch <wert>`"]


@pytest.mark.parametrize(
    ("lang", "pattern"),
    [
        (
            "de",
            r"Das hat leider nicht geklappt – ein interner Fehler ist aufgetreten\. "
            r"Bitte nennen Sie dem Betrieb die Fehlernummer `([0-9a-f]{8})`\.",
        ),
        (
            "en",
            r"Sorry, that did not work – an internal error occurred\. "
            r"Please give the operators the error id `([0-9a-f]{8})`\.",
        ),
    ],
)
async def test_unexpected_exception_becomes_error_id_reply_and_logged_traceback(
    caplog: pytest.LogCaptureFixture, lang: str, pattern: str
) -> None:
    caplog.set_level(logging.ERROR, logger="bot.router")

    replies = await send("!kaputt", lang=lang)

    assert len(replies) == 1
    match = re.fullmatch(pattern, replies[0])
    assert match is not None, replies[0]
    error_id = match.group(1)
    assert "geheimes" not in replies[0]
    assert "RuntimeError" not in replies[0]
    records = [record for record in caplog.records if record.name == "bot.router"]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert error_id in records[0].getMessage()
    assert records[0].exc_info is not None
    assert "geheimes internes Detail" in caplog.text
    assert "Traceback" in caplog.text


async def test_every_failure_gets_its_own_error_id(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="bot.router")

    first = await send("!kaputt")
    second = await send("!kaputt")

    assert re.findall(r"[0-9a-f]{8}", first[0]) != re.findall(r"[0-9a-f]{8}", second[0])


async def test_user_error_with_missing_template_parameter_still_gets_an_answer() -> None:
    replies = await send("!vergessen")

    assert len(replies) == 1


async def test_over_long_command_is_refused_before_parsing() -> None:
    body = "!notiz 1 " + "x" * MAX_COMMAND_LENGTH

    replies = await send(body)

    assert calls == []
    assert replies == [f"Ihre Nachricht ist zu lang ({len(body)} Zeichen, höchstens {MAX_COMMAND_LENGTH})."]


async def test_over_long_command_refusal_in_english() -> None:
    body = "!zahl " + "1" * MAX_COMMAND_LENGTH

    replies = await send(body, lang="en")

    assert replies == [f"Your message is too long ({len(body)} characters, at most {MAX_COMMAND_LENGTH})."]


async def test_command_of_exactly_the_maximum_length_is_handled() -> None:
    prefix = "!notiz 1 "
    body = prefix + "x" * (MAX_COMMAND_LENGTH - len(prefix))

    replies = await send(body)

    assert len(body) == MAX_COMMAND_LENGTH
    assert calls == [("notiz", {"nr": 1, "text": "x" * (MAX_COMMAND_LENGTH - len(prefix))})]
    assert replies == []


async def test_dispatch_tells_the_handler_its_command_and_dispatcher() -> None:
    ctx, _ = make_context("!zahl 1")

    await dispatcher.dispatch(ctx)

    assert ctx.dispatcher is dispatcher
    assert ctx.command is not None
    assert ctx.command.name == "zahl"


# ---- recognising commands ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("!ping", True),
        ("!Ärger", True),
        ("!x", True),
        ("! ping", False),
        ("!", False),
        ("!!ping", False),
        ("!1", False),
        ("hello", False),
        ("", False),
        ("ping !ping", False),
    ],
)
def test_is_command(body: str, expected: bool) -> None:
    assert dispatcher.is_command(body) is expected


def test_is_command_with_a_longer_prefix() -> None:
    ak = Dispatcher([], "ak!")

    assert [ak.is_command(body) for body in ("ak!ping", "!ping", "ak! ping", "ak!")] == [
        True,
        False,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("zahl", "zahl"),
        ("!NUMBER", "zahl"),
        ("umfrage schließen", "umfrage schließen"),
        ("poll close", "umfrage schließen"),
        ("poll", "umfrage"),
        ("poll nix", None),
        ("nix", None),
        ("", None),
    ],
)
def test_lookup_by_words(path: str, expected: str | None) -> None:
    command = dispatcher.lookup(path)

    assert (command.display("de") if command else None) == expected


# ---- declaring commands ------------------------------------------------------------------------


async def _nothing(ctx: Context) -> None:
    return None


def test_duplicate_command_name_across_routers_raises_at_dispatcher_construction() -> None:
    first, second = Router("eins"), Router("zwei")
    first.command("ping", alias="ping")(_nothing)
    second.command("Ping", alias="pong")(_nothing)

    with pytest.raises(ValueError, match="'Ping' declared twice"):
        Dispatcher([first, second], "!")


def test_alias_clashing_with_another_command_name_raises() -> None:
    first = Router("eins")
    first.command("hilfe", alias="help")(_nothing)
    first.command("help", alias="hilfe2")(_nothing)

    with pytest.raises(ValueError, match="'help' declared twice"):
        Dispatcher([first], "!")


def test_duplicate_subcommand_raises_at_declaration() -> None:
    group = Router("eins").group("umfrage", alias="poll")
    group.command("schließen", alias="close")(_nothing)

    with pytest.raises(ValueError, match="subcommand 'close' declared twice under 'umfrage'"):
        group.command("beenden", alias="close")(_nothing)


def test_unsupported_annotation_raises_type_error_at_declaration() -> None:
    async def handler(ctx: Context, betrag: float) -> None:
        return None

    with pytest.raises(TypeError, match="parameter 'betrag': unsupported annotation"):
        Router("eins").command("betrag", alias="amount")(handler)


def test_rest_that_is_not_the_last_parameter_raises_type_error_at_declaration() -> None:
    async def handler(ctx: Context, text: Rest, nr: int) -> None:
        return None

    with pytest.raises(TypeError, match="Rest must be the last parameter"):
        Router("eins").command("notiz", alias="note")(handler)


def test_parameters_are_read_from_the_signature() -> None:
    command = dispatcher.lookup("seite")

    assert command is not None
    assert [(p.name, p.kind, p.required, p.default, p.choices) for p in command.params] == [
        ("nr", "int", False, None, ()),
        ("art", "choice", False, "kurz", ("kurz", "lang")),
    ]


def test_flood_guard_allows_ten_warns_once_then_ignores_until_the_window_passed() -> None:
    from bot.inbox import FloodGuard

    guard = FloodGuard(limit=10, window_s=10.0)
    verdicts = [guard.check("@a:b", 100.0 + n * 0.1) for n in range(13)]

    assert verdicts == ["ok"] * 10 + ["warn", "ignore", "ignore"]
    assert guard.check("@other:b", 101.0) == "ok"
    assert guard.check("@a:b", 111.0) == "ok"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("!erinnerung loeschen 4", "!erinnerung löschen 4"),
        ("!umfrage schliessen 3", "!umfrage schließen 3"),
        ("!vergessen bestaetigen", "!vergessen bestätigen"),
        ("!TOP Zurueckziehen 2", "!top zurückziehen 2"),
    ],
)
def test_umlauts_written_as_ae_oe_ue_ss_find_the_same_command(typed: str, meant: str) -> None:
    from bot.app import ROUTERS

    dispatcher = Dispatcher(ROUTERS, "!")

    assert dispatcher.resolve(typed) == dispatcher.resolve(meant)
