"""Services: the bot's capabilities, independent of Matrix and of the command syntax."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.services.agenda import AgendaService
from bot.services.audit import AuditLog
from bot.services.knowledge import KnowledgeService
from bot.services.llm import LlmService
from bot.services.meetings import MeetingService
from bot.services.members import MemberDirectory
from bot.services.minutes import MinutesService
from bot.services.polls import PollService
from bot.services.privacy import PrivacyService
from bot.services.reminders import ReminderService
from bot.services.rooms import RoomSettings


class Runtime(Protocol):
    """What ``!status`` reports about the running bot, and what commands need of it (``bot/outbox.py``)."""

    version: str
    encryption: bool

    @property
    def cross_signed(self) -> bool:
        """Is the bot's device cross-signed by its own identity (what Element requires)?"""

    def uptime_seconds(self) -> float: ...

    def served_rooms(self) -> list[str]: ...

    def scheduled_jobs(self) -> int: ...

    async def model_endpoint(self) -> tuple[str | None, bool]: ...

    def display_name(self, room_id: str, user_id: str) -> str: ...

    def send_privately(self, user_id: str, filename: str, data: bytes, mimetype: str) -> None: ...

    async def thread_texts(self, room_id: str, root: str) -> list[tuple[str, str]]:
        """(name, text) of a thread's messages, read back from the homeserver (for a summary)."""
        ...

    def tell_privately(self, user_id: str, markdown: str) -> None:
        """A message to ``user_id`` alone (their encrypted direct room), for what is not the room's."""


@dataclass(frozen=True)
class StatusReport:
    """What ``!status`` shows."""

    version: str
    uptime_seconds: float
    encryption: bool
    cross_signed: bool
    rooms: int
    jobs: int
    model_url: str | None
    model_reachable: bool
    questions: tuple[int, int] | None
    """(questions, tokens) of the last 24 hours, when the model is configured."""


async def status_report(services: Services) -> StatusReport:
    runtime = services.runtime
    url, reachable = await runtime.model_endpoint()
    return StatusReport(
        version=runtime.version,
        uptime_seconds=runtime.uptime_seconds(),
        encryption=runtime.encryption,
        cross_signed=runtime.cross_signed,
        rooms=len(runtime.served_rooms()),
        jobs=runtime.scheduled_jobs(),
        model_url=url,
        model_reachable=reachable,
        questions=services.llm.stats() if services.llm.enabled else None,
    )


@dataclass
class Services:
    rooms: RoomSettings
    runtime: Runtime
    reminders: ReminderService
    meetings: MeetingService
    polls: PollService
    members: MemberDirectory
    agenda: AgendaService
    minutes: MinutesService
    knowledge: KnowledgeService
    llm: LlmService
    audit: AuditLog
    privacy: PrivacyService
