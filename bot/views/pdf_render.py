"""The PDF writer behind ``bot.views.pdf``: reportlab's platypus, imported only when a PDF is made."""

from __future__ import annotations

import functools
import io
from typing import Any, assert_never
from xml.sax.saxutils import escape

# reportlab ships no type hints; its names are Any here.
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import cm  # type: ignore[import-untyped]
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    ListFlowable,
    ListItem,
    SimpleDocTemplate,
    Table,
    TableStyle,
)
from reportlab.platypus import Paragraph as RlParagraph

from bot.views.pdf import Block, Bullets, Document, Facts, Heading, Paragraph

_PAGE_WIDTH, _PAGE_HEIGHT = A4
_LEFT, _RIGHT, _TOP, _BOTTOM = 2.5 * cm, 2 * cm, 2 * cm, 2 * cm
_FRAME_WIDTH = _PAGE_WIDTH - _LEFT - _RIGHT
_LABEL_WIDTH = 4 * cm
_FONT, _BOLD = "Helvetica", "Helvetica-Bold"
_FOOTER_SIZE = 8.5
_FOOTER_Y = 1.2 * cm

_BODY = ParagraphStyle("body", fontName=_FONT, fontSize=10.5, leading=14, spaceAfter=6)
_BODY_BOLD = ParagraphStyle("body-bold", parent=_BODY, fontName=_BOLD)
_TITLE = ParagraphStyle("title", parent=_BODY, fontName=_BOLD, fontSize=17, leading=21, spaceAfter=14)
# keepWithNext: a heading never stands alone at the bottom of a page.
_HEADING = ParagraphStyle(
    "heading", parent=_BODY, fontName=_BOLD, fontSize=12, leading=15, spaceBefore=10, keepWithNext=1
)
_CELL = ParagraphStyle("cell", parent=_BODY, spaceAfter=0)
_CELL_LABEL = ParagraphStyle("cell-label", parent=_CELL, fontName=_BOLD)
_ITEM = ParagraphStyle("item", parent=_BODY, spaceAfter=2)


def render(document: Document) -> bytes:
    """The document as a PDF on A4, with "Seite 1 von N" and the footer line on every page."""
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_LEFT,
        rightMargin=_RIGHT,
        topMargin=_TOP,
        bottomMargin=_BOTTOM,
        title=document.title,
        author=document.author,
        subject=document.subject,
        creator="akbot",
        # No timestamp or random ID in the file: the same document gives the same bytes.
        invariant=True,
    )
    flowables: list[Any] = [RlParagraph(_markup(document.title), _TITLE)]
    for block in document.blocks:
        flowables.extend(_flowables(block))
    canvas_maker = functools.partial(_NumberedCanvas, page_label=document.page_label, footer=document.footer)
    template.build(flowables, canvasmaker=canvas_maker)
    return buffer.getvalue()


def _flowables(block: Block) -> list[Any]:
    match block:
        case Heading(text):
            return [RlParagraph(_markup(text), _HEADING)]
        case Paragraph(text, bold):
            return [RlParagraph(_markup(text), _BODY_BOLD if bold else _BODY)]
        case Bullets(items):
            if not items:
                return []
            list_items = [ListItem(RlParagraph(_markup(item), _ITEM)) for item in items]
            return [
                ListFlowable(
                    list_items,
                    bulletType="bullet",
                    start="–",  # "•" extracts as \x7f from the standard fonts; the dash copies right
                    bulletFontName=_FONT,
                    bulletFontSize=_BODY.fontSize,
                    leftIndent=14,
                    spaceAfter=_BODY.spaceAfter,
                )
            ]
        case Facts(rows):
            if not rows:
                return []
            cells = [
                [RlParagraph(_markup(label), _CELL_LABEL), RlParagraph(_markup(value), _CELL)]
                for label, value in rows
            ]
            # No grid: the filed document reads as a letterhead block, not a spreadsheet.
            style = TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (0, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 1),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ]
            )
            return [
                Table(
                    cells,
                    colWidths=[_LABEL_WIDTH, _FRAME_WIDTH - _LABEL_WIDTH],
                    style=style,
                    hAlign="LEFT",
                    spaceAfter=12,
                )
            ]
        case _:
            assert_never(block)


def _markup(text: str) -> str:
    """Plain text as reportlab paragraph markup: escaped, with its line breaks kept."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br/>".join(escape(line) for line in lines)


def _fit(text: str, width: float) -> str:
    """``text`` on one footer line, cut with "…" where it would run into the page label."""
    text = " ".join(text.split())
    if stringWidth(text, _FONT, _FOOTER_SIZE) <= width:
        return text
    while text and stringWidth(text + "…", _FONT, _FOOTER_SIZE) > width:
        text = text[:-1]
    return f"{text.rstrip()}…" if text else ""


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab's Canvas is Any to mypy
    """A canvas that holds every page back until ``save``, so each footer can say "von N"."""

    def __init__(self, *args: Any, page_label: str, footer: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._page_label = page_label
        self._footer = footer
        self._page_states: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._page_states.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        pages = len(self._page_states)
        for state in self._page_states:
            self.__dict__.update(state)
            self._draw_footer(pages)
            super().showPage()
        super().save()

    def _draw_footer(self, pages: int) -> None:
        label = self._page_label.format(page=self.getPageNumber(), pages=pages)
        label_width = stringWidth(label, _FONT, _FOOTER_SIZE)
        self.saveState()
        self.setLineWidth(0.5)
        self.line(_LEFT, _BOTTOM - 0.4 * cm, _PAGE_WIDTH - _RIGHT, _BOTTOM - 0.4 * cm)
        self.setFont(_FONT, _FOOTER_SIZE)
        self.drawRightString(_PAGE_WIDTH - _RIGHT, _FOOTER_Y, label)
        if self._footer:
            self.drawString(_LEFT, _FOOTER_Y, _fit(self._footer, _FRAME_WIDTH - label_width - 0.5 * cm))
        self.restoreState()
