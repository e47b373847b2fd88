"""SQLite storage: file, WAL, migrations once; the kv table and the ledger of handled events.
Also the reply-fallback stripping that decides what text the router sees."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.inbox import strip_reply_fallback
from bot.storage import DB_FILENAME, EventLedger, KeyValue, migrations, open_db, open_memory_db


@pytest.fixture
def db() -> Iterator[Database]:
    database = open_memory_db()
    yield database
    database.close()


ALL_MIGRATIONS = [
    ("akbot", "m001_core"),
    ("akbot", "m002_reminders_meetings"),
    ("akbot", "m003_polls"),
    ("akbot", "m004_agenda"),
    ("akbot", "m005_llm"),
    ("akbot", "m006_audit"),
    ("akbot", "m007_room_inviter"),
    ("akbot", "m008_english_poll_values"),
    ("akbot", "m009_audit_actions"),
    ("akbot", "m010_english_meeting_and_item_values"),
    ("akbot", "m011_vote_pseudonyms"),
    ("akbot", "m012_minutes"),
    ("akbot", "m013_record_index"),
    ("akbot", "m014_documents"),
    ("akbot", "m015_minutes_summary"),
    ("akbot", "m016_passage_vectors"),
    ("akbot", "m017_room_general_answers"),
    ("akbot", "m018_members_and_groups"),
    ("akbot", "m019_reminder_listing_index"),
]


def migration_rows(db: Database) -> list[tuple[str, str]]:
    return [
        (row["migration_set"], row["name"])
        for row in db.query("SELECT migration_set, name FROM _sqlite_migrations ORDER BY id")
    ]


# ---- open_db ----------------------------------------------------------------------------------


def test_open_db_creates_the_folder_and_akbot_db_in_wal_mode(tmp_path: Path) -> None:
    data_dir = tmp_path / "noch" / "nicht" / "da"

    db = open_db(data_dir)
    try:
        assert DB_FILENAME == "akbot.db"
        assert (data_dir / "akbot.db").is_file()
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert {n for n in db.table_names() if not n.startswith("record_index_")} == {
            "kv",
            "handled_events",
            "rooms",
            "meetings",
            "reminders",
            "deliveries",
            "polls",
            "poll_options",
            "votes",
            "agenda_items",
            "llm_usage",
            "audit",
            "minutes",
            "attendance",
            "tags",
            "action_reminders",
            "record_index",  # FTS5, with its shadow tables
            "documents",
            "document_passages",
            "passage_vectors",
            "profiles",
            "reminder_messages",
            "reminder_subscribers",
            "_sqlite_migrations",
        }
    finally:
        db.close()


def test_open_db_schema(tmp_path: Path) -> None:
    db = open_db(tmp_path)
    try:
        assert {name: db.table(name).columns_dict for name in ("kv", "handled_events", "rooms")} == {
            "kv": {"key": str, "value": str},
            "handled_events": {"event_id": str, "room_id": str, "handled_at": float},
            "rooms": {
                "room_id": str,
                "language": str,
                "joined_via": str,
                "joined_at": float,
                "model": str,
                "inviter": str,
                "general_answers": int,
                "timezone": str,
            },
        }
        assert db.table("kv").pks == ["key"]
        assert db.table("handled_events").pks == ["event_id"]
        assert db.table("rooms").pks == ["room_id"]
        assert ["handled_at"] in [index.columns for index in db.table("handled_events").indexes]
    finally:
        db.close()


def test_open_db_twice_applies_no_migration_twice_and_keeps_data(tmp_path: Path) -> None:
    first = open_db(tmp_path)
    KeyValue(first).set("since", "s123")
    first.close()

    second = open_db(tmp_path)
    try:
        assert migration_rows(second) == ALL_MIGRATIONS
        assert KeyValue(second).get("since") == "s123"
    finally:
        second.close()


def test_wal_mode_is_persistent_in_the_file(tmp_path: Path) -> None:
    open_db(tmp_path).close()

    with closing(sqlite3.connect(tmp_path / "akbot.db")) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_memory_db_is_migrated(db: Database) -> None:
    assert migration_rows(db) == ALL_MIGRATIONS
    assert {"kv", "handled_events", "rooms"} <= set(db.table_names())


def test_polls_stored_with_german_values_read_in_english_after_the_upgrade(tmp_path: Path) -> None:
    older = Database(tmp_path / DB_FILENAME)
    migrations.apply(older, stop_before="m008_english_poll_values")
    older.execute(
        "INSERT INTO polls (id, room_id, question, state, created_by) VALUES"
        " (1, '!r', 'Wann?', 'offen', '@a'), (2, '!r', 'Wo?', 'zurückgezogen', '@a')"
    )
    # As the bot wrote them: json.dumps escapes "ö".
    for voter, choices in (("@a", {"1": "ja", "2": "wenn_nötig"}), ("@b", {})):
        older.execute(
            "INSERT INTO votes (poll_id, voter, choices, channel, cast_ts) VALUES (1, ?, ?, 'text', 1)",
            [voter, json.dumps(choices)],
        )
    older.conn.commit()
    older.close()

    db = open_db(tmp_path)
    try:
        assert [r["state"] for r in db.query("SELECT state FROM polls ORDER BY id")] == ["open", "withdrawn"]
        votes = {r["voter"]: json.loads(r["choices"]) for r in db.query("SELECT * FROM votes")}
        assert votes == {"@a": {"1": "yes", "2": "maybe"}, "@b": {}}
    finally:
        db.close()


def test_old_audit_entries_get_their_action_codes_and_parameters(tmp_path: Path) -> None:
    older = Database(tmp_path / DB_FILENAME)
    migrations.apply(older, stop_before="m009_audit_actions")
    for action, detail in (
        ("sitzung verschoben", "#2 2026-12-05T10:00:00+01:00"),
        ("umfrage geschlossen", "#3 Sieger None"),
        ("vergessen", "reminders=1, votes=2, agenda_items=0, model_usage=4"),
        ("top vertagt", "so nicht lesbar"),
    ):
        older.execute(
            "INSERT INTO audit (ts, room_id, actor, action, detail) VALUES (1, '!r', '@a', ?, ?)",
            [action, detail],
        )
    older.conn.commit()
    older.close()

    db = open_db(tmp_path)
    try:
        rows = [
            (r["action"], r["params"] and json.loads(r["params"]), r["detail"])
            for r in db.query("SELECT * FROM audit ORDER BY id")
        ]
        assert rows == [
            ("meeting.moved", {"id": 2, "start": "2026-12-05T10:00:00+01:00"}, None),
            ("poll.closed", {"id": 3, "winner": 0}, None),
            ("member.forgotten", {"reminders": 1, "votes": 2, "items": 0}, None),
            ("item.deferred", None, "so nicht lesbar"),  # kept as it was, shown next to the action
        ]
    finally:
        db.close()


def test_meetings_and_items_stored_with_german_states_read_in_english_after_the_upgrade(
    tmp_path: Path,
) -> None:
    older = Database(tmp_path / DB_FILENAME)
    migrations.apply(older, stop_before="m010_english_meeting_and_item_values")
    older.execute(
        "INSERT INTO meetings (id, room_id, title, start_at, start_ts, uid, sequence, status) VALUES"
        " (1, '!r', 'A', '2027-01-01T10:00:00+01:00', 0, 'u1', 0, 'geplant'),"
        " (2, '!r', 'B', '2027-01-02T10:00:00+01:00', 0, 'u2', 1, 'abgesagt')"
    )
    for number, status in enumerate(
        ("eingereicht", "nachgereicht", "angenommen", "abgelehnt", "vertagt", "zurückgezogen")
    ):
        older.execute(
            "INSERT INTO agenda_items (id, room_id, meeting_id, title, submitter, status) VALUES (?, '!r', 1, 'T', '@a', ?)",
            [number + 1, status],
        )
    older.conn.commit()
    older.close()

    db = open_db(tmp_path)
    try:
        assert [r["status"] for r in db.query("SELECT status FROM meetings ORDER BY id")] == [
            "planned",
            "cancelled",
        ]
        assert [r["status"] for r in db.query("SELECT status FROM agenda_items ORDER BY id")] == [
            "submitted",
            "late",
            "accepted",
            "rejected",
            "deferred",
            "withdrawn",
        ]
    finally:
        db.close()


# ---- KeyValue --------------------------------------------------------------------------------


def test_key_value_get_of_missing_key_is_none(db: Database) -> None:
    assert KeyValue(db).get("since") is None


def test_key_value_set_and_overwrite(db: Database) -> None:
    kv = KeyValue(db)

    kv.set("since", "s1")
    kv.set("since", "s2")
    kv.set("other", "")

    assert (kv.get("since"), kv.get("other")) == ("s2", "")
    assert db.execute("SELECT key, value FROM kv ORDER BY key").fetchall() == [("other", ""), ("since", "s2")]


def test_key_value_setdefault_keeps_the_first_value(db: Database) -> None:
    kv = KeyValue(db)

    assert kv.setdefault("first_start", "2025-01-01") == "2025-01-01"
    assert kv.setdefault("first_start", "2030-12-31") == "2025-01-01"
    assert kv.get("first_start") == "2025-01-01"


def test_key_value_setdefault_does_not_replace_a_set_value(db: Database) -> None:
    kv = KeyValue(db)
    kv.set("since", "s9")

    assert kv.setdefault("since", "s0") == "s9"


def test_key_value_writes_are_committed(tmp_path: Path) -> None:
    db = open_db(tmp_path)
    KeyValue(db).set("since", "s5")
    try:
        with closing(sqlite3.connect(tmp_path / "akbot.db")) as other:
            assert other.execute("SELECT value FROM kv WHERE key = 'since'").fetchone() == ("s5",)
    finally:
        db.close()


# ---- EventLedger -----------------------------------------------------------------------------


def test_ledger_records_and_sees_events(db: Database) -> None:
    ledger = EventLedger(db)

    assert ledger.seen("$a") is False
    ledger.record("$a", "!raum:lvr.de")
    ledger.record("$a", "!raum:lvr.de")  # twice is harmless

    assert (ledger.seen("$a"), ledger.seen("$b")) == (True, False)
    assert db.execute("SELECT event_id, room_id FROM handled_events").fetchall() == [("$a", "!raum:lvr.de")]


def test_ledger_records_the_time(db: Database) -> None:
    before = time.time()

    EventLedger(db).record("$a", "!raum:lvr.de")

    handled_at = db.execute("SELECT handled_at FROM handled_events").fetchone()[0]
    assert before <= handled_at <= time.time()


def test_ledger_prune_keeps_recent_events(db: Database) -> None:
    ledger = EventLedger(db)
    ledger.record("$a", "!raum:lvr.de")

    assert ledger.prune() == 0
    assert ledger.seen("$a") is True


def test_ledger_prune_far_in_the_future_removes_old_events(db: Database) -> None:
    ledger = EventLedger(db)
    ledger.record("$a", "!raum:lvr.de")
    ledger.record("$b", "!raum:lvr.de")

    removed = ledger.prune(now=time.time() + EventLedger.KEEP_SECONDS + 60)

    assert removed == 2
    assert (ledger.seen("$a"), ledger.seen("$b")) == (False, False)


def test_ledger_prune_removes_only_events_older_than_two_weeks(db: Database) -> None:
    now = 1_800_000_000.0
    db.execute(
        "INSERT INTO handled_events (event_id, room_id, handled_at) VALUES (?, ?, ?), (?, ?, ?)",
        ["$alt", "!r", now - 15 * 24 * 3600, "$neu", "!r", now - 13 * 24 * 3600],
    )
    db.conn.commit()
    ledger = EventLedger(db)

    assert ledger.prune(now=now) == 1
    assert (ledger.seen("$alt"), ledger.seen("$neu")) == (False, True)
    assert EventLedger.KEEP_SECONDS == 14 * 24 * 3600


# ---- strip_reply_fallback --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("> <@a:b> old\n> quoted\n\n!ping", "!ping"),
        ("> <@vorsitz:lvr.de> !umfrage Wann?\n\n!umfrage schließen 3", "!umfrage schließen 3"),
        ("> <@a:b> old\n>\n> more\n\n!hilfe ping\nzweite Zeile", "!hilfe ping\nzweite Zeile"),
        ("> <@a:b> only a quote", ""),
        ("!ping", "!ping"),
        ("hello", "hello"),
        ("", ""),
        (">no space is not a fallback", ">no space is not a fallback"),
        ("!notiz 1 > 0\n> kein Zitat", "!notiz 1 > 0\n> kein Zitat"),
        ("  !ping  ", "  !ping  "),
    ],
)
def test_strip_reply_fallback(body: str, expected: str) -> None:
    assert strip_reply_fallback(body) == expected


def test_a_new_data_dir_and_its_database_are_the_owners_alone(tmp_path: Path) -> None:
    data_dir = tmp_path / "neu" / "data"
    previous = os.umask(0o022)  # the usual umask would give 0755 and 0644
    try:
        db = open_db(data_dir)
        KeyValue(db).set("since", "s1")
        db.close()
    finally:
        os.umask(previous)

    assert data_dir.stat().st_mode & 0o777 == 0o700
    for name in (DB_FILENAME, f"{DB_FILENAME}-wal", f"{DB_FILENAME}-shm"):
        if (data_dir / name).exists():
            assert (data_dir / name).stat().st_mode & 0o777 == 0o600, name
