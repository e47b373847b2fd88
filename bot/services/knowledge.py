"""The group's record, searchable: meetings, agenda items, decisions, action items, notes and
released minutes of one room, in SQLite's full-text index (FTS5, BM25).

The index is kept by triggers in the database (``bot/storage.py``, m013), in the same transaction
as every change of the record, so it can never lag behind. A search never leaves the asking
room, and only the record counts: entries of minutes that are not released yet are left out
(action items excepted — they live from the moment they are recorded).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlite_utils import Database

from bot.storage import RECORD_TOKENIZER

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
        """The passages of ``room_id``'s record that best answer ``question``, best first."""
        match = self.match_expression(query_terms(question))
        if not match:
            return []
        rows = self._db.execute(
            "SELECT kind, ref, title, body, day, bm25(record_index, 3.0, 1.0) AS score FROM record_index"
            " WHERE record_index MATCH ? AND room_id = ? ORDER BY score LIMIT ?",
            [match, room_id, CANDIDATES],
        ).fetchall()
        unreleased = self._unreleased_meetings(room_id)
        found = []
        for kind, ref, title, body, day, score in rows:
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
                    -score,
                    number=f"{tag['year']}/{tag['seq']:02d}" if tag and tag["seq"] is not None else None,
                    top=tag["top_number"] if tag else None,
                    event_id=tag["event_id"] if tag else None,
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
