"""What the bot sends on its own, on top of the Matrix adapter: the ports the services post through
(``Notifier``, ``PollOutbox``, ``Roster``, ``Runtime``), direct messages, a model answer in a thread.

A port words the service's data with its view in the room's language, then posts it through a
channel; the channels are the only part that knows the adapter (tests record at the channel)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from bot import __version__
from bot.i18n import t
from bot.matrix import (
    POLL_END,
    POLL_START,
    MatrixAdapter,
    edit_html_content,
    html_content,
    poll_end_content,
    poll_start_content,
)
from bot.render import Markdown, render, render_untrusted
from bot.scheduler import Scheduler
from bot.services.knowledge import Passage
from bot.services.llm import LlmService
from bot.services.meetings import ICS_MIMETYPE, Meeting, to_ics
from bot.services.polls import Outcome, Poll, Tally
from bot.services.reminders import DueReminder, Reminder
from bot.views import Spell
from bot.views import ask as ask_views
from bot.views import meetings as meeting_views
from bot.views import polls as poll_views
from bot.views import reminders as reminder_views

log = logging.getLogger(__name__)


class MessageChannel(Protocol):
    """Posts one message into a room (the Matrix side of ``RoomNotifier``)."""

    async def notify(
        self,
        room_id: str,
        markdown: Markdown,
        *,
        mentions: Sequence[str] = (),
        room_mention: bool = False,
        transaction_id: str | None = None,
    ) -> str: ...


class MatrixMessages:
    """``MessageChannel`` on the Matrix adapter."""

    def __init__(self, adapter: MatrixAdapter) -> None:
        self.adapter = adapter

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


class RoomNotifier:
    """``Notifier``: due reminders worded in their room's language and posted."""

    def __init__(
        self,
        channel: MessageChannel,
        language: Callable[[str], str],
        display_name: Callable[[str, str], str],
        wording: Mapping[str, reminder_views.Wording],
    ) -> None:
        """``wording``: how the kinds of reminder that other services attached read (a meeting's
        names the meeting), by kind."""
        self.channel = channel
        self.language = language
        self.display_name = display_name
        self._wording = dict(wording)

    async def remind(self, due: DueReminder, *, transaction_id: str) -> str:
        reminder = due.reminder
        lang = self.language(reminder.room_id)
        name = self.display_name(reminder.room_id, reminder.creator)
        others = {user: self.display_name(reminder.room_id, user) for user in due.subscribers}
        markdown, mentions = reminder_views.due_message(
            due, lang, name=name, wording=self._wording, subscriber_names=others
        )
        return await self.channel.notify(
            reminder.room_id,
            markdown,
            mentions=mentions,
            room_mention=reminder.mention_room,
            transaction_id=transaction_id,
        )

    async def missed(self, room_id: str, reminders: Sequence[Reminder], *, transaction_id: str) -> str:
        markdown = reminder_views.missed_message(reminders, self.language(room_id))
        return await self.channel.notify(room_id, markdown, transaction_id=transaction_id)


class PollChannel(Protocol):
    """What a poll needs posted in a room (the Matrix side of ``PollPoster``)."""

    async def start_poll(
        self,
        room_id: str,
        question: str,
        answers: Sequence[tuple[str, str]],
        *,
        anonymous: bool,
        fallback: str,
    ) -> str: ...

    async def end_poll(self, room_id: str, start_event_id: str, text: str) -> str: ...

    async def notice(self, room_id: str, markdown: Markdown, *, mentions: Sequence[str] = ()) -> str: ...

    async def edit(
        self, room_id: str, event_id: str, markdown: Markdown, *, background: bool = False
    ) -> None:
        """``background``: progress the next edit supersedes; the room's other sends go first."""

    async def upload(self, room_id: str, filename: str, data: bytes, mimetype: str) -> str: ...


class MatrixPolls:
    """``PollChannel`` on the Matrix adapter: native polls (MSC3381), notices, edits, files."""

    def __init__(self, adapter: MatrixAdapter) -> None:
        self.adapter = adapter

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

    async def edit(
        self, room_id: str, event_id: str, markdown: Markdown, *, background: bool = False
    ) -> None:
        await self.adapter.edit_message(room_id, event_id, markdown, background=background)

    async def upload(self, room_id: str, filename: str, data: bytes, mimetype: str) -> str:
        return await self.adapter.send_file(room_id, filename, data, mimetype)


class PollPoster:
    """``PollOutbox``: what the polls service posts on its own, worded in the room's language."""

    def __init__(self, channel: PollChannel, language: Callable[[str], str], spell: Spell) -> None:
        self.channel = channel
        self.language = language
        self.spell = spell

    async def start_poll(self, poll: Poll) -> str:
        lang = self.language(poll.room_id)
        return await self.channel.start_poll(
            poll.room_id,
            poll.question,
            [(option.answer_id, option.label) for option in poll.options],
            anonymous=poll.anonymous,
            fallback=poll_views.fallback_text(poll, lang, self.spell),
        )

    async def post_summary(self, tally: Tally) -> str:
        room_id = tally.poll.room_id
        return await self.channel.notice(
            room_id, poll_views.summary(tally, self.language(room_id), self.spell)
        )

    async def edit_summary(self, tally: Tally) -> None:
        poll = tally.poll
        assert poll.summary_event_id is not None
        summary = poll_views.summary(tally, self.language(poll.room_id), self.spell)
        # The live summary is progress: in a burst of votes, their confirmations go first.
        await self.channel.edit(poll.room_id, poll.summary_event_id, summary, background=True)

    async def nudge(self, tally: Tally) -> None:
        room_id = tally.poll.room_id
        text = poll_views.nudge(tally, self.language(room_id))
        await self.channel.notice(room_id, text, mentions=tally.non_voters)

    async def closed(self, outcome: Outcome) -> None:
        poll = outcome.poll
        lang = self.language(poll.room_id)
        if poll.start_event_id:
            ending = poll_views.plain(poll_views.result_line(poll, outcome.winner, lang))
            await self.channel.end_poll(poll.room_id, poll.start_event_id, ending)
        await self.channel.notice(poll.room_id, poll_views.result(outcome, lang))

    async def tie_at_deadline(self, tally: Tally) -> None:
        poll = tally.poll
        text = poll_views.tie_at_deadline(tally, self.language(poll.room_id), self.spell)
        await self.channel.notice(poll.room_id, text, mentions=[poll.created_by])

    async def everyone_voted(self, tally: Tally) -> None:
        poll = tally.poll
        text = poll_views.everyone_voted(tally, self.language(poll.room_id), self.spell)
        await self.channel.notice(poll.room_id, text, mentions=[poll.created_by])

    async def withdrawn(self, poll: Poll) -> None:
        assert poll.start_event_id is not None
        ending = poll_views.withdrawn_end(self.language(poll.room_id))
        await self.channel.end_poll(poll.room_id, poll.start_event_id, ending)

    async def meeting_chosen(self, meeting: Meeting, reminder_times: Sequence[datetime]) -> None:
        lang = self.language(meeting.room_id)
        await self.channel.notice(
            meeting.room_id, meeting_views.announcement(meeting, "meeting.created", lang, reminder_times)
        )
        await self.channel.upload(
            meeting.room_id, meeting_views.ics_filename(meeting, lang), to_ics(meeting), ICS_MIMETYPE
        )


class RoomRoster:
    """``Roster``: who is in a room besides the bot, and how they are called."""

    def __init__(self, adapter: MatrixAdapter) -> None:
        self.adapter = adapter

    def members(self, room_id: str) -> list[str]:
        return [user for user in self.adapter.members(room_id) if user != self.adapter.user_id]

    def display_name(self, room_id: str, user_id: str) -> str:
        return self.adapter.display_name(room_id, user_id)


class DirectMessages:
    """Messages to one member alone, in a direct encrypted room, sent in the background: creating
    that room must not hold up the sync (or the command) that asked for it."""

    def __init__(self, adapter: MatrixAdapter, language: str) -> None:
        self.adapter = adapter
        self.language = language
        self._background: set[asyncio.Task[None]] = set()

    def send_file(self, user_id: str, filename: str, data: bytes, mimetype: str) -> None:
        self._in_background(self._send_file(user_id, filename, data, mimetype))

    def send_note(self, user_id: str, text: Markdown) -> None:
        self._in_background(self._send_note(user_id, text))

    async def sent(self) -> None:
        """Until what was handed over so far has been sent (or has failed)."""
        await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    async def _send_file(self, user_id: str, filename: str, data: bytes, mimetype: str) -> None:
        try:
            room_id = await self.adapter.direct_room(user_id)
            await self.adapter.send_message(room_id, t(self.language, "privacy.private_note"))
            await self.adapter.send_file(room_id, filename, data, mimetype)
        except Exception:
            log.exception("could not send %s to %s", filename, user_id)

    async def _send_note(self, user_id: str, text: Markdown) -> None:
        try:
            room_id = await self.adapter.direct_room(user_id)
            await self.adapter.send_message(room_id, text, mentions=[user_id])
        except Exception:
            log.exception("could not send a private note to %s", user_id)

    def _in_background(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


class BotRuntime:
    """``Runtime``: what ``!status`` reports, and what commands need of the running bot."""

    def __init__(
        self,
        adapter: MatrixAdapter,
        scheduler: Scheduler,
        roster: RoomRoster,
        direct: DirectMessages,
        *,
        model_url: str | None,
        model_reachable: Callable[[], Awaitable[bool]],
    ) -> None:
        """``model_reachable``: asks the endpoint through the addresses pinned at start."""
        self.version = __version__
        self.encryption = adapter.encryption
        self._adapter = adapter
        self._scheduler = scheduler
        self._roster = roster
        self._direct = direct
        self._model_url = model_url
        self._model_reachable = model_reachable
        self._started = time.monotonic()

    def uptime_seconds(self) -> float:
        return time.monotonic() - self._started

    def served_rooms(self) -> list[str]:
        return self._adapter.served_rooms()

    @property
    def cross_signed(self) -> bool:
        return self._adapter.cross_signed

    def scheduled_jobs(self) -> int:
        return self._scheduler.job_count()

    async def model_endpoint(self) -> tuple[str | None, bool]:
        url = self._model_url
        return (url, await self._model_reachable()) if url else (None, False)

    def display_name(self, room_id: str, user_id: str) -> str:
        return self._roster.display_name(room_id, user_id)

    async def thread_texts(self, room_id: str, root: str) -> list[tuple[str, str]]:
        return await self._adapter.thread_texts(room_id, root)

    def send_privately(self, user_id: str, filename: str, data: bytes, mimetype: str) -> None:
        """Send a file to ``user_id`` alone, in a direct encrypted room, without holding up the sync."""
        self._direct.send_file(user_id, filename, data, mimetype)

    def tell_privately(self, user_id: str, markdown: str) -> None:
        self._direct.send_note(user_id, Markdown(markdown))


class ThreadAnswer:
    """A model answer in a thread under the question: "…", then edits as tokens stream in."""

    def __init__(
        self,
        adapter: MatrixAdapter,
        llm: LlmService,
        room_id: str,
        question_id: str,
        *,
        thread_root: str,
        lang: str,
    ) -> None:
        self.adapter = adapter
        self.llm = llm
        self.room_id = room_id
        self.question_id = question_id
        self.thread_root = thread_root
        self.lang = lang

    def _label(self) -> tuple[str, str]:
        model = self.llm.model_for(self.room_id) or "?"
        return render(Markdown(f"*{t(self.lang, 'llm.label', model=model)}*"))

    def _compose(
        self, answer: str, *, final: bool, sources: Sequence[Passage] = (), general: bool = False
    ) -> tuple[str, str]:
        # The model's text is untrusted: rendered, then sanitised; it never mentions anyone.
        body, html = render_untrusted(answer or "…")
        if not final:
            return body + " …", html + "<p>…</p>"
        label_body, label_html = self._label()
        if sources:  # named by the bot, from what it gave the model: not the model's to invent
            named_body, named_html = render(ask_views.sources(sources, self.room_id, self.lang))
            label_body, label_html = f"{named_body}\n{label_body}", f"{named_html}\n{label_html}"
        elif general:  # the record held nothing: the bot says so, the model answered from itself
            note_body, note_html = render(t(self.lang, "llm.general_fallback"))
            label_body, label_html = f"{note_body}\n{label_body}", f"{note_html}\n{label_html}"
        return f"{body}\n\n{label_body}", f"{html}\n{label_html}"

    async def start(self, position: int) -> str:
        text = t(self.lang, "llm.queued", position=position) if position else Markdown("…")
        body, html = render(text)
        content = html_content(body, html, thread_root=self.thread_root, reply_to=self.question_id)
        return await self.adapter.send_event(self.room_id, "m.room.message", content)

    async def update(
        self,
        event_id: str,
        answer: str,
        *,
        final: bool,
        sources: Sequence[Passage] = (),
        general: bool = False,
    ) -> None:
        body, html = self._compose(answer, final=final, sources=sources, general=general)
        # An interim edit gives way to the room's replies; the final one is what the member waits for.
        content = edit_html_content(event_id, body, html)
        await self.adapter.send_event(self.room_id, "m.room.message", content, background=not final)

    async def follow_up(self, answer: str) -> str:
        body, html = self._compose(answer, final=False)
        content = html_content(body, html, thread_root=self.thread_root, reply_to=self.question_id)
        return await self.adapter.send_event(self.room_id, "m.room.message", content)

    async def fail(self, event_id: str, key: str) -> None:
        body, html = render(t(self.lang, key))
        await self.adapter.send_event(self.room_id, "m.room.message", edit_html_content(event_id, body, html))

    async def typing(self, active: bool) -> None:
        await self.adapter.typing(self.room_id, active)
