"""Minutes (Niederschrift): a meeting run in the room becomes the record.

The chair begins a meeting and moves through its agenda; members tag what matters — decisions,
action items, notes — and the bot notes who attended (who wrote, or said so). Nothing else of the
meeting's chat is stored. At the end the tags become a draft; the chair corrects and releases it,
and only released minutes count as the record. Action items live on: reminders to their owners,
a list, and a fixed item on the next meeting's agenda until they are done.

A tag is keyed by the command's event: a command replayed after a restart finds its tag and
records nothing twice. The running meeting and its current TOP are in the database, so a restart
mid-meeting continues where it was.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.errors import UserError
from bot.services.agenda import AgendaService, Item
from bot.services.audit import Action, AuditLog
from bot.services.meetings import Meeting, MeetingCalendar
from bot.services.members import AbsentGroups, GroupLookup
from bot.services.reminders import Reminder, ReminderService
from bot.timeparse import When

MAX_TEXT = 2000
LATE_AFTER_S = 60.0
PRESENT_BEFORE_S = 30 * 60.0
"""Who wrote in the room this long before a meeting began is present when it begins."""
RECENT_WRITERS = 500
"""A message older than this when it arrives (its keys came late) is looked up by its time."""
MATRIX_ID = re.compile(r"@[^:\s]+:[A-Za-z0-9.\-]+(:\d{1,5})?|@[^:\s]+:\[[0-9A-Fa-f:.]+\](:\d{1,5})?")
ACTION_REMINDER = "action"  # the reminders' kind
ACTION_REMINDER_BEFORE = timedelta(days=1)


class Kind(StrEnum):
    DECISION = "decision"
    ACTION = "action"
    INFO = "info"


class State(StrEnum):
    """``minutes.state``; members read it as ``minutes.state.<value>``."""

    RUNNING = "running"
    DRAFT = "draft"
    APPROVED = "approved"


@dataclass(frozen=True)
class Vote:
    """How a decision was taken: unanimously, or counted."""

    unanimous: bool = False
    yes: int | None = None
    no: int | None = None
    abstain: int | None = None

    def to_json(self) -> str:
        if self.unanimous:
            return json.dumps({"unanimous": True})
        return json.dumps(
            {
                k: v
                for k, v in (("yes", self.yes), ("no", self.no), ("abstain", self.abstain))
                if v is not None
            }
        )

    @classmethod
    def from_json(cls, text: str | None) -> Vote | None:
        if not text:
            return None
        data = json.loads(text)
        return cls(
            unanimous=bool(data.get("unanimous")),
            yes=data.get("yes"),
            no=data.get("no"),
            abstain=data.get("abstain"),
        )


@dataclass(frozen=True)
class Said:
    """Who wrote a command, as which event, when (its server timestamp, in seconds): the
    provenance of everything the minutes record — and what makes a replayed command harmless."""

    by: str
    by_name: str
    event_id: str
    at: float


@dataclass(frozen=True)
class Tag:
    """A decision, an action item or a note, as recorded."""

    id: int
    room_id: str
    kind: Kind
    text: str
    author: str
    author_name: str
    created_at: datetime
    meeting_id: int | None
    top_number: int | None
    top_title: str | None
    """As the agenda read when it was recorded (a fixed item's title is a catalog key)."""
    vote: Vote | None = None
    year: int | None = None
    seq: int | None = None
    owner: str | None = None
    """An action's owner: a Matrix ID, or a name as written."""
    owner_name: str | None = None
    due: datetime | None = None
    done_at: datetime | None = None
    edited: bool = False

    @property
    def number(self) -> str | None:
        """A decision's number, "2026/07"."""
        return f"{self.year}/{self.seq:02d}" if self.year is not None and self.seq is not None else None

    @property
    def owner_is_member(self) -> bool:
        return bool(self.owner and self.owner.startswith("@") and ":" in self.owner)


@dataclass(frozen=True)
class Top:
    """A TOP of the running or ended meeting."""

    number: int
    title: str
    """A fixed item's title is a catalog key (``agenda.fixed.*``)."""
    item: Item | None


@dataclass(frozen=True)
class Session:
    """The meeting running in a room, and where it stands."""

    meeting: Meeting
    top: Top | None
    tops: int
    resumed: bool = False
    """``!sitzung beginnen`` on a meeting whose draft existed: it runs again."""
    groups: AbsentGroups = field(default_factory=AbsentGroups)
    """At the beginning: the stakeholder groups not present."""


@dataclass(frozen=True)
class Attendee:
    user_id: str
    name: str
    organisation: str | None
    """None: none of the configured organisations ("extern")."""
    present: bool
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class TopRecord:
    top: Top
    tags: list[Tag]


@dataclass(frozen=True)
class Minutes:
    meeting: Meeting
    state: State
    chair: str
    chair_name: str
    started_at: datetime
    ended_at: datetime | None
    attendees: list[Attendee]
    general: list[Tag]
    """Tags written before the first TOP (or in a meeting without agenda)."""
    tops: list[TopRecord]
    open_actions: list[Tag]
    """All action items of the room still open when the minutes were read."""
    approved_by: str | None = None
    approved_at: datetime | None = None
    summary: str | None = None
    """A summary the chair took into the record (``!zusammenfassung übernehmen``)."""

    @property
    def tags(self) -> list[Tag]:
        return [*self.general, *(tag for record in self.tops for tag in record.tags)]

    def present_by_organisation(self) -> dict[str | None, list[Attendee]]:
        groups: dict[str | None, list[Attendee]] = {}
        for attendee in self.attendees:
            if attendee.present:
                groups.setdefault(attendee.organisation, []).append(attendee)
        return groups


@dataclass(frozen=True)
class Decision:
    """A decision of the record, with the meeting it was taken in (None: outside a meeting)."""

    tag: Tag
    meeting: Meeting | None


@dataclass(frozen=True)
class Undone:
    tag: Tag
    by_chair_for_other: bool = False


@dataclass(frozen=True)
class ActionDue:
    """What an action item's reminder is about (``DueReminder.subject``)."""

    action: Tag
    final: bool
    """Due now (else: due tomorrow)."""


class ActionRegister:
    """The room's action items, read only: what the agenda lists as "Offene Aufgaben"."""

    def __init__(self, db: Database, tz: ZoneInfo) -> None:
        self._db = db
        self.tz = tz

    def open_in(self, room_id: str) -> list[Tag]:
        return self._tags(
            "SELECT * FROM tags WHERE room_id = ? AND kind = 'action' AND done_at IS NULL AND removed_at IS NULL"
            " ORDER BY due_ts IS NULL, due_ts, id",
            [room_id],
        )

    def open_for(self, meeting: Meeting) -> list[Tag]:
        """Open when the meeting began (or begins): recorded before, not done by then — so its agenda
        does not change under it while it runs, also when the chair began it before its time."""
        row = self._db.execute("SELECT started_at FROM minutes WHERE meeting_id = ?", [meeting.id]).fetchone()
        ts = min(meeting.start.timestamp(), row[0]) if row else meeting.start.timestamp()
        return self._tags(
            "SELECT * FROM tags WHERE room_id = ? AND kind = 'action' AND created_at < ? AND removed_at IS NULL"
            " AND (done_at IS NULL OR done_at >= ?) ORDER BY due_ts IS NULL, due_ts, id",
            [meeting.room_id, ts, ts],
        )

    def _tags(self, sql: str, params: Sequence[Any]) -> list[Tag]:
        return [tag_from_row(row, self.tz) for row in self._db.query(sql, params)]


class MinutesService(ActionRegister):
    def __init__(
        self,
        db: Database,
        tz: ZoneInfo,
        meetings: MeetingCalendar,
        agenda: AgendaService,
        reminders: ReminderService,
        *,
        organisations: dict[str, str],
        audit: AuditLog,
        members: GroupLookup | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``members``: organisations the chair set and stakeholder groups, for attendance."""
        super().__init__(db, tz)
        self._members = members
        self._recent: dict[str, dict[str, tuple[float, Callable[[], str]]]] = {}
        self._meetings = meetings
        self._agenda = agenda
        self._reminders = reminders
        self._audit = audit
        self._clock = clock or (lambda: datetime.now(tz))
        self.organisations = {domain.lower(): name for domain, name in organisations.items()}
        # Which rooms have a meeting running: asked for every message, so kept in memory — the
        # database stays the truth and fills it at start.
        self._running: dict[str, int] = {
            row["room_id"]: row["meeting_id"]
            for row in db.query("SELECT room_id, meeting_id FROM minutes WHERE state = 'running'")
        }
        reminders.attach(ACTION_REMINDER, self._action_due)

    def now(self) -> datetime:
        return self._clock().astimezone(self.tz)

    # ---- running a meeting ---------------------------------------------------------------------

    def begin(self, room_id: str, meeting_id: int | None, said: Said) -> Session:
        if room_id in self._running:
            raise UserError("minutes.already_running", id=self._running[room_id])
        meeting = self._meeting_to_begin(room_id, meeting_id)
        existing = self._row(meeting.id)
        if existing is not None and existing["state"] == State.APPROVED:
            raise UserError("minutes.already_approved", id=meeting.id)
        with self._db.atomic():
            if existing is None:
                # The agenda as it stands now is the meeting's: what changes on it later (an item
                # withdrawn or deferred) does not move what was recorded under a TOP.
                tops = self._live_tops(meeting)
                first = tops[0].number if tops else None
                snapshot = [
                    {"number": t.number, "title": t.title, "item_id": t.item.id if t.item else None}
                    for t in tops
                ]
                self._db.execute(
                    "INSERT INTO minutes (meeting_id, room_id, state, chair, chair_name, started_at, current_top,"
                    " tops, switches) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?)",
                    [
                        meeting.id,
                        room_id,
                        said.by,
                        said.by_name,
                        said.at,
                        first,
                        json.dumps(snapshot),
                        json.dumps([[said.at, first]]),
                    ],
                )
            else:  # ended by mistake: it runs on where it stood
                self._db.execute(
                    "UPDATE minutes SET state = 'running', ended_at = NULL WHERE meeting_id = ?", [meeting.id]
                )
        self._running[room_id] = meeting.id
        self._attend(meeting.id, said.by, said.by_name, present=True, source="said", at=said.at)
        # Who has just been writing in the room is here for the meeting (chat before it begins).
        for user_id, (at, name) in list(self._recent.get(room_id, {}).items()):
            if said.at - PRESENT_BEFORE_S <= at and user_id != said.by:
                self._attend_once(meeting.id, user_id, name, at=at)
        self._audit.record(room_id, said.by, Action.MEETING_STARTED, id=meeting.id)
        session = self.session(room_id)
        assert session is not None
        present = [a.user_id for a in self._attendees(meeting.id) if a.present]
        absent = self._members.absent_groups(room_id, present) if self._members else AbsentGroups()
        return Session(
            session.meeting, session.top, session.tops, resumed=existing is not None, groups=absent
        )

    def ensure_not_running(self, room_id: str, meeting_id: int) -> None:
        """A meeting that runs is neither moved nor cancelled under its minutes: end it first."""
        if self._running.get(room_id) == meeting_id:
            raise UserError("minutes.still_running", id=meeting_id)

    def session(self, room_id: str) -> Session | None:
        meeting_id = self._running.get(room_id)
        if meeting_id is None:
            return None
        meeting = self._meetings.get(room_id, meeting_id)
        row = self._row(meeting_id)
        assert row is not None
        tops = self._tops(meeting)
        current = next((top for top in tops if top.number == row["current_top"]), None)
        return Session(meeting, current, len(tops))

    def next_top(self, room_id: str, said: Said) -> Session:
        session = self._session(room_id)
        if self._replayed_switch(session, said):
            return session
        tops = self._tops(session.meeting)
        if not tops:
            raise UserError("minutes.no_agenda", id=session.meeting.id)
        later = [top for top in tops if session.top is None or top.number > session.top.number]
        if not later:
            raise UserError("minutes.last_top", number=tops[-1].number)
        return self._switch(session, later[0].number, said)

    def go_to(self, room_id: str, number: int, said: Said) -> Session:
        session = self._session(room_id)
        if self._replayed_switch(session, said):
            return session
        tops = self._tops(session.meeting)
        if not any(top.number == number for top in tops):
            if not tops:
                raise UserError("minutes.no_agenda", id=session.meeting.id)
            raise UserError("minutes.no_such_top", number=number, high=tops[-1].number)
        return self._switch(session, number, said)

    def end(self, room_id: str, said: Said) -> Minutes:
        session = self._session(room_id)
        with self._db.atomic():
            self._db.execute(
                "UPDATE minutes SET state = 'draft', ended_at = ? WHERE meeting_id = ?",
                [said.at, session.meeting.id],
            )
        del self._running[room_id]
        self._audit.record(room_id, said.by, Action.MEETING_ENDED, id=session.meeting.id)
        return self.minutes(room_id, session.meeting.id)

    # ---- attendance ----------------------------------------------------------------------------

    def saw(self, room_id: str, user_id: str, name: Callable[[], str], at: float) -> None:
        """Someone wrote in the room at ``at`` (the message's server time): present in the meeting
        that ran then, unless they said they are not. ``name`` is asked only then. A message whose
        keys came late still counts for the meeting it was written in."""
        if room_id not in self._running and time.time() - at < LATE_AFTER_S:
            # Nothing runs, and the message is fresh: the usual case costs no query; who writes is
            # remembered in memory for a meeting that begins soon.
            recent = self._recent.setdefault(room_id, {})
            recent.pop(user_id, None)
            recent[user_id] = (at, name)
            while len(recent) > RECENT_WRITERS:
                del recent[next(iter(recent))]
            return
        where = self._where(room_id, at)
        if where is None:
            return
        self._attend_once(where[0], user_id, name, at=at)

    def _attend_once(self, meeting_id: int, user_id: str, name: Callable[[], str], *, at: float) -> None:
        """Present because they wrote, unless already recorded (or they said they are not)."""
        exists = self._db.execute(
            "SELECT 1 FROM attendance WHERE meeting_id = ? AND user_id = ?", [meeting_id, user_id]
        ).fetchone()
        if exists is None:
            self._attend(meeting_id, user_id, name(), present=True, source="spoke", at=at)

    def mark(self, room_id: str, said: Said, *, present: bool) -> Session:
        """``!anwesend`` / ``!abwesend`` during a meeting."""
        session = self._session(room_id)
        self._attend(session.meeting.id, said.by, said.by_name, present=present, source="said", at=said.at)
        return session

    def _attend(
        self, meeting_id: int, user_id: str, name: str, *, present: bool, source: str, at: float
    ) -> None:
        with self._db.atomic():
            self._db.execute(
                "INSERT INTO attendance (meeting_id, user_id, name, organisation, present, source, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (meeting_id, user_id) DO UPDATE SET"
                " name = excluded.name, present = excluded.present, source = excluded.source, at = excluded.at",
                [meeting_id, user_id, name, self.organisation_of(user_id), int(present), source, at],
            )

    def _attendees(self, meeting_id: int) -> list[Attendee]:
        rows = list(
            self._db.query(
                "SELECT * FROM attendance WHERE meeting_id = ? ORDER BY organisation IS NULL, organisation, name",
                [meeting_id],
            )
        )
        groups = self._members.groups_of(r["user_id"] for r in rows) if self._members else {}
        return [
            Attendee(
                r["user_id"],
                r["name"] or r["user_id"],
                r["organisation"],
                bool(r["present"]),
                groups.get(r["user_id"], ()),
            )
            for r in rows
        ]

    def organisation_of(self, user_id: str) -> str | None:
        if self._members is not None:
            return self._members.organisation_of(user_id)
        domain = user_id.split(":", 1)[1] if ":" in user_id else ""
        return self.organisations.get(domain.lower())

    # ---- tags ----------------------------------------------------------------------------------

    def decide(self, room_id: str, said: Said, text: str, vote: Vote | None) -> Tag:
        def numbered(fields: dict[str, Any]) -> None:
            year = datetime.fromtimestamp(said.at, self.tz).year
            row = self._db.execute(
                "SELECT coalesce(max(seq), 0) FROM tags WHERE room_id = ? AND kind = 'decision' AND year = ?",
                [room_id, year],
            ).fetchone()
            fields.update(year=year, seq=int(row[0]) + 1, vote=vote.to_json() if vote else None)

        return self._record(room_id, Kind.DECISION, said, text, numbered)

    def note(self, room_id: str, said: Said, text: str) -> Tag:
        return self._record(room_id, Kind.INFO, said, text)

    def assign(
        self, room_id: str, said: Said, *, owner: str, owner_name: str, text: str, due: datetime | None
    ) -> Tag:
        """An action item; an owner with a Matrix account is reminded a day before and when due."""
        if not owner.strip():
            raise UserError("minutes.need_owner")
        if owner.startswith("@") and not MATRIX_ID.fullmatch(owner):
            raise UserError("minutes.bad_owner", owner=owner)
        if due is not None and due <= self.now():
            raise UserError("minutes.due_in_past")

        def owned(fields: dict[str, Any]) -> None:
            fields.update(
                owner=owner,
                owner_name=owner_name,
                due_at=due.isoformat() if due else None,
                due_ts=due.timestamp() if due else None,
            )

        tag = self._record(room_id, Kind.ACTION, said, text, owned)
        if tag.owner_is_member and tag.due is not None and not self._reminder_ids(tag.id):
            self._plan_action_reminders(tag)
        return tag

    def _record(
        self,
        room_id: str,
        kind: Kind,
        said: Said,
        text: str,
        extra: Callable[[dict[str, Any]], None] | None = None,
    ) -> Tag:
        text = text.strip()
        if not text:
            raise UserError("minutes.need_text")
        if len(text) > MAX_TEXT:
            raise UserError("minutes.too_long", limit=MAX_TEXT)
        replayed = self._tags("SELECT * FROM tags WHERE event_id = ?", [said.event_id])
        if replayed:
            return replayed[0]
        # Under the meeting and TOP current when it was written (a command whose keys came late
        # is not filed under a later TOP).
        meeting_id, top = self._where(room_id, said.at) or (None, None)
        fields: dict[str, Any] = {
            "room_id": room_id,
            "kind": str(kind),
            "text": text,
            "author": said.by,
            "author_name": said.by_name,
            "event_id": said.event_id,
            "created_at": said.at,
            "meeting_id": meeting_id,
            "top_number": top.number if top else None,
            "top_title": top.title if top else None,
        }
        with self._db.atomic():  # the number is taken in the same transaction as the row
            if extra is not None:
                extra(fields)
            columns = ", ".join(fields)
            marks = ", ".join("?" for _ in fields)
            cursor = self._db.execute(
                f"INSERT INTO tags ({columns}) VALUES ({marks})",  # noqa: S608 — our own column names
                list(fields.values()),
            )
        return self.tag(room_id, int(cursor.lastrowid or 0))

    def undo(self, room_id: str, said: Said, *, is_chair: bool) -> Undone:
        """The last own tag; the chair may take back anyone's last one. Released minutes stay. The
        row stays without its text, so that its number is never given out again."""
        again = self._tags("SELECT * FROM tags WHERE removed_event = ?", [said.event_id])
        if again:  # the same command after a restart: already done
            return Undone(again[0], by_chair_for_other=again[0].author != said.by)
        sql = "SELECT * FROM tags WHERE room_id = ? AND removed_at IS NULL"
        params: list[Any] = [room_id]
        if not is_chair:
            sql += " AND author = ?"
            params.append(said.by)
        found = self._tags(sql + " ORDER BY id DESC LIMIT 1", params)
        if not found:
            raise UserError("minutes.nothing_to_undo")
        tag = found[0]
        self._editable(tag)
        self._cancel_action_reminders(tag.id)
        with self._db.atomic():
            self._db.execute(
                "UPDATE tags SET text = '', vote = NULL, removed_at = ?, removed_event = ? WHERE id = ?",
                [said.at, said.event_id, tag.id],
            )
        if tag.author != said.by:
            self._audit.record(room_id, said.by, Action.TAG_REMOVED, id=tag.id, kind=str(tag.kind))
        return Undone(tag, by_chair_for_other=tag.author != said.by)

    def correct(self, room_id: str, tag_id: int, text: str, by: str) -> Tag:
        """``!protokoll ändern``: the chair corrects an entry until the minutes are released."""
        tag = self.tag(room_id, tag_id)
        self._editable(tag)
        text = text.strip()
        if not text:
            raise UserError("minutes.need_text")
        if len(text) > MAX_TEXT:
            raise UserError("minutes.too_long", limit=MAX_TEXT)
        with self._db.atomic():
            self._db.execute(
                "UPDATE tags SET text = ?, edited_by = ?, edited_at = ? WHERE id = ?",
                [text, by, time.time(), tag_id],
            )
        self._audit.record(room_id, by, Action.MINUTES_CHANGED, id=tag_id)
        return self.tag(room_id, tag_id)

    def tag(self, room_id: str, tag_id: int) -> Tag:
        found = self._tags(
            "SELECT * FROM tags WHERE id = ? AND room_id = ? AND removed_at IS NULL",
            [tag_id, room_id],
        )
        if not found:
            raise UserError("minutes.no_such_entry", id=tag_id)
        return found[0]

    def _editable(self, tag: Tag) -> None:
        if tag.meeting_id is None:
            return
        row = self._row(tag.meeting_id)
        if row is not None and row["state"] == State.APPROVED:
            raise UserError("minutes.already_approved", id=tag.meeting_id)

    # ---- minutes -------------------------------------------------------------------------------

    def minutes(self, room_id: str, meeting_id: int | None) -> Minutes:
        """A meeting's minutes; without a number the latest meeting that has any."""
        if meeting_id is None:
            row = self._db.execute(
                "SELECT meeting_id FROM minutes WHERE room_id = ? ORDER BY started_at DESC LIMIT 1", [room_id]
            ).fetchone()
            if row is None:
                raise UserError("minutes.none_yet")
            meeting_id = int(row[0])
        meeting = self._meetings.get(room_id, meeting_id)
        found = self._row(meeting.id)
        if found is None:
            raise UserError("minutes.not_held", id=meeting.id)
        tags = self._tags(
            "SELECT * FROM tags WHERE meeting_id = ? AND removed_at IS NULL ORDER BY id",
            [meeting.id],
        )
        tops = self._tops(meeting)
        known = {top.number for top in tops}
        # A TOP dropped from the agenda after tags were written under it keeps them, with the title
        # it had then.
        for number, title in sorted(
            {(t.top_number, t.top_title or "") for t in tags if t.top_number is not None}
        ):
            if number not in known:
                tops.append(Top(number, title, None))
                known.add(number)
        tops.sort(key=lambda top: top.number)
        attendees = self._attendees(meeting.id)
        return Minutes(
            meeting=meeting,
            state=State(found["state"]),
            chair=found["chair"],
            chair_name=found["chair_name"] or found["chair"],
            started_at=datetime.fromtimestamp(found["started_at"], self.tz),
            ended_at=datetime.fromtimestamp(found["ended_at"], self.tz) if found["ended_at"] else None,
            attendees=attendees,
            general=[t for t in tags if t.top_number is None],
            tops=[TopRecord(top, [t for t in tags if t.top_number == top.number]) for top in tops],
            open_actions=self._open_at_end(room_id, found["ended_at"]),
            approved_by=found["approved_by"],
            approved_at=datetime.fromtimestamp(found["approved_at"], self.tz)
            if found["approved_at"]
            else None,
            summary=found["summary"],
        )

    def _open_at_end(self, room_id: str, ended_at: float | None) -> list[Tag]:
        """The action items open when the meeting ended (now, while it runs): what its minutes list."""
        if ended_at is None:
            return self.open_in(room_id)
        return self._tags(
            "SELECT * FROM tags WHERE room_id = ? AND kind = 'action' AND removed_at IS NULL AND created_at <= ?"
            " AND (done_at IS NULL OR done_at > ?) ORDER BY due_ts IS NULL, due_ts, id",
            [room_id, ended_at, ended_at],
        )

    def approve(self, room_id: str, meeting_id: int | None, by: str) -> Minutes:
        """``!protokoll freigeben``: the chair releases the draft; from now on it is the record."""
        minutes = self.minutes(room_id, meeting_id)
        if minutes.state == State.RUNNING:
            raise UserError("minutes.still_running", id=minutes.meeting.id)
        if minutes.state == State.APPROVED:
            raise UserError("minutes.already_approved", id=minutes.meeting.id)
        with self._db.atomic():
            self._db.execute(
                "UPDATE minutes SET state = 'approved', approved_by = ?, approved_at = ? WHERE meeting_id = ?",
                [by, time.time(), minutes.meeting.id],
            )
        self._audit.record(room_id, by, Action.MINUTES_APPROVED, id=minutes.meeting.id)
        return self.minutes(room_id, minutes.meeting.id)

    def released(self, room_id: str, meeting_id: int | None) -> Minutes:
        """Released minutes (the latest without a number), e.g. to be summarised."""
        if meeting_id is None:
            row = self._db.execute(
                "SELECT meeting_id FROM minutes WHERE room_id = ? AND state = 'approved'"
                " ORDER BY started_at DESC LIMIT 1",
                [room_id],
            ).fetchone()
            if row is None:
                raise UserError("minutes.none_released")
            meeting_id = int(row[0])
        minutes = self.minutes(room_id, meeting_id)
        if minutes.state != State.APPROVED:
            raise UserError("minutes.not_released", id=meeting_id)
        return minutes

    def accept_summary(self, room_id: str, meeting_id: int, summary: str | None, by: str) -> Minutes:
        """The chair takes the model's draft summary into the record of released minutes."""
        minutes = self.released(room_id, meeting_id)
        if not summary:
            raise UserError("minutes.no_summary", id=meeting_id)
        with self._db.atomic():
            self._db.execute(
                "UPDATE minutes SET summary = ?, summary_by = ?, summary_at = ? WHERE meeting_id = ?",
                [summary, by, time.time(), meeting_id],
            )
        self._audit.record(room_id, by, Action.SUMMARY_ACCEPTED, id=meeting_id)
        return self.minutes(room_id, minutes.meeting.id)

    def approved(self, room_id: str, meeting_id: int) -> Minutes | None:
        """The released minutes of a meeting, if there are (for the OParl export)."""
        row = self._row(meeting_id)
        if row is None or row["state"] != State.APPROVED or row["room_id"] != room_id:
            return None
        return self.minutes(room_id, meeting_id)

    # ---- the register --------------------------------------------------------------------------

    def decisions(self, room_id: str, word: str | None = None, *, limit: int = 20) -> list[Decision]:
        """Decisions of the record — released minutes, and those taken outside a meeting — newest
        first; with ``word`` only those whose text or TOP contains it (any case, umlauts too)."""
        needle = (word or "").casefold().strip()
        # Searched and limited in SQL (casefold: umlauts too): only what is shown is read.
        found = self._tags(
            "SELECT t.* FROM tags t LEFT JOIN minutes m ON m.meeting_id = t.meeting_id"
            " WHERE t.room_id = ? AND t.kind = 'decision' AND t.removed_at IS NULL"
            " AND (t.meeting_id IS NULL OR m.state = 'approved')"
            " AND (? = '' OR instr(casefold(t.text), ?) > 0 OR instr(casefold(coalesce(t.top_title, '')), ?) > 0)"
            " ORDER BY t.year DESC, t.seq DESC LIMIT ?",
            [room_id, needle, needle, needle, limit],
        )
        return [
            Decision(tag, self._meetings.get(room_id, tag.meeting_id) if tag.meeting_id is not None else None)
            for tag in found
        ]

    # ---- action items --------------------------------------------------------------------------

    def actions(self, room_id: str, user: str, *, everyone: bool) -> list[Tag]:
        """Open action items: the member's own; the chair's ``everyone``: all of the room's."""
        found = self.open_in(room_id)
        return found if everyone else [tag for tag in found if tag.owner == user]

    def complete(self, room_id: str, action_id: int, by: str, *, is_chair: bool) -> Tag:
        tag = self.tag(room_id, action_id)
        if tag.kind != Kind.ACTION:
            raise UserError("minutes.not_an_action", id=action_id)
        if tag.done_at is not None:
            raise UserError("minutes.already_done", id=action_id)
        if not is_chair and by != tag.owner:
            raise UserError("minutes.not_your_action", id=action_id)
        with self._db.atomic():
            self._db.execute(
                "UPDATE tags SET done_at = ?, done_by = ? WHERE id = ?", [time.time(), by, action_id]
            )
        self._cancel_action_reminders(action_id)
        return self.tag(room_id, action_id)

    def _plan_action_reminders(self, tag: Tag) -> None:
        assert tag.due is not None and tag.owner is not None
        now = self.now()
        ids = []
        for at in _reminder_times(tag.due):
            if at > now:
                when = When(at=at, rrule=None, text=at.isoformat())
                ids.append(
                    self._reminders.create(tag.room_id, tag.owner, when, tag.text, kind=ACTION_REMINDER).id
                )
        with self._db.atomic():
            for reminder_id in ids:
                self._db.execute(
                    "INSERT OR IGNORE INTO action_reminders (action_id, reminder_id) VALUES (?, ?)",
                    [tag.id, reminder_id],
                )

    def _reminder_ids(self, action_id: int) -> list[int]:
        return [
            int(r[0])
            for r in self._db.execute(
                "SELECT reminder_id FROM action_reminders WHERE action_id = ?", [action_id]
            ).fetchall()
        ]

    def _cancel_action_reminders(self, action_id: int) -> None:
        self._reminders.cancel(self._reminder_ids(action_id))
        with self._db.atomic():
            self._db.execute("DELETE FROM action_reminders WHERE action_id = ?", [action_id])

    def _action_due(self, reminder: Reminder) -> ActionDue:
        row = self._db.execute(
            "SELECT action_id FROM action_reminders WHERE reminder_id = ?", [reminder.id]
        ).fetchone()
        if row is None:
            raise UserError("minutes.no_such_entry", id=0)
        action = self.tag(reminder.room_id, int(row[0]))
        final = action.due is not None and reminder.first_at >= _reminder_times(action.due)[1]
        return ActionDue(action, final=final)

    # ---- internals -----------------------------------------------------------------------------

    def _meeting_to_begin(self, room_id: str, meeting_id: int | None) -> Meeting:
        if meeting_id is not None:
            meeting = self._meetings.get(room_id, meeting_id)
            if meeting.cancelled:
                raise UserError("meeting.already_cancelled", id=meeting_id)
            return meeting
        # The one running by the clock, else the next — but not one already held (resuming a
        # meeting ended by mistake takes its number).
        held = {
            int(r[0]) for r in self._db.execute("SELECT meeting_id FROM minutes WHERE room_id = ?", [room_id])
        }
        upcoming = [m for m in self._meetings.upcoming(room_id) if m.id not in held]
        if not upcoming:
            raise UserError("minutes.no_meeting")
        return upcoming[0]

    def _session(self, room_id: str) -> Session:
        session = self.session(room_id)
        if session is None:
            raise UserError("minutes.not_running")
        return session

    def _replayed_switch(self, session: Session, said: Said) -> bool:
        row = self._row(session.meeting.id)
        return row is not None and row["switch_event"] == said.event_id

    def _switch(self, session: Session, number: int, said: Said) -> Session:
        meeting_id = session.meeting.id
        row = self._row(meeting_id)
        assert row is not None
        switches = [*json.loads(row["switches"] or "[]"), [said.at, number]]
        with self._db.atomic():
            self._db.execute(
                "UPDATE minutes SET current_top = ?, switches = ?, switch_event = ? WHERE meeting_id = ?",
                [number, json.dumps(switches), said.event_id, meeting_id],
            )
        switched = self.session(session.meeting.room_id)
        assert switched is not None
        return switched

    def _where(self, room_id: str, at: float) -> tuple[int, Top | None] | None:
        """The meeting that ran in the room at ``at``, and its TOP then; None outside meetings."""
        rows = list(
            self._db.query(
                "SELECT * FROM minutes WHERE room_id = ? AND started_at <= ? AND (ended_at IS NULL OR ended_at >= ?)"
                " ORDER BY started_at DESC LIMIT 1",
                [room_id, at, at],
            )
        )
        if not rows:
            return None
        row = rows[0]
        switches = json.loads(row["switches"] or "[]")
        number = next((n for t, n in reversed(switches) if t <= at), switches[0][1] if switches else None)
        meeting = self._meetings.get(room_id, row["meeting_id"])
        top = next((top for top in self._tops(meeting) if top.number == number), None)
        return meeting.id, top

    def _tops(self, meeting: Meeting) -> list[Top]:
        """The meeting's TOPs: as they stood when it began, else as the agenda reads now."""
        row = self._row(meeting.id)
        if row is None or not row["tops"]:
            return self._live_tops(meeting)
        tops = []
        for entry in json.loads(row["tops"]):
            item = None
            if entry["item_id"] is not None:
                try:
                    item = self._agenda.get(meeting.room_id, entry["item_id"])
                except UserError:
                    item = None  # gone since (retention): the title stays
            tops.append(Top(entry["number"], entry["title"], item))
        return tops

    def _live_tops(self, meeting: Meeting) -> list[Top]:
        agenda = self._agenda.agenda(meeting.room_id, meeting.id)
        return [Top(number, title, item) for number, title, item in agenda.numbered()]

    def _row(self, meeting_id: int) -> dict[str, Any] | None:
        rows = list(self._db.query("SELECT * FROM minutes WHERE meeting_id = ?", [meeting_id]))
        return rows[0] if rows else None


def _reminder_times(due: datetime) -> tuple[datetime, datetime]:
    """A day before and when due; a due day without a time (23:59, "bis Freitag") is reminded of
    in the morning, not at midnight."""
    if (due.hour, due.minute) == (23, 59):
        morning = due.replace(hour=9, minute=0, second=0, microsecond=0)
        return morning - ACTION_REMINDER_BEFORE, morning
    return due - ACTION_REMINDER_BEFORE, due


def tag_from_row(row: dict[str, Any], tz: ZoneInfo) -> Tag:
    def at(ts: float | None) -> datetime | None:
        return datetime.fromtimestamp(ts, tz) if ts else None

    return Tag(
        id=row["id"],
        room_id=row["room_id"],
        kind=Kind(row["kind"]),
        text=row["text"],
        author=row["author"],
        author_name=row["author_name"] or row["author"],
        created_at=datetime.fromtimestamp(row["created_at"], tz),
        meeting_id=row["meeting_id"],
        top_number=row["top_number"],
        top_title=row["top_title"],
        vote=Vote.from_json(row["vote"]),
        year=row["year"],
        seq=row["seq"],
        owner=row["owner"],
        owner_name=row["owner_name"],
        due=datetime.fromisoformat(row["due_at"]).astimezone(tz) if row["due_at"] else None,
        done_at=at(row["done_at"]),
        edited=row["edited_at"] is not None,
    )
