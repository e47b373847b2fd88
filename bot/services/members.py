"""Members and their stakeholder groups: profiles, the room by group and organisation, how many of
each group have done something (voted, attended), and each group's participation over meetings.

The group was founded so that every stakeholder group is heard: this is what lets the bot say
which group has not been. A profile is the member's across rooms; the groups are the configured
ones (``[groups] names``), the organisation is the chair's word or else the homeserver's domain.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlite_utils import Database

from bot.errors import UserError
from bot.services.audit import Action, AuditLog

MAX_GROUPS_PER_MEMBER = 4
MATRIX_ID = re.compile(r"@[a-z0-9._=\-/+]+:[a-z0-9.\-]+(?::\d+)?", re.IGNORECASE)


class Roster(Protocol):
    """Who is in a room (without the bot), and how they are called."""

    def members(self, room_id: str) -> list[str]: ...

    def display_name(self, room_id: str, user_id: str) -> str: ...


class GroupLookup(Protocol):
    """What other services ask of the member directory."""

    @property
    def group_names(self) -> tuple[str, ...]: ...

    def groups_of(self, users: Iterable[str]) -> Mapping[str, tuple[str, ...]]: ...

    def organisation_of(self, user_id: str) -> str | None: ...

    def absent_groups(self, room_id: str, present: Collection[str]) -> AbsentGroups: ...


@dataclass(frozen=True)
class AbsentGroups:
    """Which stakeholder groups are not present: those with members in the room of whom none is,
    and those with no member in the room at all."""

    absent: tuple[str, ...] = ()
    without_members: tuple[str, ...] = ()


@dataclass(frozen=True)
class Profile:
    user_id: str
    organisation: str | None
    """The chair's word, else from the homeserver's domain; None: none of the organisations (extern)."""
    organisation_set: bool
    """Set by the chair (not derived from the domain)."""
    groups: tuple[str, ...]


@dataclass(frozen=True)
class GroupCount:
    """Of a group's members in the room, how many did it (voted, attended)."""

    group: str | None
    """A configured group; None: the members who named none."""
    done: int
    total: int


@dataclass(frozen=True)
class Member:
    profile: Profile
    name: str


@dataclass(frozen=True)
class RoomMembers:
    """``!mitglieder``: the room's members by group (a member of two groups stands under both)."""

    by_group: list[tuple[str | None, list[Member]]]
    by_organisation: list[tuple[str | None, list[Member]]]
    total: int


@dataclass(frozen=True)
class Assigned:
    """``!gruppe``: what was set for whom."""

    name: str
    is_organisation: bool
    users: tuple[str, ...]
    removed: bool = False


@dataclass(frozen=True)
class GroupParticipation:
    group: str | None
    members: int
    meetings_present: int
    """Of the meetings looked at, in how many at least one member of the group was present."""
    attendances: int
    """Member-meetings present (two members in one meeting: 2)."""
    items: int
    """Agenda items submitted for those meetings."""
    votes: int
    """Votes cast in the polls started in the same period."""
    polls: int


@dataclass(frozen=True)
class Report:
    """``!bericht``: per group, participation over the last meetings held."""

    meetings: int
    since: datetime | None
    polls: int
    groups: list[GroupParticipation]


def belongs(own: tuple[str, ...], group: str | None) -> bool:
    """Is a member with the groups ``own`` in ``group`` (None: the members who named none)?"""
    return group in own if group is not None else not own


def count_by_group(
    order: Sequence[str], groups: Mapping[str, tuple[str, ...]], members: Iterable[str], done: Collection[str]
) -> list[GroupCount]:
    """Per configured group (in its order), then those without one: of its members, how many are in
    ``done``. Empty when no member named a group: then there is nothing to break down."""
    members = list(members)
    if not any(groups.get(member) for member in members):
        return []
    counts: list[GroupCount] = []
    for group in (*order, None):
        own = [m for m in members if belongs(groups.get(m, ()), group)]
        if own:
            counts.append(GroupCount(group, sum(1 for m in own if m in done), len(own)))
    return counts


def match_name(text: str, names: Sequence[str]) -> str | None:
    """The name ``text`` means: the same ignoring case, else the only one it begins ("klinik" → Kliniken)."""
    wanted = text.strip().casefold()
    if not wanted:
        return None
    exact = [name for name in names if name.casefold() == wanted]
    if exact:
        return exact[0]
    starting = [name for name in names if name.casefold().startswith(wanted)]
    return starting[0] if len(starting) == 1 else None


class MemberDirectory:
    def __init__(
        self,
        db: Database,
        *,
        groups: Sequence[str],
        organisations: Mapping[str, str],
        roster: Roster,
        audit: AuditLog,
    ) -> None:
        self._db = db
        self._groups = tuple(groups)
        self._by_domain = {domain.lower(): name for domain, name in organisations.items()}
        self.organisations = tuple(dict.fromkeys(self._by_domain.values()))
        self._roster = roster
        self._audit = audit

    @property
    def group_names(self) -> tuple[str, ...]:
        return self._groups

    # ---- reading -------------------------------------------------------------------------------

    def profile(self, user_id: str) -> Profile:
        return self.profiles([user_id])[user_id]

    def profiles(self, users: Iterable[str]) -> dict[str, Profile]:
        wanted = list(dict.fromkeys(users))
        stored: dict[str, tuple[str | None, tuple[str, ...]]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            for user_id, organisation, groups in self._db.execute(
                f"SELECT user_id, organisation, groups FROM profiles WHERE user_id IN ({marks})",  # noqa: S608 — only "?" marks
                chunk,
            ).fetchall():
                # A group the operator has since removed from the list is no longer shown.
                known = tuple(g for g in json.loads(groups) if g in self._groups)
                stored[user_id] = (organisation, known)
        result = {}
        for user_id in wanted:
            organisation, groups = stored.get(user_id, (None, ()))
            result[user_id] = Profile(
                user_id,
                organisation or self._domain_organisation(user_id),
                organisation is not None,
                groups,
            )
        return result

    def groups_of(self, users: Iterable[str]) -> dict[str, tuple[str, ...]]:
        return {user: profile.groups for user, profile in self.profiles(users).items()}

    def organisation_of(self, user_id: str) -> str | None:
        return self.profile(user_id).organisation

    def absent_groups(self, room_id: str, present: Collection[str]) -> AbsentGroups:
        groups = self.groups_of(self._roster.members(room_id))
        if not any(groups.values()):
            return AbsentGroups()  # nobody named a group: there is nothing to say
        here = {group for user in present for group in groups.get(user, self.profile(user).groups)}
        with_members = {group for own in groups.values() for group in own}
        return AbsentGroups(
            tuple(g for g in self._groups if g in with_members and g not in here),
            tuple(g for g in self._groups if g not in with_members),
        )

    def _domain_organisation(self, user_id: str) -> str | None:
        domain = user_id.split(":", 1)[1] if ":" in user_id else ""
        return self._by_domain.get(domain.lower())

    def room(self, room_id: str) -> RoomMembers:
        """``!mitglieder``: the room by group and by organisation, names sorted."""
        users = self._roster.members(room_id)
        profiles = self.profiles(users)
        members = sorted(
            (Member(profiles[user], self._roster.display_name(room_id, user)) for user in users),
            key=lambda member: member.name.casefold(),
        )
        by_group: list[tuple[str | None, list[Member]]] = []
        for group in (*self._groups, None):
            own = [m for m in members if belongs(m.profile.groups, group)]
            if own:
                by_group.append((group, own))
        by_organisation: list[tuple[str | None, list[Member]]] = []
        for organisation in (*self.organisations, None):
            own = [m for m in members if m.profile.organisation == organisation]
            if own:
                by_organisation.append((organisation, own))
        others = sorted(
            {m.profile.organisation for m in members} - {*self.organisations, None},
            key=str,
        )
        for organisation in others:  # set by the chair to a name outside the configured ones
            by_organisation.append(
                (organisation, [m for m in members if m.profile.organisation == organisation])
            )
        return RoomMembers(by_group, by_organisation, len(members))

    # ---- changing ------------------------------------------------------------------------------

    def set_own_groups(self, user_id: str, text: str) -> Profile:
        """``!profil <Gruppe>[, <Gruppe>]`` (``keine`` clears): the member's own groups."""
        wanted = [part for part in re.split(r"[,;]+", text) if part.strip()]
        if len(wanted) == 1 and wanted[0].strip().casefold() in ("keine", "none", "-"):
            groups: list[str] = []
        else:
            groups = list(dict.fromkeys(self._group(part) for part in wanted))
        if len(groups) > MAX_GROUPS_PER_MEMBER:
            raise UserError("members.too_many_groups", limit=MAX_GROUPS_PER_MEMBER)
        self._store(user_id, groups=groups, by=user_id)
        return self.profile(user_id)

    def assign(
        self, room_id: str, by: str, name: str, users: Sequence[str], *, remove: bool = False
    ) -> Assigned:
        """``!gruppe <Name> @Person …`` (chair): a group added to (or taken from) each person, or,
        when ``name`` is an organisation, their organisation set (``remove``: back to the domain's)."""
        if not users:
            raise UserError("members.need_people")
        members = set(self._roster.members(room_id))
        strangers = [user for user in users if user not in members]
        if strangers:
            raise UserError("members.not_in_room", who=", ".join(strangers))
        organisation = match_name(name, self.organisations)
        group = None if organisation else match_name(name, self._groups)
        if organisation is None and group is None:
            raise UserError(
                "members.unknown_name",
                name=name,
                groups=", ".join(self._groups),
                organisations=", ".join(self.organisations),
            )
        profiles = self.profiles(users)
        for user in users:
            if organisation is not None:
                self._store(user, organisation=None if remove else organisation, by=by)
                continue
            current = list(profiles[user].groups)
            if remove:
                changed = [g for g in current if g != group]
            else:
                changed = current if group in current else [*current, str(group)]
                if len(changed) > MAX_GROUPS_PER_MEMBER:
                    raise UserError("members.too_many_groups", limit=MAX_GROUPS_PER_MEMBER)
            self._store(user, groups=changed, by=by)
        chosen = str(organisation or group)
        self._audit.record(
            room_id,
            by,
            Action.GROUP_REMOVED if remove else Action.GROUP_ASSIGNED,
            name=chosen,
            count=len(users),
        )
        return Assigned(chosen, organisation is not None, tuple(users), remove)

    def _group(self, text: str) -> str:
        group = match_name(text, self._groups)
        if group is None:
            raise UserError("members.unknown_group", name=text.strip(), groups=", ".join(self._groups))
        return group

    _KEEP = object()

    def _store(
        self,
        user_id: str,
        *,
        by: str,
        groups: Sequence[str] | None = None,
        organisation: str | object | None = _KEEP,
    ) -> None:
        with self._db.atomic():
            self._db.execute(
                "INSERT OR IGNORE INTO profiles (user_id, groups, updated_by, updated_at) VALUES (?, '[]', ?, ?)",
                [user_id, by, time.time()],
            )
            if groups is not None:
                self._db.execute(
                    "UPDATE profiles SET groups = ?, updated_by = ?, updated_at = ? WHERE user_id = ?",
                    [json.dumps(list(groups), ensure_ascii=False), by, time.time(), user_id],
                )
            if organisation is not self._KEEP:
                self._db.execute(
                    "UPDATE profiles SET organisation = ?, updated_by = ?, updated_at = ? WHERE user_id = ?",
                    [organisation, by, time.time(), user_id],
                )

    # ---- participation -------------------------------------------------------------------------

    def participation(self, room_id: str, meetings: int, now: datetime) -> Report:
        """``!bericht [<n>]``: for the last ``meetings`` meetings held in the room, per group of the
        room's members: attendance, agenda items submitted, votes in the polls of that period."""
        held = self._db.execute(
            "SELECT id, start_ts FROM meetings WHERE room_id = ? AND status = 'planned' AND start_ts <= ?"
            " ORDER BY start_ts DESC LIMIT ?",
            [room_id, now.timestamp(), meetings],
        ).fetchall()
        meeting_ids = [row[0] for row in held]
        since_ts = min((row[1] for row in held), default=None)
        users = self._roster.members(room_id)
        groups = self.groups_of(users)
        present: dict[str, set[int]] = {}
        for user_id, meeting_id in self._pairs(
            "SELECT user_id, meeting_id FROM attendance WHERE present = 1 AND meeting_id IN ({ids})",
            meeting_ids,
        ):
            present.setdefault(user_id, set()).add(meeting_id)
        items = dict(
            self._pairs(
                "SELECT submitter, count(*) FROM agenda_items WHERE meeting_id IN ({ids}) GROUP BY submitter",
                meeting_ids,
            )
        )
        poll_ids = [
            row[0]
            for row in self._db.execute(
                "SELECT id FROM polls WHERE room_id = ? AND state != 'withdrawn' AND created_at >= ?",
                [room_id, since_ts if since_ts is not None else now.timestamp()],
            ).fetchall()
        ]
        votes = dict(
            self._pairs(
                "SELECT voter, count(*) FROM votes WHERE spoiled = 0 AND poll_id IN ({ids}) GROUP BY voter",
                poll_ids,
            )
        )
        rows = []
        for group in (*self._groups, None):
            own = [u for u in users if belongs(groups.get(u, ()), group)]
            if not own and group is None:
                continue
            attended = [present.get(u, set()) for u in own]
            rows.append(
                GroupParticipation(
                    group,
                    len(own),
                    len(set().union(*attended)) if attended else 0,
                    sum(len(meetings_of) for meetings_of in attended),
                    sum(items.get(u, 0) for u in own),
                    sum(votes.get(u, 0) for u in own),
                    len(poll_ids),
                )
            )
        since = datetime.fromtimestamp(since_ts, now.tzinfo) if since_ts is not None else None
        return Report(len(meeting_ids), since, len(poll_ids), rows)

    def _pairs(self, sql: str, ids: Sequence[int]) -> list[tuple[Any, Any]]:
        """(user, value) rows of ``sql`` for the ids (``{ids}`` in it becomes their placeholders)."""
        marks = ", ".join("?" for _ in ids) or "NULL"
        return [(row[0], row[1]) for row in self._db.execute(sql.format(ids=marks), list(ids)).fetchall()]

    # ---- data protection -----------------------------------------------------------------------

    def export(self, user_id: str) -> dict[str, object] | None:
        row = self._db.execute(
            "SELECT organisation, groups, updated_by, updated_at FROM profiles WHERE user_id = ?", [user_id]
        ).fetchone()
        if row is None:
            return None
        return {
            "organisation": row[0],
            "groups": json.loads(row[1]),
            "updated_by": row[2],
            "updated_at": row[3],
        }

    def forget(self, user_id: str) -> int:
        with self._db.atomic():
            cursor = self._db.execute("DELETE FROM profiles WHERE user_id = ?", [user_id])
        return int(cursor.rowcount or 0)


def people_in(text: str, mentioned: Sequence[str]) -> list[str]:
    """Whom a command names: its mention pills (``m.mentions``) and Matrix ids typed out, in order."""
    found = list(dict.fromkeys([*mentioned, *MATRIX_ID.findall(text)]))
    return found
