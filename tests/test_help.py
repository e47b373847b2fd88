"""Every command has help in both languages, and !hilfe shows it; the catalogs agree.

The commands are taken from ``bot.app.ROUTERS``: a command added there without help text, or
missing from the overview, makes these tests fail.
"""

from __future__ import annotations

import re
import string
from types import ModuleType

import pytest

from bot.app import ROUTERS
from bot.i18n import DE, EN, FAMILIES, format_duration, t
from bot.render import render
from bot.router import Command, Context, Dispatcher, Router
from bot.views.help import detail, overview
from commands import help as help_commands

DISPATCHER = Dispatcher(ROUTERS, "!")
ALL_COMMANDS = list(DISPATCHER.all_commands())
TOP_LEVEL = DISPATCHER.commands
LANGUAGES = ("de", "en")
INFORMAL = re.compile(r"\b(du|dich|dir|dein|deine|deinem|deinen|deiner|deines)\b", re.IGNORECASE)


def path_of(command: Command) -> str:
    return command.display("de")


def plain(markdown: str) -> str:
    return render(markdown)[0]


def names_line(command: Command, lang: str, *, star: bool) -> str:
    """How the help shows a command: room language first, the other language in brackets."""
    primary, other = command.display(lang), command.display("en" if lang == "de" else "de")
    names = f"!{primary}" if primary == other else f"!{primary} (!{other})"
    return names + ((" (chair)" if lang == "en" else " (Vorsitz)") if star else "")


def chair_only(command: Command) -> bool:
    return command.chair or bool(command.parent and command.parent.chair)


def test_there_are_commands_to_check() -> None:
    assert {command.name for command in TOP_LEVEL} >= {"hilfe", "ping", "status", "sprache"}


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=path_of)
def test_command_has_help_in_german_and_english(command: Command) -> None:
    assert EN[f"{command.key}.help"].strip()
    assert DE[f"{command.key}.help"].strip()
    assert command.help("de") == DE[f"{command.key}.help"]
    assert command.help("en") == EN[f"{command.key}.help"]


@pytest.mark.parametrize("command", [c for c in ALL_COMMANDS if c.params], ids=path_of)
def test_every_parameter_has_a_name_in_both_languages(command: Command) -> None:
    for param in command.params:
        assert DE[f"arg.{param.name}"].strip() and EN[f"arg.{param.name}"].strip()


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=path_of)
def test_command_name_and_alias_are_single_words(command: Command) -> None:
    assert command.name.split() == [command.name]
    assert command.alias.split() == [command.alias]


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=path_of)
def test_command_with_parameters_has_a_usage_line(command: Command) -> None:
    for lang in ("de", "en"):
        usage = command.usage_line("!", lang).removeprefix("!" + command.display(lang))
        if command.params:
            assert usage.strip()
        else:
            assert usage == ""


@pytest.mark.parametrize("command", ALL_COMMANDS, ids=path_of)
def test_command_is_found_by_german_name_and_english_alias(command: Command) -> None:
    assert DISPATCHER.lookup(command.display("de")) is command
    assert DISPATCHER.lookup(command.display("en")) is command


@pytest.mark.parametrize("lang", LANGUAGES)
def test_overview_names_every_top_level_command_with_its_help(lang: str) -> None:
    lines = plain(overview(DISPATCHER, lang)).splitlines()

    for command in TOP_LEVEL:
        star = command.chair or command.default_chair
        assert f"• {names_line(command, lang, star=star)} – {command.help(lang)}" in lines


@pytest.mark.parametrize("lang", LANGUAGES)
def test_overview_mentions_every_command_by_german_name_and_english_alias(lang: str) -> None:
    text = plain(overview(DISPATCHER, lang))

    for command in ALL_COMMANDS:
        assert f"!{command.display('de')}" in text
        assert f"!{command.display('en')}" in text


def test_overview_in_german() -> None:
    lines = plain(overview(DISPATCHER, "de")).splitlines()

    assert lines[0] == "Befehle von akbot"
    assert lines[-1] == "Mehr zu einem Befehl: !hilfe <Befehl>."
    assert "• !hilfe (!help) – Zeigt alle Befehle oder die Hilfe zu einem Befehl." in lines


def test_overview_in_english() -> None:
    lines = plain(overview(DISPATCHER, "en")).splitlines()

    assert lines[0] == "akbot commands"
    assert lines[-1] == "More about a command: !help <command>."
    assert "• !help (!hilfe) – Lists all commands, or explains one." in lines


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("command", ALL_COMMANDS, ids=path_of)
def test_detail_of_every_command(command: Command, lang: str) -> None:
    usage_label = "Usage" if lang == "en" else "Aufruf"
    subs_label = "Subcommands" if lang == "en" else "Unterbefehle"
    star = chair_only(command) or command.default_chair
    expected = [names_line(command, lang, star=star), command.help(lang)]
    if command.handler is not None:
        expected.append(f"{usage_label}: {command.usage_line('!', lang)}")
    if command.details(lang):
        expected.append(plain(command.details(lang)))
    subs = list({id(sub): sub for sub in command.subcommands.values()}.values())
    if subs:
        expected.extend([f"{subs_label}:", ""])  # the list is its own paragraph
        expected.extend(f"• {sub.usage_line('!', lang)} – {sub.help(lang)}" for sub in subs)

    assert plain(detail(command, "!", lang)).splitlines() == expected


def test_detail_of_hilfe_in_german() -> None:
    command = DISPATCHER.lookup("hilfe")
    assert command is not None

    assert plain(detail(command, "!", "de")) == (
        "!hilfe (!help)\nZeigt alle Befehle oder die Hilfe zu einem Befehl.\nAufruf: !hilfe [<Befehl>]"
    )


TEXTS = {
    "de": {
        "cmd.lock.help": "Sperrt.",
        "cmd.board.help": "Vorstand.",
        "cmd.board.clear.help": "Leert.",
    },
    "en": {
        "cmd.lock.help": "Locks.",
        "cmd.board.help": "Board.",
        "cmd.board.clear.help": "Clears.",
    },
}


chair_router = Router("vorsitz", texts=TEXTS)


@chair_router.command("sperren", alias="lock", chair=True)
async def lock(ctx: Context) -> None:
    return None


board = chair_router.group("vorstand", alias="board", chair=True)


@board.command("leeren", alias="clear")
async def board_clear(ctx: Context) -> None:
    return None


CHAIR_DISPATCHER = Dispatcher([chair_router, help_commands.router], "!")


def test_overview_stars_chair_only_commands_once() -> None:
    lines = plain(overview(CHAIR_DISPATCHER, "de")).splitlines()

    assert lines[2:5] == [
        "• !sperren (!lock) (Vorsitz) – Sperrt.",
        "• !vorstand (!board) (Vorsitz) – Vorstand.",
        "  • !vorstand leeren (!board clear) (Vorsitz) – Leert.",
    ]


def test_detail_of_a_subcommand_of_a_chair_only_group_is_starred_once() -> None:
    command = CHAIR_DISPATCHER.lookup("vorstand leeren")
    assert command is not None

    assert plain(detail(command, "!", "de")).splitlines() == [
        "!vorstand leeren (!board clear) (Vorsitz)",
        "Leert.",
        "Aufruf: !vorstand leeren",
    ]


@pytest.mark.parametrize("path", ["sperren", "vorstand"])
def test_detail_of_a_top_level_chair_only_command_is_starred_once(path: str) -> None:
    command = CHAIR_DISPATCHER.lookup(path)
    assert command is not None

    header = plain(detail(command, "!", "de")).splitlines()[0]

    assert header == names_line(command, "de", star=True)


# ---- catalogs ----------------------------------------------------------------------------------


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def test_catalogs_have_the_same_keys() -> None:
    assert sorted(DE) == sorted(EN)


@pytest.mark.parametrize("family", FAMILIES, ids=lambda family: family.__name__.rsplit(".", 1)[-1])
def test_each_family_keeps_both_languages_of_its_texts(family: ModuleType) -> None:
    assert sorted(family.DE) == sorted(family.EN)


def test_catalogs_have_the_same_placeholders_per_key() -> None:
    keys = sorted(set(DE) & set(EN))

    assert {key: placeholders(DE[key]) for key in keys} == {key: placeholders(EN[key]) for key in keys}


def test_catalog_texts_are_not_empty() -> None:
    assert [key for key, text in {**DE, **EN}.items() if not text.strip()] == []


def german_texts() -> list[tuple[str, str]]:
    texts = [(f"i18n:{key}", text) for key, text in DE.items()]
    texts += [(f"help:{path_of(command)}", command.help("de")) for command in ALL_COMMANDS]
    texts += [(f"usage:{path_of(command)}", command.usage_line("!", "de")) for command in ALL_COMMANDS]
    texts.append(("overview", plain(overview(DISPATCHER, "de"))))
    return texts


def test_german_texts_use_formal_address() -> None:
    informal = [(where, text) for where, text in german_texts() if INFORMAL.search(text)]

    assert informal == []


@pytest.mark.parametrize(
    ("text", "informal"),
    [
        ("Kannst du das?", True),
        ("Dein Termin", True),
        ("Wir erinnern dich.", True),
        ("Ihre Nachricht", False),
        ("Dudelsack und Deinstallation", False),
        ("Können Sie das?", False),
    ],
)
def test_informal_address_detector(text: str, informal: bool) -> None:
    assert bool(INFORMAL.search(text)) is informal


@pytest.mark.parametrize(
    ("lang", "count", "expected"),
    [
        ("de", 1, "Erinnert: 1 Mitglied hat noch nicht abgestimmt."),
        ("de", 2, "Erinnert: 2 Mitglieder haben noch nicht abgestimmt."),
        ("en", 1, "Reminded: 1 member has not voted yet."),
        ("de", 0, "Erinnert: 0 Mitglieder haben noch nicht abgestimmt."),
    ],
)
def test_one_is_singular(lang: str, count: int, expected: str) -> None:
    assert t(lang, "poll.nudged", count=count) == expected


def test_durations_say_days_in_full() -> None:
    assert format_duration("de", 365 * 86400) == "365 Tage"
    assert format_duration("de", 86400 + 3600) == "1 Tag 1 Std."
    assert format_duration("en", 2 * 86400) == "2 days"


def test_every_missing_argument_text_belongs_to_a_parameter_of_its_command() -> None:
    from bot.app import ROUTERS

    dispatcher = Dispatcher(ROUTERS, "!")
    params = {f"{c.key}.missing.{p.name}" for c in dispatcher.all_commands() for p in c.params}

    assert {key for key in DE if ".missing." in key} <= params


def test_status_names_the_model_host_to_the_chair_only() -> None:
    from bot.render import render
    from bot.services import StatusReport
    from bot.views.admin import status

    report = StatusReport("1.0", 60.0, True, True, 1, 3, "http://10.0.0.5:11434/v1", True, (2, 40))
    assert "10.0.0.5" in render(status(report, "de", chair=True))[0]
    member = render(status(report, "de", chair=False))[0]
    assert "10.0.0.5" not in member and "erreichbar" in member
