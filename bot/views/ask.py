"""What the bot answers itself when asked through the model's command."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote

from bot.i18n import t
from bot.render import Markdown, join
from bot.services.agenda import Agenda
from bot.services.knowledge import Passage
from bot.timeparse import format_datetime
from bot.views import agenda as agenda_views
from bot.views import item_title


def clock(now: datetime, lang: str) -> Markdown:
    """ "Es ist Mo., 07.12.2026, 12:15 Uhr (Europe/Berlin) – nach der Uhr des Bots, nicht vom Modell"."""
    minute = now.replace(second=0, microsecond=0)  # as a clock on the wall shows it
    return t(lang, "llm.clock", now=format_datetime(minute, lang), zone=str(now.tzinfo))


def sources(passages: Sequence[Passage], room_id: str, lang: str) -> Markdown:
    """ "Quellen: Beschluss 2026/07 (Sitzung 12.03.2026, TOP 4) · Niederschrift 12.03.2026": named
    by the bot from what it gave the model, linked to the message that recorded it where there is one."""
    named = [_source(passage, room_id, lang) for passage in passages]
    return t(lang, "llm.sources", sources=Markdown(" · ".join(dict.fromkeys(named))))


def _source(passage: Passage, room_id: str, lang: str) -> Markdown:
    day = passage.day.strftime("%d.%m.%Y") if passage.day and lang != "en" else str(passage.day or "")
    title = item_title(passage.title, lang)
    if passage.kind in ("decision", "action", "info"):
        where = t(lang, "llm.source.in_meeting", day=day, top=passage.top) if passage.top else Markdown(day)
        text = t(lang, f"llm.source.{passage.kind}", number=passage.number or "", id=passage.ref, where=where)
        if passage.event_id:
            link = f"https://matrix.to/#/{quote(room_id, safe='')}/{quote(passage.event_id, safe='')}"
            return Markdown(f"[{text}]({link})")
        return text
    if passage.kind == "item":
        return t(lang, "llm.source.item", title=title, day=day)
    if passage.kind == "meeting":
        return t(lang, "llm.source.meeting", title=title, day=day)
    if passage.kind == "document":
        return t(lang, "llm.source.document", title=title)
    return t(lang, "llm.source.minutes", day=day)


def next_meeting(found: Agenda | None, lang: str) -> Markdown:
    """The next meeting and its agenda, from the database (the bot's, not the model's answer)."""
    if found is None:
        return t(lang, "llm.no_next_meeting")
    return join([agenda_views.agenda(found, lang), Markdown(""), t(lang, "llm.from_the_database")])
