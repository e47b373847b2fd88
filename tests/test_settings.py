"""load_settings(): TOML file, environment overrides, secrets from files, one-line errors."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.errors import ConfigError
from bot.settings import BotSettings, LlmSettings, MatrixSettings, config_path, load_settings

MINIMAL = """\
[matrix]
homeserver = "https://matrix.lvr.de/"
user_id = "@akbot:lvr.de"
password = "geheim-123"
"""


@pytest.fixture(autouse=True)
def _no_akbot_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the developer's shell exports must not leak into these tests."""
    for name in list(os.environ):
        if name.startswith("AKBOT_"):
            monkeypatch.delenv(name)


def write_config(folder: Path, text: str, name: str = "akbot.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    return str(caught.value)


# ---- valid files -------------------------------------------------------------------------------


def test_minimal_file_loads_with_trailing_slash_of_homeserver_removed(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, MINIMAL))

    assert settings.matrix == MatrixSettings(
        homeserver="https://matrix.lvr.de",
        user_id="@akbot:lvr.de",
        password=SecretStr("geheim-123"),
    )


def test_defaults_of_a_minimal_file(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, MINIMAL))

    assert settings.bot == BotSettings(
        prefix="!",
        language="de",
        timezone="Europe/Berlin",
        chairs=[],
        chair_power_level=50,
        data_dir=(tmp_path / "data").resolve(),
    )
    assert settings.llm == LlmSettings(base_url=None, model=None)
    assert settings.matrix.encryption is True
    assert settings.matrix.rooms == []
    assert settings.matrix.device_name == "akbot"
    assert str(settings.bot.tz) == "Europe/Berlin"


def test_full_bot_section_is_taken_as_written(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        MINIMAL
        + """
[bot]
prefix = "?"
language = "en"
timezone = "UTC"
chairs = ["@vorsitz:lvr.de"]
chair_power_level = 75
""",
    )

    assert load_settings(path).bot == BotSettings(
        prefix="?",
        language="en",
        timezone="UTC",
        chairs=["@vorsitz:lvr.de"],
        chair_power_level=75,
        data_dir=(tmp_path / "data").resolve(),
    )


def test_environment_overrides_single_keys_and_keeps_the_other_file_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(
        tmp_path,
        MINIMAL
        + """rooms = ["!alt:lvr.de"]
allowed_inviters = ["@vorsitz:lvr.de"]

[bot]
language = "de"
timezone = "UTC"
chairs = ["@vorsitz:lvr.de"]
""",
    )
    monkeypatch.setenv("AKBOT_BOT__LANGUAGE", "en")
    monkeypatch.setenv("AKBOT_MATRIX__ROOMS", '["!abc:lvr.de"]')

    settings = load_settings(path)

    assert settings.bot.language == "en"
    assert settings.matrix.rooms == ["!abc:lvr.de"]
    assert settings.bot.timezone == "UTC"
    assert settings.bot.chairs == ["@vorsitz:lvr.de"]
    assert settings.matrix.allowed_inviters == ["@vorsitz:lvr.de"]
    assert settings.matrix.homeserver == "https://matrix.lvr.de"
    assert settings.matrix.password == SecretStr("geheim-123")


def test_environment_override_of_a_section_missing_from_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AKBOT_BOT__LANGUAGE", "en")

    settings = load_settings(write_config(tmp_path, MINIMAL))

    assert (settings.bot.language, settings.bot.timezone) == ("en", "Europe/Berlin")


def test_invalid_environment_value_is_a_config_error_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path, MINIMAL)
    monkeypatch.setenv("AKBOT_BOT__LANGUAGE", "fr")

    assert config_error(path) == f"{path}: bot.language: Input should be 'de' or 'en'"


def test_password_file_is_read_stripped_into_a_secret(tmp_path: Path) -> None:
    secret = tmp_path / "secrets" / "password"
    secret.parent.mkdir()
    secret.write_text("streng-geheim-4711\n", encoding="utf-8")
    path = write_config(
        tmp_path,
        f"""[matrix]
homeserver = "https://matrix.lvr.de"
user_id = "@akbot:lvr.de"
password_file = "{secret}"
""",
    )

    settings = load_settings(path)

    assert isinstance(settings.matrix.password, SecretStr)
    assert settings.matrix.password.get_secret_value() == "streng-geheim-4711"
    for shown in (repr(settings), str(settings), repr(settings.matrix), settings.model_dump_json()):
        assert "streng-geheim-4711" not in shown


def test_password_in_file_is_never_shown_by_repr_or_str(tmp_path: Path) -> None:
    settings = load_settings(write_config(tmp_path, MINIMAL))

    assert "geheim-123" not in repr(settings)
    assert "geheim-123" not in str(settings)
    assert "geheim-123" not in f"{settings.matrix}"


def test_access_token_alone_is_enough(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """[matrix]
homeserver = "https://matrix.lvr.de"
user_id = "@akbot:lvr.de"
access_token = "syt_abc"
""",
    )

    settings = load_settings(path)

    assert (settings.matrix.password, settings.matrix.access_token) == (None, SecretStr("syt_abc"))


def test_relative_data_dir_belongs_to_the_config_folder_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path / "etc", MINIMAL + '\n[bot]\ndata_dir = "zustand"\n')
    elsewhere = tmp_path / "anderswo"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    assert load_settings(path).bot.data_dir == (tmp_path / "etc" / "zustand").resolve()


def test_relative_config_path_gives_an_absolute_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path / "etc", MINIMAL)
    monkeypatch.chdir(tmp_path)

    assert load_settings(Path("etc/akbot.toml")).bot.data_dir == (tmp_path / "etc" / "data").resolve()


def test_absolute_data_dir_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "var" / "akbot"
    path = write_config(tmp_path / "etc", MINIMAL + f'\n[bot]\ndata_dir = "{target}"\n')

    assert load_settings(path).bot.data_dir == target


@pytest.mark.parametrize(
    "room",
    ["!abcDEF123", "!abc:lvr.de", "!abc:matrix.lvr.de:8448", "#ak-ki:lvr.de", "#ak-ki:localhost:8008"],
)
def test_valid_room_ids_and_aliases(tmp_path: Path, room: str) -> None:
    path = write_config(tmp_path, MINIMAL + f'rooms = ["{room}"]\n')

    assert load_settings(path).matrix.rooms == [room]


@pytest.mark.parametrize("room", ["#ak-ki", "ak-ki:lvr.de", "!", "!abc def", "@akbot:lvr.de"])
def test_invalid_rooms_are_a_config_error_naming_matrix_rooms(tmp_path: Path, room: str) -> None:
    path = write_config(tmp_path, MINIMAL + f'rooms = ["{room}"]\n')

    assert config_error(path) == (
        f"{path}: matrix.rooms: {room!r} is neither a room ID (!abc or !abc:server) "
        "nor an alias (#name:server)"
    )


# ---- errors: one line that names the key ------------------------------------------------------


def test_missing_homeserver(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[matrix]\nuser_id = "@akbot:lvr.de"\npassword = "x"\n')

    assert config_error(path) == f"{path}: matrix.homeserver: Field required"


def test_missing_matrix_section(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[bot]\nlanguage = "de"\n')

    assert config_error(path) == f"{path}: matrix: Field required"


def test_homeserver_that_is_not_a_url(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL.replace("https://matrix.lvr.de/", "matrix.lvr.de"))

    assert config_error(path) == (
        f"{path}: matrix.homeserver: must be an http:// or https:// URL, e.g. https://matrix.lvr.de"
    )


@pytest.mark.parametrize("user_id", ["akbot@lvr.de", "@akbot", "@Ak Bot:lvr.de", "akbot"])
def test_bad_user_id(tmp_path: Path, user_id: str) -> None:
    path = write_config(tmp_path, MINIMAL.replace("@akbot:lvr.de", user_id))

    assert config_error(path) == f"{path}: matrix.user_id: must be a Matrix user ID like @akbot:lvr.de"


def test_bad_language(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + '\n[bot]\nlanguage = "fr"\n')

    assert config_error(path) == f"{path}: bot.language: Input should be 'de' or 'en'"


@pytest.mark.parametrize("zone", ["Europe/Bonn", "Mars/Olympus_Mons", "../etc/passwd", ""])
def test_unknown_timezone(tmp_path: Path, zone: str) -> None:
    path = write_config(tmp_path, MINIMAL + f'\n[bot]\ntimezone = "{zone}"\n')

    assert config_error(path) == f"{path}: bot.timezone: unknown time zone {zone!r}, e.g. Europe/Berlin"


def test_typo_in_a_bot_key_is_an_error_not_ignored(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + '\n[bot]\nlangauge = "en"\n')

    assert config_error(path) == f"{path}: bot.langauge: Extra inputs are not permitted"


def test_typo_in_a_matrix_key_is_an_error_not_ignored(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + "encrytpion = false\n")

    assert config_error(path) == f"{path}: matrix.encrytpion: Extra inputs are not permitted"


def test_unknown_section(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + '\n[boot]\nlanguage = "de"\n')

    assert (
        config_error(path)
        == f"{path}: unknown section [boot] (known: agenda, bot, groups, llm, matrix, meetings, metrics, polls, privacy, reminders)"
    )


def test_neither_password_nor_access_token(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, '[matrix]\nhomeserver = "https://matrix.lvr.de"\nuser_id = "@akbot:lvr.de"\n'
    )

    assert config_error(path) == (
        f"{path}: matrix: set password (or password_file) or access_token (or access_token_file)"
    )


def test_unreadable_password_file(tmp_path: Path) -> None:
    missing = tmp_path / "gibt-es-nicht"
    path = write_config(
        tmp_path,
        f"""[matrix]
homeserver = "https://matrix.lvr.de"
user_id = "@akbot:lvr.de"
password_file = "{missing}"
""",
    )

    assert config_error(path) == (
        f"{path}: matrix: password_file {str(missing)!r} cannot be read: No such file or directory"
    )


def test_password_file_that_is_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ordner"
    folder.mkdir()
    path = write_config(
        tmp_path,
        f"""[matrix]
homeserver = "https://matrix.lvr.de"
user_id = "@akbot:lvr.de"
password_file = "{folder}"
""",
    )

    assert (
        config_error(path) == f"{path}: matrix: password_file {str(folder)!r} cannot be read: Is a directory"
    )


def test_chair_power_level_out_of_range(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + "\n[bot]\nchair_power_level = 101\n")

    assert config_error(path) == f"{path}: bot.chair_power_level: Input should be less than or equal to 100"


def test_several_problems_are_reported_on_one_line(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL.replace("@akbot:lvr.de", "akbot") + '\n[bot]\nlanguage = "fr"\n')

    message = config_error(path)

    assert message.splitlines() == [message]
    assert "matrix.user_id" in message
    assert "bot.language" in message


def test_invalid_toml(tmp_path: Path) -> None:
    path = write_config(tmp_path, "[matrix\nhomeserver = 1\n")

    message = config_error(path)

    assert message.startswith(f"{path}: not valid TOML: ")
    assert message.splitlines() == [message]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "fehlt.toml"

    assert config_error(path) == f"{path}: configuration file not found (see config.example.toml)"


def test_config_file_that_is_a_folder(tmp_path: Path) -> None:
    message = config_error(tmp_path)

    assert message == f"{tmp_path}: cannot be read: Is a directory"


@pytest.mark.parametrize(
    "text",
    [
        '[matrix]\nuser_id = "@akbot:lvr.de"\npassword = "x"\n',
        MINIMAL + '\n[bot]\nlanguage = "fr"\ntimezone = "Nowhere/Nothing"\nprefix = "abc"\n',
        MINIMAL + '\n[bot]\nchairs = ["vorsitz"]\n',
        MINIMAL + '\n[llm]\nbase_url = "localhost:11434"\n',
        "x = = 1\n",
    ],
    ids=["missing-homeserver", "three-bot-errors", "bad-chair", "bad-llm-url", "broken-toml"],
)
def test_every_config_error_is_exactly_one_line(tmp_path: Path, text: str) -> None:
    message = config_error(write_config(tmp_path, text))

    assert message.strip() == message
    assert message.splitlines() == [message]


# ---- which file ------------------------------------------------------------------------------


def test_config_path_prefers_argument_then_environment_then_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert config_path(None) == Path("config.toml")
    monkeypatch.setenv("AKBOT_CONFIG", "/etc/akbot/akbot.toml")
    assert config_path(None) == Path("/etc/akbot/akbot.toml")
    assert config_path("eigene.toml") == Path("eigene.toml")


def test_relative_password_file_is_found_next_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "password").write_text("neben-der-datei\n", encoding="utf-8")
    path = write_config(
        tmp_path / "etc",
        """[matrix]
homeserver = "https://matrix.lvr.de"
user_id = "@akbot:lvr.de"
password_file = "password"
""",
    )
    monkeypatch.chdir(tmp_path)

    settings = load_settings(path)

    assert settings.matrix.password is not None
    assert settings.matrix.password.get_secret_value() == "neben-der-datei"


def test_reminder_and_meeting_durations_are_read(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        MINIMAL
        + '\n[reminders]\nmeeting_offsets = ["1h", "2d"]\nlate_grace = "12h"\n[meetings]\nduration = "90min"\n',
    )

    settings = load_settings(path)

    assert settings.reminders.offsets == [timedelta(days=2), timedelta(hours=1)]
    assert settings.reminders.grace == timedelta(hours=12)
    assert settings.meetings.length == timedelta(minutes=90)


def test_a_bad_duration_names_its_key(tmp_path: Path) -> None:
    path = write_config(tmp_path, MINIMAL + '\n[reminders]\nlate_grace = "bald"\n')

    message = config_error(path)

    assert message.startswith(f"{path}: reminders.late_grace: ")
    assert "\n" not in message


def test_a_secret_file_wins_over_a_copied_placeholder(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("aus-der-datei\n", encoding="utf-8")
    path = write_config(
        tmp_path,
        f"""[matrix]
homeserver = "https://matrix.lvr.de"
user_id = "@akbot:lvr.de"
password = "bitte-ändern"
password_file = "{tmp_path / "pw"}"
""",
    )

    password = load_settings(path).matrix.password
    assert password is not None and password.get_secret_value() == "aus-der-datei"
