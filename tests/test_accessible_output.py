"""Accessible output (BITV 2.0 / WCAG 2.1): the messages members get most — the help, a poll's live
summary and standing, the agenda, a reminder (confirmation and when due), the list of meetings — as
a screen reader reads their plain-text body: no box drawing or table layout, no runs of symbols, no
word that is only an emoji or symbol, no Markdown left over; and every HTML body has its plain one."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import time_machine

from bot.app import App
from tests.clock import at
from tests.kit.offline import CHAIR, MEMBER, ROOM, Recorder, hear, running
from tests.test_minutes import say

BOX_DRAWING = re.compile(r"[\u2500-\u259f]")
SYMBOL_RUN = re.compile(r"[^\w\s]{3,}")
MARKDOWN_LEFT = re.compile(r"\*\*|__|^#+ |`", re.MULTILINE)


def symbol_only(word: str) -> bool:
    """A word made of emoji and symbols alone ("⏰", "✓", "★"): read aloud as its name, it carries
    meaning a listener cannot rely on."""
    marks = [c for c in word if unicodedata.category(c) not in ("Mn", "Cf")]  # variation selectors, ZWJ
    return bool(marks) and all(unicodedata.category(c) in ("So", "Sk", "Sm") for c in marks)


def problems(body: str) -> list[str]:
    found = []
    if BOX_DRAWING.search(body):
        found.append("box drawing")
    found += [f"symbols {run!r}" for run in SYMBOL_RUN.findall(body)]
    found += [f"symbol word {word!r}" for word in body.split() if symbol_only(word)]
    found += [f"markdown {hit!r}" for hit in MARKDOWN_LEFT.findall(body)]
    return found


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("│ Tabelle │", ["box drawing", "symbol word '│'", "symbol word '│'"]),
        ("Umfrage ----- Ende", ["symbols '-----'"]),
        ("Status: ✓", ["symbol word '✓'"]),
        ("⏰ Erinnerung", ["symbol word '⏰'"]),
        ("**fett**", ["markdown '**'", "markdown '**'"]),
        ("Erinnerung für Anna: Bericht (Nr. 4) – am Di., 16.06.2026, 10:00 Uhr.", []),
    ],
)
def test_the_check_finds_what_a_screen_reader_reads_as_noise(body: str, expected: list[str]) -> None:
    assert problems(body) == expected


@pytest.fixture
async def world(tmp_path: Path, clock: time_machine.Coordinates) -> AsyncIterator[tuple[App, Recorder]]:
    async with running(tmp_path) as started:
        yield started


async def replies_through_the_room(
    app: App, recorder: Recorder, body: str, sender: str
) -> list[dict[str, Any]]:
    """What the bot sends in answer to a message, as the homeserver would receive it."""
    before = len(recorder.contents)
    await hear(app, body, sender)
    return recorder.contents[before:]


async def test_the_most_used_messages_read_well_aloud(
    world: tuple[App, Recorder], clock: time_machine.Coordinates
) -> None:
    app, recorder = world
    await say(app, "!profil Kliniken", MEMBER)
    await say(app, "!sitzung 16.06.2026 10 Uhr; Sitzung des FAK KI; Köln, Landeshaus")
    await say(app, "!top Klinik-Pilot; Stand und nächste Schritte; 20 min", MEMBER)
    await say(app, "!top annehmen 1")

    checked: dict[str, list[dict[str, Any]]] = {}
    for name, body, sender in (
        ("help", "!hilfe", MEMBER),
        ("poll", "!umfrage Nächster Termin; Di 23.06. 10 Uhr; Mi 24.06. 14 Uhr", CHAIR),
        ("vote", "!abstimmen 1 2?", MEMBER),
        ("standing", "!umfrage stand", MEMBER),
        ("agenda", "!tagesordnung", MEMBER),
        ("reminder", "!erinnerung morgen 9 Uhr; Unterlagen lesen", MEMBER),
        ("reminders", "!erinnerungen", MEMBER),
        ("meetings", "!sitzungen", MEMBER),
    ):
        checked[name] = await replies_through_the_room(app, recorder, body, sender)
        assert checked[name], name
    (own,) = app.reminders.list_for(ROOM, MEMBER, everyone=False)
    clock.move_to(at("2026-06-02T09:00:00"))
    before = len(recorder.contents)
    await app.reminders.deliver(own.id)
    checked["reminder due"] = recorder.contents[before:]

    for name, contents in checked.items():
        for content in contents:
            # A native poll's start event has its text fallback instead of a body.
            fallback = content.get("org.matrix.msc3381.poll.start", {}).get("question", {})
            body = str(
                content.get("body") or content.get("org.matrix.msc1767.text") or fallback.get("body", "")
            )
            assert body.strip(), (name, content)
            if "formatted_body" in content:
                assert content["format"] == "org.matrix.custom.html"
            assert problems(body) == [], (name, body)
    # What a listener hears is what a reader sees: the summary's tally and groups in words.
    summary = next(str(c["body"]) for c in checked["poll"] if "Abgestimmt" in str(c.get("body")))
    assert "Option 1: Di., 23.06.2026, 10:00 Uhr – 0 ja, 0 wenn nötig" in summary
    standing = str(checked["standing"][0]["body"])
    assert "Kliniken: 1 von 1 abgestimmt" in standing
    assert "(Vorsitz)" in str(checked["help"][0]["body"])  # chair-only commands in a word, not a star
    assert str(checked["reminder due"][0]["body"]) == "Erinnerung für @mitglied:lwl.org: Unterlagen lesen"
