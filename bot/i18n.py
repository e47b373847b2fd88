"""Message catalogs: German (default, formal "Sie") and English.

Each command family keeps its texts in ``bot/catalogs/<family>.py`` (``DE`` and ``EN``, the same
keys); this module merges them and looks texts up.

Texts are Markdown. Parameters are inserted with ``str.format``; anything a member typed must be
passed through ``bot.render.escape`` (``t`` does it for every parameter unless it is ``Markdown``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from types import ModuleType
from typing import Any, Literal

from bot import catalogs
from bot.errors import Term
from bot.render import Markdown, escape

Language = Literal["de", "en"]
LANGUAGES: tuple[Language, ...] = ("de", "en")


def _families() -> tuple[ModuleType, ...]:
    """Every module in ``bot/catalogs``: a new command family brings its texts by adding one."""
    names = sorted(module.name for module in pkgutil.iter_modules(catalogs.__path__))
    return tuple(importlib.import_module(f"{catalogs.__name__}.{name}") for name in names)


FAMILIES = _families()


def _merge(lang: Language) -> dict[str, str]:
    """One catalog per language from the families' catalogs; a key in two families is a bug."""
    merged: dict[str, str] = {}
    for family in FAMILIES:
        catalog: dict[str, str] = getattr(family, lang.upper())
        twice = merged.keys() & catalog.keys()
        if twice:
            raise RuntimeError(f"catalog keys defined twice ({family.__name__}): {sorted(twice)}")
        merged.update(catalog)
    return merged


DE: dict[str, str] = _merge("de")
EN: dict[str, str] = _merge("en")
CATALOGS: Mapping[Language, Mapping[str, str]] = {"de": DE, "en": EN}


Texts = Mapping[str, Mapping[str, str]]
"""Texts of one's own beside the catalogs: language -> key -> text (e.g. a test's command family)."""


def template(lang: str, key: str, texts: Texts | None = None) -> str | None:
    """The raw text for ``key`` in ``lang`` (German when missing); ``None`` when there is none."""
    language = as_language(lang)
    for catalog in ((texts or {}).get(language, {}), CATALOGS[language], (texts or {}).get("de", {}), DE):
        text = catalog.get(key)
        if text is not None:
            return text
    return None


def t(lang: str, key: str, **params: Any) -> Markdown:
    """The text for ``key`` in ``lang`` (German when missing), parameters escaped for Markdown.

    Singular: when ``count`` (or ``n``) is 1 and the catalog has ``<key>.one``, that text is used
    ("1 Stimme", not "1 Stimmen")."""
    if 1 in (params.get("count"), params.get("n")) and template(lang, f"{key}.one") is not None:
        key = f"{key}.one"
    text = template(lang, key) or key
    safe = {
        name: t(lang, value.key)
        if isinstance(value, Term)
        else value
        if isinstance(value, Markdown)
        else escape(str(value))
        for name, value in params.items()
    }
    return Markdown(text.format(**safe))


def as_language(value: str | None, default: Language = "de") -> Language:
    if value == "en":
        return "en"
    if value == "de":
        return "de"
    return default


def format_number(lang: str, value: float, digits: int = 1) -> str:
    """ "0,6" in German, "0.6" in English."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if as_language(lang) == "de" else text


def format_duration(lang: str, seconds: float) -> Markdown:
    """A short human duration like "2 Tage 3 Std. 4 Min."."""
    remaining = int(seconds)
    parts = []
    for key, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        amount, remaining = divmod(remaining, size)
        if amount:
            parts.append(t(lang, f"duration.{key}", n=amount))
    if not parts:
        parts.append(t(lang, "duration.seconds", n=remaining))
    return Markdown(" ".join(parts))
