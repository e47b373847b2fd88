"""The group's record, searchable: meetings, agenda items, decisions, action items, notes and
released minutes of one room, in SQLite's full-text index (FTS5, BM25).

Besides the record the bot keeps itself, the chair adds documents (PDF, Word, Markdown, text):
their text is extracted with pypdf and python-docx and indexed in passages.

The index is kept by triggers in the database (``bot/storage.py``, m013), in the same transaction
as every change of the record, so it can never lag behind. A search never leaves the asking
room, and only the record counts: entries of minutes that are not released yet are left out
(action items excepted — they live from the moment they are recorded).
"""

from __future__ import annotations

import io
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.errors import UserError
from bot.services.audit import Action, AuditLog
from bot.storage import RECORD_TOKENIZER

log = logging.getLogger(__name__)

TAG_KINDS = ("decision", "action", "info")
CANDIDATES = 30
"""How many hits BM25 hands over before the record's rules filter them."""

# Words that carry no topic: a question's "Was haben wir zur … beschlossen?" is about the "…".
_STOPWORD_TEXT = """
    aber alle allem allen aller alles als also am an ans auch auf aus bei beim bin bis bist da damit dann
    das dass dem den denn der des dessen die dies diese diesem diesen dieser dieses doch dort du durch ein
    eine einem einen einer eines er es etwas euch euer für gab gibt hat hatte hatten habe haben hier hin
    ich ihr ihre im in ins ist ja jede jedem jeden jeder jedes jetzt kann kein keine können man mehr mein
    mit muss nach nicht noch nun nur ob oder ohne sein seine sich sie sind so soll sollen über um und uns
    unser unsere unter vom von vor war waren warum was weil welche welchem welchen welcher welches wenn
    wer werden wie wieder wir wird wo worden wurde wurden zu zum zur zwischen wann wieso weshalb
    gemacht gesagt beschlossen entschieden steht stand gab geht the a an of to in on for and or is are was
    were what who when which how did do does we our about
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())
_WORD = re.compile(r"\w+", re.UNICODE)
_ENDINGS = ("ungen", "innen", "en", "er", "es", "em", "e", "n", "s")


@dataclass(frozen=True)
class Passage:
    """One indexed piece of the record."""

    kind: str
    """meeting | item | decision | action | info | minutes"""
    ref: int
    """The id in its own table (a minutes' ref is its meeting's id)."""
    title: str
    body: str
    day: date | None
    score: float
    number: str | None = None
    """A decision's number, "2026/07"."""
    top: int | None = None
    """The TOP it was recorded under."""
    event_id: str | None = None
    """The command that recorded it (a tag), for a link to it in the room."""
    key: int = 0
    """Its row in the index (what fusion of rankings compares)."""


def _unit(vector: Sequence[float]) -> Any:
    import numpy  # only with vectors configured: 10 MB the idle bot need not hold

    array = numpy.asarray(vector, dtype=numpy.float32)
    norm = float(numpy.linalg.norm(array))
    return array / norm if norm else array


def query_terms(question: str) -> list[str]:
    """The words of a question that carry its topic, lower-case, each cut to a stem that also
    finds its other forms ("Piloten" → "pilot", "Leitlinien" → "leitlini")."""
    terms: list[str] = []
    for word in _WORD.findall(question.casefold()):
        if word in STOPWORDS or (len(word) < 3 and not word.isdigit()):
            continue
        stem = word
        for ending in _ENDINGS:
            if len(word) - len(ending) >= 4 and word.endswith(ending):
                stem = word[: -len(ending)]
                break
        if stem not in terms:
            terms.append(stem)
    return terms


class RecordIndex:
    def __init__(self, db: Database, *, tokenizer: str = RECORD_TOKENIZER) -> None:
        self._db = db
        self._substrings = tokenizer.startswith("trigram")

    def search(self, room_id: str, question: str, *, limit: int = 3) -> list[Passage]:
        """The passages of ``room_id``'s record that best answer ``question``, best first (BM25)."""
        match = self.match_expression(query_terms(question))
        if not match:
            return []
        rows = self._db.execute(
            "SELECT rowid, kind, ref, title, body, day, -bm25(record_index, 3.0, 1.0) AS score FROM record_index"
            " WHERE record_index MATCH ? AND room_id = ? ORDER BY score DESC LIMIT ?",
            [match, room_id, CANDIDATES],
        ).fetchall()
        return self._passages(room_id, rows, limit)

    def _passages(self, room_id: str, rows: Sequence[Sequence[Any]], limit: int) -> list[Passage]:
        """Index rows (rowid, kind, ref, title, body, day, score) as passages, without what the
        record does not count yet (entries of minutes not released)."""
        unreleased = self._unreleased_meetings(room_id)
        found = []
        for rowid, kind, ref, title, body, day, score in rows:
            tag = self._tag(int(ref)) if kind in TAG_KINDS else None
            if tag is not None and kind != "action" and tag["meeting_id"] in unreleased:
                continue
            found.append(
                Passage(
                    kind,
                    int(ref),
                    title or "",
                    body or "",
                    date.fromisoformat(day) if day else None,
                    float(score),
                    number=f"{tag['year']}/{tag['seq']:02d}" if tag and tag["seq"] is not None else None,
                    top=tag["top_number"] if tag else None,
                    event_id=tag["event_id"] if tag else None,
                    key=int(rowid),
                )
            )
            if len(found) == limit:
                break
        return found

    def match_expression(self, terms: Sequence[str]) -> str:
        """An FTS5 query: any of the terms, as a prefix (word index) or a substring (trigrams)."""
        if self._substrings:
            usable = [term for term in terms if len(term) >= 3]
            return " OR ".join(f'"{term}"' for term in usable)
        return " OR ".join(f'"{term}"*' for term in terms)

    def _unreleased_meetings(self, room_id: str) -> set[int]:
        return {
            int(row[0])
            for row in self._db.execute(
                "SELECT meeting_id FROM minutes WHERE room_id = ? AND state != 'approved'", [room_id]
            ).fetchall()
        }

    def _tag(self, tag_id: int) -> dict[str, Any] | None:
        rows = list(
            self._db.query(
                "SELECT meeting_id, year, seq, top_number, event_id FROM tags WHERE id = ?", [tag_id]
            )
        )
        return rows[0] if rows else None


# ---- documents the chair adds to the record ---------------------------------------------------------

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
PASSAGE_WORDS = 120
"""A document's text is indexed in passages of about this many words: a hit names the part that
answers, and a long document does not drown the rest of the record."""
_KINDS_BY_SUFFIX = {".pdf": "pdf", ".docx": "docx", ".md": "text", ".markdown": "text", ".txt": "text"}
_KINDS_BY_TYPE = {
    "application/pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "text/markdown": "text",
    "text/plain": "text",
}


@dataclass(frozen=True)
class DocumentFile:
    """A file as it came from the room: its name, its type, its (decrypted) bytes."""

    name: str
    mimetype: str
    data: bytes


@dataclass(frozen=True)
class Document:
    id: int
    room_id: str
    name: str
    mimetype: str
    size: int
    added_by: str
    added_by_name: str
    added_at: datetime
    passages: int


def document_kind(name: str, mimetype: str) -> str | None:
    """pdf | docx | text, by the file's name and else its type; None when not one of them."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return _KINDS_BY_SUFFIX.get(suffix) or _KINDS_BY_TYPE.get(mimetype.split(";", 1)[0].strip().lower())


def extract_text(file: DocumentFile) -> str:
    """The text of a PDF (pypdf), a Word document (python-docx) or a Markdown/text file."""
    kind = document_kind(file.name, file.mimetype)
    if kind is None:
        raise UserError("knowledge.unsupported", name=file.name)
    try:
        # Imported when a document comes: together 20 MB the idle bot need not hold.
        if kind == "pdf":
            import pypdf

            reader = pypdf.PdfReader(io.BytesIO(file.data))
            return "\n\n".join(page.extract_text() or "" for page in reader.pages)
        if kind == "docx":
            import docx

            document = docx.Document(io.BytesIO(file.data))
            cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
            return "\n\n".join([*(p.text for p in document.paragraphs), *cells])
        try:
            return file.data.decode("utf-8")
        except UnicodeDecodeError:
            return file.data.decode("cp1252", errors="replace")  # what Windows editors still write
    except UserError:
        raise
    except Exception as error:  # a broken or encrypted file: the member is told, the log has why
        log.info("text of %s could not be read: %s", file.name, error)
        raise UserError("knowledge.unreadable", name=file.name) from error


def passages_of(text: str, words: int = PASSAGE_WORDS) -> list[str]:
    """Paragraphs packed into passages of about ``words`` words (a long paragraph is cut)."""
    passages: list[str] = []
    current: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        tokens = paragraph.split()
        while tokens:
            room = words - len(current)
            current.extend(tokens[:room])
            tokens = tokens[room:]
            if len(current) >= words:
                passages.append(" ".join(current))
                current = []
    if current:
        passages.append(" ".join(current))
    return passages


class Embedder(Protocol):
    """The on-premises endpoint's ``/v1/embeddings`` (``LlmClient``), behind the same guard as chat."""

    async def embed(self, texts: Sequence[str], model: str) -> list[list[float]]: ...


FUSION_K = 60
"""Reciprocal rank fusion: a hit at rank r counts 1 / (60 + r) in each ranking it is in."""
EMBED_BATCH = 32
EMBED_PER_ROUND = 512


def fuse(*rankings: Sequence[Passage]) -> list[Passage]:
    """Several rankings of passages as one (reciprocal rank fusion)."""
    scores: dict[int, float] = {}
    first: dict[int, Passage] = {}
    for ranking in rankings:
        for rank, passage in enumerate(ranking, start=1):
            scores[passage.key] = scores.get(passage.key, 0.0) + 1 / (FUSION_K + rank)
            first.setdefault(passage.key, passage)
    return [first[key] for key in sorted(scores, key=lambda key: -scores[key])]


class KnowledgeService(RecordIndex):
    """The record's search, and the documents the chair adds to it (``!wissen``)."""

    def __init__(
        self,
        db: Database,
        tz: ZoneInfo,
        *,
        audit: AuditLog,
        embedder: Embedder | None = None,
        embedding_model: str | None = None,
        tokenizer: str = RECORD_TOKENIZER,
    ) -> None:
        """With an ``embedder`` and an ``embedding_model`` the search is hybrid: BM25 and vectors."""
        super().__init__(db, tokenizer=tokenizer)
        self.tz = tz
        self._audit = audit
        self._embedder = embedder if embedding_model else None
        self._model = embedding_model or ""
        self._vectors_version = 0
        self._matrices: dict[str, tuple[int, list[int], Any]] = {}

    @property
    def hybrid(self) -> bool:
        return self._embedder is not None

    async def find(self, room_id: str, question: str, *, limit: int = 3) -> list[Passage]:
        """What ``!frage`` answers from: BM25, fused with the nearest passages by meaning when
        vectors are configured (and the words found anything at all). When the model cannot
        embed, words alone."""
        lexical = self.search(room_id, question, limit=CANDIDATES)
        if self._embedder is None or not lexical:
            # Whether the record holds anything on it is for the words to say: the nearest vectors
            # always exist, and a small model's similarities do not tell relevant from not.
            return lexical[:limit]
        try:
            await self.refresh_vectors()
            [vector] = await self._embedder.embed([question], self._model)
        except Exception:  # the endpoint is away: the full-text ranking still answers
            log.warning("retrieval by meaning unavailable; full text only", exc_info=True)
            return lexical[:limit]
        return fuse(lexical, self.nearest(room_id, vector, CANDIDATES))[:limit]

    def nearest(self, room_id: str, vector: Sequence[float], limit: int) -> list[Passage]:
        """The room's passages closest to ``vector`` (cosine), of those that have vectors."""
        ids, matrix = self._matrix(room_id)
        query = _unit(vector)
        if not ids or matrix.shape[1] != query.shape[0]:
            return []  # none yet, or of another model's width (refresh_vectors replaces them)
        import numpy

        similarity = matrix @ query
        order = numpy.argsort(-similarity)[: limit * 2]
        wanted = {ids[i]: float(similarity[i]) for i in order}
        marks = ", ".join("?" for _ in wanted)
        found = {
            row[0]: row
            for row in self._db.execute(
                f"SELECT rowid, kind, ref, title, body, day FROM record_index WHERE rowid IN ({marks})",  # noqa: S608
                list(wanted),
            ).fetchall()
        }
        rows = [(*found[key], score) for key, score in wanted.items() if key in found]
        return self._passages(room_id, rows, limit)

    def _matrix(self, room_id: str) -> tuple[list[int], Any]:
        """The room's vectors as one matrix, kept until vectors change (loading 10 000 per question
        would cost more than the search)."""
        cached = self._matrices.get(room_id)
        if cached is not None and cached[0] == self._vectors_version:
            return cached[1], cached[2]
        rows = self._db.execute(
            "SELECT v.passage, v.vector FROM passage_vectors v JOIN record_index r ON r.rowid = v.passage"
            " WHERE r.room_id = ? AND v.model = ?",
            [room_id, self._model],
        ).fetchall()
        ids = [int(row[0]) for row in rows]
        import numpy

        matrix = (
            numpy.vstack([numpy.frombuffer(row[1], dtype=numpy.float32) for row in rows])
            if rows
            else numpy.zeros((0, 0), dtype=numpy.float32)
        )
        self._matrices[room_id] = (self._vectors_version, ids, matrix)
        return ids, matrix

    def vectors_changed(self) -> None:
        """Forget the kept matrices (after vectors were written other than by ``refresh_vectors``)."""
        self._vectors_version += 1

    async def refresh_vectors(self) -> int:
        """Vectors for passages that have none yet (at most a round's worth), and none for passages
        gone; returns how many were made. Run in the background and before each hybrid search."""
        if self._embedder is None:
            return 0
        with self._db.atomic():
            self._db.execute(
                "DELETE FROM passage_vectors WHERE passage NOT IN (SELECT rowid FROM record_index)"
            )
        missing = self._db.execute(
            "SELECT rowid, title, body FROM record_index WHERE rowid NOT IN"
            " (SELECT passage FROM passage_vectors WHERE model = ?) LIMIT ?",
            [self._model, EMBED_PER_ROUND],
        ).fetchall()
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            vectors = await self._embedder.embed(
                [f"{title}: {body}" for _, title, body in batch], self._model
            )
            with self._db.atomic():
                for (rowid, _, _), vector in zip(batch, vectors, strict=True):
                    self._db.execute(
                        "INSERT OR REPLACE INTO passage_vectors (passage, model, vector) VALUES (?, ?, ?)",
                        [rowid, self._model, _unit(vector).tobytes()],
                    )
            self.vectors_changed()
        return len(missing)

    def add(self, room_id: str, by: str, by_name: str, event_id: str, file: DocumentFile) -> Document:
        if len(file.data) > MAX_DOCUMENT_BYTES:
            raise UserError("knowledge.too_big", name=file.name, limit=MAX_DOCUMENT_BYTES // (1024 * 1024))
        known = self._db.execute(
            "SELECT id FROM documents WHERE room_id = ? AND event_id = ?", [room_id, event_id]
        ).fetchone()
        if known is not None:
            raise UserError("knowledge.already_added", id=int(known[0]), name=file.name)
        passages = passages_of(extract_text(file))
        if not passages:
            raise UserError("knowledge.no_text", name=file.name)
        with self._db.atomic():  # the document, its passages and their index entries at once
            cursor = self._db.execute(
                "INSERT INTO documents (room_id, name, mimetype, size, added_by, added_by_name, added_at, event_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [room_id, file.name, file.mimetype, len(file.data), by, by_name, time.time(), event_id],
            )
            document_id = int(cursor.lastrowid or 0)
            for position, text in enumerate(passages):
                self._db.execute(
                    "INSERT INTO document_passages (document_id, room_id, position, text) VALUES (?, ?, ?, ?)",
                    [document_id, room_id, position, text],
                )
        self._audit.record(room_id, by, Action.DOCUMENT_ADDED, id=document_id)
        return self.document(room_id, document_id)

    def documents(self, room_id: str) -> list[Document]:
        return [
            self._document(row)
            for row in self._db.query(
                _DOCUMENTS + " WHERE d.room_id = ? GROUP BY d.id ORDER BY d.id", [room_id]
            )
        ]

    def document(self, room_id: str, document_id: int) -> Document:
        rows = list(
            self._db.query(
                _DOCUMENTS + " WHERE d.room_id = ? AND d.id = ? GROUP BY d.id", [room_id, document_id]
            )
        )
        if not rows:
            raise UserError("knowledge.not_found", id=document_id)
        return self._document(rows[0])

    def remove(self, room_id: str, document_id: int, by: str) -> Document:
        document = self.document(room_id, document_id)
        with self._db.atomic():
            self._db.execute("DELETE FROM document_passages WHERE document_id = ?", [document_id])
            self._db.execute("DELETE FROM documents WHERE id = ?", [document_id])
        self._audit.record(room_id, by, Action.DOCUMENT_REMOVED, id=document_id)
        return document

    def _document(self, row: dict[str, Any]) -> Document:
        return Document(
            id=row["id"],
            room_id=row["room_id"],
            name=row["name"],
            mimetype=row["mimetype"] or "",
            size=row["size"] or 0,
            added_by=row["added_by"],
            added_by_name=row["added_by_name"] or row["added_by"],
            added_at=datetime.fromtimestamp(row["added_at"], self.tz),
            passages=row["passages"],
        )


_DOCUMENTS = "SELECT d.*, count(p.id) AS passages FROM documents d LEFT JOIN document_passages p ON p.document_id = d.id"
