"""Date polls: options, votes from two channels (text and native polls), tally, deadline, close.

Votes: *yes* or *maybe* ("if need be") per option; a member's latest vote — by its own timestamp,
from either channel — replaces the earlier one. A native response naming an answer the poll does
not have is *spoiled*: it still replaces the earlier vote, but counts for nothing (as MSC3381 says).
Votes cast after the close are ignored.

The service returns dataclasses and hands what it posts on its own to the ``PollOutbox`` as data;
``bot/views/polls.py`` words both in the room's language.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.errors import UserError
from bot.scheduler import Scheduler
from bot.services.audit import Action, AuditLog
from bot.services.meetings import Meeting, MeetingService
from bot.services.members import GroupCount, GroupLookup, Roster, count_by_group
from bot.services.pseudonyms import Pseudonyms
from bot.timeparse import TimeParseError, When, format_datetime, parse_when

log = logging.getLogger(__name__)


class Answer(StrEnum):
    """A member's answer for one option (stored in ``votes.choices``)."""

    YES = "yes"
    MAYBE = "maybe"  # "if need be"


class State(StrEnum):
    """``polls.state``."""

    OPEN = "open"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


YES, MAYBE = Answer.YES, Answer.MAYBE
OPEN, CLOSED, WITHDRAWN = State.OPEN, State.CLOSED, State.WITHDRAWN
_NOT_A_DATE = frozenset({"unknown", "empty", "too_long"})
"""Why ``parse_when`` gave up on an option that is simply text."""
MIN_OPTIONS = 2
MAX_OPTIONS = 20
SUMMARY_EDIT_INTERVAL_S = 2.0


@dataclass(frozen=True)
class Option:
    position: int
    label: str
    """As the native poll shows it: a date in the creator's language ("Di., 16.06.2026, 10:00 Uhr"),
    else the text as typed. Sent once with the poll's start event, so it is stored, not re-rendered."""
    at: datetime | None
    dropped: bool = False
    """Struck off by the chair (``!umfrage streichen``): no longer counted nor votable."""

    @property
    def answer_id(self) -> str:
        return str(self.position)


@dataclass(frozen=True)
class Poll:
    id: int
    room_id: str
    question: str
    options: tuple[Option, ...]
    anonymous: bool
    deadline: datetime | None
    state: State
    start_event_id: str | None
    summary_event_id: str | None
    created_by: str
    created_at: datetime
    winner: int | None
    meeting_id: int | None
    nudged: bool
    all_voted_told: bool = False

    def option(self, position: int) -> Option:
        for option in self.options:
            if option.position == position:
                return option
        raise UserError("poll.no_such_option", poll=self.id, number=position, count=len(self.options))


@dataclass(frozen=True)
class Vote:
    voter: str
    choices: dict[int, Answer]  # position → answer; {} means none fits
    spoiled: bool
    channel: str
    cast_ts: float


@dataclass
class OptionTally:
    option: Option
    yes: list[str] = field(default_factory=list)
    maybe: list[str] = field(default_factory=list)


@dataclass
class Tally:
    poll: Poll
    options: list[OptionTally]  # in ranking order: most yes, then most maybe, then position
    voters: list[str]
    non_voters: list[str]
    names: Mapping[str, str] = field(default_factory=dict)
    """Display names in the poll's room of the voters and the members who have not voted."""
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The stakeholder groups of the voters and of the members who have not voted."""
    group_order: tuple[str, ...] = ()
    dropped: list[Option] = field(default_factory=list)
    """Options struck off: not in ``options``."""

    @property
    def top(self) -> OptionTally | None:
        best = self.options[0] if self.options else None
        return best if best is not None and (best.yes or best.maybe) else None

    def name(self, user: str) -> str:
        return self.names.get(user, user)

    def tied(self) -> list[Option]:
        """The options that share the lead (as many yes and if-need-be votes), when there are several."""
        top = self.top
        if top is None:
            return []
        lead = (len(top.yes), len(top.maybe))
        tied = [entry.option for entry in self.options if (len(entry.yes), len(entry.maybe)) == lead]
        return sorted(tied, key=lambda option: option.position) if len(tied) > 1 else []

    def by_group(self) -> list[GroupCount]:
        """Per stakeholder group: of its members, how many voted (empty when nobody named a group)."""
        return count_by_group(
            self.group_order, self.groups, [*self.voters, *self.non_voters], set(self.voters)
        )

    def unheard(self) -> list[str]:
        """Groups with members of whom none has voted yet."""
        return [c.group for c in self.by_group() if c.group is not None and c.total and not c.done]

    def left_out(self, entry: OptionTally) -> list[str]:
        """Groups that have voted, but of whom nobody can come on this option: choosing it would
        leave the whole group out. Not for an anonymous poll: a small group's choice would show."""
        if self.poll.anonymous:
            return []
        able = {*entry.yes, *entry.maybe}
        groups = []
        for group in self.group_order:
            voted = [voter for voter in self.voters if group in self.groups.get(voter, ())]
            if voted and not able.intersection(voted):
                groups.append(group)
        return groups

    def only_no(self) -> list[Option]:
        """Options nobody who voted can make (only "no"): the chair may strike them off."""
        if not self.voters:
            return []
        found = [entry.option for entry in self.options if not entry.yes and not entry.maybe]
        return sorted(found, key=lambda option: option.position)

    @property
    def everyone_voted(self) -> bool:
        return bool(self.voters) and not self.non_voters


@dataclass(frozen=True)
class Listed:
    """An open poll in ``!umfragen``, with how many votes it has."""

    poll: Poll
    votes: int


@dataclass(frozen=True)
class Outcome:
    """A poll just closed: as it is now, its tally at the close, and the chosen option."""

    poll: Poll
    tally: Tally
    winner: Option | None


class PollOutbox(Protocol):
    """What the polls service posts on its own, as data; ``bot/outbox.py`` renders it in the room's
    language and sends it."""

    async def start_poll(self, poll: Poll) -> str:
        """The native poll (with a text fallback); returns its event id."""
        ...

    async def post_summary(self, tally: Tally) -> str:
        """The poll's live summary message; returns its event id."""
        ...

    async def edit_summary(self, tally: Tally) -> None:
        """The summary (``tally.poll.summary_event_id``) brought up to date."""
        ...

    async def nudge(self, tally: Tally) -> None:
        """One message mentioning ``tally.non_voters``."""
        ...

    async def closed(self, outcome: Outcome) -> None:
        """The native poll ended, and the result posted."""
        ...

    async def tie_at_deadline(self, tally: Tally) -> None:
        """The deadline came with a tie (``tally.tied()``): the poll's creator is asked to decide."""
        ...

    async def everyone_voted(self, tally: Tally) -> None:
        """All members have voted: the poll's creator is told (once), with the dates nobody can make."""
        ...

    async def withdrawn(self, poll: Poll) -> None:
        """The native poll ended as withdrawn."""
        ...

    async def meeting_chosen(self, meeting: Meeting, reminder_times: Sequence[datetime]) -> None:
        """The meeting the winning date became: its announcement and calendar file."""
        ...


def count(poll: Poll, votes: Sequence[Vote], members: Sequence[str]) -> Tally:
    """The tally of the valid votes; pure, so the rules can be tested without a database."""
    per_option = {option.position: OptionTally(option) for option in poll.options if not option.dropped}
    for vote in votes:
        if vote.spoiled:
            continue
        for position, answer in vote.choices.items():
            if position in per_option:
                (per_option[position].yes if answer == YES else per_option[position].maybe).append(vote.voter)
    ranked = sorted(per_option.values(), key=lambda o: (-len(o.yes), -len(o.maybe), o.option.position))
    voters = sorted(vote.voter for vote in votes if not vote.spoiled)  # a spoiled vote is no vote
    non_voters = sorted(set(members) - set(voters))
    dropped = [option for option in poll.options if option.dropped]
    return Tally(poll, ranked, voters, non_voters, dropped=dropped)


def parse_selection(text: str, option_count: int, dropped: Collection[int] = ()) -> dict[int, Answer]:
    """ "1 3 4?" → {1: yes, 3: yes, 4: maybe}; "keine" → {} (none fits)."""
    cleaned = text.strip().casefold()
    if cleaned in ("keine", "keins", "none", "0", "-"):
        return {}
    choices: dict[int, Answer] = {}
    for token in re.split(r"[\s,;]+", cleaned):
        if not token:
            continue
        match = re.fullmatch(r"#?(\d{1,3})(\?)?", token)
        if match is None:
            raise UserError("poll.bad_selection", token=token)
        position = int(match.group(1))
        if not 1 <= position <= option_count:
            raise UserError("poll.option_out_of_range", number=position, count=option_count)
        if position in dropped:
            raise UserError("poll.option_dropped", number=position)
        choices[position] = MAYBE if match.group(2) else YES
    if not choices:
        raise UserError("poll.bad_selection", token=text.strip())
    return choices


class PollService:
    def __init__(
        self,
        db: Database,
        tz: ZoneInfo,
        meetings: MeetingService,
        scheduler: Scheduler,
        *,
        outbox: PollOutbox,
        roster: Roster,
        audit: AuditLog,
        pseudonyms: Pseudonyms,
        groups: GroupLookup,
        nudge_before: timedelta,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._db = db
        self.tz = tz
        self._meetings = meetings
        self.nudge_before = nudge_before
        self._clock = clock or (lambda: datetime.now(tz))
        self._scheduler = scheduler
        self._outbox = outbox
        self._roster = roster
        self._audit = audit
        self._pseudonyms = pseudonyms
        self._groups = groups
        self._last_edit: dict[int, float] = {}
        self._edit_pending: dict[int, asyncio.Task[None]] = {}
        self._dirty: set[int] = set()
        scheduler.on_rebuild(self.rebuild)

    def now(self) -> datetime:
        return self._clock().astimezone(self.tz)

    # ---- creating ------------------------------------------------------------------------------

    def parse_create(self, text: str, lang: str) -> tuple[str, list[Option], datetime | None, bool]:
        """ "Frage; Option 1; Option 2[; frist: <wann>][; anonym]" → its parts (raises UserError)."""
        parts = [part.strip() for part in text.split(";")]
        question, items = parts[0], [part for part in parts[1:] if part]
        if not question:
            raise UserError("poll.need_question")
        deadline: datetime | None = None
        anonymous = False
        labels: list[str] = []
        for item in items:
            lowered = item.casefold()
            if lowered in ("anonym", "anonymous", "geheim"):
                anonymous = True
            elif re.match(r"^(frist|deadline|bis)\s*:", lowered):
                # "frist: 20.01.2027" without a time is the end of that day (and the reading says so).
                when = parse_when(
                    item.split(":", 1)[1], now=self.now(), tz=self.tz, lang=lang, end_of_day=True
                )
                if when.rrule is not None:
                    raise UserError("poll.deadline_series")
                # Deadlines are whole minutes, as shown: "in 3 Minuten" at 10:00:30 ends at 10:04.
                deadline = (
                    when.at
                    if not (when.at.second or when.at.microsecond)
                    else (when.at.replace(second=0, microsecond=0) + timedelta(minutes=1))
                )
            else:
                labels.append(item)
        if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
            raise UserError("poll.option_count", count=len(labels), low=MIN_OPTIONS, high=MAX_OPTIONS)
        options = []
        for position, label in enumerate(labels, start=1):
            at = self._as_date(position, label, lang)
            options.append(Option(position, format_datetime(at, lang) if at else label, at))
        return question, options, deadline, anonymous

    def _as_date(self, position: int, label: str, lang: str) -> datetime | None:
        """The option's date, None for a text option ("lieber im Juli"). An option that reads as a
        date but is no valid future one (32.13., past, no time, Tuesday on a Wednesday) is refused
        with what ``!sitzung`` would say, not silently kept as text."""
        try:
            when = parse_when(label, now=self.now(), tz=self.tz, lang=lang)
        except TimeParseError as error:
            if error.reason in _NOT_A_DATE:
                return None
            raise UserError(
                "poll.option_bad_date", number=position, label=label, problem=error.message
            ) from error
        return when.at if when.rrule is None else None

    async def create(self, room_id: str, by: str, text: str, lang: str) -> Poll:
        """``!umfrage``: the poll stored, its native poll and live summary posted, its deadline planned."""
        question, options, deadline, anonymous = self.parse_create(text, lang)
        with self._db.atomic():
            cursor = self._db.execute(
                "INSERT INTO polls (room_id, question, anonymous, deadline_ts, state, created_by, created_at, nudged)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                [
                    room_id,
                    question,
                    int(anonymous),
                    deadline.timestamp() if deadline else None,
                    OPEN,
                    by,
                    self.now().timestamp(),
                ],
            )
            poll_id = int(cursor.lastrowid or 0)
            for option in options:
                self._db.execute(
                    "INSERT INTO poll_options (poll_id, position, label, at) VALUES (?, ?, ?, ?)",
                    [poll_id, option.position, option.label, option.at.isoformat() if option.at else None],
                )
        poll = self.get(room_id, poll_id)
        start_id = await self._outbox.start_poll(poll)
        summary_id = await self._outbox.post_summary(self.tally(poll))
        with self._db.atomic():
            self._db.execute(
                "UPDATE polls SET start_event_id = ?, summary_event_id = ? WHERE id = ?",
                [start_id, summary_id, poll_id],
            )
        self._last_edit[poll_id] = time.monotonic()
        poll = self.get(room_id, poll_id)
        self._plan(poll)
        self._audit.record(room_id, by, Action.POLL_STARTED, id=poll.id)
        return poll

    # ---- reading -------------------------------------------------------------------------------

    def get(self, room_id: str, poll_id: int) -> Poll:
        rows = list(self._db.query("SELECT * FROM polls WHERE id = ? AND room_id = ?", [poll_id, room_id]))
        if not rows:
            raise UserError("poll.not_found", id=poll_id)
        return self._from_row(rows[0])

    def by_start_event(self, room_id: str, event_id: str) -> Poll | None:
        rows = list(
            self._db.query(
                "SELECT * FROM polls WHERE start_event_id = ? AND room_id = ?", [event_id, room_id]
            )
        )
        return self._from_row(rows[0]) if rows else None

    def open_polls(self, room_id: str) -> list[Poll]:
        rows = self._db.query(
            "SELECT * FROM polls WHERE room_id = ? AND state = ? ORDER BY id DESC", [room_id, OPEN]
        )
        return [self._from_row(row) for row in rows]

    def listing(self, room_id: str) -> list[Listed]:
        """``!umfragen``: the open polls, newest first, each with its number of votes."""
        return [Listed(poll, self._vote_count(poll.id)) for poll in self.open_polls(room_id)]

    def _vote_count(self, poll_id: int) -> int:
        return int(self._db.execute("SELECT count(*) FROM votes WHERE poll_id = ?", [poll_id]).fetchone()[0])

    def newest(self, room_id: str, *, open_only: bool) -> Poll:
        states = [OPEN] if open_only else [OPEN, CLOSED, WITHDRAWN]
        rows = list(
            self._db.query(
                "SELECT * FROM polls WHERE room_id = ? AND state IN (?, ?, ?) ORDER BY id DESC LIMIT 1",
                [room_id, *states, *[states[0]] * (3 - len(states))],
            )
        )
        if not rows:
            raise UserError("poll.none_open" if open_only else "poll.none")
        return self._from_row(rows[0])

    def votes(self, poll_id: int) -> list[Vote]:
        rows = self._db.query("SELECT * FROM votes WHERE poll_id = ? ORDER BY cast_ts", [poll_id])
        return [_vote(row) for row in rows]

    def vote_of(self, poll_id: int, voter: str) -> Vote | None:
        rows = list(self._db.query("SELECT * FROM votes WHERE poll_id = ? AND voter = ?", [poll_id, voter]))
        return _vote(rows[0]) if rows else None

    def tally(self, poll: Poll) -> Tally:
        members = self._roster.members(poll.room_id)
        tally = count(poll, self.votes(poll.id), members)
        # A forgotten member whose vote still counts has voted: the nudge and the list of those
        # missing must not name them.
        forgotten = self._pseudonymous_voters(poll.id)
        if forgotten:
            scope = Pseudonyms.poll_scope(poll.id)
            tally.non_voters = [m for m in tally.non_voters if self._pseudonyms.of(scope, m) not in forgotten]
        # Pseudonyms of forgotten members are no Matrix ids: they are their own names.
        tally.names = {
            user: self._roster.display_name(poll.room_id, user) if user.startswith("@") else user
            for user in (*tally.voters, *tally.non_voters)
        }
        tally.groups = self._groups.groups_of([*tally.voters, *tally.non_voters])
        tally.group_order = self._groups.group_names
        return tally

    def _pseudonymous_voters(self, poll_id: int) -> set[str]:
        rows = self._db.execute(
            "SELECT pseudonym FROM votes WHERE poll_id = ? AND pseudonym IS NOT NULL", [poll_id]
        ).fetchall()
        return {row[0] for row in rows}

    def standing(self, room_id: str, poll_id: int | None) -> Tally:
        """``!umfrage stand``: the tally of the poll named, else of the newest one."""
        poll = self.get(room_id, poll_id) if poll_id is not None else self.newest(room_id, open_only=False)
        return self.tally(poll)

    # ---- voting --------------------------------------------------------------------------------

    def vote(self, room_id: str, voter: str, text: str, cast_ts: float) -> tuple[Poll, Vote]:
        """``!abstimmen [#<poll>] <selection>``: the vote stored; the poll it went to, and the vote."""
        poll_id, selection = self._poll_and_selection(room_id, text)
        return self.vote_text(room_id, voter, poll_id, selection, cast_ts)

    def _poll_and_selection(self, room_id: str, text: str) -> tuple[int | None, str]:
        """Which poll: "#7 1 3?" always names poll 7; a bare leading "7" does only while several polls
        are open and 7 is one of them — with a single open poll, "1 3?" are simply the options."""
        words = text.split(maxsplit=1)
        if len(words) == 2 and (match := re.fullmatch(r"#?(\d{1,9})", words[0])):
            number = int(match.group(1))
            open_ids = [p.id for p in self.open_polls(room_id)]
            if words[0].startswith("#") or (len(open_ids) > 1 and number in open_ids):
                return number, words[1]
        if not text.strip():
            raise UserError("poll.bad_selection", token="")
        return None, text

    def vote_text(
        self, room_id: str, voter: str, poll_id: int | None, selection: str, cast_ts: float
    ) -> tuple[Poll, Vote]:
        poll = self.get(room_id, poll_id) if poll_id is not None else self.newest(room_id, open_only=True)
        if poll.state != OPEN:
            raise UserError("poll.closed", id=poll.id)
        dropped = [option.position for option in poll.options if option.dropped]
        choices = parse_selection(selection, len(poll.options), dropped)
        self._store_vote(poll, voter, choices, spoiled=False, channel="text", cast_ts=cast_ts, event_id=None)
        vote = self.vote_of(poll.id, voter)
        assert vote is not None
        return poll, vote

    def vote_native(
        self, room_id: str, voter: str, start_event_id: str, answers: Sequence[str], cast_ts: float
    ) -> Poll | None:
        """A poll response event; None when it is not for one of our polls (or too late)."""
        poll = self.by_start_event(room_id, start_event_id)
        if poll is None:
            return None
        if poll.state != OPEN:
            log.info("ignoring a native vote on closed poll %d by %s", poll.id, voter)
            return None
        known = {option.answer_id: option.position for option in poll.options}
        spoiled = any(answer not in known for answer in answers) or len(answers) > len(poll.options)
        struck = {option.answer_id for option in poll.options if option.dropped}  # no longer counted
        choices = {} if spoiled else {known[answer]: YES for answer in answers if answer not in struck}
        self._store_vote(
            poll, voter, choices, spoiled=spoiled, channel="native", cast_ts=cast_ts, event_id=None
        )
        return poll

    def _store_vote(
        self,
        poll: Poll,
        voter: str,
        choices: dict[int, Answer],
        *,
        spoiled: bool,
        channel: str,
        cast_ts: float,
        event_id: str | None,
    ) -> None:
        with self._db.atomic():
            # A member who was forgotten and votes again replaces their earlier, pseudonymous vote:
            # one member, one vote.
            self._db.execute(
                "DELETE FROM votes WHERE poll_id = ? AND pseudonym = ? AND cast_ts <= ?",
                [poll.id, self._pseudonyms.of(Pseudonyms.poll_scope(poll.id), voter), cast_ts],
            )
            # Only a newer vote replaces the stored one: events may be handled out of order.
            self._db.execute(
                "INSERT INTO votes (poll_id, voter, choices, spoiled, channel, cast_ts, event_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(poll_id, voter) DO UPDATE SET choices = excluded.choices, spoiled = excluded.spoiled,"
                " channel = excluded.channel, cast_ts = excluded.cast_ts, event_id = excluded.event_id"
                " WHERE excluded.cast_ts >= votes.cast_ts",
                [
                    poll.id,
                    voter,
                    json.dumps({str(k): str(v) for k, v in choices.items()}),
                    int(spoiled),
                    channel,
                    cast_ts,
                    event_id,
                ],
            )
        self.refresh_summary(poll.id, poll.room_id)

    # ---- the live summary ----------------------------------------------------------------------

    def refresh_summary(self, poll_id: int, room_id: str) -> None:
        """Edit the summary soon: at once when the last edit is 2 s ago, else once when it is.

        A change while an edit is planned or on its way marks the poll dirty; the planned edit
        picks it up, or one more edit follows 2 s after the one being sent.
        """
        if poll_id in self._edit_pending:
            self._dirty.add(poll_id)
            return
        wait = max(
            0.0, self._last_edit.get(poll_id, float("-inf")) + SUMMARY_EDIT_INTERVAL_S - time.monotonic()
        )
        self._edit_pending[poll_id] = asyncio.get_running_loop().create_task(
            self._edit_later(poll_id, room_id, wait)
        )

    async def _edit_later(self, poll_id: int, room_id: str, wait: float) -> None:
        try:
            await asyncio.sleep(wait)
            self._dirty.discard(poll_id)  # the edit below shows everything up to now
            poll = self.get(room_id, poll_id)
            tally = self.tally(poll)
            if poll.summary_event_id:
                await self._outbox.edit_summary(tally)
            # Checked here, with the summary's tally, not per vote: a burst of votes costs one check.
            if poll.state == OPEN and tally.everyone_voted and not poll.all_voted_told:
                with self._db.atomic():
                    self._db.execute("UPDATE polls SET all_voted_told = 1 WHERE id = ?", [poll_id])
                await self._outbox.everyone_voted(tally)
        except Exception:
            log.exception("could not update the summary of poll %d", poll_id)
        finally:
            # Counted from when the edit was out, so that edits never come closer than 2 s.
            self._last_edit[poll_id] = time.monotonic()
            self._edit_pending.pop(poll_id, None)
            if poll_id in self._dirty:
                self._dirty.discard(poll_id)
                self.refresh_summary(poll_id, room_id)

    async def shutdown(self) -> None:
        """Stop planned summary edits (at shutdown)."""
        pending = list(self._edit_pending.values())
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    # ---- deadline, nudges, close ---------------------------------------------------------------

    def rebuild(self, scheduler: Scheduler) -> int:
        planned = 0
        for row in self._db.query("SELECT * FROM polls WHERE state = ? AND deadline_ts IS NOT NULL", [OPEN]):
            planned += self._plan(self._from_row(row), scheduler)
        return planned

    def _plan(self, poll: Poll, scheduler: Scheduler | None = None) -> int:
        scheduler = scheduler or self._scheduler
        if poll.deadline is None or poll.state != OPEN:
            return 0
        now = self.now()
        # A deadline passed while the bot was down closes the poll right after the start.
        scheduler.at(
            f"poll-close:{poll.id}", max(poll.deadline, now), self.close_at_deadline, poll.room_id, poll.id
        )
        planned = 1
        # Members get a fair chance first: no nudge before half the time to the deadline has passed.
        halfway = poll.created_at + (poll.deadline - poll.created_at) / 2
        nudge_at = max(poll.deadline - self.nudge_before, halfway)
        if not poll.nudged and poll.deadline > now:
            scheduler.at(f"poll-nudge:{poll.id}", max(nudge_at, now), self.nudge, poll.room_id, poll.id)
            planned += 1
        return planned

    async def nudge(self, room_id: str, poll_id: int) -> list[str]:
        """One message that mentions exactly the members who have not voted; returns them."""
        poll = self.get(room_id, poll_id)
        if poll.state != OPEN:
            return []
        tally = self.tally(poll)
        with self._db.atomic():
            self._db.execute("UPDATE polls SET nudged = 1 WHERE id = ?", [poll_id])
        if not tally.non_voters:
            return []
        await self._outbox.nudge(tally)
        return tally.non_voters

    async def close_at_deadline(self, room_id: str, poll_id: int) -> None:
        """At the deadline: closed with the leading option; at a tie the poll's creator is asked to
        decide (``!umfrage schließen <Nr> <Option>``) and it stays open until they do."""
        try:
            poll = self.get(room_id, poll_id)
            if poll.state != OPEN:
                return
            tally = self.tally(poll)
            if tally.tied():
                self._cancel_jobs(poll.id)
                await self._outbox.tie_at_deadline(tally)
                return
            await self._close(room_id, poll_id, by=poll.created_by, pick=None)
        except Exception:
            log.exception("closing poll %d at its deadline failed", poll_id)

    async def close(
        self, room_id: str, poll_id: int, *, by: str, pick: int | None
    ) -> tuple[Poll, Meeting | None]:
        """``!umfrage schließen``: closed by the chair ``by``, with the option ``pick`` or the top one."""
        closed, meeting = await self._close(room_id, poll_id, by=by, pick=pick)
        self._audit.record(room_id, by, Action.POLL_CLOSED, id=closed.id, winner=closed.winner or 0)
        return closed, meeting

    async def _close(
        self, room_id: str, poll_id: int, *, by: str, pick: int | None
    ) -> tuple[Poll, Meeting | None]:
        poll = self.get(room_id, poll_id)
        if poll.state != OPEN:
            raise UserError("poll.closed", id=poll.id)
        tally = self.tally(poll)
        if pick is None and (tied := tally.tied()):
            # No silent coin toss: the chair picks one of the tied options.
            numbers = ", ".join(str(option.position) for option in tied)
            raise UserError("poll.tie", id=poll.id, options=numbers)
        if pick is not None and poll.option(pick).dropped:
            raise UserError("poll.option_dropped", number=pick)
        winner = poll.option(pick) if pick is not None else (tally.top.option if tally.top else None)
        with self._db.atomic():
            self._db.execute(
                "UPDATE polls SET state = ?, closed_at = ?, winner = ? WHERE id = ?",
                [CLOSED, time.time(), winner.position if winner else None, poll.id],
            )
        self._cancel_jobs(poll.id)
        closed = self.get(room_id, poll_id)
        await self._outbox.closed(Outcome(closed, tally, winner))
        self.refresh_summary(closed.id, room_id)
        meeting = None
        if winner is not None and winner.at is not None and winner.at > self.now():
            when = When(at=winner.at, rrule=None, text=winner.label)
            meeting = self._meetings.create(room_id, by, when, closed.question, None)
            with self._db.atomic():
                self._db.execute("UPDATE polls SET meeting_id = ? WHERE id = ?", [meeting.id, poll.id])
            await self._outbox.meeting_chosen(meeting, self._meetings.reminders_of(meeting))
        return self.get(room_id, poll_id), meeting

    async def withdraw(self, room_id: str, poll_id: int, *, by: str) -> Poll:
        """``!umfrage löschen``: withdrawn by the chair ``by``; its native poll ends."""
        poll = self.get(room_id, poll_id)
        if poll.state != OPEN:
            raise UserError("poll.closed", id=poll.id)
        with self._db.atomic():
            self._db.execute(
                "UPDATE polls SET state = ?, closed_at = ? WHERE id = ?", [WITHDRAWN, time.time(), poll.id]
            )
        self._cancel_jobs(poll.id)
        withdrawn = self.get(room_id, poll_id)
        if withdrawn.start_event_id:
            await self._outbox.withdrawn(withdrawn)
        self.refresh_summary(poll.id, room_id)
        self._audit.record(room_id, by, Action.POLL_WITHDRAWN, id=poll.id)
        return self.get(room_id, poll_id)

    def drop(self, room_id: str, poll_id: int, position: int, *, by: str) -> Poll:
        """``!umfrage streichen``: an option struck off the open poll (the chair, ``by``); its votes
        no longer count. The last option stays: a poll needs something to choose."""
        poll = self.get(room_id, poll_id)
        if poll.state != OPEN:
            raise UserError("poll.closed", id=poll.id)
        option = poll.option(position)
        if option.dropped:
            raise UserError("poll.option_dropped", number=position)
        if sum(1 for other in poll.options if not other.dropped) <= 1:
            raise UserError("poll.last_option", number=position)
        with self._db.atomic():
            self._db.execute(
                "UPDATE poll_options SET dropped = 1 WHERE poll_id = ? AND position = ?", [poll.id, position]
            )
        self._audit.record(room_id, by, Action.POLL_OPTION_DROPPED, id=poll.id, option=position)
        self.refresh_summary(poll.id, room_id)
        return self.get(room_id, poll_id)

    def _cancel_jobs(self, poll_id: int) -> None:
        self._scheduler.cancel(f"poll-close:{poll_id}")
        self._scheduler.cancel(f"poll-nudge:{poll_id}")

    def _from_row(self, row: dict[str, Any]) -> Poll:
        options = tuple(
            Option(
                r["position"],
                r["label"],
                datetime.fromisoformat(r["at"]).astimezone(self.tz) if r["at"] else None,
                bool(r["dropped"]),
            )
            for r in self._db.query(
                "SELECT * FROM poll_options WHERE poll_id = ? ORDER BY position", [row["id"]]
            )
        )
        deadline = row["deadline_ts"]
        return Poll(
            id=row["id"],
            room_id=row["room_id"],
            question=row["question"],
            options=options,
            anonymous=bool(row["anonymous"]),
            deadline=datetime.fromtimestamp(deadline, self.tz) if deadline is not None else None,
            state=State(row["state"]),
            start_event_id=row["start_event_id"],
            summary_event_id=row["summary_event_id"],
            created_by=row["created_by"],
            created_at=datetime.fromtimestamp(row["created_at"], self.tz),
            winner=row["winner"],
            meeting_id=row["meeting_id"],
            nudged=bool(row["nudged"]),
            all_voted_told=bool(row["all_voted_told"]),
        )


def _vote(row: dict[str, Any]) -> Vote:
    return Vote(
        voter=row["voter"],
        choices={int(k): Answer(v) for k, v in json.loads(row["choices"]).items()},
        spoiled=bool(row["spoiled"]),
        channel=row["channel"],
        cast_ts=row["cast_ts"],
    )
