"""The PDF writer: text survives as typed (umlauts, quotes, markup), pages count, bytes repeat."""

from __future__ import annotations

import io

from pypdf import PdfReader

from bot.views.pdf import Block, Bullets, Document, Facts, Heading, Paragraph, render

TITLE = "Niederschrift über die Sitzung des Facharbeitskreises KI am 12.03.2026"
FOOTER = "Facharbeitskreis KI · LVR/LWL"
GERMAN = "Äpfel, Öl, Übung: größer, schön, müde – „Zitat“ kostet 5 €"


def minutes(*blocks: Block, page_label: str = "Seite {page} von {pages}") -> Document:
    return Document(
        title=TITLE,
        blocks=blocks,
        page_label=page_label,
        subject="Niederschrift",
        footer=FOOTER,
    )


def pages_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


def bullets(count: int) -> Bullets:
    return Bullets(tuple(f"Punkt {number}" for number in range(1, count + 1)))


def flat(text: str) -> str:
    """Extracted text with line breaks as spaces: a long title wraps."""
    return " ".join(text.split())


def test_title_facts_and_blocks_appear() -> None:
    document = minutes(
        Facts((("Datum", "Do., 12.03.2026, 10:00 Uhr"), ("Ort", "Köln"))),
        Heading("TOP 1 Begrüßung"),
        Paragraph("Die Vorsitzende eröffnet die Sitzung.", bold=True),
        Bullets(("Erster Punkt", "Zweiter Punkt")),
    )
    (text,) = pages_text(render(document))
    for expected in (TITLE, "Datum", "Do., 12.03.2026, 10:00 Uhr", "Ort", "Köln", "TOP 1 Begrüßung"):
        assert expected in flat(text)
    assert "Die Vorsitzende eröffnet die Sitzung." in text
    assert "Erster Punkt" in text
    assert "Zweiter Punkt" in text


def test_german_characters_round_trip() -> None:
    text = pages_text(render(minutes(Heading("Größe – Maße"), Paragraph(GERMAN), Bullets(("Süß ÄÖÜ ß",)))))[0]
    assert GERMAN in text
    assert "Größe – Maße" in text
    assert "Süß ÄÖÜ ß" in text
    assert "Niederschrift über" in text


def test_user_markup_appears_literally() -> None:
    typed = "<b>fett</b> & Co"
    text = pages_text(render(minutes(Paragraph(typed), Bullets((typed,)), Facts(((typed, typed),)))))[0]
    assert text.count(typed) == 4


def test_newlines_become_line_breaks() -> None:
    text = pages_text(render(minutes(Paragraph("Zeile eins\nZeile zwei\r\nZeile drei"))))[0]
    assert "Zeile eins\nZeile zwei\nZeile drei" in text


def test_two_pages_are_labelled_and_footed() -> None:
    texts = pages_text(render(minutes(bullets(60))))
    assert len(texts) == 2
    assert "Seite 1 von 2" in texts[0]
    assert "Seite 2 von 2" in texts[1]
    assert all(FOOTER in text for text in texts)


def test_long_document_paginates() -> None:
    texts = pages_text(render(minutes(Heading("Anwesenheit"), bullets(200))))
    pages = len(texts)
    assert pages > 2
    assert f"Seite 1 von {pages}" in texts[0]
    assert f"Seite {pages} von {pages}" in texts[-1]
    assert "Punkt 200" in texts[-1]


def test_empty_document_is_one_page() -> None:
    texts = pages_text(
        render(Document(title="Einladung mit Tagesordnung", blocks=(), page_label="Seite {page} von {pages}"))
    )
    assert len(texts) == 1
    assert "Einladung mit Tagesordnung" in texts[0]
    assert "Seite 1 von 1" in texts[0]


def test_english_page_label() -> None:
    texts = pages_text(render(minutes(bullets(60), page_label="Page {page} of {pages}")))
    assert "Page 1 of 2" in texts[0]
    assert "Page 2 of 2" in texts[1]


def test_metadata() -> None:
    document = Document(
        title=TITLE, blocks=(), page_label="{page}/{pages}", author="Geschäftsstelle", subject="Niederschrift"
    )
    metadata = PdfReader(io.BytesIO(render(document))).metadata
    assert metadata is not None
    assert metadata.title == TITLE
    assert metadata.author == "Geschäftsstelle"
    assert metadata.subject == "Niederschrift"


def test_same_document_gives_same_bytes() -> None:
    document = minutes(Facts((("Ort", "Köln"),)), Paragraph(GERMAN), bullets(60))
    assert render(document) == render(document)


def test_long_footer_is_cut_before_the_page_label() -> None:
    document = Document(
        title=TITLE, blocks=(), page_label="Seite {page} von {pages}", footer="Facharbeitskreis " * 30
    )
    (text,) = pages_text(render(document))
    assert "Seite 1 von 1" in text
    assert "…" in text


def test_characters_outside_helvetica_do_not_fail() -> None:
    (text,) = pages_text(render(minutes(Paragraph("Danke 🙂 Привет\x00 Ende"))))
    assert "Danke" in text
    assert "Ende" in text
