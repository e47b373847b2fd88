"""Message catalogs: German (default, formal "Sie") and English.

Texts are Markdown. Parameters are inserted with ``str.format``; anything a member typed must be
passed through ``bot.render.escape`` (``t`` does it for every parameter unless it is ``Markdown``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from bot.render import Markdown, escape

Language = Literal["de", "en"]
LANGUAGES: tuple[Language, ...] = ("de", "en")

DE: dict[str, str] = {
    "unknown_command": "Den Befehl {command} kenne ich nicht. Meinten Sie {suggestion}?",
    "usage.line": "Aufruf: {usage}",
    "usage.generic": "Die Angaben passen nicht zu diesem Befehl.",
    "usage.not_a_number": "„{value}“ ist keine Zahl.",
    "usage.too_many": "Zu viele Angaben: „{value}“ ist überzählig.",
    "usage.missing": "Es fehlt noch: {name}.",
    "usage.choice": "„{value}“ ist nicht möglich. Erlaubt: {choices}.",
    "chair_only": "Diesen Befehl darf nur der Vorsitz verwenden.",
    "internal_error": (
        "Das hat leider nicht geklappt – ein interner Fehler ist aufgetreten. "
        "Bitte nennen Sie dem Betrieb die Fehlernummer {error_id}."
    ),
    "too_long": "Ihre Nachricht ist zu lang ({length} Zeichen, höchstens {limit}).",
    "ping.pong": "pong – Bearbeitungszeit {ms} ms",
    "help.title": "**Befehle von akbot**",
    "help.footer": "Mehr zu einem Befehl: {command}. ★ = nur für den Vorsitz.",
    "help.unknown": "Zu {name} gibt es keine Hilfe. Alle Befehle: {command}.",
    "help.usage": "Aufruf",
    "help.alias": "Englisch",
    "help.subcommands": "Unterbefehle",
    "help.chair_only": "nur für den Vorsitz",
    "status.title": "**Status von akbot**",
    "status.version": "Version",
    "status.uptime": "Laufzeit",
    "status.encryption": "Verschlüsselung",
    "status.on": "an",
    "status.off": "aus",
    "status.rooms": "Betreute Räume",
    "status.jobs": "Geplante Aufgaben",
    "status.model": "Sprachmodell",
    "status.model_off": "nicht eingerichtet",
    "status.model_ok": "erreichbar ({url})",
    "status.model_down": "nicht erreichbar ({url})",
    "language.set": "Ich antworte in diesem Raum ab jetzt auf Deutsch.",
    "language.current": "Sprache in diesem Raum: Deutsch. Ändern mit {command}.",
    "duration.days": "{n} T.",
    "duration.hours": "{n} Std.",
    "duration.minutes": "{n} Min.",
    "duration.seconds": "{n} Sek.",
}

EN: dict[str, str] = {
    "unknown_command": "I don't know the command {command}. Did you mean {suggestion}?",
    "usage.line": "Usage: {usage}",
    "usage.generic": "These arguments do not fit this command.",
    "usage.not_a_number": "“{value}” is not a number.",
    "usage.too_many": "Too many arguments: “{value}” is left over.",
    "usage.missing": "Missing: {name}.",
    "usage.choice": "“{value}” is not possible. Allowed: {choices}.",
    "chair_only": "Only the chair may use this command.",
    "internal_error": (
        "Sorry, that did not work – an internal error occurred. "
        "Please give the operators the error id {error_id}."
    ),
    "too_long": "Your message is too long ({length} characters, at most {limit}).",
    "ping.pong": "pong – processing time {ms} ms",
    "help.title": "**akbot commands**",
    "help.footer": "More about a command: {command}. ★ = chair only.",
    "help.unknown": "There is no help for {name}. All commands: {command}.",
    "help.usage": "Usage",
    "help.alias": "German",
    "help.subcommands": "Subcommands",
    "help.chair_only": "chair only",
    "status.title": "**akbot status**",
    "status.version": "Version",
    "status.uptime": "Uptime",
    "status.encryption": "Encryption",
    "status.on": "on",
    "status.off": "off",
    "status.rooms": "Rooms served",
    "status.jobs": "Scheduled jobs",
    "status.model": "Language model",
    "status.model_off": "not configured",
    "status.model_ok": "reachable ({url})",
    "status.model_down": "not reachable ({url})",
    "language.set": "From now on I answer in English in this room.",
    "language.current": "Language in this room: English. Change with {command}.",
    "duration.days": "{n} d",
    "duration.hours": "{n} h",
    "duration.minutes": "{n} min",
    "duration.seconds": "{n} s",
}

CATALOGS: Mapping[Language, Mapping[str, str]] = {"de": DE, "en": EN}


def t(lang: str, key: str, **params: Any) -> Markdown:
    """The text for ``key`` in ``lang`` (German when missing), parameters escaped for Markdown."""
    catalog = CATALOGS[as_language(lang)]
    template = catalog.get(key) or DE.get(key) or key
    safe = {
        name: value if isinstance(value, Markdown) else escape(str(value)) for name, value in params.items()
    }
    return Markdown(template.format(**safe))


def as_language(value: str | None, default: Language = "de") -> Language:
    if value == "en":
        return "en"
    if value == "de":
        return "de"
    return default


def format_duration(lang: str, seconds: float) -> Markdown:
    """A short human duration like "2 T. 3 Std. 4 Min."."""
    remaining = int(seconds)
    parts = []
    for key, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        amount, remaining = divmod(remaining, size)
        if amount:
            parts.append(t(lang, f"duration.{key}", n=amount))
    if not parts:
        parts.append(t(lang, "duration.seconds", n=remaining))
    return Markdown(" ".join(parts))
