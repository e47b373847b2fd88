"""The whole app — router, services, views, database — without a homeserver: what it would send is
recorded. For tests of what members read, quicker than a world and as real above the adapter."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.app import App
from bot.matrix import IncomingEvent, message_content
from bot.render import Markdown
from bot.router import Context, FileData
from bot.settings import BotSettings, MatrixSettings, Settings

ROOM = "!raum:lvr.de"
CHAIR = "@vorsitz:lvr.de"
MEMBER = "@mitglied:lwl.org"


class Recorder:
    """Stands in for the homeserver: every event the bot would send, as content."""

    def __init__(self) -> None:
        self.contents: list[dict[str, Any]] = []
        self.rooms: list[str] = []
        self.backgrounds: list[bool] = []

    async def send_event(
        self,
        room_id: str,
        event_type: str,
        content: dict[str, Any],
        *,
        transaction_id: str | None = None,
        background: bool = False,
    ) -> str:
        self.contents.append(content)
        self.rooms.append(room_id)
        self.backgrounds.append(background)
        return f"$e{len(self.contents)}"

    async def send_message(self, room_id: str, markdown: str, **options: Any) -> str:
        options.pop("transaction_id", None)
        options.pop("attempts", None)
        return await self.send_event(room_id, "m.room.message", message_content(markdown, **options))

    async def edit_message(
        self, room_id: str, event_id: str, markdown: str, *, background: bool = False
    ) -> str:
        return await self.send_event(
            room_id, "m.room.message", message_content(markdown), background=background
        )

    async def send_file(self, room_id: str, filename: str, data: bytes, mimetype: str, **options: Any) -> str:
        return await self.send_event(room_id, "m.room.message", {"msgtype": "m.file", "body": filename})

    async def direct_room(self, user_id: str) -> str:
        return f"!direct-{user_id}"

    def sent_to(self, room_id: str) -> list[str]:
        """The bodies of what went to ``room_id``."""
        return [
            str(c.get("body", "")) for c, r in zip(self.contents, self.rooms, strict=True) if r == room_id
        ]


def offline_app(data_dir: Path, members: Sequence[str] = (CHAIR, MEMBER)) -> tuple[App, Recorder]:
    settings = Settings(
        matrix=MatrixSettings(
            homeserver="http://127.0.0.1:9", user_id="@akbot:lvr.de", password=SecretStr("x")
        ),
        bot=BotSettings(chairs=[CHAIR], data_dir=data_dir),
    )
    app = App(settings)
    recorder = Recorder()
    adapter = app.adapter
    adapter.send_event = recorder.send_event  # type: ignore[method-assign]
    adapter.send_message = recorder.send_message  # type: ignore[method-assign]
    adapter.edit_message = recorder.edit_message  # type: ignore[method-assign]
    adapter.send_file = recorder.send_file  # type: ignore[method-assign]
    adapter.direct_room = recorder.direct_room  # type: ignore[method-assign]
    adapter.members = lambda room_id: list(members)  # type: ignore[method-assign]
    adapter.display_name = lambda room_id, user_id: user_id  # type: ignore[method-assign]
    app.notifier.display_name = adapter.display_name
    adapter.is_served = lambda room_id: room_id == ROOM  # type: ignore[method-assign]
    adapter.is_member = lambda room_id, user_id: user_id in members  # type: ignore[method-assign]
    adapter.power_level = lambda room_id, user_id: 0  # type: ignore[method-assign] # chairs: by settings

    async def nothing_to_correct(room_id: str, **options: float) -> bool:
        return False

    adapter.rooms.refresh_members = nothing_to_correct  # type: ignore[method-assign]
    return app, recorder


async def close(app: App) -> None:
    """Stop what the offline app started (planned summary edits, direct messages) and its database."""
    await app.polls.shutdown()
    await app.direct.close()
    app.db.close()


@contextlib.asynccontextmanager
async def running(
    data_dir: Path, members: Sequence[str] = (CHAIR, MEMBER)
) -> AsyncIterator[tuple[App, Recorder]]:
    """``offline_app`` for the length of a test: what a test module's ``world`` fixture yields."""
    app, recorder = offline_app(data_dir, members)
    try:
        yield app, recorder
    finally:
        await close(app)


_event_ids = itertools.count(1)
_reply_ids = itertools.count(1)
last_reply_id = ""
"""The id of the last reply ``dispatch`` recorded (to reply to it in turn)."""


def _fetched(file: FileData) -> Callable[[], Awaitable[FileData | None]]:
    async def fetch() -> FileData:
        return file

    return fetch


async def hear(
    app: App, body: str, sender: str, *, mentions: Sequence[str] = (), at: float | None = None
) -> None:
    """A message in the room, through the inbox as the sync would hand it over (answers go to the
    recorder); ``at``: when it was written (server time), if not now — a message whose keys came late."""
    content: dict[str, Any] = {"msgtype": "m.text", "body": body, "m.mentions": {"user_ids": list(mentions)}}
    written = int(time.time() * 1000) if at is None else int(at * 1000)
    event = IncomingEvent(ROOM, f"$heard{next(_event_ids)}", sender, "m.room.message", content, written)
    await app.inbox.on_event(event)


async def dispatch(
    app: App,
    body: str,
    sender: str,
    *,
    lang: str = "de",
    files: list[tuple[str, bytes, str]] | None = None,
    mentioned: Sequence[str] = (),
    event_id: str | None = None,
    sent_at: float | None = None,
    replied_file: FileData | None = None,
    replied_to: str | None = None,
) -> list[Markdown]:
    """Run one command line as ``sender`` (the chair if it is ``CHAIR``); the replies in the room.
    Files the command sends are appended to ``files``; each command is its own event unless
    ``event_id`` repeats one (a command handled again after a restart); ``sent_at``: when it was
    written (server time), if not now; ``replied_to``: the event the command replies to. Replies
    get the ids ``$reply1``, ``$reply2`` … (``last_reply_id``)."""
    replies: list[Markdown] = []

    async def reply(markdown: Markdown, *, mentions: Sequence[str] = ()) -> str:
        global last_reply_id
        replies.append(markdown)
        last_reply_id = f"$reply{next(_reply_ids)}"
        return last_reply_id

    async def upload(filename: str, data: bytes, mimetype: str) -> str:
        if files is not None:
            files.append((filename, data, mimetype))
        return "$file"

    ctx = Context(
        room_id=ROOM,
        sender=sender,
        event_id=event_id or f"$cmd{next(_event_ids)}",
        sent_at_ms=int((time.time() if sent_at is None else sent_at) * 1000),
        replied_file=None if replied_file is None else _fetched(replied_file),
        replied_to=replied_to,
        mentioned=tuple(mentioned),
        body=body,
        lang=lang,
        prefix="!",
        is_chair=sender == CHAIR,
        services=app.services,
        reply=reply,
        upload=upload,
    )
    await app.dispatcher.dispatch(ctx)
    await asyncio.sleep(0)  # let what the command started in the background (summary edits, DMs) begin
    return replies
