"""PDF documents an administration files: minutes, an invitation with agenda.

A small, generic writer on reportlab's platypus. Callers build a ``Document`` of blocks and get
the PDF's bytes; this module knows nothing of meetings. Every text is plain text (typed by members
or written by a model) and is escaped, so "<b>" or "&" in it appears literally. Only the standard
Helvetica family is used: its WinAnsi encoding has ä ö ü ß „ “ – €, and there are no font files to
ship. Characters outside it (emoji, Cyrillic) come out as a box rather than failing.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Heading:
    text: str


@dataclass(frozen=True)
class Paragraph:
    text: str
    bold: bool = False


@dataclass(frozen=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True)
class Facts:
    """Label/value rows at the top: ("Datum", "Do., 12.03.2026, 10:00 Uhr"), ("Ort", "Köln"), …"""

    rows: tuple[tuple[str, str], ...]


Block = Heading | Paragraph | Bullets | Facts


@dataclass(frozen=True)
class Document:
    title: str
    blocks: tuple[Block, ...]
    page_label: str
    """A format string with ``{page}`` and ``{pages}``, e.g. "Seite {page} von {pages}"."""
    author: str = "akbot"
    subject: str = ""
    footer: str = ""
    """A short line at the left of every page's footer, e.g. "Facharbeitskreis KI · LVR/LWL"."""


def render(document: Document) -> bytes:
    """The document as a PDF on A4, with "Seite 1 von N" and the footer line on every page.

    reportlab is imported only when a PDF is made: it costs the idle bot 7 MB otherwise."""
    from bot.views import pdf_render

    return pdf_render.render(document)
