"""The record's search index: it finds the answer among the first three for the German evaluation
set, follows every change of the record in the same transaction, keeps to the asking room and to
what is released, and is built for what was stored before it existed."""

from __future__ import annotations

import io
import sqlite3
import time
import zlib
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import App
from bot.errors import UserError
from bot.render import render
from bot.router import FileData
from bot.services.audit import AuditLog
from bot.services.knowledge import (
    MAX_DOCUMENT_BYTES,
    DocumentFile,
    KnowledgeService,
    RecordIndex,
    query_terms,
)
from bot.services.privacy import PrivacyService
from bot.services.pseudonyms import Pseudonyms
from bot.storage import create_record_index, open_memory_db
from tests.clock import BERLIN
from tests.kit import record_year
from tests.kit.offline import CHAIR, MEMBER, ROOM, Recorder, dispatch, running


def test_the_evaluation_set_is_answered_among_the_first_three() -> None:
    db = open_memory_db()
    record_year.seed(db)
    index = RecordIndex(db)
    assert len(record_year.QUESTIONS) >= 40
    missed = [
        question
        for question, answers in record_year.QUESTIONS
        if not any((p.kind, p.ref) in answers for p in index.search(record_year.ROOM, question))
    ]
    assert len(missed) / len(record_year.QUESTIONS) <= 0.1, missed


def test_another_rooms_record_is_never_found() -> None:
    db = open_memory_db()
    record_year.seed(db)
    with db.atomic():
        db.execute(
            "INSERT INTO tags (room_id, kind, text, author, event_id, created_at) VALUES (?, 'action', ?, 'x', '$o', 0)",
            [record_year.OTHER_ROOM, "Geheimes Vorhaben zur KI-Leitlinie im anderen Raum"],
        )
    index = RecordIndex(db)
    assert all(p.ref != 0 for p in index.search(record_year.ROOM, "Geheimes Vorhaben", limit=10))
    assert [p.kind for p in index.search(record_year.OTHER_ROOM, "Geheimes Vorhaben")] == ["action"]
    assert index.search("!leer:lvr.de", "KI-Leitlinie") == []


def test_question_words_are_dropped_and_forms_stemmed() -> None:
    assert query_terms("Was haben wir zur KI-Leitlinie beschlossen?") == ["leitlini"]
    assert query_terms("Wer kümmert sich um den Klinik-Piloten?") == ["kümmert", "klinik", "pilot"]
    assert query_terms("Haushalt 2027") == ["haushalt", "2027"]
    assert RecordIndex(open_memory_db()).search(ROOM, "Was haben wir?") == []


def test_what_stood_before_the_index_is_indexed_when_it_is_built() -> None:
    db = open_memory_db()
    for (name,) in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'record_%'"
    ):
        db.execute(f"DROP TRIGGER {name}")
    db.execute("DROP TABLE record_index")
    record_year.seed(db)  # stored while there was no index

    create_record_index(db)

    found = RecordIndex(db).search(record_year.ROOM, "Wie viele GPU-Server werden beschafft?")
    assert ("decision", 111) in [(p.kind, p.ref) for p in found]


def test_a_change_rolled_back_leaves_the_index_as_it_was() -> None:
    db = open_memory_db()
    record_year.seed(db)
    before = db.execute("SELECT count(*) FROM record_index").fetchone()[0]
    with pytest.raises(sqlite3.IntegrityError), db.atomic():
        db.execute(
            "INSERT INTO tags (room_id, kind, text, author, event_id, created_at) VALUES (?, 'info', 'Neu', 'x', '$n', 0)",
            [record_year.ROOM],
        )
        db.execute(  # the same event id again: the transaction fails as a whole
            "INSERT INTO tags (room_id, kind, text, author, event_id, created_at) VALUES (?, 'info', 'Neu', 'x', '$n', 0)",
            [record_year.ROOM],
        )
    assert db.execute("SELECT count(*) FROM record_index").fetchone()[0] == before


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[tuple[App, Recorder]]:
    async with running(tmp_path) as started:
        yield started


async def test_the_index_follows_the_record_and_counts_only_what_is_released(
    world: tuple[App, Recorder],
) -> None:
    app, _ = world
    index = RecordIndex(app.db)
    await dispatch(app, "!sitzung in 30 Tagen 10 Uhr; Sitzung", CHAIR)
    await dispatch(app, "!sitzung beginnen", CHAIR)
    await dispatch(app, "!beschluss Die Lernassistenz wird an Förderschulen erprobt", CHAIR)
    await dispatch(app, "!aufgabe Dora Förderschulen für die Erprobung auswählen", CHAIR)

    def kinds(question: str) -> list[str]:
        return [p.kind for p in index.search(ROOM, question)]

    assert kinds("Förderschulen Erprobung") == ["action"]  # the decision waits for the release
    await dispatch(app, "!sitzung beenden", CHAIR)
    await dispatch(app, "!protokoll ändern 1 Die Lernassistenz wird an zwei Förderschulen erprobt", CHAIR)
    await dispatch(app, "!protokoll freigeben", CHAIR)
    assert sorted(kinds("Förderschulen Erprobung")) == ["action", "decision", "minutes"]
    assert "zwei" in index.search(ROOM, "Lernassistenz")[0].body  # the corrected text
    await dispatch(app, "!aufgabe erledigt 2", CHAIR)
    assert "action" in kinds("Förderschulen Erprobung")  # done, still part of the record


async def test_forgetting_a_member_takes_their_name_out_of_the_index(world: tuple[App, Recorder]) -> None:
    app, _ = world
    await dispatch(app, "!sitzung in 30 Tagen 10 Uhr; Sitzung", CHAIR)
    await dispatch(app, "!top Spracherkennung in der Klinik", MEMBER)
    await dispatch(app, "!aufgabe @mitglied:lwl.org Bericht zur Spracherkennung schreiben", CHAIR)
    index = RecordIndex(app.db)
    assert {p.kind for p in index.search(ROOM, "mitglied Spracherkennung", limit=5)} == {"item", "action"}
    assert any("@mitglied:lwl.org" in p.body for p in index.search(ROOM, "Spracherkennung", limit=5))

    app.privacy.forget(MEMBER, ROOM)

    assert not any("mitglied" in p.body for p in index.search(ROOM, "Spracherkennung", limit=5))
    assert len(index.search(ROOM, "Spracherkennung", limit=5)) == 2  # the record itself stays


# ---- documents ------------------------------------------------------------------------------------


def _pdf(*paragraphs: str) -> bytes:
    from bot.views import pdf

    blocks = tuple(pdf.Paragraph(text) for text in paragraphs)
    return pdf.render(pdf.Document("KI-Leitlinie Entwurf v2", blocks, "Seite {page} von {pages}"))


def _docx(*paragraphs: str) -> bytes:
    import docx

    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    table = document.add_table(rows=1, cols=1)
    table.rows[0].cells[0].text = "Tabellenzelle zur Barrierefreiheit"
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _service() -> KnowledgeService:
    db = open_memory_db()
    return KnowledgeService(db, BERLIN, audit=AuditLog(db, BERLIN))


@pytest.mark.parametrize(
    ("name", "mimetype", "make"),
    [
        ("leitlinie.pdf", "application/pdf", lambda text: _pdf("Einleitung.", text)),
        ("leitlinie.docx", "application/octet-stream", lambda text: _docx("Einleitung.", text)),
        ("leitlinie.md", "text/markdown", lambda text: f"# Leitlinie\n\n{text}\n".encode()),
        ("leitlinie.txt", "text/plain", lambda text: text.encode("cp1252")),  # as Windows editors save
    ],
)
def test_a_document_is_read_indexed_and_found_by_its_words(name: str, mimetype: str, make: Any) -> None:
    service = _service()
    text = "Jede KI-Anwendung wird im Transparenzregister veröffentlicht, mit Zweck und Verantwortlichen."

    document = service.add(ROOM, CHAIR, "Vorsitz", "$datei", DocumentFile(name, mimetype, make(text)))

    assert document.passages >= 1 and document.name == name
    found = service.search(ROOM, "Was sagt die Leitlinie zum Transparenzregister?")
    assert found and found[0].kind == "document" and found[0].title == name
    assert "Transparenzregister veröffentlicht" in found[0].body
    assert service.search("!anderer:lvr.de", "Transparenzregister") == []


def test_what_cannot_be_a_document_is_explained_and_nothing_is_stored() -> None:
    service = _service()
    cases = {
        "knowledge.unsupported": DocumentFile("bild.png", "image/png", b"\x89PNG"),
        "knowledge.unreadable": DocumentFile("kaputt.pdf", "application/pdf", b"%PDF-1.4 kaputt"),
        "knowledge.no_text": DocumentFile("leer.txt", "text/plain", b"  \n\n "),
        "knowledge.too_big": DocumentFile("gross.txt", "text/plain", b"x" * (MAX_DOCUMENT_BYTES + 1)),
    }
    for key, file in cases.items():
        with pytest.raises(UserError) as refused:
            service.add(ROOM, CHAIR, "Vorsitz", f"${key}", file)
        assert refused.value.key == key
    service.add(ROOM, CHAIR, "Vorsitz", "$einmal", DocumentFile("a.md", "text/markdown", b"Inhalt"))
    with pytest.raises(UserError) as twice:
        service.add(ROOM, CHAIR, "Vorsitz", "$einmal", DocumentFile("a.md", "text/markdown", b"Inhalt"))
    assert twice.value.key == "knowledge.already_added"
    assert [d.name for d in service.documents(ROOM)] == ["a.md"]


def test_a_long_document_is_indexed_in_passages_and_removing_it_empties_the_index() -> None:
    service = _service()
    words = " ".join(f"wort{n}" for n in range(1000))
    document = service.add(
        ROOM, CHAIR, "Vorsitz", "$lang", DocumentFile("lang.txt", "text/plain", words.encode())
    )
    assert document.passages == 9  # 120 words each
    assert [p.ref for p in service.search(ROOM, "wort999")] != []

    service.remove(ROOM, document.id, CHAIR)

    assert service.search(ROOM, "wort999") == [] and service.documents(ROOM) == []
    assert service._db.execute("SELECT count(*) FROM record_index WHERE kind = 'document'").fetchone()[0] == 0


async def test_the_chair_adds_a_file_replied_to_and_forgetting_the_member_removes_their_upload(
    world: tuple[App, Recorder],
) -> None:
    app, _ = world
    assert "antworten Sie mit" in render((await dispatch(app, "!wissen hinzufügen", CHAIR))[0])[0]
    file = FileData("dsfa.md", "text/markdown", b"Die DSFA der Spracherkennung ist abgeschlossen.", "$f1")
    added = render((await dispatch(app, "!wissen hinzufügen", CHAIR, replied_file=file))[0])[0]
    assert added.startswith("Dokument #1 „dsfa.md“ ist in den Unterlagen (ein Abschnitt)")
    assert "Vorsitz" in render((await dispatch(app, "!wissen hinzufügen", MEMBER, replied_file=file))[0])[0]
    assert "#1 „dsfa.md“ – hinzugefügt am" in render((await dispatch(app, "!wissen", MEMBER))[0])[0]
    assert app.privacy.export(CHAIR)["documents_added"][0]["name"] == "dsfa.md"

    app.privacy.forget(CHAIR, ROOM)

    assert app.knowledge.documents(ROOM) == [] and app.knowledge.search(ROOM, "Spracherkennung DSFA") == []


def test_the_retention_purge_takes_old_documents_out_of_the_record() -> None:
    db = open_memory_db()
    audit = AuditLog(db, BERLIN)
    service = KnowledgeService(db, BERLIN, audit=audit)
    service.add(ROOM, CHAIR, "Vorsitz", "$alt", DocumentFile("alt.md", "text/markdown", b"Altes Konzept"))
    privacy = PrivacyService(
        db, BERLIN, timedelta(days=365), audit=audit, pseudonyms=Pseudonyms(db), also_forgetting=[]
    )

    counts = privacy.purge(now=time.time() + 366 * 86400)

    assert counts["documents"] == 1 and service.search(ROOM, "Konzept") == []


async def test_the_next_meeting_is_answered_from_the_calendar_not_by_a_model(
    world: tuple[App, Recorder],
) -> None:
    app, _ = world  # no model configured: the answer does not need one
    nothing = render((await dispatch(app, "!frage Wann ist die nächste Sitzung?", MEMBER))[0])[0]
    assert nothing.startswith("Es ist keine Sitzung geplant")
    await dispatch(app, "!sitzung in 30 Tagen 10 Uhr; Sitzung des FAK KI; Köln", CHAIR)
    item = render((await dispatch(app, "!top Klinik-Pilot", MEMBER))[0])[0]
    await dispatch(app, f"!top annehmen {item.split('#')[1].split()[0]}", CHAIR)

    answer = render(
        (await dispatch(app, "!frage Wann ist die nächste Sitzung und was steht drauf?", MEMBER))[0]
    )[0]

    assert "Sitzung des FAK KI" in answer and "Köln" in answer and "TOP 2 Klinik-Pilot" in answer
    assert answer.endswith("Aus dem Sitzungskalender des Bots, nicht vom Sprachmodell.")
    english = render((await dispatch(app, "!ask When is the next meeting?", MEMBER, lang="en"))[0])[0]
    assert "From the bot's meeting calendar" in english


# ---- retrieval by meaning (hybrid) ------------------------------------------------------------------


class TrigramEmbedder:
    """Vectors of character trigrams hashed into 256 dimensions: similar words, similar vectors —
    enough to test the fusion; the real endpoint is tested against llama.cpp (test_e2e_ask.py)."""

    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.texts = 0

    async def embed(self, texts: Sequence[str], model: str) -> list[list[float]]:
        if self.fail:
            raise OSError("the model server is away")
        self.texts += len(texts)
        vectors = []
        for text in texts:
            vector = [0.0] * 256
            folded = f"  {text.casefold()}  "
            for i in range(len(folded) - 2):
                vector[zlib.crc32(folded[i : i + 3].encode()) % 256] += 1.0
            vectors.append(vector)
        return vectors


async def test_hybrid_retrieval_fuses_words_and_meaning_and_keeps_vectors_in_step() -> None:
    db = open_memory_db()
    record_year.seed(db)
    embedder = TrigramEmbedder()
    service = KnowledgeService(db, BERLIN, audit=AuditLog(db, BERLIN), embedder=embedder, embedding_model="m")

    # "Grundlagenmodul" is no word of the record: BM25 misses it, the vectors find "Grundlagen".
    assert ("document", 4) not in [
        (p.kind, p.ref) for p in service.search(record_year.ROOM, "Grundlagenmodul Dauer")
    ]
    found = await service.find(record_year.ROOM, "Wie lange dauert das Grundlagenmodul der Schulung?")
    assert ("document", 4) in [(p.kind, p.ref) for p in found]
    passages = db.execute("SELECT count(*) FROM record_index").fetchone()[0]
    assert db.execute("SELECT count(*) FROM passage_vectors").fetchone()[0] == passages == embedder.texts - 1

    with db.atomic():  # a passage goes: its vector goes with the next round
        db.execute("DELETE FROM document_passages WHERE id = 4")
    await service.refresh_vectors()
    assert db.execute("SELECT count(*) FROM passage_vectors").fetchone()[0] == passages - 1
    assert await service.find("!anderer:lvr.de", "Grundlagenmodul") == []


async def test_without_the_embedding_endpoint_the_words_still_answer() -> None:
    db = open_memory_db()
    record_year.seed(db)
    service = KnowledgeService(
        db, BERLIN, audit=AuditLog(db, BERLIN), embedder=TrigramEmbedder(fail=True), embedding_model="m"
    )
    found = await service.find(record_year.ROOM, "Wie viele GPU-Server werden beschafft?")
    assert ("decision", 111) in [(p.kind, p.ref) for p in found]


async def test_the_chair_decides_whether_ask_answers_generally_when_the_record_holds_nothing(
    world: tuple[App, Recorder],
) -> None:
    app, _ = world
    assert "nur aus den Unterlagen" in render((await dispatch(app, "!frage modus", MEMBER))[0])[0]
    assert "Vorsitz" in render((await dispatch(app, "!frage modus allgemein", MEMBER))[0])[0]
    assert (
        "allgemein, wenn die Unterlagen nichts"
        in render((await dispatch(app, "!frage modus allgemein", CHAIR))[0])[0]
    )
    assert app.rooms.general_answers(ROOM)
    await dispatch(app, "!frage modus unterlagen", CHAIR)
    assert not app.rooms.general_answers(ROOM)
