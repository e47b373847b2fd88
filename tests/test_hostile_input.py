"""Hostile input through the real router and services: random arguments for every command.

Nothing but a user error may come of it (an internal error id would be a bug), every reply fits
into a Matrix event, and what members typed is never markup in the message the bot sends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import App
from bot.matrix import message_content
from bot.render import render
from bot.router import Command
from tests.kit.offline import CHAIR, MEMBER, dispatch, offline_app

MAX_EVENT_BYTES = 64 * 1024


@pytest.fixture(scope="module")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[App]:
    built, recorder = offline_app(Path(tmp_path_factory.mktemp("hostile")))
    built.recorder = recorder  # type: ignore[attr-defined]
    yield built
    await built.polls.shutdown()
    built.db.close()


def all_commands(app: App) -> list[Command]:
    return [command for command in app.dispatcher.all_commands() if command.handler is not None]


def command_line(command: Command) -> str:
    return "!" + command.display("de")


HOSTILE = st.one_of(
    st.text(max_size=300),
    st.text(alphabet=st.sampled_from("0123456789 #;:,.?!-*_`<>[]()&@\n"), max_size=80),
    st.lists(
        st.sampled_from(
            [
                "1", "#1", "2?", "keine", "morgen", "um 9", "in 3 Sekunden", "jeden Montag 9 Uhr", ";", "frist:",
                "anonym", "<b>fett</b>", "**x**", "@room", "[a](javascript:alert(1))", "30 min", "99999999999",
                "Ä", "\u202e", "\x00", "-1", "0", "12.06. 15 Uhr", "Di 14.10. 10 Uhr",
            ]
        ),
        max_size=12,
    ).map(" ".join),
)  # fmt: skip


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), text=HOSTILE, as_chair=st.booleans())
async def test_any_arguments_to_any_command_end_in_an_answer_not_an_error(
    app: App, data: st.DataObject, text: str, as_chair: bool
) -> None:
    command = data.draw(st.sampled_from(all_commands(app)), label="command")
    sender = CHAIR if as_chair else MEMBER

    replies = await dispatch(app, f"{command_line(command)} {text}", sender)

    for markdown in replies:
        body, html = render(markdown)
        assert "Fehlernummer" not in body, f"internal error for {command_line(command)} {text!r}"
        content = message_content(markdown)
        assert len(str(content).encode()) <= MAX_EVENT_BYTES
        assert "<script" not in html and 'href="javascript' not in html


@pytest.mark.parametrize(
    "body",
    [
        "!erinnerung morgen um 9; <b>fett</b> **fett** [Link](https://x.invalid) @room",
        "!umfrage <i>Frage</i>; **A**; <script>x</script>",
        "!top <img src=x onerror=alert(1)>; *kursiv*; 5 min",
        "!sitzung in 3 Tagen 10 Uhr; <h1>Titel</h1>; [Ort](javascript:alert(1))",
    ],
)
async def test_markup_typed_by_members_stays_literal(app: App, body: str) -> None:
    app.recorder.contents.clear()  # type: ignore[attr-defined]
    if body.startswith(("!sitzung", "!umfrage")):
        replies = await dispatch(app, body, CHAIR)
    else:
        replies = await dispatch(app, body, MEMBER)
    sent = [str(c.get("formatted_body", "")) for c in app.recorder.contents]  # type: ignore[attr-defined]
    htmls = [render(markdown)[1] for markdown in replies] + sent

    for html in htmls:
        for tag in ("<b>", "<i>", "<script", "<img", "<h1>", '<a href="javascript', "<strong>fett"):
            assert tag not in html


async def test_arguments_of_ten_thousand_characters_are_refused_clearly(app: App) -> None:
    replies = await dispatch(app, "!erinnerung morgen um 9; " + "x" * 10_000, MEMBER)

    assert [render(r)[0] for r in replies] == ["Ihre Nachricht ist zu lang (10025 Zeichen, höchstens 4000)."]
