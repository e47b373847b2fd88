"""A year of the working group's record (2026) with two documents, and German questions with the record ids that
answer them: the evaluation set of the retrieval (bench/retrieval.py, tests/test_knowledge.py).

Seeded by plain SQL into the bot's schema: the index triggers (m013) index it as they would the
bot's own writes."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlite_utils import Database

ROOM = "!fakki:lvr.de"
OTHER_ROOM = "!anderer:lwl.org"
BERLIN = ZoneInfo("Europe/Berlin")

MEETINGS = [  # id, day, title, place
    (1, "2026-01-15", "Auftaktsitzung FAK KI", "Köln, Landeshaus"),
    (2, "2026-02-12", "Sitzung Februar", "Münster, Landeshaus"),
    (3, "2026-03-12", "Sitzung März", "Köln, Horion-Haus"),
    (4, "2026-04-16", "Sitzung April", "Münster, LWL-Bildungszentrum"),
    (5, "2026-05-21", "Sitzung Mai", "Videokonferenz"),
    (6, "2026-06-18", "Sitzung Juni", "Köln, Landeshaus"),
    (7, "2026-07-16", "Sitzung Juli", "Münster, Landeshaus"),
    (8, "2026-09-17", "Sitzung September", "Köln, Landeshaus"),
    (9, "2026-10-15", "Sitzung Oktober", "Münster, Landeshaus"),
    (10, "2026-11-19", "Jahresabschlusssitzung", "Köln, Landeshaus"),
]

ITEMS = [  # id, meeting, TOP number, title, description, presenter, organisation
    (
        1,
        1,
        2,
        "Geschäftsordnung des Arbeitskreises",
        "Entwurf der Geschäftsordnung, Rollen und Vorsitz",
        "Anna Schmidt",
        "LVR",
    ),
    (
        2,
        1,
        3,
        "Bestandsaufnahme KI-Projekte",
        "Übersicht der laufenden Projekte in beiden Verbänden",
        "Thomas Braun",
        "LWL",
    ),
    (3, 2, 2, "KI-Leitlinie", "Erster Entwurf der gemeinsamen KI-Leitlinie", "Anna Schmidt", "LVR"),
    (
        4,
        2,
        3,
        "Klinik-Pilot Spracherkennung",
        "Spracherkennung für Arztbriefe in der LVR-Klinik Bonn",
        "Dr. Peter Wolf",
        "LVR",
    ),
    (
        5,
        3,
        2,
        "Datenschutzfolgenabschätzung Klinik-Pilot",
        "DSFA für die Spracherkennung",
        "Dr. Peter Wolf",
        "LVR",
    ),
    (
        6,
        3,
        3,
        "Beteiligung der Personalräte",
        "Mitbestimmung bei der Einführung von KI-Systemen",
        "Maria Keller",
        "LWL",
    ),
    (
        7,
        4,
        2,
        "Förderschulen: Lernassistenz",
        "Einsatz einer KI-Lernassistenz an LWL-Förderschulen",
        "Jonas Becker",
        "LWL",
    ),
    (
        8,
        4,
        3,
        "Barrierefreiheit von KI-Anwendungen",
        "Anforderungen der BITV 2.0 an KI-Anwendungen",
        "Lea Hoffmann",
        "LVR",
    ),
    (
        9,
        5,
        2,
        "Lokales Sprachmodell",
        "Betrieb eines On-Premises-Modells im eigenen Rechenzentrum",
        "Thomas Braun",
        "LWL",
    ),
    (10, 5, 3, "Schulungskonzept", "Fortbildungen für Beschäftigte zum Umgang mit KI", "Lea Hoffmann", "LVR"),
    (
        11,
        6,
        2,
        "KI-Leitlinie, zweite Lesung",
        "Überarbeitete Fassung nach der Kommentierung",
        "Anna Schmidt",
        "LVR",
    ),
    (
        12,
        6,
        3,
        "Beschaffung GPU-Server",
        "Hardware für den Betrieb des lokalen Modells",
        "Thomas Braun",
        "LWL",
    ),
    (
        13,
        7,
        2,
        "Chatbot Bürgerservice",
        "Auskunftssystem für Leistungsberechtigte der Eingliederungshilfe",
        "Sabine Koch",
        "LWL",
    ),
    (14, 7, 3, "Evaluation Klinik-Pilot", "Erste Ergebnisse der Spracherkennung", "Dr. Peter Wolf", "LVR"),
    (15, 8, 2, "Open-Source-Strategie", "Freie Software für KI-Anwendungen", "Jonas Becker", "LWL"),
    (16, 8, 3, "Haushalt 2027: KI-Mittel", "Anmeldung von Mitteln für KI-Projekte", "Maria Keller", "LWL"),
    (
        17,
        9,
        2,
        "Transparenzregister KI",
        "Öffentliches Verzeichnis eingesetzter KI-Systeme",
        "Sabine Koch",
        "LWL",
    ),
    (
        18,
        9,
        3,
        "Urheberrecht und generierte Inhalte",
        "Umgang mit KI-generierten Texten und Bildern",
        "Lea Hoffmann",
        "LVR",
    ),
    (19, 10, 2, "Jahresbericht 2026", "Bericht über die Arbeit des Arbeitskreises", "Anna Schmidt", "LVR"),
    (20, 10, 3, "Arbeitsprogramm 2027", "Schwerpunkte für das kommende Jahr", "Anna Schmidt", "LVR"),
]

DECISIONS = [  # tag id, meeting, TOP number, text
    (101, 1, 2, "Die Geschäftsordnung wird in der vorgelegten Fassung beschlossen."),
    (102, 2, 2, "Der Entwurf der KI-Leitlinie wird zur Kommentierung an die Fachbereiche gegeben."),
    (103, 2, 3, "Der Pilot zur Spracherkennung in der LVR-Klinik Bonn startet im April."),
    (
        104,
        3,
        2,
        "Die Datenschutzfolgenabschätzung für die Spracherkennung erstellt der Datenschutzbeauftragte des LVR.",
    ),
    (
        105,
        3,
        3,
        "Die Personalräte werden vor jeder Einführung eines KI-Systems beteiligt; eine Dienstvereinbarung wird vorbereitet.",
    ),
    (106, 4, 2, "Die Lernassistenz wird an zwei LWL-Förderschulen ein Schuljahr lang erprobt."),
    (107, 4, 3, "Alle KI-Anwendungen müssen vor ihrer Einführung die BITV 2.0 erfüllen."),
    (
        108,
        5,
        2,
        "Sprachmodelle werden ausschließlich im eigenen Rechenzentrum betrieben; Cloud-Dienste sind ausgeschlossen.",
    ),
    (109, 5, 3, "Alle Beschäftigten erhalten vor der Nutzung eine KI-Grundschulung."),
    (
        110,
        6,
        2,
        "Die KI-Leitlinie wird in der überarbeiteten Fassung beiden Landschaftsversammlungen vorgelegt.",
    ),
    (111, 6, 3, "Für den Betrieb des lokalen Modells werden zwei GPU-Server beschafft."),
    (
        112,
        7,
        2,
        "Der Chatbot für den Bürgerservice wird nicht eingeführt, solange keine verlässliche Quellenangabe möglich ist.",
    ),
    (113, 7, 3, "Der Klinik-Pilot wird bis Ende 2026 verlängert."),
    (114, 8, 2, "Bei gleicher Eignung wird Open-Source-Software bevorzugt."),
    (115, 8, 3, "Für 2027 werden 250.000 Euro für KI-Projekte im Haushalt angemeldet."),
    (116, 9, 2, "Ein öffentliches Transparenzregister aller KI-Systeme wird eingerichtet."),
    (117, 9, 3, "Generierte Texte werden als KI-generiert gekennzeichnet."),
    (
        118,
        10,
        3,
        "Das Arbeitsprogramm 2027 mit den Schwerpunkten Eingliederungshilfe und Schulen wird beschlossen.",
    ),
]

ACTIONS = [  # tag id, meeting, TOP number, text, owner
    (201, 2, 2, "Kommentare der Fachbereiche zur KI-Leitlinie einsammeln", "Anna Schmidt"),
    (202, 3, 2, "Datenschutzfolgenabschätzung der Spracherkennung erstellen", "Dr. Peter Wolf"),
    (203, 3, 3, "Entwurf der Dienstvereinbarung KI vorbereiten", "Maria Keller"),
    (204, 4, 2, "Zwei Förderschulen für die Erprobung auswählen", "Jonas Becker"),
    (205, 5, 3, "Konzept der KI-Grundschulung ausarbeiten", "Lea Hoffmann"),
    (206, 6, 3, "Angebote für die GPU-Server einholen", "Thomas Braun"),
    (207, 7, 3, "Zwischenbericht zur Evaluation des Klinik-Piloten schreiben", "Dr. Peter Wolf"),
    (208, 9, 2, "Vorlage für das Transparenzregister erstellen", "Sabine Koch"),
    (209, 10, 2, "Jahresbericht 2026 redaktionell abschließen", "Anna Schmidt"),
]

NOTES = [  # tag id, meeting, TOP number, text
    (301, 1, 3, "Im LVR laufen derzeit vier KI-Projekte, im LWL drei."),
    (302, 5, 2, "Das Rechenzentrum stellt ab Juni Rechenkapazität für ein lokales Modell bereit."),
    (303, 8, 3, "Die Kämmerei verlangt eine Kostenschätzung bis September."),
]

DOCUMENTS = [  # id, name, passages (id, text)
    (
        1,
        "KI-Leitlinie Entwurf v2.pdf",
        [
            (
                1,
                "Zweck der Leitlinie: Die Leitlinie regelt den verantwortungsvollen Einsatz von KI in beiden Verbänden.",
            ),
            (
                2,
                "Menschliche Aufsicht: Entscheidungen über Leistungen trifft immer ein Mensch; KI bereitet nur vor.",
            ),
            (3, "Datenhaltung: Personenbezogene Daten verlassen nie das eigene Rechenzentrum."),
        ],
    ),
    (
        2,
        "Schulungskonzept KI.docx",
        [
            (4, "Modul 1 Grundlagen: Was Sprachmodelle können und wo sie halluzinieren, in 90 Minuten."),
            (5, "Modul 2 Praxis: Prompts für Verwaltungstexte, mit Übungen am lokalen Modell."),
        ],
    ),
]

QUESTIONS: list[tuple[str, set[tuple[str, int]]]] = [
    ("Wer entscheidet laut Leitlinie über Leistungen?", {("document", 2)}),
    ("Dürfen personenbezogene Daten das Rechenzentrum verlassen?", {("document", 3), ("decision", 108)}),
    ("Wie lange dauert das Grundlagenmodul der Schulung?", {("document", 4)}),
    ("Gibt es Übungen zu Prompts?", {("document", 5)}),
    ("Was haben wir zur KI-Leitlinie beschlossen?", {("decision", 102), ("decision", 110)}),
    ("Wer kümmert sich um den Klinik-Piloten?", {("action", 207), ("item", 4), ("item", 14)}),
    ("Wann startet der Pilot zur Spracherkennung?", {("decision", 103)}),
    ("Wer erstellt die Datenschutzfolgenabschätzung?", {("decision", 104), ("action", 202)}),
    ("Wie werden die Personalräte beteiligt?", {("decision", 105), ("item", 6)}),
    ("Wo wird die Lernassistenz erprobt?", {("decision", 106), ("item", 7)}),
    ("Welche Anforderungen gelten für die Barrierefreiheit?", {("decision", 107), ("item", 8)}),
    ("Dürfen wir Cloud-Dienste für Sprachmodelle nutzen?", {("decision", 108)}),
    ("Gibt es eine Schulung für Beschäftigte?", {("decision", 109), ("item", 10), ("action", 205)}),
    ("Wem wird die überarbeitete Leitlinie vorgelegt?", {("decision", 110)}),
    ("Wie viele GPU-Server werden beschafft?", {("decision", 111), ("item", 12), ("action", 206)}),
    ("Warum wird der Chatbot für den Bürgerservice nicht eingeführt?", {("decision", 112)}),
    ("Bis wann läuft der Klinik-Pilot?", {("decision", 113)}),
    ("Bevorzugen wir Open-Source-Software?", {("decision", 114), ("item", 15)}),
    ("Wie viel Geld ist für KI im Haushalt 2027 angemeldet?", {("decision", 115), ("item", 16)}),
    ("Gibt es ein Transparenzregister?", {("decision", 116), ("action", 208), ("item", 17)}),
    ("Müssen generierte Texte gekennzeichnet werden?", {("decision", 117)}),
    ("Was steht im Arbeitsprogramm 2027?", {("decision", 118), ("item", 20)}),
    ("Wer sammelt die Kommentare zur Leitlinie ein?", {("action", 201)}),
    ("Wer bereitet die Dienstvereinbarung vor?", {("action", 203), ("decision", 105)}),
    ("Wer wählt die Förderschulen aus?", {("action", 204)}),
    ("Wer arbeitet das Schulungskonzept aus?", {("action", 205), ("item", 10)}),
    ("Wer holt Angebote für die GPU-Server ein?", {("action", 206)}),
    ("Wer schreibt den Zwischenbericht zur Evaluation?", {("action", 207)}),
    ("Wer schließt den Jahresbericht ab?", {("action", 209), ("item", 19)}),
    ("Wie viele KI-Projekte laufen im LVR?", {("info", 301), ("item", 2)}),
    ("Ab wann gibt es Rechenkapazität im Rechenzentrum?", {("info", 302)}),
    ("Bis wann braucht die Kämmerei die Kostenschätzung?", {("info", 303)}),
    ("Wann haben wir die Geschäftsordnung beschlossen?", {("decision", 101), ("item", 1)}),
    ("Wo fand die Auftaktsitzung statt?", {("meeting", 1)}),
    ("Wer hat den Pilot zur Spracherkennung vorgestellt?", {("item", 4)}),
    ("Was wurde zum Urheberrecht besprochen?", {("item", 18), ("decision", 117)}),
    ("Was ist zur Eingliederungshilfe beschlossen?", {("decision", 118), ("item", 13)}),
    ("Haben wir über Mitbestimmung gesprochen?", {("item", 6)}),
    ("Wann ging es um die Open-Source-Strategie?", {("item", 15), ("decision", 114)}),
    ("Welche Entscheidung gab es zum Datenschutz bei der Spracherkennung?", {("decision", 104), ("item", 5)}),
    ("Was ist mit den Arztbriefen?", {("item", 4)}),
    ("Wird beim Chatbot eine Quellenangabe gefordert?", {("decision", 112)}),
    ("Welche Aufgaben hat Anna Schmidt?", {("action", 201), ("action", 209)}),
    ("Was haben wir zur Beschaffung beschlossen?", {("decision", 111), ("item", 12)}),
    ("Sitzung in Münster im Februar", {("meeting", 2)}),
    ("Kostenschätzung für den Haushalt", {("info", 303), ("decision", 115)}),
    ("Wie lange wird die Lernassistenz an Förderschulen getestet?", {("decision", 106)}),
    ("Welche Norm gilt für barrierefreie KI?", {("decision", 107), ("item", 8)}),
]


def _ts(day: str, hour: int = 10) -> float:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00").replace(tzinfo=BERLIN).timestamp()


def seed(db: Database, room_id: str = ROOM) -> None:
    """The year's record in ``room_id``: meetings, accepted TOPs, released minutes and their tags."""
    with db.atomic():
        for meeting_id, day, title, place in MEETINGS:
            start = datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=BERLIN)
            db.execute(
                "INSERT INTO meetings (id, room_id, title, location, start_at, start_ts, duration_min, uid, sequence,"
                " status, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 120, ?, 0, 'planned', ?, 0, 0)",
                [
                    meeting_id,
                    room_id,
                    title,
                    place,
                    start.isoformat(),
                    start.timestamp(),
                    f"u{meeting_id}",
                    "@vorsitz:lvr.de",
                ],
            )
        for item_id, meeting_id, top, title, description, presenter, organisation in ITEMS:
            db.execute(
                "INSERT INTO agenda_items (id, room_id, meeting_id, title, description, submitter, submitter_name,"
                " organisation, submitted_at, status, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 'accepted', ?)",
                [
                    item_id,
                    room_id,
                    meeting_id,
                    title,
                    description,
                    f"@p{item_id}:lvr.de",
                    presenter,
                    organisation,
                    top - 1,
                ],
            )
        titles = {(m, top): title for _, m, top, title, *_ in ITEMS}
        day_of = {meeting_id: day for meeting_id, day, _, _ in MEETINGS}
        seq = 0
        tags: list[tuple[int, int, int, str, str, str | None]] = [
            *((t, m, top, "decision", text, None) for t, m, top, text in DECISIONS),
            *((t, m, top, "action", text, owner) for t, m, top, text, owner in ACTIONS),
            *((t, m, top, "info", text, None) for t, m, top, text in NOTES),
        ]
        for tag_id, meeting_id, top, kind, text, owner in tags:
            seq += kind == "decision"
            db.execute(
                "INSERT INTO tags (id, room_id, meeting_id, top_number, top_title, kind, text, author, author_name,"
                " event_id, created_at, year, seq, vote, owner, owner_name) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, '@vorsitz:lvr.de', 'Vorsitz', ?, ?, ?, ?, ?, ?, ?)",
                [
                    tag_id,
                    room_id,
                    meeting_id,
                    top,
                    titles.get((meeting_id, top), ""),
                    kind,
                    text,
                    f"${room_id}{tag_id}",
                    _ts(day_of[meeting_id], 11),
                    2026 if kind == "decision" else None,
                    seq if kind == "decision" else None,
                    json.dumps({"unanimous": True}) if kind == "decision" else None,
                    owner,
                    owner,
                ],
            )
        for document_id, name, passages in DOCUMENTS:
            db.execute(
                "INSERT INTO documents (id, room_id, name, mimetype, size, added_by, added_by_name, added_at)"
                " VALUES (?, ?, ?, '', 0, '@vorsitz:lvr.de', 'Vorsitz', ?)",
                [document_id, room_id, name, _ts("2026-06-01")],
            )
            for position, (passage_id, text) in enumerate(passages):
                db.execute(
                    "INSERT INTO document_passages (id, document_id, room_id, position, text) VALUES (?, ?, ?, ?, ?)",
                    [passage_id, document_id, room_id, position, text],
                )
        for meeting_id, day, _, _ in MEETINGS:
            db.execute(
                "INSERT INTO minutes (meeting_id, room_id, state, chair, chair_name, started_at, ended_at)"
                " VALUES (?, ?, 'draft', '@vorsitz:lvr.de', 'Vorsitz', ?, ?)",
                [meeting_id, room_id, _ts(day), _ts(day, 12)],
            )
            db.execute(
                "UPDATE minutes SET state = 'approved', approved_at = ? WHERE meeting_id = ?",
                [_ts(day, 13), meeting_id],
            )
