"""Markdown for messages: escape what members typed, render HTML, derive the plain body.

Every text the bot sends is Markdown built from trusted templates; member input enters only
through ``escape`` or ``code``, so "**", "<script>" or "@room" in a title stay literal.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from markdown_it import MarkdownIt

_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&\"'=:;])")
_renderer = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False}).enable("table")
_BLOCK_TAGS = frozenset(
    {"p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "table"}
)


class Markdown(str):
    """Text that is already Markdown and must not be escaped again."""

    __slots__ = ()


def escape(text: str) -> Markdown:
    """Make ``text`` appear literally when rendered as Markdown."""
    return Markdown(_PUNCTUATION.sub(r"\\\1", text))


def code(text: str) -> Markdown:
    """An inline code span holding ``text`` literally (fenced with more backticks than it contains)."""
    single_line = " ".join(text.split("\n"))
    longest = max((len(run) for run in re.findall(r"`+", single_line)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if single_line.startswith("`") or single_line.endswith("`") else ""
    return Markdown(f"{fence}{pad}{single_line}{pad}{fence}")


def join(parts: list[Markdown], separator: str = "\n") -> Markdown:
    return Markdown(separator.join(parts))


def to_html(markdown: str) -> str:
    return str(_renderer.render(markdown)).strip()


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._list_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self._newline()
            self.parts.append("  " * max(self._list_depth - 1, 0) + "• ")
        elif tag in ("ul", "ol"):
            self._list_depth += 1
        elif tag in ("td", "th") and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append(" | ")
        elif tag in _BLOCK_TAGS:
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol"):
            self._list_depth -= 1
            self._newline()
        elif tag in _BLOCK_TAGS:
            self._newline()

    def handle_data(self, data: str) -> None:
        if "\n" in data and not data.strip():
            return  # layout whitespace between tags, not content
        if self.parts and self.parts[-1].endswith("\n"):
            data = data.lstrip("\n")  # the newline markdown-it writes after <br />
        self.parts.append(data)

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def text(self) -> str:
        return re.sub(r"\n{3,}", "\n\n", "".join(self.parts)).strip()


def to_plain(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return unescape(extractor.text())


def render(markdown: str) -> tuple[str, str]:
    """(plain body, HTML formatted_body) for a Markdown message."""
    html = to_html(markdown)
    return to_plain(html), html
