"""What the bot receives, from the sync to the commands: served rooms and their members only, native
poll votes, the flood guard, reply fallbacks stripped, then the dispatcher with a context that
answers in place; and the private hint about a member's device."""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from bot.i18n import t
from bot.matrix import IncomingEvent, MatrixAdapter, PrivateHint, poll_response, transaction_for
from bot.metrics import Metrics
from bot.outbox import DirectMessages, ThreadAnswer
from bot.render import Markdown, code
from bot.router import Context, Dispatcher, FileData
from bot.services import Services
from bot.settings import BotSettings

RECENT_FILES = 50
"""Files per room the bot remembers, to be added to the record by a reply."""


class FloodGuard:
    """Per member: at most ``limit`` commands in ``window_s`` seconds. One friendly warning, then
    silence until the window has passed — a flood must not slow the room down for everyone else."""

    def __init__(self, limit: int = 20, window_s: float = 10.0) -> None:
        self.limit = limit
        self.window_s = window_s
        self._recent: dict[str, deque[float]] = {}
        self._warned: dict[str, float] = {}

    def check(self, user_id: str, now: float) -> str:
        """ "ok", "warn" (first command over the limit) or "ignore"."""
        recent = self._recent.setdefault(user_id, deque())
        while recent and now - recent[0] > self.window_s:
            recent.popleft()
        if len(recent) < self.limit:
            recent.append(now)
            return "ok"
        if now - self._warned.get(user_id, float("-inf")) > self.window_s:
            self._warned[user_id] = now
            return "warn"
        return "ignore"


def strip_reply_fallback(body: str) -> str:
    """Older clients quote the replied-to message as "> …" lines before the reply itself."""
    if not body.startswith("> "):
        return body
    lines = body.split("\n")
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).strip()


def replied_to(relation: dict[str, Any]) -> str | None:
    """The event a message replies to; a thread's fallback reply (to its latest message) is none."""
    reply = relation.get("m.in_reply_to")
    if not isinstance(reply, dict) or relation.get("is_falling_back") is True:
        return None
    event_id = reply.get("event_id")
    return event_id if isinstance(event_id, str) else None


class Inbox:
    """The adapter's event and hint handlers."""

    def __init__(
        self,
        adapter: MatrixAdapter,
        dispatcher: Dispatcher,
        services: Services,
        *,
        direct: DirectMessages,
        metrics: Metrics,
        settings: BotSettings,
    ) -> None:
        self.adapter = adapter
        self.dispatcher = dispatcher
        self.services = services
        self.direct = direct
        self.metrics = metrics
        self.settings = settings
        limit, window = settings.rate
        self.flood = FloodGuard(limit, window.total_seconds())
        self._files: dict[str, OrderedDict[str, dict[str, Any]]] = {}

    def is_chair(self, room_id: str, user_id: str) -> bool:
        """Listed in bot.chairs, or holding the chair power level in that room right now."""
        if user_id in self.settings.chairs:
            return True
        return self.adapter.power_level(room_id, user_id) >= self.settings.chair_power_level

    async def on_hint(self, hint: PrivateHint) -> bool:
        """Tell a member about their device in the direct room, beside the sync (it waits for one).

        A refused device is hinted at only for a command: chatting from it earns no direct message."""
        if hint.kind == "unsigned_device" and not self.dispatcher.is_command(strip_reply_fallback(hint.body)):
            return False
        lang = self.services.rooms.language(hint.room_id)
        text = t(lang, f"trust.{hint.kind}", device=code(hint.device_id or "?"))
        self.direct.send_note(hint.user_id, text)
        return True

    def _remember_file(self, room_id: str, event: IncomingEvent) -> None:
        """The room's recent files (their message content, not their bytes): a chair may add one to
        the record by replying to it (``!wissen hinzufügen``)."""
        files = self._files.setdefault(room_id, OrderedDict())
        files[event.event_id] = event.content
        while len(files) > RECENT_FILES:
            files.popitem(last=False)

    def _replied_file(
        self, room_id: str, relation: dict[str, Any]
    ) -> Callable[[], Awaitable[FileData | None]] | None:
        reply = relation.get("m.in_reply_to")
        replied = reply.get("event_id") if isinstance(reply, dict) else None
        files = self._files.get(room_id)
        content = files.get(replied) if files is not None and isinstance(replied, str) else None
        if content is None:
            return None
        found: dict[str, Any] = content

        async def fetch() -> FileData:
            content = found
            info = content["info"] if isinstance(content.get("info"), dict) else {}
            name = str(content.get("filename") or content.get("body") or "datei")
            data = await self.adapter.download_file(content)
            return FileData(name, str(info.get("mimetype") or ""), data, str(replied))

        return fetch

    async def on_event(self, event: IncomingEvent) -> None:
        room_id, sender = event.room_id, event.sender
        if not self.adapter.is_served(room_id) or not await self.adapter.confirm_member(room_id, sender):
            return
        response = poll_response(event)
        if response is not None:
            start_event_id, answers = response
            self.services.polls.vote_native(
                room_id, sender, start_event_id, answers, event.timestamp_ms / 1000
            )
            return
        if event.type != "m.room.message":
            return
        # During a meeting, whoever writes attended it (only that fact is kept, not what they wrote).
        self.services.minutes.saw(
            room_id, sender, lambda: self.adapter.display_name(room_id, sender), event.timestamp_ms / 1000
        )
        if event.msgtype == "m.file" and not event.is_edit:
            self._remember_file(room_id, event)
            return
        if event.msgtype != "m.text" or event.is_edit:
            return
        body = strip_reply_fallback(event.body)
        if not self.dispatcher.is_command(body):
            return
        verdict = self.flood.check(sender, time.monotonic())
        if verdict == "ignore":
            return
        room_id, event_id = event.room_id, event.event_id
        relation = event.relation
        thread_root = relation.get("event_id") if relation.get("rel_type") == "m.thread" else None
        lang = self.services.rooms.language(room_id)

        sent = itertools.count()  # a handler's n-th message: the same n when a crash replays it

        async def upload(filename: str, data: bytes, mimetype: str) -> str:
            transaction_id = transaction_for(event_id, str(next(sent)))
            return await self.adapter.send_file(
                room_id, filename, data, mimetype, reply_to=event_id, transaction_id=transaction_id
            )

        async def reply(markdown: Markdown, *, mentions: Sequence[str] = ()) -> str:
            # Derived from the command: answering it again after a crash returns the first answer.
            transaction_id = transaction_for(event_id, str(next(sent)))
            return await self.adapter.send_message(
                room_id, markdown, reply_to=event_id, mentions=mentions, transaction_id=transaction_id
            )

        llm = self.services.llm
        ctx = Context(
            room_id=room_id,
            sender=event.sender,
            event_id=event_id,
            body=body,
            lang=lang,
            prefix=self.dispatcher.prefix,
            is_chair=self.is_chair(room_id, event.sender),
            services=self.services,
            reply=reply,
            received_at=event.received_at,
            upload=upload,
            sent_at_ms=event.timestamp_ms,
            thread_root=thread_root,
            mentioned=event.mentioned_users,
            replied_to=replied_to(relation),
            replied_file=self._replied_file(room_id, relation),
            answer_sink=ThreadAnswer(
                self.adapter, llm, room_id, event_id, thread_root=thread_root or event_id, lang=lang
            )
            if llm.enabled
            else None,
        )
        if verdict == "warn":
            await ctx.say("flood.slow_down", seconds=int(self.flood.window_s))
            return
        await self.dispatcher.dispatch(ctx)
        self.metrics.observe(
            ctx.command.display("de") if ctx.command else "unbekannt", time.monotonic() - ctx.received_at
        )
