"""The agenda (Tagesordnung): items (TOPs) submitted by members, decided and ordered by the chair.

An item belongs to a meeting. Submitted before the meeting's submission deadline it is
``eingereicht``, after it ``nachgereicht``; both wait for the chair. Accepted items are numbered
"TOP 1 …" in the chair's order between the fixed opening and closing items. Deferred items move
to another meeting and stand on its agenda. The deadline reminder and the publication are room
reminders of the reminders service, so they survive restarts like every other reminder; the meetings
service plans them with the meeting's own (this service is its ``MeetingFollower``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.errors import Term, UserError
from bot.services.audit import Action, AuditLog
from bot.services.meetings import Meeting, MeetingCalendar
from bot.services.members import GroupLookup
from bot.services.reminders import Reminder

if TYPE_CHECKING:
    from bot.services.minutes import Tag


class Status(StrEnum):
    """``agenda_items.status``; members read it as ``agenda.status.<value>``."""

    SUBMITTED = "submitted"
    LATE = "late"  # submitted after the deadline
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DEFERRED = "deferred"
    WITHDRAWN = "withdrawn"


SUBMITTED, LATE, ACCEPTED, REJECTED, DEFERRED, WITHDRAWN = Status
PENDING = (SUBMITTED, LATE)
ON_AGENDA = (ACCEPTED, DEFERRED)
OPEN = (*PENDING, *ON_AGENDA)
MAX_TITLE = 200
MAX_DESCRIPTION = 2000
MAX_DURATION_MIN = 600
OPEN_ACTIONS = "agenda.fixed.open_actions"
"""The fixed item that lists the action items still open (its title is this catalog key)."""


class OpenActions(Protocol):
    """The room's action items (``bot/services/minutes.py``): those open when a meeting begins
    stand on its agenda."""

    def open_for(self, meeting: Meeting) -> Sequence[Tag]: ...


@dataclass(frozen=True)
class Item:
    id: int
    room_id: str
    meeting_id: int
    title: str
    description: str | None
    duration_min: int | None
    submitter: str
    submitter_name: str
    organisation: str
    status: Status
    position: int | None
    reason: str | None
    deferred_from: int | None
    groups: tuple[str, ...] = ()
    """The presenter's stakeholder groups, as their profile says now."""

    @property
    def affiliation(self) -> str:
        """ "LVR, Kliniken": the presenter's organisation and groups."""
        return ", ".join(part for part in (self.organisation, *self.groups) if part)


@dataclass(frozen=True)
class Outcome:
    """What released minutes say of one TOP, for the OParl export."""

    result: str
    resolution_text: str | None


@dataclass(frozen=True)
class Outcomes:
    """The released minutes of a meeting, as the OParl export references them."""

    by_top: Mapping[int, Outcome]
    file_name: str
    """The minutes' PDF as the room received it."""
    name: str


@dataclass(frozen=True)
class DeadlineNotice:
    """A meeting's submission deadline, for its reminder."""

    meeting: Meeting
    deadline: datetime


@dataclass(frozen=True)
class Agenda:
    meeting: Meeting
    opening: str | None
    items: list[Item]  # accepted and deferred items in order: TOP 2 … (TOP 1 is the opening)
    closing: str | None
    pending: list[Item]
    open_actions: Sequence[Tag] = ()
    """Action items open when the meeting begins: a fixed item before the closing one."""

    def numbered(self) -> list[tuple[int, str, Item | None]]:
        """(TOP number, title, item or None for a fixed item), in order."""
        rows: list[tuple[int, str, Item | None]] = []
        if self.opening:
            rows.append((1, self.opening, None))
        rows.extend((len(rows) + 1, item.title, item) for item in self.items)
        if self.open_actions:
            rows.append((len(rows) + 1, OPEN_ACTIONS, None))
        if self.closing:
            rows.append((len(rows) + 1, self.closing, None))
        return rows

    @property
    def total_minutes(self) -> int:
        return sum(item.duration_min or 0 for item in self.items)


def organisation_of(user_id: str, organisations: dict[str, str]) -> str:
    """The organisation from the homeserver domain: "@anna:lvr.de" → "LVR" (else the domain)."""
    domain = user_id.split(":", 1)[1] if ":" in user_id else user_id
    return organisations.get(domain.lower(), domain)


class AgendaService:
    """Also what follows each meeting (a ``MeetingFollower``, given to the meetings service): its
    agenda reminders, the agenda in its 1-day reminder, the open items when it is cancelled."""

    def __init__(
        self,
        db: Database,
        tz: ZoneInfo,
        meetings: MeetingCalendar,
        *,
        organisations: dict[str, str],
        fixed_items: Sequence[str],
        submission_deadline: timedelta,
        deadline_reminder: timedelta,
        publish_before: timedelta,
        audit: AuditLog,
        actions: OpenActions,
        members: GroupLookup | None = None,
    ) -> None:
        """``members``: presenters' organisation (when the chair set one) and groups."""
        self._db = db
        self._members = members
        self._actions = actions
        self._audit = audit
        self.tz = tz
        self._meetings = meetings
        self.organisations = {domain.lower(): name for domain, name in organisations.items()}
        self.opening = fixed_items[0] if fixed_items else None
        self.closing = fixed_items[1] if len(fixed_items) > 1 else None
        self.submission_deadline = submission_deadline
        self.deadline_reminder = deadline_reminder
        self.publish_before = publish_before

    # ---- members -------------------------------------------------------------------------------

    def submit(
        self,
        room_id: str,
        submitter: str,
        submitter_name: str,
        *,
        title: str,
        description: str | None,
        duration_min: int | None,
        meeting_id: int | None,
    ) -> Item:
        meeting = self._target(room_id, meeting_id)
        self._check_texts(title, description, duration_min)
        late = self._meetings.now() > self.deadline_of(meeting)
        with self._db.atomic():
            cursor = self._db.execute(
                "INSERT INTO agenda_items (room_id, meeting_id, title, description, duration_min, submitter,"
                " submitter_name, organisation, submitted_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    room_id,
                    meeting.id,
                    title,
                    description,
                    duration_min,
                    submitter,
                    submitter_name,
                    (self._members.organisation_of(submitter) if self._members else None)
                    or organisation_of(submitter, self.organisations),
                    time.time(),
                    LATE if late else SUBMITTED,
                ],
            )
        return self.get(room_id, int(cursor.lastrowid or 0))

    def change(self, room_id: str, item_id: int, by: str, title: str, description: str | None) -> Item:
        item = self.get(room_id, item_id)
        if item.submitter != by:
            raise UserError("agenda.not_yours", id=item_id)
        if item.status not in PENDING:
            raise UserError("agenda.already_decided", id=item_id, status=Term(f"agenda.status.{item.status}"))
        self._check_texts(title, description, item.duration_min)
        self._update(item_id, title=title, description=description)
        return self.get(room_id, item_id)

    def withdraw(self, room_id: str, item_id: int, by: str) -> Item:
        item = self.get(room_id, item_id)
        if item.submitter != by:
            raise UserError("agenda.not_yours", id=item_id)
        if item.status not in OPEN:
            raise UserError("agenda.already_decided", id=item_id, status=Term(f"agenda.status.{item.status}"))
        self._update(item_id, status=WITHDRAWN, position=None)
        self._renumber(item.meeting_id)
        return self.get(room_id, item_id)

    # ---- the chair -----------------------------------------------------------------------------

    def accept(self, room_id: str, item_id: int, by: str) -> Item:
        item = self._pending(room_id, item_id)
        self._update(item_id, status=ACCEPTED, position=self._next_position(item.meeting_id), **_decided(by))
        self._audit.record(room_id, by, Action.ITEM_ACCEPTED, id=item_id)
        return self.get(room_id, item_id)

    def reject(self, room_id: str, item_id: int, by: str, reason: str | None) -> Item:
        item = self.get(room_id, item_id)
        if item.status not in OPEN:
            raise UserError("agenda.already_decided", id=item_id, status=Term(f"agenda.status.{item.status}"))
        self._update(item_id, status=REJECTED, position=None, reason=reason, **_decided(by))
        self._renumber(item.meeting_id)
        self._audit.record(room_id, by, Action.ITEM_REJECTED, id=item_id)
        return self.get(room_id, item_id)

    def defer(self, room_id: str, item_id: int, by: str, meeting_id: int | None) -> tuple[Item, Meeting]:
        item = self.get(room_id, item_id)
        if item.status not in OPEN:
            raise UserError("agenda.already_decided", id=item_id, status=Term(f"agenda.status.{item.status}"))
        target = self._target(room_id, meeting_id, after=self._meetings.get(room_id, item.meeting_id))
        if target.id == item.meeting_id:
            raise UserError("agenda.same_meeting", id=item_id, meeting=target.id)
        self._move(item, target, by)
        self._renumber(item.meeting_id)
        self._audit.record(room_id, by, Action.ITEM_DEFERRED, id=item_id, meeting=target.id)
        return self.get(room_id, item_id), target

    def top_number(self, item: Item) -> int | None:
        """The TOP number members see for an accepted item (the opening item is TOP 1)."""
        return None if item.position is None else item.position + self._opening_offset

    @property
    def _opening_offset(self) -> int:
        return 1 if self.opening else 0

    def move_to(self, room_id: str, item_id: int, top_number: int, by: str) -> Item:
        """Make an accepted item TOP ``top_number`` — the number members see, so the chair's "TOP 2"
        is the agenda's TOP 2 (the opening item keeps TOP 1)."""
        item = self.get(room_id, item_id)
        if item.status not in ON_AGENDA:
            raise UserError("agenda.not_on_agenda", id=item_id)
        order = [i.id for i in self.agenda(room_id, item.meeting_id).items if i.id != item_id]
        position = top_number - self._opening_offset
        if not 1 <= position <= len(order) + 1:
            low = 1 + self._opening_offset
            raise UserError("agenda.bad_position", position=top_number, low=low, high=low + len(order))
        order.insert(position - 1, item_id)
        with self._db.atomic():
            for place, moved in enumerate(order, start=1):
                self._db.execute("UPDATE agenda_items SET position = ? WHERE id = ?", [place, moved])
        self._audit.record(room_id, by, Action.ITEM_MOVED, id=item_id, position=top_number)
        return self.get(room_id, item_id)

    def hand_over(self, room_id: str, cancelled: Meeting) -> tuple[list[Item], Meeting | None]:
        """A cancelled meeting's open items go to the next meeting (they keep their status)."""
        open_items = self._items(cancelled.id, OPEN)
        target = self._meetings.next_meeting(room_id)
        if target is None or not open_items:
            return open_items, None
        for item in open_items:
            self._move(item, target, by=None, status=item.status)
        return open_items, target

    # ---- reading -------------------------------------------------------------------------------

    def get(self, room_id: str, item_id: int) -> Item:
        rows = list(
            self._db.query("SELECT * FROM agenda_items WHERE id = ? AND room_id = ?", [item_id, room_id])
        )
        if not rows:
            raise UserError("agenda.not_found", id=item_id)
        return self._with_groups([_item(rows[0])])[0]

    def agenda(self, room_id: str, meeting_id: int | None) -> Agenda:
        meeting = self._target(room_id, meeting_id, allow_any=True)
        items = self._items(meeting.id, ON_AGENDA)
        return Agenda(
            meeting,
            self.opening,
            items,
            self.closing,
            self._items(meeting.id, PENDING),
            () if meeting.cancelled else self._actions.open_for(meeting),
        )

    def next_agenda(self, room_id: str) -> Agenda | None:
        """The next meeting with its agenda, or None when none is planned: what ``!frage`` answers
        from the database, exactly, when asked for the next meeting."""
        meeting = self._meetings.next_meeting(room_id)
        return self.agenda(room_id, meeting.id) if meeting is not None else None

    def deadline_of(self, meeting: Meeting) -> datetime:
        return meeting.start - self.submission_deadline

    # ---- reminders: deadline, publication, and the agenda in the 1-day reminder -------------------

    def reminders_due(self, meeting: Meeting) -> list[tuple[str, datetime]]:
        return [
            ("agenda_deadline", self.deadline_of(meeting) - self.deadline_reminder),
            ("agenda_publish", meeting.start - self.publish_before),
        ]

    def reminder_kinds(self) -> tuple[str, ...]:
        return ("agenda_deadline", "agenda_publish")

    def reminder_subject(self, kind: str, meeting: Meeting) -> object:
        """What a due deadline reminder is about (the deadline), or a publication (the agenda)."""
        if kind == "agenda_deadline":
            return DeadlineNotice(meeting, self.deadline_of(meeting))
        return self.agenda(meeting.room_id, meeting.id)

    def reminder_extra(self, meeting: Meeting, reminder: Reminder) -> Agenda | None:
        """The agenda, in the meeting's reminder a day before."""
        if reminder.offset_s != int(timedelta(days=1).total_seconds()):
            return None
        return self.agenda(meeting.room_id, meeting.id)

    # ---- export --------------------------------------------------------------------------------

    def oparl(
        self, agenda: Agenda, title_of: Callable[[str], str] = str, outcomes: Outcomes | None = None
    ) -> dict[str, Any]:
        """The meeting in the shape of an OParl 1.1 Meeting with its AgendaItems; ``title_of`` reads
        a fixed item's title (a catalog key by default) in the reader's language. With released
        minutes (``outcomes``) each TOP has its result and resolution text, and the meeting
        references the minutes as its ``resultsProtocol``."""
        meeting = agenda.meeting
        items = []
        for number, title, item in agenda.numbered():
            outcome = outcomes.by_top.get(number) if outcomes else None
            items.append(
                {
                    "type": "https://schema.oparl.org/1.1/AgendaItem",
                    "number": str(number),
                    "order": number,
                    "name": title_of(title),
                    "public": True,
                    "result": outcome.result if outcome else None,
                    **(
                        {"resolutionText": outcome.resolution_text}
                        if outcome and outcome.resolution_text
                        else {}
                    ),
                    **({"keyword": [item.organisation]} if item else {}),
                }
            )
        protocol = (
            {
                "resultsProtocol": {
                    "type": "https://schema.oparl.org/1.1/File",
                    "name": outcomes.name,
                    "fileName": outcomes.file_name,
                    "mimeType": "application/pdf",
                }
            }
            if outcomes
            else {}
        )
        return {
            "type": "https://schema.oparl.org/1.1/Meeting",
            "name": meeting.title,
            "meetingState": "abgesagt" if meeting.cancelled else "terminiert",
            "cancelled": meeting.cancelled,
            "start": meeting.start.isoformat(),
            "end": meeting.end.isoformat(),
            "location": {"type": "https://schema.oparl.org/1.1/Location", "description": meeting.location}
            if meeting.location
            else None,
            "agendaItem": items,
            **protocol,
        }

    def oparl_json(
        self, agenda: Agenda, title_of: Callable[[str], str] = str, outcomes: Outcomes | None = None
    ) -> bytes:
        return json.dumps(self.oparl(agenda, title_of, outcomes), ensure_ascii=False, indent=2).encode()

    # ---- internals -----------------------------------------------------------------------------

    def _target(
        self, room_id: str, meeting_id: int | None, *, after: Meeting | None = None, allow_any: bool = False
    ) -> Meeting:
        if meeting_id is not None:
            meeting = self._meetings.get(room_id, meeting_id)
            if meeting.cancelled and not allow_any:
                raise UserError("meeting.already_cancelled", id=meeting_id)
            return meeting
        upcoming = [m for m in self._meetings.upcoming(room_id) if m.start > self._meetings.now()]
        if after is not None:
            upcoming = [m for m in upcoming if m.start > after.start]
        if not upcoming:
            raise UserError("agenda.no_meeting")
        return upcoming[0]

    def _pending(self, room_id: str, item_id: int) -> Item:
        item = self.get(room_id, item_id)
        if item.status not in PENDING:
            raise UserError("agenda.already_decided", id=item_id, status=Term(f"agenda.status.{item.status}"))
        return item

    def _move(self, item: Item, target: Meeting, by: str | None, status: str = DEFERRED) -> None:
        position = self._next_position(target.id) if status in ON_AGENDA else None
        fields: dict[str, Any] = {"meeting_id": target.id, "status": status, "position": position}
        if item.meeting_id != target.id:
            fields["deferred_from"] = item.meeting_id
        if by is not None:
            fields.update(_decided(by))
        self._update(item.id, **fields)

    def _check_texts(self, title: str, description: str | None, duration_min: int | None) -> None:
        if not title.strip():
            raise UserError("agenda.need_title")
        if len(title) > MAX_TITLE or (description and len(description) > MAX_DESCRIPTION):
            raise UserError("agenda.too_long", title=MAX_TITLE, description=MAX_DESCRIPTION)
        if duration_min is not None and not 1 <= duration_min <= MAX_DURATION_MIN:
            raise UserError("agenda.bad_duration", high=MAX_DURATION_MIN)

    def _items(self, meeting_id: int, states: Sequence[str]) -> list[Item]:
        marks = ", ".join("?" for _ in states)
        rows = self._db.query(
            f"SELECT * FROM agenda_items WHERE meeting_id = ? AND status IN ({marks})"  # noqa: S608 — only "?" marks
            " ORDER BY position IS NULL, position, submitted_at, id",
            [meeting_id, *states],
        )
        return self._with_groups([_item(row) for row in rows])

    def _with_groups(self, items: list[Item]) -> list[Item]:
        if self._members is None or not items:
            return items
        groups = self._members.groups_of(item.submitter for item in items)
        return [replace(item, groups=groups.get(item.submitter, ())) for item in items]

    def _next_position(self, meeting_id: int) -> int:
        row = self._db.execute(
            "SELECT coalesce(max(position), 0) FROM agenda_items WHERE meeting_id = ? AND status IN (?, ?)",
            [meeting_id, *ON_AGENDA],
        ).fetchone()
        return int(row[0]) + 1

    def _renumber(self, meeting_id: int) -> None:
        with self._db.atomic():
            for place, item in enumerate(self._items(meeting_id, ON_AGENDA), start=1):
                self._db.execute("UPDATE agenda_items SET position = ? WHERE id = ?", [place, item.id])

    def _update(self, item_id: int, **fields: Any) -> None:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._db.atomic():
            self._db.execute(
                f"UPDATE agenda_items SET {assignments} WHERE id = ?",  # noqa: S608 — names are ours
                [*fields.values(), item_id],
            )


def _decided(by: str) -> dict[str, Any]:
    return {"decided_by": by, "decided_at": time.time()}


def _item(row: dict[str, Any]) -> Item:
    return Item(
        id=row["id"],
        room_id=row["room_id"],
        meeting_id=row["meeting_id"],
        title=row["title"],
        description=row["description"],
        duration_min=row["duration_min"],
        submitter=row["submitter"],
        submitter_name=row["submitter_name"] or row["submitter"],
        organisation=row["organisation"] or "",
        status=Status(row["status"]),
        position=row["position"],
        reason=row["reason"],
        deferred_from=row["deferred_from"],
    )
