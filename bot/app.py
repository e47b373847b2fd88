"""Wiring: settings → database, services, router, scheduler, Matrix adapter, inbox and outbox.

Every collaborator is handed over at construction, so a missing one fails here, not at run time.
No singletons."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence

from bot.inbox import Inbox
from bot.matrix import MatrixAdapter
from bot.metrics import Metrics
from bot.outbox import (
    BotRuntime,
    DirectMessages,
    MatrixMessages,
    MatrixPolls,
    PollPoster,
    RoomNotifier,
    RoomRoster,
)
from bot.router import Dispatcher, Router
from bot.scheduler import Scheduler
from bot.services import Services
from bot.services.agenda import AgendaService
from bot.services.audit import AuditLog
from bot.services.knowledge import KnowledgeService
from bot.services.llm import LlmClient, LlmService, check_on_premises
from bot.services.meetings import MeetingCalendar, MeetingService
from bot.services.members import MemberDirectory
from bot.services.minutes import ActionRegister, MinutesService
from bot.services.polls import PollService
from bot.services.privacy import PrivacyService
from bot.services.pseudonyms import Pseudonyms
from bot.services.reminders import ReminderService
from bot.services.rooms import RoomSettings
from bot.settings import Settings
from bot.storage import EventLedger, open_db
from bot.views import meetings as meeting_views
from bot.views import minutes as minutes_views
from commands import (
    admin,
    agenda,
    ask,
    help,
    knowledge,
    meetings,
    members,
    minutes,
    polls,
    privacy,
    reminders,
)

log = logging.getLogger(__name__)

ROUTERS: tuple[Router, ...] = (
    help.router,
    polls.router,
    meetings.router,
    agenda.router,
    minutes.router,
    reminders.router,
    members.router,
    ask.router,
    knowledge.router,
    privacy.router,
    admin.router,
)


class App:
    """The running bot: one per process, built from settings."""

    def __init__(self, settings: Settings, routers: Sequence[Router] = ROUTERS) -> None:
        self.settings = settings
        tz = settings.bot.tz
        self.db = open_db(settings.bot.data_dir)
        self.rooms = RoomSettings(self.db, settings.bot.language)
        self.scheduler = Scheduler(tz)
        # The adapter hands events to the inbox, which answers through the adapter: the inbox is
        # built last, and the adapter reaches it through these lambdas (no event comes before start).
        self.adapter = MatrixAdapter(
            settings.matrix,
            settings.bot.data_dir,
            self.db,
            self.rooms,
            lambda event: self.inbox.on_event(event),  # noqa: PLW0108 — self.inbox comes later
            on_hint=lambda hint: self.inbox.on_hint(hint),  # noqa: PLW0108
        )
        self.dispatcher = Dispatcher(routers, settings.bot.prefix)
        roster = RoomRoster(self.adapter)
        self.direct = DirectMessages(self.adapter, settings.bot.language)

        self.notifier = RoomNotifier(
            MatrixMessages(self.adapter),
            self.rooms.language,
            self.adapter.display_name,
            {
                **meeting_views.reminder_wording(self.dispatcher.spell),
                "action": minutes_views.action_reminder,
            },
        )
        self.reminders = ReminderService(
            self.db,
            tz,
            self.scheduler,
            self.notifier,
            late_grace=settings.reminders.grace,
            room_per_member=settings.reminders.room_per_member,
            zone=self.rooms.timezone,
        )
        self.audit = AuditLog(self.db, tz)
        pseudonyms = Pseudonyms(self.db)
        self.members = MemberDirectory(
            self.db,
            groups=settings.groups.names,
            organisations=settings.agenda.organisations,
            roster=roster,
            audit=self.audit,
        )
        self.agenda = AgendaService(
            self.db,
            tz,
            MeetingCalendar(self.db, tz),
            organisations=settings.agenda.organisations,
            fixed_items=settings.agenda.fixed_items,
            submission_deadline=settings.agenda.duration("submission_deadline"),
            deadline_reminder=settings.agenda.duration("deadline_reminder"),
            publish_before=settings.agenda.duration("publish_before"),
            audit=self.audit,
            actions=ActionRegister(self.db, tz),  # open action items stand on the next agenda
            members=self.members,
        )
        # The agenda follows every meeting: planned, worded and handed over with it.
        self.meetings = MeetingService(
            self.db,
            tz,
            self.reminders,
            self.agenda,
            offsets=settings.reminders.offsets,
            duration=settings.meetings.length,
            audit=self.audit,
        )
        self.minutes = MinutesService(
            self.db,
            tz,
            self.meetings,
            self.agenda,
            self.reminders,
            organisations=settings.agenda.organisations,
            audit=self.audit,
            members=self.members,
        )
        self.polls = PollService(
            self.db,
            tz,
            self.meetings,
            self.scheduler,
            outbox=PollPoster(MatrixPolls(self.adapter), self.rooms.language, self.dispatcher.spell),
            roster=roster,
            audit=self.audit,
            pseudonyms=pseudonyms,
            groups=self.members,
            nudge_before=settings.polls.nudge,
        )
        model_client = LlmClient(settings.llm) if settings.llm.base_url else None
        self.knowledge = KnowledgeService(
            self.db,
            tz,
            audit=self.audit,
            embedder=model_client,  # vectors from the same on-premises endpoint, when configured
            embedding_model=settings.llm.embedding_model,
        )
        self.llm = LlmService(
            self.db,
            settings.llm,
            model_client,
            audit=self.audit,
            now=self.reminders.now,
            record=self.knowledge,  # what !frage answers from
        )
        self.privacy = PrivacyService(
            self.db,
            tz,
            settings.privacy.period,
            audit=self.audit,
            pseudonyms=pseudonyms,
            also_forgetting=[self.llm],  # the model's memory of recent threads
        )
        self.runtime = BotRuntime(
            self.adapter,
            self.scheduler,
            roster,
            self.direct,
            model_url=settings.llm.base_url,
            model_reachable=self.llm.reachable,
        )
        self.services = Services(
            rooms=self.rooms,
            runtime=self.runtime,
            reminders=self.reminders,
            meetings=self.meetings,
            polls=self.polls,
            members=self.members,
            agenda=self.agenda,
            minutes=self.minutes,
            knowledge=self.knowledge,
            llm=self.llm,
            audit=self.audit,
            privacy=self.privacy,
        )
        self.metrics = Metrics(self.scheduler.job_count, lambda: self.llm.gate.waiting)
        self.inbox = Inbox(
            self.adapter,
            self.dispatcher,
            self.services,
            direct=self.direct,
            metrics=self.metrics,
            settings=settings.bot,
        )
        self.ready = asyncio.Event()
        """Set once connected and serving (the demo and the tests wait for it)."""

    # ---- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        llm = self.settings.llm
        if llm.base_url is not None:
            # Before anything else: a bot that would send prompts off the premises must not start.
            pinned = await asyncio.to_thread(
                check_on_premises, llm.base_url, llm.allowed_hosts, llm.allow_external
            )
            await self.llm.pin(pinned)  # the addresses checked are the only ones used
        if self.settings.matrix.encryption and self.settings.matrix.pickle_key is None:
            log.warning("matrix.pickle_key is not set: the E2EE store is protected by a fixed default only")
        await self._purge_old_data()
        self.scheduler.every("privacy:purge", 24 * 3600, self._purge_old_data)
        if self.knowledge.hybrid:
            self.scheduler.every("knowledge:vectors", 60, self._refresh_vectors)
        if self.settings.metrics.port is not None:
            self.metrics.serve(self.settings.metrics.port, self.settings.metrics.host)
        await self.adapter.connect()
        self.scheduler.start()
        self.ready.set()
        log.info(
            "akbot %s serving %d room(s), encryption %s",
            self.runtime.version,
            len(self.adapter.served_rooms()),
            "on" if self.runtime.encryption else "off",
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
        await self.direct.close()
        await self.adapter.close()
        self.db.close()

    def stop(self) -> None:
        self.adapter.stop()

    async def _refresh_vectors(self) -> None:
        try:
            made = await self.knowledge.refresh_vectors()
        except Exception:  # the model server is away: the next round tries again
            log.warning("passage vectors could not be made", exc_info=True)
            return
        if made:
            log.info("vectors made for %d passages", made)

    async def _purge_old_data(self) -> None:
        """Retention: at start and daily, what is older than ``[privacy] retention`` goes — in short
        steps, between which the sync and the commands run."""
        counts: dict[str, int] = {}
        for _ in self.privacy.purge_steps(counts):
            await asyncio.sleep(0)
        counts["handled_events"] = EventLedger(self.db).prune()
        if any(counts.values()):
            log.info("retention purge: %s", counts)


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
