"""SQLite storage: one file in ``data_dir``, WAL mode, schema only through migrations.

A shipped migration is never edited; a schema change is a new function appended below.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

DB_FILENAME = "akbot.db"

migrations = Migrations("akbot")


@migrations()
def m001_core(db: Database) -> None:
    db.table("kv").create({"key": str, "value": str}, pk="key")
    db.table("handled_events").create({"event_id": str, "room_id": str, "handled_at": float}, pk="event_id")
    db.table("handled_events").create_index(["handled_at"])
    db.table("rooms").create(
        {"room_id": str, "language": str, "joined_via": str, "joined_at": float}, pk="room_id"
    )


@migrations()
def m002_reminders_meetings(db: Database) -> None:
    db.table("meetings").create(
        {
            "id": int,
            "room_id": str,
            "title": str,
            "location": str,
            "start_at": str,  # ISO 8601 with offset: the wall-clock time the chair meant
            "start_ts": float,
            "duration_min": int,
            "uid": str,
            "sequence": int,
            "status": str,  # geplant | abgesagt
            "created_by": str,
            "created_at": float,
            "updated_at": float,
        },
        pk="id",
        not_null={"room_id", "title", "start_at", "start_ts", "uid", "sequence", "status"},
    )
    db.table("meetings").create_index(["room_id", "status", "start_ts"])
    db.table("reminders").create(
        {
            "id": int,
            "room_id": str,
            "creator": str,
            "kind": str,  # personal | room | meeting
            "text": str,
            "first_at": str,  # ISO 8601 with offset; the series' DTSTART for recurring ones
            "rrule": str,
            "next_ts": float,  # when it is due next; NULL once done or deleted
            "mention_room": int,
            "meeting_id": int,
            "offset_s": int,
            "state": str,  # active | done | deleted
            "created_at": float,
        },
        pk="id",
        not_null={"room_id", "creator", "kind", "text", "first_at", "state"},
        foreign_keys=[("meeting_id", "meetings", "id")],
    )
    db.table("reminders").create_index(["state", "next_ts"])
    db.table("reminders").create_index(["room_id", "state"])
    db.table("deliveries").create(
        {
            "id": int,
            "reminder_id": int,
            "due_ts": float,
            "transaction_id": str,
            "late": int,
            "outcome": str,  # pending | sent | summarised
            "event_id": str,
            "sent_ts": float,
        },
        pk="id",
        not_null={"reminder_id", "due_ts", "transaction_id", "outcome"},
        foreign_keys=[("reminder_id", "reminders", "id")],
    )
    db.table("deliveries").create_index(["reminder_id", "due_ts"], unique=True)
    db.table("deliveries").create_index(["transaction_id"], unique=True)


@migrations()
def m003_polls(db: Database) -> None:
    db.table("polls").create(
        {
            "id": int,
            "room_id": str,
            "question": str,
            "anonymous": int,
            "deadline_ts": float,
            "state": str,  # offen | geschlossen | zurückgezogen (English since m008)
            "start_event_id": str,
            "summary_event_id": str,
            "created_by": str,
            "created_at": float,
            "closed_at": float,
            "winner": int,
            "meeting_id": int,
            "nudged": int,
        },
        pk="id",
        not_null={"room_id", "question", "state", "created_by"},
    )
    db.table("polls").create_index(["room_id", "state"])
    db.table("polls").create_index(["start_event_id"])
    db.table("poll_options").create(
        {"poll_id": int, "position": int, "label": str, "at": str},
        pk=("poll_id", "position"),
        not_null={"label"},
        foreign_keys=[("poll_id", "polls", "id")],
    )
    db.table("votes").create(
        {
            "poll_id": int,
            "voter": str,
            "choices": str,  # JSON {"<position>": "ja" | "wenn_nötig"} (yes | maybe since m008); {} means none fits
            "spoiled": int,
            "channel": str,  # text | native
            "cast_ts": float,  # the vote's own timestamp (origin_server_ts): the latest one wins
            "event_id": str,
        },
        pk=("poll_id", "voter"),
        not_null={"choices", "channel", "cast_ts"},
        foreign_keys=[("poll_id", "polls", "id")],
    )


@migrations()
def m004_agenda(db: Database) -> None:
    db.table("agenda_items").create(
        {
            "id": int,
            "room_id": str,
            "meeting_id": int,
            "title": str,
            "description": str,
            "duration_min": int,
            "submitter": str,
            "submitter_name": str,
            "organisation": str,
            "submitted_at": float,
            "status": str,  # eingereicht | nachgereicht | angenommen | abgelehnt | vertagt | zurückgezogen
            "position": int,  # order among the accepted items of its meeting
            "reason": str,
            "deferred_from": int,
            "decided_by": str,
            "decided_at": float,
        },
        pk="id",
        not_null={"room_id", "meeting_id", "title", "submitter", "status"},
        foreign_keys=[("meeting_id", "meetings", "id")],
    )
    db.table("agenda_items").create_index(["meeting_id", "status"])


@migrations()
def m005_llm(db: Database) -> None:
    db.table("rooms").add_column("model", str)
    # Counters only: who asked when and how many tokens — never the prompt or the answer.
    db.table("llm_usage").create(
        {
            "id": int,
            "room_id": str,
            "user_id": str,
            "ts": float,
            "prompt_tokens": int,
            "completion_tokens": int,
        },
        pk="id",
        not_null={"user_id", "ts"},
    )
    db.table("llm_usage").create_index(["user_id", "ts"])


@migrations()
def m006_audit(db: Database) -> None:
    db.table("audit").create(
        {"id": int, "ts": float, "room_id": str, "actor": str, "action": str, "detail": str},
        pk="id",
        not_null={"ts", "actor", "action"},
    )
    db.table("audit").create_index(["room_id", "ts"])


@migrations()
def m007_room_inviter(db: Database) -> None:
    # Who invited the bot, from the invite event the homeserver validated (not the stripped state).
    db.table("rooms").add_column("inviter", str)


@migrations()
def m008_english_poll_values(db: Database) -> None:
    # Domain values in English, like the code: poll states and the answers stored with each vote.
    states = {"offen": "open", "geschlossen": "closed", "zurückgezogen": "withdrawn"}
    for old, new in states.items():
        db.execute("UPDATE polls SET state = ? WHERE state = ?", [new, old])
    answers = {"ja": "yes", "wenn_nötig": "maybe"}
    for poll_id, voter, choices in db.execute("SELECT poll_id, voter, choices FROM votes").fetchall():
        translated = {
            position: answers.get(answer, answer) for position, answer in json.loads(choices).items()
        }
        db.execute(
            "UPDATE votes SET choices = ? WHERE poll_id = ? AND voter = ?",
            [json.dumps(translated), poll_id, voter],
        )


_AUDIT_ACTIONS = {
    "umfrage gestartet": ("poll.started", r"#(?P<id>\d+)"),
    "umfrage geschlossen": ("poll.closed", r"#(?P<id>\d+) Sieger (?P<winner>\d+|None)"),
    "umfrage zurückgezogen": ("poll.withdrawn", r"#(?P<id>\d+)"),
    "top angenommen": ("item.accepted", r"#(?P<id>\d+)"),
    "top abgelehnt": ("item.rejected", r"#(?P<id>\d+)"),
    "top vertagt": ("item.deferred", r"#(?P<id>\d+) auf Sitzung #(?P<meeting>\d+)"),
    "top verschoben": ("item.moved", r"#(?P<id>\d+) auf Platz (?P<position>\d+)"),
    "sitzung angelegt": ("meeting.created", r"#(?P<id>\d+) (?P<start>\S+)"),
    "sitzung verschoben": ("meeting.moved", r"#(?P<id>\d+) (?P<start>\S+)"),
    "sitzung abgesagt": ("meeting.cancelled", r"#(?P<id>\d+)"),
    "modell gewechselt": ("model.changed", r"(?P<name>.+)"),
    "vergessen": (
        "member.forgotten",
        r"reminders=(?P<reminders>\d+), votes=(?P<votes>\d+), agenda_items=(?P<items>\d+).*",
    ),
}


@migrations()
def m009_audit_actions(db: Database) -> None:
    # Actions become codes with parameters, worded by ``!audit`` in the room's language. An old
    # detail that does not parse stays as it was, shown next to the action.
    db.table("audit").add_column("params", str)
    for row in db.execute("SELECT id, action, detail FROM audit").fetchall():
        entry_id, action, detail = row
        if action not in _AUDIT_ACTIONS:
            continue
        code, pattern = _AUDIT_ACTIONS[action]
        match = re.fullmatch(pattern, detail or "")
        if match is None:
            db.execute("UPDATE audit SET action = ? WHERE id = ?", [code, entry_id])
            continue
        params = {
            key: int(value) if value.isdigit() else (0 if value == "None" else value)
            for key, value in match.groupdict().items()
        }
        db.execute(
            "UPDATE audit SET action = ?, params = ?, detail = NULL WHERE id = ?",
            [code, json.dumps(params), entry_id],
        )


@migrations()
def m010_english_meeting_and_item_values(db: Database) -> None:
    # Like m008 for polls: states in English; members read them through the catalogs.
    for old, new in (("geplant", "planned"), ("abgesagt", "cancelled")):
        db.execute("UPDATE meetings SET status = ? WHERE status = ?", [new, old])
    item_states = {
        "eingereicht": "submitted",
        "nachgereicht": "late",
        "angenommen": "accepted",
        "abgelehnt": "rejected",
        "vertagt": "deferred",
        "zurückgezogen": "withdrawn",
    }
    for old, new in item_states.items():
        db.execute("UPDATE agenda_items SET status = ? WHERE status = ?", [new, old])


@migrations()
def m011_vote_pseudonyms(db: Database) -> None:
    # A forgotten member's vote keeps a keyed pseudonym (bot/services/pseudonyms.py), so that it
    # stays theirs for the one-vote rule without their name.
    db.table("votes").add_column("pseudonym", str)
    db.table("votes").create_index(["poll_id", "pseudonym"])


@migrations()
def m012_minutes(db: Database) -> None:
    # The record of a meeting (bot/services/minutes.py): its run and minutes, who attended, and the
    # tags members wrote — decisions, action items, notes. Never the chat itself.
    db.table("minutes").create(
        {
            "meeting_id": int,
            "room_id": str,
            "state": str,  # running | draft | approved
            "chair": str,
            "chair_name": str,
            "started_at": float,  # times of the room (the commands' server timestamps)
            "ended_at": float,
            "current_top": int,  # the TOP number members see; NULL when there is no agenda
            "tops": str,  # JSON [{"number", "title", "item_id"}]: the agenda as it stood at the start
            "switches": str,  # JSON [[time, TOP number], …]: which TOP was current when
            "switch_event": str,  # the last switching command: a replay does not switch twice
            "approved_by": str,
            "approved_at": float,
        },
        pk="meeting_id",
        not_null={"room_id", "state", "chair", "started_at"},
    )
    db.table("minutes").create_index(["room_id", "state"])
    db.table("attendance").create(
        {
            "meeting_id": int,
            "user_id": str,
            "name": str,
            "organisation": str,  # NULL: none of the configured organisations ("extern")
            "present": int,  # 1 present, 0 said they are absent
            "source": str,  # spoke | said
            "at": float,
        },
        pk=("meeting_id", "user_id"),
        not_null={"present", "source", "at"},
    )
    db.table("tags").create(
        {
            "id": int,
            "room_id": str,
            "meeting_id": int,  # NULL: outside a meeting (e.g. a decision taken by poll)
            "top_number": int,
            "top_title": str,
            "kind": str,  # decision | action | info
            "text": str,
            "author": str,
            "author_name": str,
            "event_id": str,  # the command's event: a replayed command never records twice
            "created_at": float,
            "year": int,  # decisions: numbered per room and year, "2026/07"
            "seq": int,
            "vote": str,  # decisions: JSON {"unanimous": true} or {"yes": 8, "no": 1, "abstain": 2}
            "owner": str,  # actions: a Matrix ID, or a name as written
            "owner_name": str,
            "due_at": str,
            "due_ts": float,
            "done_at": float,
            "done_by": str,
            "edited_by": str,
            "edited_at": float,
            # Taken back: the text goes, the row stays so that no number is given out twice.
            "removed_at": float,
            "removed_event": str,
        },
        pk="id",
        not_null={"room_id", "kind", "text", "author", "created_at"},
    )
    db.table("tags").create_index(["event_id"], unique=True)
    db.table("tags").create_index(["room_id", "kind"])
    db.table("tags").create_index(["meeting_id"])
    db.table("action_reminders").create(
        {"action_id": int, "reminder_id": int}, pk=("action_id", "reminder_id")
    )
    db.table("action_reminders").create_index(["reminder_id"])


RECORD_TOKENIZER = "unicode61 remove_diacritics 2"
"""Measured against trigram with bench/retrieval.py (the German evaluation set): see the README."""

# The search index of a room's record (bot/services/knowledge.py). Triggers keep it in step with
# the record, in the same transaction as each change. rowid = source id * 8 + kind code.
_RECORD_SOURCES = {
    "meetings": (
        1,
        "'meeting'",
        "NEW.title",
        "coalesce(NEW.location, '')",
        "substr(NEW.start_at, 1, 10)",
        "NEW.status != 'cancelled'",
        ("title", "location", "start_at", "status"),
    ),
    "agenda_items": (
        2,
        "'item'",
        "NEW.title",
        "coalesce(NEW.description, '') || ' ' || coalesce(NEW.submitter_name, '') || ' ' || coalesce(NEW.organisation, '')",
        "(SELECT substr(start_at, 1, 10) FROM meetings WHERE id = NEW.meeting_id)",
        "NEW.status IN ('submitted', 'late', 'accepted', 'deferred')",
        ("title", "description", "submitter_name", "status", "meeting_id"),
    ),
    "tags": (
        3,
        "NEW.kind",
        "coalesce(NEW.top_title, '')",
        "NEW.text || ' ' || coalesce(NEW.owner_name, '')",
        "date(NEW.created_at, 'unixepoch')",
        "NEW.removed_at IS NULL",
        ("text", "top_title", "owner_name", "removed_at"),
    ),
    "minutes": (
        4,
        "'minutes'",
        "(SELECT title FROM meetings WHERE id = NEW.meeting_id)",
        "(SELECT coalesce(group_concat(text, ' '), '') FROM tags WHERE meeting_id = NEW.meeting_id"
        " AND removed_at IS NULL)",
        "(SELECT substr(start_at, 1, 10) FROM meetings WHERE id = NEW.meeting_id)",
        "NEW.state = 'approved'",
        ("state",),
    ),
}


def create_record_index(db: Database, tokenizer: str = RECORD_TOKENIZER) -> None:
    """The index table, its triggers, and the index of what is already stored."""
    db.execute(
        "CREATE VIRTUAL TABLE record_index USING fts5(title, body, room_id UNINDEXED, kind UNINDEXED,"
        f" ref UNINDEXED, day UNINDEXED, tokenize = '{tokenizer}')"
    )
    for table, (code, kind, title, body, day, when, columns) in _RECORD_SOURCES.items():
        key = "meeting_id" if table == "minutes" else "id"
        parts = (kind, title, body, day, when)
        insert = _record_insert(table, key, code, parts, "NEW")
        delete = f"DELETE FROM record_index WHERE rowid = OLD.{key} * 8 + {code};"  # noqa: S608 — our names
        db.execute(f"CREATE TRIGGER record_{table}_insert AFTER INSERT ON {table} BEGIN {insert}; END")
        db.execute(
            f"CREATE TRIGGER record_{table}_update AFTER UPDATE OF {', '.join(columns)} ON {table}"
            f" BEGIN {delete} {insert}; END"
        )
        db.execute(f"CREATE TRIGGER record_{table}_delete AFTER DELETE ON {table} BEGIN {delete} END")
        db.execute(_record_insert(table, key, code, parts, "source"))  # what is stored already


def _record_insert(table: str, key: str, code: int, parts: tuple[str, ...], row: str) -> str:
    """The index row of ``row`` (``NEW`` in a trigger, else every row of ``table``)."""
    kind, title, body, day, when = (part.replace("NEW.", f"{row}.") for part in parts)
    source = "" if row == "NEW" else f" FROM {table} AS {row}"
    return (
        "INSERT INTO record_index (rowid, title, body, room_id, kind, ref, day) SELECT"
        f" {row}.{key} * 8 + {code}, {title}, {body}, {row}.room_id, {kind}, {row}.{key}, {day}"
        f"{source} WHERE {when}"
    )


@migrations()
def m013_record_index(db: Database) -> None:
    create_record_index(db)


@migrations()
def m014_documents(db: Database) -> None:
    # Documents the chair adds to the record (!wissen hinzufügen): their text in passages of a few
    # hundred words, each indexed like the rest of the record (kind code 5, ref = passage id).
    db.table("documents").create(
        {
            "id": int,
            "room_id": str,
            "name": str,
            "mimetype": str,
            "size": int,
            "added_by": str,
            "added_by_name": str,
            "added_at": float,
            "event_id": str,  # the file's message in the room
        },
        pk="id",
        not_null={"room_id", "name", "added_by", "added_at"},
    )
    db.table("documents").create_index(["room_id"])
    db.table("document_passages").create(
        {"id": int, "document_id": int, "room_id": str, "position": int, "text": str},
        pk="id",
        not_null={"document_id", "room_id", "position", "text"},
    )
    db.table("document_passages").create_index(["document_id"])
    title = "(SELECT name FROM documents WHERE id = NEW.document_id)"
    day = "(SELECT date(added_at, 'unixepoch') FROM documents WHERE id = NEW.document_id)"
    insert = (
        "INSERT INTO record_index (rowid, title, body, room_id, kind, ref, day) VALUES"  # noqa: S608 — ours
        f" (NEW.id * 8 + 5, {title}, NEW.text, NEW.room_id, 'document', NEW.id, {day});"
    )
    delete = "DELETE FROM record_index WHERE rowid = OLD.id * 8 + 5;"
    db.execute(
        f"CREATE TRIGGER record_document_passages_insert AFTER INSERT ON document_passages BEGIN {insert} END"
    )
    db.execute(
        f"CREATE TRIGGER record_document_passages_delete AFTER DELETE ON document_passages BEGIN {delete} END"
    )


@migrations()
def m015_minutes_summary(db: Database) -> None:
    # A summary the chair accepted into the record (!zusammenfassung übernehmen): part of the
    # minutes' passage in the index from then on.
    for column in ("summary", "summary_by"):
        db.table("minutes").add_column(column, str)
    db.table("minutes").add_column("summary_at", float)
    db.execute("DROP TRIGGER record_minutes_update")
    db.execute(
        "CREATE TRIGGER record_minutes_update AFTER UPDATE OF state, summary ON minutes BEGIN"
        " DELETE FROM record_index WHERE rowid = OLD.meeting_id * 8 + 4;"
        " INSERT INTO record_index (rowid, title, body, room_id, kind, ref, day) SELECT NEW.meeting_id * 8 + 4,"
        " (SELECT title FROM meetings WHERE id = NEW.meeting_id),"
        " (SELECT coalesce(group_concat(text, ' '), '') FROM tags WHERE meeting_id = NEW.meeting_id"
        " AND removed_at IS NULL) || ' ' || coalesce(NEW.summary, ''), NEW.room_id, 'minutes',"
        " NEW.meeting_id, (SELECT substr(start_at, 1, 10) FROM meetings WHERE id = NEW.meeting_id)"
        " WHERE NEW.state = 'approved'; END"
    )


@migrations()
def m016_passage_vectors(db: Database) -> None:
    # Vectors of the index's passages for retrieval by meaning ([llm] embedding_model), keyed by the
    # passage's rowid in record_index; filled in the background, and those of passages gone are
    # dropped there too (FTS5 tables take no triggers).
    db.table("passage_vectors").create({"passage": int, "model": str, "vector": bytes}, pk="passage")


@migrations()
def m017_room_general_answers(db: Database) -> None:
    # Whether !frage answers generally when the record holds nothing (the chair decides per room).
    db.table("rooms").add_column("general_answers", int)


@migrations()
def m018_members_and_groups(db: Database) -> None:
    # A member's profile: organisation set by the chair (else from the homeserver's domain) and
    # stakeholder groups (JSON list of the configured names).
    db.execute(
        "CREATE TABLE profiles (user_id TEXT PRIMARY KEY, organisation TEXT, groups TEXT NOT NULL DEFAULT '[]',"
        " updated_by TEXT, updated_at REAL)"
    )
    db.table("rooms").add_column("timezone", str)
    # A date nobody can make may be struck off a poll; the chair is told once when all have voted.
    db.table("poll_options").add_column("dropped", int, not_null_default=0)
    db.table("polls").add_column("all_voted_told", int, not_null_default=0)
    # Which messages speak of a reminder (its command and confirmation): "!ich auch" replies to them.
    db.execute("CREATE TABLE reminder_messages (event_id TEXT PRIMARY KEY, reminder_id INTEGER NOT NULL)")
    db.execute(
        "CREATE TABLE reminder_subscribers (reminder_id INTEGER NOT NULL, user_id TEXT NOT NULL,"
        " PRIMARY KEY (reminder_id, user_id))"
    )
    db.execute("CREATE INDEX deliveries_event ON deliveries (event_id)")


@migrations()
def m019_reminder_listing_index(db: Database) -> None:
    # !erinnerungen lists the soonest of a room's active reminders: in index order, no sort.
    db.table("reminders").create_index(["room_id", "state", "next_ts"])


def open_db(data_dir: Path) -> Database:
    """Open (and create or upgrade) the bot's database in ``data_dir``.

    What is created here is the owner's alone: the folder 0700, the database 0600 (SQLite gives its
    -wal and -shm files the database's mode)."""
    if not data_dir.exists():
        data_dir.mkdir(parents=True, mode=0o700)
        data_dir.chmod(0o700)  # whatever the umask
    path = data_dir / DB_FILENAME
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    db = Database(path)
    db.conn.execute("PRAGMA busy_timeout = 5000")
    db.enable_wal()
    # In WAL mode NORMAL is still safe against crashes of the process; only a power cut may lose
    # the last commits (then an answer may be repeated). FULL cost ~25 % of the bot's CPU.
    db.conn.execute("PRAGMA synchronous = NORMAL")
    _functions(db)
    migrations.apply(db)
    return db


def _functions(db: Database) -> None:
    """SQL functions the queries use: ``casefold`` (SQLite's ``lower`` knows only ASCII: "Ü")."""
    db.conn.create_function(
        "casefold", 1, lambda text: None if text is None else str(text).casefold(), deterministic=True
    )


def open_memory_db() -> Database:
    """A migrated in-memory database, for unit tests."""
    db = Database(memory=True)
    _functions(db)
    migrations.apply(db)
    return db


class KeyValue:
    """Small typed access to the ``kv`` table (sync token, first start …)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM kv WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def set(self, key: str, value: str) -> None:
        with self._db.atomic():
            self._db.execute(
                "INSERT INTO kv (key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [key, value],
            )

    def setdefault(self, key: str, value: str) -> str:
        with self._db.atomic():
            self._db.execute("INSERT OR IGNORE INTO kv (key, value) VALUES (?, ?)", [key, value])
        stored = self.get(key)
        assert stored is not None
        return stored


class EventLedger:
    """Which Matrix events have been handled, so none is handled twice across restarts."""

    KEEP_SECONDS = 14 * 24 * 3600

    def __init__(self, db: Database) -> None:
        self._db = db

    def seen(self, event_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM handled_events WHERE event_id = ?", [event_id]).fetchone()
        return row is not None

    def record(self, event_id: str, room_id: str) -> None:
        with self._db.atomic():
            self._db.execute(
                "INSERT OR IGNORE INTO handled_events (event_id, room_id, handled_at) VALUES (?, ?, ?)",
                [event_id, room_id, time.time()],
            )

    def prune(self, now: float | None = None) -> int:
        """Forget ids older than two weeks; sync never hands us events that old again."""
        cutoff = (time.time() if now is None else now) - self.KEEP_SECONDS
        with self._db.atomic():
            cursor = self._db.execute("DELETE FROM handled_events WHERE handled_at < ?", [cutoff])
        return cursor.rowcount
