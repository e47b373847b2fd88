"""Data protection: what a member's data is, their copy of it, forgetting them, and retention.

Forgetting deletes a member's reminders (and their joining others'), profile, attendance and usage counters, and replaces their name in
votes, agenda items and the minutes' entries by "ehemaliges Mitglied" — so that tallies, agendas and
decisions stay right. Retention purges ended polls, past meetings without minutes, sent reminders,
counters and audit entries older than the period; minutes and their decisions are the group's record
and stay.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from bot.errors import UserError
from bot.services.audit import Action, AuditLog
from bot.services.pseudonyms import Pseudonyms

FORMER_MEMBER = "ehemaliges Mitglied"


class Forgetting(Protocol):
    """Something that keeps a member's data outside the database and forgets it on request."""

    def forget(self, user_id: str) -> int: ...


CONFIRM_WITHIN_S = 600


class PrivacyService:
    def __init__(
        self,
        db: Database,
        tz: ZoneInfo,
        retention: timedelta,
        *,
        audit: AuditLog,
        pseudonyms: Pseudonyms,
        also_forgetting: Sequence[Forgetting],
    ) -> None:
        """``also_forgetting``: what else holds something of a member (the model's thread memory)."""
        self._db = db
        self._also_forgetting = tuple(also_forgetting)
        self._audit = audit
        self._pseudonyms = pseudonyms
        self.tz = tz
        self.retention = retention
        self._asked: dict[str, float] = {}

    # ---- a member's own data -------------------------------------------------------------------

    def export(self, user_id: str) -> dict[str, Any]:
        """Everything stored about ``user_id``, as JSON-ready data."""

        def rows(sql: str, params: list[Any]) -> list[dict[str, Any]]:
            return [dict(row) for row in self._db.query(sql, params)]

        return {
            "user_id": user_id,
            "exported_at": datetime.now(self.tz).isoformat(),
            "reminders": rows(
                "SELECT id, room_id, kind, text, first_at, rrule, next_ts, state, created_at FROM reminders"
                " WHERE creator = ? AND meeting_id IS NULL",
                [user_id],
            ),
            "votes": rows(
                "SELECT p.room_id, p.id AS poll_id, p.question, v.choices, v.channel, v.cast_ts FROM votes v"
                " JOIN polls p ON p.id = v.poll_id WHERE v.voter = ?",
                [user_id],
            ),
            "polls_created": rows(
                "SELECT id, room_id, question, state FROM polls WHERE created_by = ?", [user_id]
            ),
            "meetings_created": rows(
                "SELECT id, room_id, title, start_at, status FROM meetings WHERE created_by = ?", [user_id]
            ),
            "agenda_items": rows(
                "SELECT id, room_id, meeting_id, title, description, duration_min, submitter_name, organisation,"
                " submitted_at, status FROM agenda_items WHERE submitter = ?",
                [user_id],
            ),
            "minutes_entries": rows(
                "SELECT id, room_id, meeting_id, top_number, kind, text, created_at, year, seq, owner_name, due_at,"
                " done_at FROM tags WHERE author = ? AND removed_at IS NULL",
                [user_id],
            ),
            "minutes_chaired_or_approved": rows(
                "SELECT meeting_id, room_id, state, chair_name, started_at, ended_at, approved_at FROM minutes"
                " WHERE chair = ? OR approved_by = ?",
                [user_id, user_id],
            ),
            "minutes_entries_closed_or_corrected": rows(
                "SELECT id, room_id, kind, done_at, edited_at FROM tags WHERE done_by = ? OR edited_by = ?",
                [user_id, user_id],
            ),
            "action_items_owned": rows(
                "SELECT id, room_id, meeting_id, text, due_at, done_at FROM tags WHERE kind = 'action' AND owner = ?"
                " AND removed_at IS NULL",
                [user_id],
            ),
            "attendance": rows(
                "SELECT meeting_id, name, organisation, present, source, at FROM attendance WHERE user_id = ?",
                [user_id],
            ),
            "profile": rows(
                "SELECT organisation, groups, updated_by, updated_at FROM profiles WHERE user_id = ?",
                [user_id],
            ),
            "reminders_joined": rows(
                "SELECT r.id, r.room_id, r.text, r.next_ts, r.state FROM reminder_subscribers s"
                " JOIN reminders r ON r.id = s.reminder_id WHERE s.user_id = ?",
                [user_id],
            ),
            "documents_added": rows(
                "SELECT id, room_id, name, mimetype, size, added_at FROM documents WHERE added_by = ?",
                [user_id],
            ),
            "model_usage": rows(
                "SELECT room_id, ts, prompt_tokens, completion_tokens FROM llm_usage WHERE user_id = ?",
                [user_id],
            ),
            "audit": rows("SELECT ts, room_id, action, detail FROM audit WHERE actor = ?", [user_id]),
        }

    def export_json(self, user_id: str) -> bytes:
        return json.dumps(self.export(user_id), ensure_ascii=False, indent=2).encode()

    # ---- forgetting ----------------------------------------------------------------------------

    def ask_to_forget(self, user_id: str) -> None:
        self._asked[user_id] = time.time()

    def confirmed(self, user_id: str) -> bool:
        asked = self._asked.pop(user_id, None)
        return asked is not None and time.time() - asked <= CONFIRM_WITHIN_S

    def confirm_forget(self, user_id: str, room_id: str) -> dict[str, int]:
        """``!vergessen bestätigen``: forget ``user_id`` if they asked within the last ten minutes."""
        if not self.confirmed(user_id):
            raise UserError("privacy.nothing_to_confirm")
        return self.forget(user_id, room_id)

    def forget(self, user_id: str, room_id: str) -> dict[str, int]:
        """Delete and anonymise; returns how many records of each kind were touched. The request is
        logged without the name; what the member did as chair stays theirs in the log."""
        counts: dict[str, int] = {}
        with self._db.atomic():
            execute = self._db.execute
            execute(
                "DELETE FROM deliveries WHERE reminder_id IN"
                " (SELECT id FROM reminders WHERE creator = ? AND meeting_id IS NULL)",
                [user_id],
            )
            own_reminders = "SELECT id FROM reminders WHERE creator = ? AND meeting_id IS NULL"
            execute(f"DELETE FROM reminder_subscribers WHERE reminder_id IN ({own_reminders})", [user_id])  # noqa: S608
            execute(f"DELETE FROM reminder_messages WHERE reminder_id IN ({own_reminders})", [user_id])  # noqa: S608
            execute("DELETE FROM reminder_subscribers WHERE user_id = ?", [user_id])
            counts["reminders"] = execute(
                "DELETE FROM reminders WHERE creator = ? AND meeting_id IS NULL", [user_id]
            ).rowcount
            counts["profile"] = execute("DELETE FROM profiles WHERE user_id = ?", [user_id]).rowcount
            # A vote keeps counting, under a name that points to nobody (one per poll, so the
            # vote stays one vote), and a keyed pseudonym that keeps it the member's for the
            # one-vote rule should they vote again.
            counts["votes"] = 0
            for (poll_id,) in execute("SELECT poll_id FROM votes WHERE voter = ?", [user_id]).fetchall():
                counts["votes"] += execute(
                    "UPDATE votes SET voter = ? || ' ' || ((SELECT count(*) FROM votes v2 WHERE v2.poll_id = ?"
                    " AND v2.voter LIKE ? || '%') + 1), event_id = NULL, pseudonym = ? WHERE poll_id = ? AND voter = ?",
                    [
                        FORMER_MEMBER,
                        poll_id,
                        FORMER_MEMBER,
                        self._pseudonyms.of(Pseudonyms.poll_scope(poll_id), user_id),
                        poll_id,
                        user_id,
                    ],
                ).rowcount
            counts["agenda_items"] = execute(
                "UPDATE agenda_items SET submitter = ?, submitter_name = ? WHERE submitter = ?",
                [FORMER_MEMBER, FORMER_MEMBER, user_id],
            ).rowcount
            # The record stays (a decision is the group's), but no longer names them; their
            # attendance goes, and so do the reminders of actions they own (deleted above with
            # their other reminders).
            counts["minutes_entries"] = execute(
                "UPDATE tags SET author = ?, author_name = ? WHERE author = ?",
                [FORMER_MEMBER, FORMER_MEMBER, user_id],
            ).rowcount
            counts["action_items"] = execute(
                "UPDATE tags SET owner = ?, owner_name = ? WHERE owner = ?",
                [FORMER_MEMBER, FORMER_MEMBER, user_id],
            ).rowcount
            counts["attendance"] = execute("DELETE FROM attendance WHERE user_id = ?", [user_id]).rowcount
            # Their own uploads leave the record and its index (the triggers take the passages out).
            own = "SELECT id FROM documents WHERE added_by = ?"
            execute(f"DELETE FROM document_passages WHERE document_id IN ({own})", [user_id])  # noqa: S608
            counts["documents"] = execute("DELETE FROM documents WHERE added_by = ?", [user_id]).rowcount
            execute("DELETE FROM action_reminders WHERE reminder_id NOT IN (SELECT id FROM reminders)")
            execute("UPDATE minutes SET chair_name = ? WHERE chair = ?", [FORMER_MEMBER, user_id])
            for table, column in (
                ("polls", "created_by"),
                ("meetings", "created_by"),
                ("agenda_items", "decided_by"),
                ("minutes", "chair"),
                ("minutes", "approved_by"),
                ("tags", "done_by"),
                ("tags", "edited_by"),
            ):
                execute(
                    f"UPDATE {table} SET {column} = ? WHERE {column} = ?",  # noqa: S608 — our own names
                    [FORMER_MEMBER, user_id],
                )
            counts["model_usage"] = execute("DELETE FROM llm_usage WHERE user_id = ?", [user_id]).rowcount
            execute("DELETE FROM kv WHERE key = ?", [f"direct:{user_id}"])
        counts["model_context"] = sum(other.forget(user_id) for other in self._also_forgetting)
        self._audit.record(
            room_id,
            FORMER_MEMBER,
            Action.MEMBER_FORGOTTEN,
            reminders=counts["reminders"],
            votes=counts["votes"],
            items=counts["agenda_items"],
        )
        return counts

    # ---- retention -----------------------------------------------------------------------------

    def purge(self, now: float | None = None) -> dict[str, int]:
        """Remove what is older than the retention period; returns counts per kind."""
        counts: dict[str, int] = {}
        for _ in self.purge_steps(counts, now):
            pass
        return counts

    def purge_steps(self, counts: dict[str, int], now: float | None = None) -> Iterator[None]:
        """The purge in short transactions of at most ``PURGE_CHUNK`` rows, yielding after each: the
        app lets the sync and the commands run in between, so a large purge neither blocks the event
        loop nor holds the database lock for long. Children go before their parents, so an
        interrupted purge leaves nothing dangling and the next one goes on."""
        cutoff = (time.time() if now is None else now) - self.retention.total_seconds()
        for key, statement in PURGE_PLAN:
            while True:
                with self._db.atomic():
                    changed = self._db.execute(statement, [cutoff] * statement.count("?")).rowcount
                if key is not None:
                    counts[key] = counts.get(key, 0) + changed
                yield
                if changed < PURGE_CHUNK:
                    break


PURGE_CHUNK = 500
_ENDED_POLLS = "SELECT id FROM polls WHERE state != 'open' AND closed_at < ?"
# A meeting with minutes is part of the record (its decisions, its agenda): it stays.
_PAST_MEETINGS = (
    "SELECT id FROM meetings WHERE start_ts + coalesce(duration_min, 120) * 60 < ?"
    " AND id NOT IN (SELECT meeting_id FROM minutes)"
)
_PAST_MEETING_REMINDERS = f"SELECT id FROM reminders WHERE meeting_id IN ({_PAST_MEETINGS})"  # noqa: S608
_FINISHED_REMINDERS = "SELECT id FROM reminders WHERE state != 'active' AND created_at < ?"


def _delete(table: str, where: str) -> str:
    return f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE {where} LIMIT {PURGE_CHUNK})"  # noqa: S608 — our own names


PURGE_PLAN: tuple[tuple[str | None, str], ...] = (
    (None, _delete("votes", f"poll_id IN ({_ENDED_POLLS})")),
    (None, _delete("poll_options", f"poll_id IN ({_ENDED_POLLS})")),
    ("polls", _delete("polls", "state != 'open' AND closed_at < ?")),
    (None, _delete("agenda_items", f"meeting_id IN ({_PAST_MEETINGS})")),
    (None, _delete("deliveries", f"reminder_id IN ({_PAST_MEETING_REMINDERS})")),
    (None, _delete("reminders", f"meeting_id IN ({_PAST_MEETINGS})")),
    (
        None,
        f"UPDATE polls SET meeting_id = NULL WHERE rowid IN (SELECT rowid FROM polls WHERE meeting_id IN"  # noqa: S608
        f" ({_PAST_MEETINGS}) LIMIT {PURGE_CHUNK})",
    ),
    ("meetings", _delete("meetings", f"id IN ({_PAST_MEETINGS})")),
    (None, _delete("deliveries", f"reminder_id IN ({_FINISHED_REMINDERS})")),
    ("reminders", _delete("reminders", "state != 'active' AND created_at < ?")),
    # Of the reminders just gone: who had joined them, and which messages spoke of them.
    (None, _delete("reminder_subscribers", "reminder_id NOT IN (SELECT id FROM reminders)")),
    (None, _delete("reminder_messages", "reminder_id NOT IN (SELECT id FROM reminders)")),
    # Also the records of a recurring reminder that is still active: each occurrence ages.
    ("deliveries", _delete("deliveries", "due_ts < ? AND outcome != 'pending'")),
    ("model_usage", _delete("llm_usage", "ts < ?")),
    (None, _delete("document_passages", "document_id IN (SELECT id FROM documents WHERE added_at < ?)")),
    ("documents", _delete("documents", "added_at < ?")),
    ("audit", _delete("audit", "ts < ?")),
)
