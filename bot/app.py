"""Wiring: settings → database, services, router, scheduler, Matrix adapter. No singletons."""

from __future__ import annotations

import asyncio
import io
import itertools
import logging
import time
from collections import deque
from collections.abc import Coroutine, Sequence
from typing import Any

from bot import __version__
from bot.i18n import t
from bot.matrix import (
    POLL_END,
    POLL_START,
    IncomingEvent,
    MatrixAdapter,
    PrivateHint,
    edit_html_content,
    html_content,
    poll_end_content,
    poll_response,
    poll_start_content,
    transaction_for,
)
from bot.metrics import Metrics
from bot.render import Markdown, code, render, render_untrusted
from bot.router import Context, Dispatcher, Router
from bot.scheduler import Scheduler
from bot.services import Services
from bot.services.agenda import AgendaService
from bot.services.audit import AuditLog
from bot.services.llm import LlmClient, LlmService, check_on_premises, model_endpoint_reachable
from bot.services.meetings import MeetingService
from bot.services.polls import PollService
from bot.services.privacy import PrivacyService
from bot.services.reminders import ReminderService
from bot.services.rooms import RoomSettings
from bot.settings import Settings
from bot.storage import EventLedger, open_db
from commands import admin, agenda, ask, help, meetings, polls, privacy, reminders

log = logging.getLogger(__name__)

ROUTERS: tuple[Router, ...] = (
    help.router,
    polls.router,
    meetings.router,
    agenda.router,
    reminders.router,
    ask.router,
    privacy.router,
    admin.router,
)


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


class App:
    """The running bot: one per process, built from settings."""

    def __init__(self, settings: Settings, routers: Sequence[Router] = ROUTERS) -> None:
        self.settings = settings
        self.version = __version__
        self.encryption = settings.matrix.encryption
        self.db = open_db(settings.bot.data_dir)
        self.rooms = RoomSettings(self.db, settings.bot.language)
        self.scheduler = Scheduler(settings.bot.tz)
        self.adapter = MatrixAdapter(
            settings.matrix, settings.bot.data_dir, self.db, self.rooms, self.on_event, on_hint=self.on_hint
        )
        self.dispatcher = Dispatcher(routers, settings.bot.prefix)
        tz = settings.bot.tz
        self.reminders = ReminderService(
            self.db,
            tz,
            late_grace=settings.reminders.grace,
            language=self.rooms.language,
            display_name=self.adapter.display_name,
        )
        self.reminders.attach(self.scheduler, self)
        self.meetings = MeetingService(
            self.db, tz, self.reminders, offsets=settings.reminders.offsets, duration=settings.meetings.length
        )
        self.agenda = AgendaService(
            self.db,
            tz,
            self.meetings,
            self.reminders,
            organisations=settings.agenda.organisations,
            fixed_items=settings.agenda.fixed_items,
            submission_deadline=settings.agenda.duration("submission_deadline"),
            deadline_reminder=settings.agenda.duration("deadline_reminder"),
            publish_before=settings.agenda.duration("publish_before"),
        )
        self.polls = PollService(
            self.db, tz, self.meetings, nudge_before=settings.polls.nudge, language=self.rooms.language
        )
        self.polls.attach(self.scheduler, self, self)
        self.llm = LlmService(
            self.db, settings.llm, LlmClient(settings.llm) if settings.llm.base_url else None
        )
        self.audit = AuditLog(self.db, tz)
        self.privacy = PrivacyService(self.db, tz, settings.privacy.period)
        self._background: set[asyncio.Task[None]] = set()
        limit, window = settings.bot.rate
        self.flood = FloodGuard(limit, window.total_seconds())
        self.metrics = Metrics(self.scheduler.job_count, lambda: self.llm.gate.waiting)
        self.services = Services(
            rooms=self.rooms,
            runtime=self,
            reminders=self.reminders,
            meetings=self.meetings,
            polls=self.polls,
            agenda=self.agenda,
            llm=self.llm,
            audit=self.audit,
            privacy=self.privacy,
        )
        self._started = time.monotonic()
        self.ready = asyncio.Event()
        """Set once connected and serving (the demo and the tests wait for it)."""

    # ---- Runtime (what !status reports) -----------------------------------------------------

    def uptime_seconds(self) -> float:
        return time.monotonic() - self._started

    def served_rooms(self) -> list[str]:
        return self.adapter.served_rooms()

    @property
    def cross_signed(self) -> bool:
        return self.adapter.cross_signed

    def scheduled_jobs(self) -> int:
        return self.scheduler.job_count()

    async def model_endpoint(self) -> tuple[str | None, bool]:
        url = self.settings.llm.base_url
        return (url, await model_endpoint_reachable(url)) if url else (None, False)

    # ---- Notifier (what services post on their own: reminders) --------------------------------

    async def notify(
        self,
        room_id: str,
        markdown: Markdown,
        *,
        mentions: Sequence[str] = (),
        room_mention: bool = False,
        transaction_id: str | None = None,
    ) -> str:
        # m.text, not m.notice: push rules silence notices, and a reminder must ring. Few attempts:
        # the reminders service retries itself, so that a retry after an outage says it is late.
        return await self.adapter.send_message(
            room_id,
            markdown,
            mentions=mentions,
            room_mention=room_mention,
            msgtype="m.text",
            transaction_id=transaction_id,
            attempts=2,
        )

    # ---- PollOutbox and Roster (what the polls service posts and asks) --------------------------

    async def start_poll(
        self,
        room_id: str,
        question: str,
        answers: Sequence[tuple[str, str]],
        *,
        anonymous: bool,
        fallback: str,
    ) -> str:
        content = poll_start_content(question, answers, anonymous=anonymous, fallback=fallback)
        return await self.adapter.send_event(room_id, POLL_START, content)

    async def end_poll(self, room_id: str, start_event_id: str, text: str) -> str:
        return await self.adapter.send_event(room_id, POLL_END, poll_end_content(start_event_id, text))

    async def notice(self, room_id: str, markdown: Markdown, *, mentions: Sequence[str] = ()) -> str:
        return await self.adapter.send_message(room_id, markdown, mentions=mentions)

    async def edit(self, room_id: str, event_id: str, markdown: Markdown) -> None:
        await self.adapter.edit_message(room_id, event_id, markdown)

    async def upload(self, room_id: str, filename: str, data: bytes, mimetype: str) -> str:
        return await self.adapter.send_file(room_id, filename, data, mimetype)

    def members(self, room_id: str) -> list[str]:
        return [user for user in self.adapter.members(room_id) if user != self.adapter.user_id]

    def display_name(self, room_id: str, user_id: str) -> str:
        return self.adapter.display_name(room_id, user_id)

    def purge_old_data(self) -> None:
        """Retention: at start and daily, what is older than ``[privacy] retention`` goes."""
        counts = self.privacy.purge()
        counts["handled_events"] = EventLedger(self.db).prune()
        if any(counts.values()):
            log.info("retention purge: %s", counts)

    def send_privately(self, user_id: str, filename: str, data: bytes, mimetype: str) -> None:
        """Send a file to ``user_id`` alone, in a direct encrypted room, without holding up the sync."""
        self._in_background(self._send_privately(user_id, filename, data, mimetype))

    async def on_hint(self, hint: PrivateHint) -> bool:
        """Tell a member about their device in the direct room, beside the sync (it waits for one).

        A refused device is hinted at only for a command: chatting from it earns no direct message."""
        if hint.kind == "unsigned_device" and not self.dispatcher.is_command(strip_reply_fallback(hint.body)):
            return False
        lang = self.rooms.language(hint.room_id)
        text = t(lang, f"trust.{hint.kind}", device=code(hint.device_id or "?"))
        self._in_background(self._send_note_privately(hint.user_id, text))
        return True

    async def _send_note_privately(self, user_id: str, text: Markdown) -> None:
        try:
            room_id = await self.adapter.direct_room(user_id)
            await self.adapter.send_message(room_id, text, mentions=[user_id])
        except Exception:
            log.exception("could not send a private note to %s", user_id)

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _send_privately(self, user_id: str, filename: str, data: bytes, mimetype: str) -> None:
        try:
            room_id = await self.adapter.direct_room(user_id)
            lang = self.settings.bot.language
            await self.adapter.send_message(room_id, t(lang, "privacy.private_note"))
            await self.adapter.send_file(room_id, filename, data, mimetype)
        except Exception:
            log.exception("could not send %s to %s", filename, user_id)

    # ---- roles -------------------------------------------------------------------------------

    def is_chair(self, room_id: str, user_id: str) -> bool:
        """Listed in bot.chairs, or holding the chair power level in that room right now."""
        if user_id in self.settings.bot.chairs:
            return True
        return self.adapter.power_level(room_id, user_id) >= self.settings.bot.chair_power_level

    # ---- events ------------------------------------------------------------------------------

    async def on_event(self, event: IncomingEvent) -> None:
        room_id, sender = event.room_id, event.sender
        if not self.adapter.is_served(room_id) or not self.adapter.is_member(room_id, sender):
            return
        response = poll_response(event)
        if response is not None:
            start_event_id, answers = response
            self.polls.vote_native(room_id, sender, start_event_id, answers, event.timestamp_ms / 1000)
            return
        if event.type != "m.room.message" or event.msgtype != "m.text" or event.is_edit:
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
        lang = self.rooms.language(room_id)

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
            answer_sink=ThreadAnswer(self, room_id, event_id, thread_root or event_id, lang)
            if self.llm.enabled
            else None,
        )
        if verdict == "warn":
            await ctx.say("flood.slow_down", seconds=int(self.flood.window_s))
            return
        await self.dispatcher.dispatch(ctx)
        self.metrics.observe(
            ctx.command.display("de") if ctx.command else "unbekannt", time.monotonic() - ctx.received_at
        )

    # ---- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        llm = self.settings.llm
        if llm.base_url is not None:
            # Before anything else: a bot that would send prompts off the premises must not start.
            await asyncio.to_thread(check_on_premises, llm.base_url, llm.allowed_hosts, llm.allow_external)
        if self.settings.matrix.encryption and self.settings.matrix.pickle_key is None:
            log.warning("matrix.pickle_key is not set: the E2EE store is protected by a fixed default only")
        self.purge_old_data()
        self.scheduler.every("privacy:purge", 24 * 3600, self.purge_old_data)
        if self.settings.metrics.port is not None:
            self.metrics.serve(self.settings.metrics.port, self.settings.metrics.host)
        await self.adapter.connect()
        self.scheduler.start()
        self.ready.set()
        log.info(
            "akbot %s serving %d room(s), encryption %s",
            self.version,
            len(self.served_rooms()),
            "on" if self.encryption else "off",
        )

    async def run(self) -> None:
        """Start, sync until stopped, and shut down cleanly; FatalMatrixError propagates."""
        try:
            await self.start()
            await self.adapter.run()
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop the background work first (it would reopen connections), then the connection."""
        self.scheduler.shutdown()
        await self.llm.close()
        await self.polls.shutdown()
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        await self.adapter.close()
        self.db.close()

    def stop(self) -> None:
        self.adapter.stop()


class ThreadAnswer:
    """A model answer in a thread under the question: "…", then edits as tokens stream in."""

    def __init__(self, app: App, room_id: str, question_id: str, thread_root: str, lang: str) -> None:
        self.app = app
        self.room_id = room_id
        self.question_id = question_id
        self.thread_root = thread_root
        self.lang = lang

    def _label(self) -> tuple[str, str]:
        model = self.app.llm.model_for(self.room_id) or "?"
        return render(Markdown(f"*{t(self.lang, 'llm.label', model=model)}*"))

    def _compose(self, answer: str, *, final: bool) -> tuple[str, str]:
        # The model's text is untrusted: rendered, then sanitised; it never mentions anyone.
        body, html = render_untrusted(answer or "…")
        if not final:
            return body + " …", html + "<p>…</p>"
        label_body, label_html = self._label()
        return f"{body}\n\n{label_body}", f"{html}\n{label_html}"

    async def start(self, position: int) -> str:
        text = t(self.lang, "llm.queued", position=position) if position else Markdown("…")
        body, html = render(text)
        content = html_content(body, html, thread_root=self.thread_root, reply_to=self.question_id)
        return await self.app.adapter.send_event(self.room_id, "m.room.message", content)

    async def update(self, event_id: str, answer: str, *, final: bool) -> None:
        body, html = self._compose(answer, final=final)
        await self.app.adapter.send_event(
            self.room_id, "m.room.message", edit_html_content(event_id, body, html)
        )

    async def follow_up(self, answer: str) -> str:
        body, html = self._compose(answer, final=False)
        content = html_content(body, html, thread_root=self.thread_root, reply_to=self.question_id)
        return await self.app.adapter.send_event(self.room_id, "m.room.message", content)

    async def fail(self, event_id: str, key: str) -> None:
        body, html = render(t(self.lang, key))
        await self.app.adapter.send_event(
            self.room_id, "m.room.message", edit_html_content(event_id, body, html)
        )

    async def typing(self, active: bool) -> None:
        await self.app.adapter.typing(self.room_id, active)


def log_tasks() -> None:
    """For an operator (and a test) asking a bot that does not stop why: where every task waits."""
    for task in asyncio.all_tasks():
        stack = io.StringIO()
        task.print_stack(limit=12, file=stack)
        log.warning("task %s:\n%s", task.get_name(), stack.getvalue().rstrip())


async def run_until_signalled(app: App) -> None:
    import signal

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, app.stop)
    loop.add_signal_handler(signal.SIGUSR1, log_tasks)
    await app.run()
