"""What members and the chair read, through the whole app without a homeserver (tests/kit/offline.py):
the regressions a half-hour trial as member and chair found (issue 12)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import App
from bot.render import render
from tests.kit.offline import CHAIR, MEMBER, Recorder, dispatch, running


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[App, Recorder]]:
    async with running(tmp_path) as started:
        yield started


async def ask(app: App, body: str, sender: str = MEMBER, *, lang: str = "de") -> str:
    """The reply (plain text) to one command line."""
    replies = await dispatch(app, body, sender, lang=lang)
    assert len(replies) == 1, replies
    return render(replies[0])[0]


@pytest.mark.parametrize("duration", ["-5 min", "zwanzig min", "1,5 min"])
async def test_a_duration_that_is_none_is_refused_with_the_usage_line(
    world: tuple[App, Recorder], duration: str
) -> None:
    app, _ = world
    await ask(app, "!sitzung in 30 Tagen 10 Uhr; Sitzung", CHAIR)

    answer = await ask(app, f"!top Thema; Beschreibung; {duration}")

    assert answer.startswith(f"„{duration}“ ist keine Dauer")
    assert "Aufruf: !top [#<Sitzung>] <Titel>" in answer
    assert app.agenda.agenda("!raum:lvr.de", None).pending == []  # nothing stored


async def test_an_agenda_without_items_says_so_instead_of_a_zero_duration(
    world: tuple[App, Recorder],
) -> None:
    app, _ = world
    await ask(app, "!sitzung in 30 Tagen 10 Uhr; Sitzung", CHAIR)

    shown = await ask(app, "!tagesordnung")

    assert "Noch keine TOPs angenommen." in shown
    assert "Geplante Dauer" not in shown


async def test_a_chairs_reminder_list_leaves_out_members_personal_reminders(
    world: tuple[App, Recorder],
) -> None:
    app, _ = world
    await ask(app, "!erinnerung morgen um 9; Telefonat Herr Schmidt")
    await ask(app, "!erinnerung raum morgen um 10; Unterlagen lesen")

    chair_list = await ask(app, "!erinnerungen", CHAIR)
    own_list = await ask(app, "!erinnerungen")

    assert "Telefonat Herr Schmidt" not in chair_list and "Unterlagen lesen" in chair_list
    assert "Telefonat Herr Schmidt" in own_list


async def test_what_waits_for_the_chairs_decision_goes_to_the_chair_alone(
    world: tuple[App, Recorder],
) -> None:
    app, recorder = world
    await ask(app, "!sitzung in 30 Tagen 10 Uhr; Sitzung", CHAIR)
    await ask(app, "!top Geheimer Entwurf")

    in_room = await ask(app, "!tagesordnung", CHAIR)
    await app.direct.sent()

    assert "Geheimer Entwurf" not in in_room
    assert in_room.endswith("Die noch nicht entschiedenen Einreichungen (1) habe ich Ihnen privat geschickt.")
    assert any("Geheimer Entwurf" in body for body in recorder.sent_to(f"!direct-{CHAIR}"))
    assert "privat" not in await ask(app, "!tagesordnung")  # a member sees the agenda, nothing more


async def test_the_chair_log_goes_to_the_chair_alone(world: tuple[App, Recorder]) -> None:
    app, recorder = world
    await ask(app, "!sitzung in 30 Tagen 10 Uhr; Sitzung", CHAIR)

    assert await ask(app, "!audit", CHAIR) == "Das Protokoll habe ich Ihnen privat geschickt."
    await app.direct.sent()

    (log,) = [body for body in recorder.sent_to(f"!direct-{CHAIR}") if "Protokoll" in body]
    assert f"{CHAIR} · Sitzung #1 angelegt für" in log


async def test_what_is_missing_is_said_in_words(world: tuple[App, Recorder]) -> None:
    app, _ = world

    answer = await ask(app, "!erinnerung loeschen")

    assert answer.splitlines()[0] == "Es fehlt noch: die Nummer der Erinnerung (siehe !erinnerungen)."


async def test_the_help_of_a_reminder_names_the_time_formats_it_reads(world: tuple[App, Recorder]) -> None:
    app, _ = world

    help_text = await ask(app, "!hilfe erinnerung")

    assert "„morgen 9 Uhr“" in help_text and "„jeden Montag 9 Uhr“" in help_text


async def test_german_numbers_have_a_decimal_comma(world: tuple[App, Recorder]) -> None:
    app, _ = world

    assert re.fullmatch(r"pong – Bearbeitungszeit \d+,\d ms", await ask(app, "!ping"))
    assert re.fullmatch(r"pong – processing time \d+\.\d ms", await ask(app, "!ping", lang="en"))


async def test_the_time_comes_from_the_bots_clock_not_the_model(world: tuple[App, Recorder]) -> None:
    app, _ = world

    answer = await ask(app, "!frage Wie spät ist es?")

    assert re.fullmatch(
        r"Es ist \w\w\., \d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr \(Europe/Berlin\) – nach der Uhr des Bots, nicht vom Sprachmodell\.",
        answer,
    )


async def test_the_default_fixed_items_read_in_the_rooms_language(world: tuple[App, Recorder]) -> None:
    app, _ = world
    await ask(app, "!sitzung in 30 Tagen 10 Uhr; Sitzung", CHAIR)

    german = await ask(app, "!tagesordnung")
    english = await ask(app, "!agenda", lang="en")

    assert "TOP 1 Begrüßung und Feststellung der Tagesordnung" in german and "TOP 2 Verschiedenes" in german
    assert "Item 1 Welcome and adoption of the agenda" in english and "Item 2 Any other business" in english
