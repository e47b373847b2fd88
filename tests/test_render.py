"""Markdown rendering: member input stays literal, plain bodies read well, message content is complete."""

from __future__ import annotations

import re

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.matrix import message_content
from bot.render import Markdown, code, escape, join, render

HOSTILE = [
    "**fett**",
    "__fett__",
    "*schräg*",
    "<script>alert(1)</script>",
    "<b>fett</b>",
    "[link](http://x)",
    "![bild](http://x/b.png)",
    "<http://x.de>",
    "@room",
    "# Titel",
    "Titel\n===",
    "1. Punkt",
    "- Punkt",
    "+ Punkt",
    "> Zitat",
    "`code`",
    "```\ncode\n```",
    "~~durch~~",
    "| a | b |\n|---|---|\n| c | d |",
    "---",
    "a & b",
    "C:\\Pfad\\datei",
    "1\\. Punkt",
]
FORBIDDEN_HTML = (
    "<script",
    "<a ",
    "<img",
    "<strong>",
    "<em>",
    "<h1>",
    "<h2>",
    "<ol>",
    "<ul>",
    "<li>",
    "<blockquote>",
    "<code>",
    "<pre>",
    "<s>",
    "<del>",
    "<table>",
    "<hr",
    "<b>",
)


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_member_input_comes_out_literally(text: str) -> None:
    body, html = render(escape(text))

    assert body == text
    for tag in FORBIDDEN_HTML:
        assert tag not in html


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("**fett**", "<p>**fett**</p>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("[link](http://x)", "<p>[link](http://x)</p>"),
        ("@room", "<p>@room</p>"),
        ("# Titel", "<p># Titel</p>"),
        ("1. Punkt", "<p>1. Punkt</p>"),
        ("`code`", "<p>`code`</p>"),
    ],
)
def test_escaped_member_input_html(text: str, html: str) -> None:
    assert render(escape(text))[1] == html


def test_escaped_entity_stays_escaped_in_html() -> None:
    assert render(escape("&amp;"))[1] == "<p>&amp;amp;</p>"


@pytest.mark.parametrize("text", ["&amp;", "&lt;b&gt;", "&#42;", "AT&amp;T", "&notit"])
def test_html_entities_typed_by_a_member_stay_literal_in_the_plain_body(text: str) -> None:
    assert render(escape(text))[0] == text


def test_escape_returns_markdown() -> None:
    assert isinstance(escape("x"), Markdown)
    assert isinstance(code("x"), Markdown)


def test_escape_leaves_letters_digits_and_spaces_alone() -> None:
    assert escape("Sitzung am 3 Mai um 10 Uhr ÄÖÜ ß") == "Sitzung am 3 Mai um 10 Uhr ÄÖÜ ß"


def test_escape_backslashes_markdown_punctuation() -> None:
    assert escape("*a* [b] <c>") == "\\*a\\* \\[b\\] \\<c\\>"


@pytest.mark.parametrize(
    ("text", "markdown", "body"),
    [
        ("ping", "`ping`", "ping"),
        ("a`b", "``a`b``", "a`b"),
        ("a``b`c", "```a``b`c```", "a``b`c"),
        ("`x`", "`` `x` ``", "`x`"),
        ("**nicht fett**", "`**nicht fett**`", "**nicht fett**"),
        ("<script>", "`<script>`", "<script>"),
        ("zwei\nZeilen", "`zwei Zeilen`", "zwei Zeilen"),
    ],
)
def test_code_span_holds_text_literally(text: str, markdown: str, body: str) -> None:
    assert code(text) == markdown
    plain, html = render(code(text))
    assert plain == body
    assert html.startswith("<p><code>")
    assert "<script" not in html
    assert "<strong>" not in html


@pytest.mark.parametrize(
    ("markdown", "body"),
    [
        ("a  \nb", "a\nb"),
        ("a\nb", "a\nb"),
        ("**Titel**\n- eins\n- zwei", "Titel\n\n• eins\n• zwei"),
        ("1. eins\n2. zwei\n   - sub\n3. drei", "1. eins\n2. zwei\n  • sub\n3. drei"),
        ("a\n\nb", "a\n\nb"),
        ("- eins\n- zwei\n  - zwei a\n- drei", "• eins\n• zwei\n  • zwei a\n• drei"),
        ("Vorher\n- eins\n\nNachher", "Vorher\n\n• eins\n\nNachher"),
        ("**fett** und *schräg*", "fett und schräg"),
        ("| A | B |\n|---|---|\n| 1 | 2 |", "A | B\n1 | 2"),
        ("Sie &amp; wir", "Sie & wir"),
    ],
)
def test_plain_body_of_markdown(markdown: str, body: str) -> None:
    assert render(markdown)[0] == body


def test_line_break_html() -> None:
    assert render("a  \nb") == ("a\nb", "<p>a<br />\nb</p>")


def test_join_puts_parts_on_lines() -> None:
    joined = join([Markdown("**a**"), escape("*b*")])

    assert isinstance(joined, Markdown)
    assert render(joined) == ("a\n*b*", "<p><strong>a</strong><br />\n*b*</p>")


# ---- message_content -------------------------------------------------------------------------


def test_message_content_of_a_plain_notice() -> None:
    assert message_content("**Hallo** Welt") == {
        "msgtype": "m.notice",
        "body": "Hallo Welt",
        "format": "org.matrix.custom.html",
        "formatted_body": "<p><strong>Hallo</strong> Welt</p>",
        "m.mentions": {"user_ids": []},
    }


def test_message_content_mentions_are_sorted_and_deduplicated() -> None:
    content = message_content(
        "Hallo", mentions=["@zora:lvr.de", "@anna:lvr.de", "@zora:lvr.de", "@bernd:lwl.org"]
    )

    assert content["m.mentions"] == {"user_ids": ["@anna:lvr.de", "@bernd:lwl.org", "@zora:lvr.de"]}


def test_message_content_room_mention() -> None:
    content = message_content("Alle bitte", room_mention=True, mentions=["@anna:lvr.de"])

    assert content["m.mentions"] == {"user_ids": ["@anna:lvr.de"], "room": True}


def test_message_content_reply() -> None:
    assert message_content("pong", reply_to="$ereignis:lvr.de", msgtype="m.text") == {
        "msgtype": "m.text",
        "body": "pong",
        "format": "org.matrix.custom.html",
        "formatted_body": "<p>pong</p>",
        "m.mentions": {"user_ids": []},
        "m.relates_to": {"m.in_reply_to": {"event_id": "$ereignis:lvr.de"}},
    }


def test_message_content_of_escaped_room_mention_text_mentions_nobody() -> None:
    content = message_content(escape("@room bitte alle lesen"))

    assert content["body"] == "@room bitte alle lesen"
    assert content["m.mentions"] == {"user_ids": []}


# ---- property ----------------------------------------------------------------------------------

# Exact round trip holds for one line of printable text without surrounding whitespace: the
# renderer strips the ends, turns newlines into <br /> and paragraphs, and four leading spaces
# would make a code block. So the strategy has no control characters (newline, tab …), no line or
# paragraph separators, and no whitespace at either end.
ONE_LINE = st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=60) | st.text(
    st.sampled_from("`*_[]()<>&#!\\-+=|~:;.'\"{} a1"), max_size=30
)  # the second half makes markup-like texts likely


@given(ONE_LINE)
def test_escaped_text_round_trips_and_produces_no_markup(text: str) -> None:
    assume(text == text.strip())

    body, html = render(escape(text))

    assert body == text
    assert re.sub(r"</?p>", "", html).count("<") == 0


@given(ONE_LINE)
def test_code_span_round_trips(text: str) -> None:
    assume(text == text.strip())
    assume(text)  # code("") gives "``", which is no code span

    body, html = render(code(text))

    assert body == text
    assert re.sub(r"</?(p|code)>", "", html).count("<") == 0
