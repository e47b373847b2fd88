"""Markdown for messages: escape what members typed, render HTML, derive the plain body.

Every text the bot sends is Markdown built from trusted templates; member input enters only
through ``escape`` or ``code``, so "**", "<script>" or "@room" in a title stay literal.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3
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


def mention(user_id: str, name: str) -> Markdown:
    """A pill: clients show ``name`` linked to the user; pair it with ``m.mentions``."""
    return Markdown(f"[{escape(name)}](https://matrix.to/#/{user_id})")


def join(parts: list[Markdown], separator: str = "\n") -> Markdown:
    return Markdown(separator.join(parts))


def to_html(markdown: str) -> str:
    return str(_renderer.render(markdown)).strip()


class _TextExtractor(HTMLParser):
    """HTML → the plain ``body``: paragraphs apart by a blank line, lists as "•" or "1.", cells by "|"."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._lists: list[list[int]] = []  # one entry per open list: [next number], or [] for bullets

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in ("ul", "ol"):
            if not self._lists:
                self._paragraph()
            start = dict(attrs).get("start") or "1"
            self._lists.append([int(start)] if tag == "ol" and start.isdecimal() else [])
        elif tag == "li":
            self._newline()
            marker = "• "
            if self._lists and self._lists[-1]:
                marker = f"{self._lists[-1][0]}. "
                self._lists[-1][0] += 1
            self.parts.append("  " * max(len(self._lists) - 1, 0) + marker)
        elif tag == "tr":
            self._newline()
        elif tag in ("td", "th") and self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append(" | ")
        elif tag in _BLOCK_TAGS:
            self._paragraph()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol"):
            if self._lists:
                self._lists.pop()
            self._paragraph()
        elif tag in _BLOCK_TAGS and tag not in ("li", "tr"):
            self._paragraph()

    def handle_data(self, data: str) -> None:
        if "\n" in data and not data.strip():
            return  # layout whitespace between tags, not content
        if self.parts and self.parts[-1].endswith("\n"):
            data = data.lstrip("\n")  # the newline markdown-it writes after <br />
        self.parts.append(data)

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")

    def _paragraph(self) -> None:
        if self._lists:  # a paragraph inside a list item stays on the item's line
            return
        if self.parts:
            self.parts.append("\n\n")

    def text(self) -> str:
        text = re.sub(r"[ \t]+\n", "\n", "".join(self.parts))
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def to_plain(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return extractor.text()  # entities were decoded once by the parser; never twice


# What model output may keep after rendering: formatting, lists, code, tables, plain links.
UNTRUSTED_TAGS = {
    "p", "br", "strong", "em", "b", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a", "del", "hr",
}  # fmt: skip


def sanitize(html: str) -> str:
    """An allowlist pass over HTML we did not write ourselves (model output)."""
    return str(
        nh3.clean(html, tags=UNTRUSTED_TAGS, attributes={"a": {"href"}}, url_schemes={"https", "http"})
    )


_untrusted_renderer = MarkdownIt("commonmark", {"html": True, "breaks": True, "linkify": False}).enable(
    "table"
)
"""Models write HTML tags too ("<strong>"): they are rendered, then the allowlist decides what stays."""


def render_untrusted(text: str) -> tuple[str, str]:
    """(plain body, HTML) for text from outside (the model): Markdown and HTML rendered, then
    sanitised — an allowed tag shows as formatting, a script (with its content) is dropped."""
    html = sanitize(str(_untrusted_renderer.render(text)).strip())
    return to_plain(html), html


def render(markdown: str) -> tuple[str, str]:
    """(plain body, HTML formatted_body) for a Markdown message."""
    html = to_html(markdown)
    return to_plain(html), html
