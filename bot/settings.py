"""Configuration: a TOML file, overridden by ``AKBOT_<SECTION>__<KEY>`` environment variables.

Secrets (``password``, ``access_token``, ``pickle_key``) may also come from ``<key>_file``
paths (Docker/Kubernetes secrets); they are held as SecretStr so they never reach a log.
"""

from __future__ import annotations

import os
import re
import tomllib
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.errors import ConfigError
from bot.timeparse import parse_duration

MXID_PATTERN = re.compile(r"^@[a-z0-9._=/+\-]+:[A-Za-z0-9.\-]+(:\d+)?$")
# Room IDs lost their ":server" part in room version 12; aliases keep it.
ROOM_PATTERN = re.compile(r"^(![^:\s]+(:[A-Za-z0-9.\-]+(:\d+)?)?|#[^:\s]+:[A-Za-z0-9.\-]+(:\d+)?)$")
SECRET_KEYS = ("password", "access_token", "pickle_key")
PLACEHOLDER_PICKLE_KEYS = frozenset({"bitte-ändern-und-sicher-aufbewahren", "change-me", "akbot"})


# The folder of the config file being loaded: relative paths in it are meant from there.
_config_dir: ContextVar[Path | None] = ContextVar("akbot_config_dir", default=None)


def _read_secret_file(path: Path, key: str) -> SecretStr:
    base = _config_dir.get()
    if base is not None and not path.is_absolute():
        path = base / path
    try:
        return SecretStr(path.read_text(encoding="utf-8").strip())
    except OSError as error:
        raise ValueError(f"{key}_file {str(path)!r} cannot be read: {error.strerror}") from None


class Section(BaseModel):
    # A typo in a key must be an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid")


class MatrixSettings(Section):
    homeserver: str
    user_id: str
    password: SecretStr | None = None
    password_file: Path | None = None
    access_token: SecretStr | None = None
    access_token_file: Path | None = None
    device_name: str = "akbot"
    rooms: list[str] = Field(default_factory=list)
    allowed_inviters: list[str] = Field(default_factory=list)
    allowed_servers: list[str] = Field(default_factory=list)
    """When set, the bot follows invitations only from users of these servers, into rooms created
    on them (the two organisations' homeservers)."""
    encryption: bool = True
    exclude_insecure_devices: bool = True
    """As Element does by default: no room keys for, and no commands from, devices that their
    owner has not cross-signed."""
    pickle_key: SecretStr | None = None
    pickle_key_file: Path | None = None

    def pickle_key_problem(self) -> str | None:
        """Why the E2EE store would be badly protected (``akbot run`` refuses to start), or None."""
        if not self.encryption:
            return None
        if self.pickle_key is None:
            return "matrix.pickle_key is not set: it protects the bot's encryption keys on disk (see config.example.toml)"
        if self.pickle_key.get_secret_value() in PLACEHOLDER_PICKLE_KEYS:
            return "matrix.pickle_key is still the example value: choose a secret of your own"
        if len(self.pickle_key.get_secret_value()) < 16:
            return "matrix.pickle_key is too short: at least 16 characters"
        return None

    @field_validator("homeserver")
    @classmethod
    def _homeserver_is_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL, e.g. https://matrix.lvr.de")
        return value.rstrip("/")

    @field_validator("user_id")
    @classmethod
    def _user_id_is_mxid(cls, value: str) -> str:
        if not MXID_PATTERN.match(value):
            raise ValueError("must be a Matrix user ID like @akbot:lvr.de")
        return value

    @field_validator("rooms")
    @classmethod
    def _rooms_are_ids_or_aliases(cls, value: list[str]) -> list[str]:
        for room in value:
            if not ROOM_PATTERN.match(room):
                raise ValueError(
                    f"{room!r} is neither a room ID (!abc or !abc:server) nor an alias (#name:server)"
                )
        return value

    @model_validator(mode="after")
    def _secrets_from_files(self) -> MatrixSettings:
        for key in SECRET_KEYS:
            path = getattr(self, f"{key}_file")
            if path is not None:  # an explicit file wins over a value (e.g. a copied placeholder)
                setattr(self, key, _read_secret_file(path, key))
        if self.password is None and self.access_token is None:
            raise ValueError("set password (or password_file) or access_token (or access_token_file)")
        return self


class BotSettings(Section):
    prefix: str = "!"
    language: Literal["de", "en"] = "de"
    timezone: str = "Europe/Berlin"
    chairs: list[str] = Field(default_factory=list)
    chair_power_level: int = Field(default=50, ge=0, le=100)
    data_dir: Path = Path("data")
    log_format: Literal["text", "json"] = "text"
    command_rate: str = "20/10s"

    @field_validator("command_rate")
    @classmethod
    def _command_rate_is_count_per_duration(cls, value: str) -> str:
        return _valid_rate(value)

    @property
    def rate(self) -> tuple[int, timedelta]:
        return _rate(self.command_rate)

    @field_validator("prefix")
    @classmethod
    def _prefix_is_short(cls, value: str) -> str:
        if not 1 <= len(value) <= 3 or any(c.isspace() or c.isalnum() for c in value):
            raise ValueError("must be one to three punctuation characters, e.g. '!'")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}, e.g. Europe/Berlin") from None
        return value

    @field_validator("chairs")
    @classmethod
    def _chairs_are_mxids(cls, value: list[str]) -> list[str]:
        for chair in value:
            if not MXID_PATTERN.match(chair):
                raise ValueError(f"{chair!r} is not a Matrix user ID like @name:lvr.de")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _valid_rate(value: str) -> str:
    count, slash, window = value.partition("/")
    if not slash or not count.strip().isdecimal() or int(count) < 1:
        raise ValueError(f"{value!r} must look like '5/10min' (a number per duration)")
    _valid_duration(window.strip())
    return value


def _rate(value: str) -> tuple[int, timedelta]:
    count, _, window = value.partition("/")
    return int(count), parse_duration(window.strip())


def _valid_duration(value: str) -> str:
    if parse_duration(value) <= timedelta(0):
        raise ValueError(f"{value!r} must be longer than zero")
    return value


class ReminderSettings(Section):
    meeting_offsets: list[str] = Field(default_factory=lambda: ["7d", "1d", "1h"])
    late_grace: str = "24h"
    room_per_member: int = Field(default=3, ge=0, le=1000)
    """Active room reminders a member (not the chair) may have set in one room."""

    @field_validator("meeting_offsets")
    @classmethod
    def _offsets_are_durations(cls, value: list[str]) -> list[str]:
        return [_valid_duration(item) for item in value]

    @field_validator("late_grace")
    @classmethod
    def _grace_is_duration(cls, value: str) -> str:
        return _valid_duration(value)

    @property
    def offsets(self) -> list[timedelta]:
        return sorted((parse_duration(item) for item in self.meeting_offsets), reverse=True)

    @property
    def grace(self) -> timedelta:
        return parse_duration(self.late_grace)


class MeetingSettings(Section):
    duration: str = "2h"

    @field_validator("duration")
    @classmethod
    def _duration_is_duration(cls, value: str) -> str:
        return _valid_duration(value)

    @property
    def length(self) -> timedelta:
        return parse_duration(self.duration)


class PollSettings(Section):
    nudge_before: str = "24h"

    @field_validator("nudge_before")
    @classmethod
    def _nudge_is_duration(cls, value: str) -> str:
        return _valid_duration(value)

    @property
    def nudge(self) -> timedelta:
        return parse_duration(self.nudge_before)


DEFAULT_GROUPS = (
    "Verwaltung",
    "IT",
    "Kliniken",
    "Förderschulen",
    "Personalvertretung",
    "Unternehmen",
    "Politik",
)


class GroupSettings(Section):
    """The stakeholder groups a member may belong to (names as the room reads them)."""

    names: list[str] = Field(default_factory=lambda: list(DEFAULT_GROUPS))

    @field_validator("names")
    @classmethod
    def _distinct_names(cls, value: list[str]) -> list[str]:
        cleaned = [name.strip() for name in value]
        if any(not name or len(name) > 60 for name in cleaned):
            raise ValueError("group names must be 1 to 60 characters")
        if len({name.casefold() for name in cleaned}) != len(cleaned):
            raise ValueError("group names must differ (ignoring case)")
        return cleaned


class AgendaSettings(Section):
    organisations: dict[str, str] = Field(default_factory=lambda: {"lvr.de": "LVR", "lwl.org": "LWL"})
    fixed_items: list[str] = Field(default_factory=lambda: ["agenda.fixed.opening", "agenda.fixed.closing"])
    """Titles as written, or catalog keys (the default), which read in the room's language."""
    submission_deadline: str = "7d"
    deadline_reminder: str = "2d"
    publish_before: str = "3d"

    @field_validator("submission_deadline", "deadline_reminder", "publish_before")
    @classmethod
    def _durations(cls, value: str) -> str:
        return _valid_duration(value)

    @field_validator("fixed_items")
    @classmethod
    def _first_and_last(cls, value: list[str]) -> list[str]:
        if len(value) > 2:
            raise ValueError("at most two fixed items: the opening one and the closing one")
        return value

    def duration(self, key: str) -> timedelta:
        return parse_duration(str(getattr(self, key)))


DEFAULT_SYSTEM_PROMPT = (
    "Sie sind der KI-Assistent des gemeinsamen Facharbeitskreises Künstliche Intelligenz von LVR und LWL "
    "(Verwaltung, IT, Kliniken, Förderschulen, Personalräte, externe Unternehmen, Politik). Antworten Sie "
    "kurz, sachlich und in der Sprache der Frage; auf Deutsch in der Sie-Form. Verarbeiten Sie keine "
    "personenbezogenen Daten und fordern Sie keine an. Sagen Sie offen, wenn Sie etwas nicht wissen."
)

DEFAULT_GROUNDING_PROMPT = (
    "Beantworten Sie die Frage nur aus den folgenden Unterlagen des Arbeitskreises. Jede Unterlage "
    "beginnt mit ihrer Nummer in eckigen Klammern. Steht die Antwort nicht darin, sagen Sie das."
)

DEFAULT_SUMMARY_PROMPT = (
    "Fassen Sie die folgende Niederschrift des Arbeitskreises in höchstens fünf Sätzen zusammen: die "
    "Beschlüsse zuerst, dann die Aufgaben mit ihren Verantwortlichen. Erfinden Sie nichts hinzu."
)


class PrivacySettings(Section):
    retention: str = "365d"

    @field_validator("retention")
    @classmethod
    def _retention_is_duration(cls, value: str) -> str:
        return _valid_duration(value)

    @property
    def period(self) -> timedelta:
        return parse_duration(self.retention)


class MetricsSettings(Section):
    port: int | None = Field(default=None, ge=1, le=65535)
    host: str = "127.0.0.1"


class LlmSettings(Section):
    base_url: str | None = None
    model: str | None = None
    api_key: SecretStr | None = None
    api_key_file: Path | None = None
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    grounding_prompt: str = DEFAULT_GROUNDING_PROMPT
    summary_prompt: str = DEFAULT_SUMMARY_PROMPT
    """What ``!zusammenfassung`` asks the model to do with released minutes."""
    """Put before the passages of the group's record that answer a ``!frage``."""
    max_tokens: int = Field(default=512, ge=1, le=32768)
    temperature: float = Field(default=0.3, ge=0.0, le=2.0)
    timeout_s: float = Field(default=120.0, gt=0, le=3600)  # the whole answer, not one read
    max_concurrent: int = Field(default=2, ge=1, le=64)
    queue_size: int = Field(default=8, ge=0, le=1000)
    user_rate: str = "5/10min"
    context_turns: int = Field(default=6, ge=0, le=50)
    edit_interval: float = Field(default=2.0, ge=0.1, le=60)
    allowed_hosts: list[str] = Field(default_factory=list)
    """Hosts or addresses that count as on the premises beyond loopback and private networks."""
    allowed_models: list[str] | None = None
    """When set, the only models ``!modell`` may choose."""
    embedding_model: str | None = None
    """When set, ``!frage`` retrieves by meaning too: vectors from this model at the same endpoint's
    ``/v1/embeddings``, fused with the full-text ranking."""
    allow_external: bool = False
    log_prompts: bool = False
    frequency_penalty: float | None = Field(default=None, ge=-2.0, le=2.0)
    """Sent when set (OpenAI's parameter; Ollama, vLLM and llama.cpp take it): small models repeat
    themselves without it."""
    fold_system_prompt: bool = False
    """Send the system prompt inside the first user message — for servers whose chat format drops
    system messages (llama.cpp with ``--chat_format gemma``)."""

    @field_validator("base_url")
    @classmethod
    def _base_url_is_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL, e.g. http://127.0.0.1:11434/v1")
        return value.rstrip("/") if value else value

    @field_validator("user_rate")
    @classmethod
    def _rate_is_count_per_duration(cls, value: str) -> str:
        return _valid_rate(value)

    @field_validator("model", "embedding_model")
    @classmethod
    def _model_stays_on_the_premises(cls, value: str | None) -> str | None:
        # Ollama forwards "…:cloud" and "…-cloud" models to its cloud service: not on the premises.
        if value is not None and re.search(r"[:-]cloud$", value.strip(), re.IGNORECASE):
            raise ValueError(f"{value!r} is a cloud model (Ollama forwards it off the premises)")
        return value

    @model_validator(mode="after")
    def _api_key_from_file(self) -> LlmSettings:
        if self.api_key_file is not None:
            self.api_key = _read_secret_file(self.api_key_file, "api_key")
        return self

    @property
    def rate(self) -> tuple[int, timedelta]:
        return _rate(self.user_rate)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="AKBOT_",
        env_nested_delimiter="__",
        extra="ignore",
        nested_model_default_partial_update=True,
    )

    matrix: MatrixSettings
    bot: BotSettings = Field(default_factory=BotSettings)
    reminders: ReminderSettings = Field(default_factory=ReminderSettings)
    meetings: MeetingSettings = Field(default_factory=MeetingSettings)
    polls: PollSettings = Field(default_factory=PollSettings)
    agenda: AgendaSettings = Field(default_factory=AgendaSettings)
    groups: GroupSettings = Field(default_factory=GroupSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    llm: LlmSettings = Field(default_factory=LlmSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats the file: operators override single keys without editing it.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


KNOWN_SECTIONS = frozenset(Settings.model_fields)


def _format_error(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"] if not str(part).startswith("function-"))
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{key}: {message}" if key else message)
    return "; ".join(problems)


def config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """The config file to read: the ``--config`` argument, else ``AKBOT_CONFIG``, else ./config.toml."""
    return Path(explicit or os.environ.get("AKBOT_CONFIG") or "config.toml")


def load_settings(path: Path) -> Settings:
    """Read and validate the configuration, raising ConfigError with one line on any problem."""
    try:
        with path.open("rb") as handle:
            raw: dict[str, Any] = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found (see config.example.toml)") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    unknown = sorted(set(raw) - KNOWN_SECTIONS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown section [{unknown[0]}] (known: {', '.join(sorted(KNOWN_SECTIONS))})"
        )
    bound = type("FileSettings", (Settings,), {"model_config": {**Settings.model_config, "toml_file": path}})
    token = _config_dir.set(path.parent.resolve())
    try:
        settings: Settings = bound()
    except ValidationError as error:
        raise ConfigError(f"{path}: {_format_error(error)}") from None
    finally:
        _config_dir.reset(token)
    # A relative data_dir belongs to the config file, not to wherever the bot was started.
    if not settings.bot.data_dir.is_absolute():
        settings.bot.data_dir = (path.parent / settings.bot.data_dir).resolve()
    return settings
