"""!frage against the REAL llama.cpp server (Gemma 3 270M), in the encrypted room, answered in a thread."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from urllib.parse import quote

import pytest

from bot.homeserver import EmbeddedHomeserver
from bot.modelserver import MODEL_NAME, ModelServer
from bot.render import render_untrusted
from bot.settings import LlmSettings
from tests.conftest import World, build_world, close_world
from tests.kit.users import Seen
from tests.test_e2e_reminders import BERLIN

LABEL = f"KI-generiert · lokales Modell {MODEL_NAME} · keine verbindliche Auskunft"


@pytest.fixture(scope="module")
async def shared_world(
    homeserver: EmbeddedHomeserver, model_server: ModelServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[World]:
    """The world of this module (with the model); each test gets it as ``world``."""
    llm = LlmSettings(
        base_url=model_server.base_url,
        model=MODEL_NAME,
        max_tokens=96,
        edit_interval=0.2,
        frequency_penalty=1.0,  # as the demo
        embedding_model=MODEL_NAME,  # hybrid retrieval: vectors from the same server's /v1/embeddings
    )
    built = await build_world(homeserver, tmp_path_factory.mktemp("ask"), llm=llm)
    yield built
    await close_world(built)


def in_thread(seen: Seen, root: str) -> bool:
    relates = seen.content.get("m.relates_to") or {}
    return relates.get("rel_type") == "m.thread" and relates.get("event_id") == root


def edit_of(seen: Seen, event_id: str) -> bool:
    relates = seen.content.get("m.relates_to") or {}
    return relates.get("rel_type") == "m.replace" and relates.get("event_id") == event_id


async def final_answer(world: World, first: Seen) -> Seen:
    return await world.member.wait_for(
        lambda e: edit_of(e, first.event_id) and LABEL in e.content["m.new_content"]["body"], timeout=120
    )


async def test_question_is_answered_in_a_thread_streamed_and_labelled(world: World) -> None:
    question = await world.member.send(
        world.room_id, "!frage allgemein Was ist Matrix? Antworte in einem Satz."
    )

    first = await world.member.wait_for(
        lambda e: e.sender == world.bot_id and in_thread(e, question), timeout=60
    )
    final = await final_answer(world, first)

    assert first.encrypted and first.body == "…"
    assert first.content["m.relates_to"]["m.in_reply_to"] == {"event_id": question}
    new = final.content["m.new_content"]
    answer = new["body"].removesuffix(LABEL).strip()
    assert answer and answer != "…"
    assert new["m.mentions"] == {"user_ids": []}
    assert "<em>" + LABEL + "</em>" in new["formatted_body"]
    edits = [e for e in world.member.seen if edit_of(e, first.event_id)]
    assert edits[-1] is final  # the last edit is the complete one


async def test_follow_up_in_the_thread_carries_the_earlier_turn(world: World) -> None:
    app = world.bot.app
    assert app is not None and app.llm.client is not None
    sent: list[list[dict[str, str]]] = []
    original = app.llm.client.stream

    def recording(messages: list[dict[str, str]], model: str | None) -> Any:
        sent.append(messages)
        return original(messages, model)

    app.llm.client.stream = recording  # type: ignore[method-assign]
    try:
        root = await world.member.send(world.room_id, "!frage allgemein Nenne eine Farbe.")
        first = await world.member.wait_for(
            lambda e: e.sender == world.bot_id and in_thread(e, root), timeout=60
        )
        earlier = (
            (await final_answer(world, first)).content["m.new_content"]["body"].removesuffix(LABEL).strip()
        )

        follow = await world.member.send_event(
            world.room_id,
            "m.room.message",
            {
                "msgtype": "m.text",
                "body": "!frage allgemein Und noch eine?",
                "m.relates_to": {
                    "rel_type": "m.thread",
                    "event_id": root,
                    "is_falling_back": True,
                    "m.in_reply_to": {"event_id": root},
                },
            },
        )
        second = await world.member.wait_for(
            lambda e: (
                e.sender == world.bot_id
                and in_thread(e, root)
                and e.content["m.relates_to"]["m.in_reply_to"] == {"event_id": follow}
            ),
            timeout=60,
        )
        await final_answer(world, second)
    finally:
        app.llm.client.stream = original  # type: ignore[method-assign]

    # The system prompt as a system message (the Alpaca layout puts it on top), then the thread.
    assert [m["role"] for m in sent[-1]] == ["system", "user", "assistant", "user"]
    assert sent[-1][0]["content"].startswith("Sie sind der KI-Assistent")
    assert sent[-1][1]["content"] == "Nenne eine Farbe."
    assert render_untrusted(sent[-1][2]["content"])[0].strip() == earlier  # the answer as it was shown
    assert sent[-1][3]["content"] == "Und noch eine?"


async def test_other_commands_stay_fast_while_an_answer_streams(world: World) -> None:
    app = world.bot.app
    assert app is not None and app.llm.client is not None
    original = app.llm.client.stream
    streaming = asyncio.Event()  # the model has written its first piece
    release = asyncio.Event()

    async def held(messages: list[dict[str, str]], model: str | None) -> AsyncIterator[Any]:
        async for piece in original(messages, model):
            yield piece
            streaming.set()
            await release.wait()  # the answer stays open until the test has its pong

    app.llm.client.stream = held  # type: ignore[method-assign]
    try:
        question = await world.member.send(
            world.room_id, "!frage allgemein Erkläre ausführlich, was ein Protokoll ist."
        )
        first = await world.member.wait_for(
            lambda e: e.sender == world.bot_id and in_thread(e, question), timeout=60
        )
        await asyncio.wait_for(streaming.wait(), 60)

        # Answered while the answer is still streaming: nothing waits for the model to finish.
        assert (await world.ask(world.chair, "!ping")).startswith("pong")
    finally:
        release.set()
        app.llm.client.stream = original  # type: ignore[method-assign]
    await final_answer(world, first)


async def test_models_are_listed(world: World) -> None:
    listing = await world.ask(world.member, "!modelle")
    assert listing.startswith("Modelle des lokalen Endpunkts")
    assert f"{MODEL_NAME} (in diesem Raum)" in listing


async def test_a_question_about_a_decision_is_answered_from_the_record_with_its_sources(world: World) -> None:
    """Against the real model: a decision recorded two meetings ago - run by the chair in the room,
    released - is retrieved, given to the model, and the bot (not the model) names it under the
    answer; another room's record is not found."""
    app = world.bot.app
    assert app is not None
    events = {}
    for days, title, top, decision in (
        (30, "Sitzung zur Leitlinie", 2, "Die KI-Leitlinie wird beiden Landschaftsversammlungen vorgelegt"),
        (31, "Folgesitzung", 2, "Der Haushaltsansatz für GPU-Server wird angemeldet"),
    ):
        created = await world.ask(world.chair, f"!sitzung in {days} Tagen 10 Uhr; {title}", 30)
        meeting_id = created.split("Sitzung #", 1)[1].split()[0]
        await world.ask(world.member, f"!top #{meeting_id} {title}", 30)
        item = app.db.execute("SELECT max(id) FROM agenda_items").fetchone()[0]
        await world.ask(world.chair, f"!top annehmen {item}", 30)
        await world.ask(world.chair, f"!sitzung beginnen {meeting_id}", 30)
        await world.ask(world.chair, f"!top {top}", 30)
        events[title] = await world.chair.send(world.room_id, f"!beschluss {decision}")
        await world.chair.reply_to(events[title], world.bot_id, 30)
        await world.ask(world.chair, "!sitzung beenden", 30)
        await world.ask(world.chair, f"!protokoll freigeben {meeting_id}", 30)
    with app.db.atomic():  # another room's record, which this room must never see
        app.db.execute(
            "INSERT INTO tags (room_id, kind, text, author, event_id, created_at) VALUES"
            " ('!anderer:raum', 'decision', 'Geheime Haushaltsplanung für das Projekt Nordlicht.', 'x', '$n', 0)"
        )

    question = await world.member.send(world.room_id, "!frage Was haben wir zur KI-Leitlinie beschlossen?")
    first = await world.member.wait_for(
        lambda e: e.sender == world.bot_id and in_thread(e, question), timeout=60
    )
    final = (await final_answer(world, first)).content["m.new_content"]
    today = datetime.now(BERLIN).strftime("%d.%m.%Y")
    sources = next(line for line in final["body"].splitlines() if line.startswith("Quellen: "))
    assert re.search(rf"Beschluss \d{{4}}/\d\d \(Sitzung {today}, TOP 2\)", sources), final["body"]
    leitlinie = quote(events["Sitzung zur Leitlinie"], safe="")
    assert f"https://matrix.to/#/{quote(world.room_id, safe='')}/{leitlinie}" in final["formatted_body"]
    assert final["body"].rstrip().endswith(LABEL)
    # Retrieved by words and by meaning: the passages got vectors from the server's /v1/embeddings.
    assert app.knowledge.hybrid
    assert app.db.execute("SELECT count(*) FROM passage_vectors").fetchone()[0] >= 2

    nothing = await world.ask(world.member, "!frage Was ist mit dem Projekt Nordlicht?", 60)
    assert nothing.startswith("Dazu finde ich nichts in den Unterlagen des Arbeitskreises"), nothing


async def test_a_document_the_chair_adds_answers_questions_with_its_name_as_source(world: World) -> None:
    """The chair posts a PDF in the encrypted room and adds it by replying; the bot downloads and
    decrypts it, extracts its text, and the real model answers from it with the document named."""
    from bot.views import pdf

    document = pdf.render(
        pdf.Document(
            "KI-Leitlinie Entwurf v2",
            (
                pdf.Heading("Transparenz"),
                pdf.Paragraph(
                    "Jede KI-Anwendung wird im öffentlichen Transparenzregister mit Zweck, Daten und "
                    "verantwortlicher Stelle veröffentlicht."
                ),
            ),
            "Seite {page} von {pages}",
        )
    )
    file_id = await world.chair.send_file(
        world.room_id, "ki-leitlinie-entwurf-v2.pdf", document, "application/pdf"
    )
    added = await world.chair.ask_reply(world.room_id, file_id, "!wissen hinzufügen", world.bot_id)
    assert added.body.startswith("Dokument #"), added.body
    assert "„ki-leitlinie-entwurf-v2.pdf“" in added.body

    # The chair asks: the member has used up the module's questions (5 in 10 minutes).
    question = await world.chair.send(world.room_id, "!frage Was sagt die Leitlinie zum Transparenzregister?")
    first = await world.chair.wait_for(
        lambda e: e.sender == world.bot_id and in_thread(e, question), timeout=60
    )
    final = (await final_answer(world, first)).content["m.new_content"]["body"]
    assert "Quellen: Dokument „ki-leitlinie-entwurf-v2.pdf“" in final, final


async def test_the_chair_has_released_minutes_summarised_and_takes_the_summary_into_them(
    world: World,
) -> None:
    """Against the real model: a draft summary streams into a thread, labelled; accepted, it is part
    of the minutes."""
    created = await world.ask(world.chair, "!sitzung in 60 Tagen 10 Uhr; Sitzung zur Zusammenfassung", 30)
    meeting_id = created.split("Sitzung #", 1)[1].split()[0]
    await world.ask(world.chair, f"!sitzung beginnen {meeting_id}", 30)
    await world.ask(world.chair, "!beschluss Der Klinik-Pilot wird bis Ende 2027 verlängert; einstimmig", 30)
    await world.ask(world.chair, "!sitzung beenden", 30)
    await world.ask(world.chair, f"!protokoll freigeben {meeting_id}", 30)

    command = await world.chair.send(world.room_id, f"!zusammenfassung {meeting_id}")
    hint = await world.chair.reply_to(command, world.bot_id, 30)
    assert f"!zusammenfassung übernehmen {meeting_id}" in hint.body, hint.body
    first = await world.chair.wait_for(
        lambda e: e.sender == world.bot_id and in_thread(e, command), timeout=60
    )
    draft = (await final_answer(world, first)).content["m.new_content"]["body"].removesuffix(LABEL).strip()
    assert draft and draft != "…"

    accepted = await world.ask(world.chair, f"!zusammenfassung übernehmen {meeting_id}", 30)
    assert "Teil der Niederschrift" in accepted, accepted
    shown = await world.ask(world.chair, f"!protokoll {meeting_id}", 30)
    assert "Zusammenfassung (KI-generiert, vom Vorsitz übernommen)" in shown, shown


async def test_the_chair_has_a_thread_summarised_and_keeps_it_as_a_note(world: World) -> None:
    """A thread read back from the homeserver and decrypted, summarised by the real model in the
    thread, and taken into the record as a note."""
    root = await world.member.send(world.room_id, "Wie gehen wir mit dem Datenschutz beim Klinik-Piloten um?")
    for text in ("Die DSFA ist in Arbeit.", "Der Personalrat möchte vor dem Start informiert werden."):
        await world.member.send_in_thread(world.room_id, root, text)
    command = await world.chair.send_in_thread(world.room_id, root, "!zusammenfassung")
    hint = await world.chair.reply_to(command, world.bot_id, 30)
    assert "Zusammenfassung dieses Threads" in hint.body, hint.body
    first = await world.chair.wait_for(
        lambda e: e.sender == world.bot_id and in_thread(e, root) and e.body == "…", timeout=60
    )
    await final_answer(world, first)
    app = world.bot.app
    assert app is not None
    drafted = app.llm.draft(world.room_id, f"thread:{root}")
    assert drafted, "no draft kept"

    accepted = await world.chair.send_in_thread(world.room_id, root, "!zusammenfassung übernehmen")
    note = await world.chair.reply_to(accepted, world.bot_id, 30)
    assert note.body.startswith("Notiz #"), note.body
    stored = app.db.execute("SELECT text FROM tags WHERE kind = 'info' ORDER BY id DESC LIMIT 1").fetchone()[
        0
    ]
    assert stored.startswith("Zusammenfassung eines Threads (KI-generiert, vom Vorsitz übernommen): ")
    assert "Personalrat" not in str(
        app.db.execute("SELECT * FROM handled_events").fetchall()
    )  # no chat stored
