"""Builders for what the bot sends (messages, edits, polls) and the parser of poll responses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nio.crypto.attachments import decrypt_attachment

from bot.matrix.events import IncomingEvent
from bot.render import render


def message_content(
    markdown: str,
    *,
    reply_to: str | None = None,
    mentions: Sequence[str] = (),
    room_mention: bool = False,
    msgtype: str = "m.notice",
) -> dict[str, Any]:
    """The content of a bot message: plain body, HTML, explicit mentions, optional reply."""
    body, html = render(markdown)
    return html_content(
        body, html, reply_to=reply_to, mentions=mentions, room_mention=room_mention, msgtype=msgtype
    )


def html_content(
    body: str,
    html: str,
    *,
    reply_to: str | None = None,
    thread_root: str | None = None,
    mentions: Sequence[str] = (),
    room_mention: bool = False,
    msgtype: str = "m.notice",
) -> dict[str, Any]:
    """A message from a body and HTML already made; ``m.mentions`` is always explicit."""
    intended: dict[str, Any] = {"user_ids": sorted(set(mentions))}
    if room_mention:
        intended["room"] = True
    content: dict[str, Any] = {
        "msgtype": msgtype,
        "body": body,
        "format": "org.matrix.custom.html",
        "formatted_body": html,
        "m.mentions": intended,
    }
    if thread_root is not None:
        content["m.relates_to"] = {
            "rel_type": "m.thread",
            "event_id": thread_root,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": reply_to or thread_root},
        }
    elif reply_to is not None:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
    return content


POLL_START = "org.matrix.msc3381.poll.start"
POLL_END = "org.matrix.msc3381.poll.end"
POLL_RESPONSES = ("org.matrix.msc3381.poll.response", "m.poll.response")
TEXT_KEY = "org.matrix.msc1767.text"


def poll_start_content(
    question: str, answers: Sequence[tuple[str, str]], *, anonymous: bool, fallback: str
) -> dict[str, Any]:
    """A native poll (MSC3381, unstable names as Element sends them): every answer selectable."""
    kind = "org.matrix.msc3381.poll.undisclosed" if anonymous else "org.matrix.msc3381.poll.disclosed"
    return {
        POLL_START: {
            "kind": kind,
            "max_selections": len(answers),
            "question": {TEXT_KEY: question},
            "answers": [{"id": answer_id, TEXT_KEY: label} for answer_id, label in answers],
        },
        TEXT_KEY: fallback,
        "m.mentions": {},
    }


def poll_end_content(start_event_id: str, text: str) -> dict[str, Any]:
    return {
        "m.relates_to": {"rel_type": "m.reference", "event_id": start_event_id},
        POLL_END: {},
        TEXT_KEY: text,
        "m.mentions": {},
    }


def poll_response(event: IncomingEvent) -> tuple[str, list[str]] | None:
    """(start event id, selected answer ids) of a poll response, unstable or stable form."""
    if event.type not in POLL_RESPONSES:
        return None
    relation = event.relation
    start = relation.get("event_id")
    if relation.get("rel_type") != "m.reference" or not isinstance(start, str):
        return None
    body = event.content.get("org.matrix.msc3381.poll.response") or event.content.get("m.response") or {}
    answers = body.get("answers") if isinstance(body, dict) else None
    if answers is None:
        answers = event.content.get("m.selections")
    if not isinstance(answers, list):
        return start, ["<malformed>"]  # spoils the vote rather than dropping it silently
    return start, [str(answer) for answer in answers]


def edit_content(event_id: str, markdown: str, msgtype: str = "m.notice") -> dict[str, Any]:
    """An edit (m.replace) of one of our messages; edits notify nobody."""
    body, html = render(markdown)
    return edit_html_content(event_id, body, html, msgtype)


EDIT_FALLBACK_CHARS = 2_000


def edit_html_content(event_id: str, body: str, html: str, msgtype: str = "m.notice") -> dict[str, Any]:
    """An edit carries the new text in ``m.new_content``; the top-level fallback is for old clients
    only, so a long one is cut short — the event must stay under 64 KB once encrypted."""
    new = html_content(body, html, msgtype=msgtype)
    content = dict(new)
    if len(body) > EDIT_FALLBACK_CHARS:
        content["body"] = "* " + body[:EDIT_FALLBACK_CHARS] + " …"
        del content["format"], content["formatted_body"]
    else:
        content["body"] = "* " + body
        content["formatted_body"] = "* " + html
    content["m.new_content"] = new
    content["m.relates_to"] = {"rel_type": "m.replace", "event_id": event_id}
    return content


async def download_file(client: Any, content: dict[str, Any]) -> bytes:
    """The bytes of an ``m.file`` message's ``content``, fetched with nio's ``client`` and
    decrypted when the file came encrypted (``content["file"]``)."""
    file_info = content.get("file")
    mxc = file_info["url"] if isinstance(file_info, dict) else content.get("url")
    if not isinstance(mxc, str):
        raise ValueError("no file in this message")
    response = await client.download(mxc=mxc)
    body = getattr(response, "body", None)
    if not isinstance(body, bytes):
        raise OSError(f"download of {mxc} failed: {response}")
    if not isinstance(file_info, dict):
        return body
    return bytes(
        decrypt_attachment(body, file_info["key"]["k"], file_info["hashes"]["sha256"], file_info["iv"])
    )
