"""The documents of the record as members read them."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import t
from bot.render import Markdown, join
from bot.services.knowledge import Document
from bot.timeparse import format_datetime
from bot.views import person


def added(document: Document, lang: str) -> Markdown:
    return t(
        lang,
        "knowledge.added",
        id=document.id,
        name=document.name,
        passages=document.passages,
        count=document.passages,
    )


def removed(document: Document, lang: str) -> Markdown:
    return t(lang, "knowledge.removed", id=document.id, name=document.name)


def listing(documents: Sequence[Document], lang: str) -> Markdown:
    if not documents:
        return t(lang, "knowledge.list_empty")
    lines = [t(lang, "knowledge.list_title")]
    for document in documents:
        line = t(
            lang,
            "knowledge.list_line",
            id=document.id,
            name=document.name,
            when=format_datetime(document.added_at, lang),
            who=person(document.added_by_name, lang),
        )
        lines.append(Markdown(f"- {line}"))
    return join(lines)
