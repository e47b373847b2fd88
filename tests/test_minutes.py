"""Minutes, decisions and action items through the whole app without a homeserver
(tests/kit/offline.py): running a meeting, tags, the draft, corrections, release with PDF and
Markdown, the register, action items that live on, restarts, forgetting."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from pathlib import Path

import jsonschema
import pypdf
import pytest
import time_machine

from bot.app import App
from bot.render import render
from bot.services.minutes import Vote
from commands.minutes import parse_vote, split_vote
from tests.clock import at
from tests.kit.offline import CHAIR, MEMBER, ROOM, Recorder, close, dispatch, hear, offline_app, running

GUEST = "@gast:beispiel.de"
LISTENER = "@zuhoerer:lvr.de"
SCHEMA = json.loads((Path(__file__).parent / "oparl_meeting.schema.json").read_text())


@pytest.fixture
async def world(tmp_path: Path, clock: time_machine.Coordinates) -> AsyncIterator[tuple[App, Recorder]]:
    async with running(tmp_path, members=(CHAIR, MEMBER, GUEST, LISTENER)) as started:
        yield started


async def say(app: App, body: str, sender: str = CHAIR, **options: object) -> str:
    """The one reply (plain text) to a command line."""
    replies = await dispatch(app, body, sender, **options)  # type: ignore[arg-type]
    assert len(replies) == 1, replies
    return render(replies[0])[0]


async def meeting_with_agenda(app: App) -> int:
    await say(app, "!sitzung 12.06.2026 10 Uhr; Sitzung des FAK KI; Köln, Landeshaus")
    for sender, title in ((MEMBER, "Klinik-Pilot"), (CHAIR, "KI-Leitlinie"), (GUEST, "Förderschulen")):
        await say(app, f"!top {title}; Stand und nächste Schritte", sender)
    for item_id in (1, 2, 3):
        await say(app, f"!top annehmen {item_id}")
    return 1


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


async def test_a_chair_runs_a_meeting_and_its_record_is_released_as_markdown_and_pdf(
    world: tuple[App, Recorder],
) -> None:
    app, _ = world
    await meeting_with_agenda(app)

    started = await say(app, "!sitzung beginnen")
    assert "Sitzung #1 Sitzung des FAK KI hat begonnen" in started
    assert "TOP 1: Begrüßung und Feststellung der Tagesordnung" in started

    await hear(app, "Guten Morgen zusammen!", MEMBER)  # writing counts as attending
    assert "Sie sind als anwesend vermerkt" in await say(app, "!anwesend", LISTENER)
    await hear(app, "Hallo aus der Förderschule", GUEST)

    switched = await say(app, "!top weiter")
    assert switched == "TOP 2: Klinik-Pilot – Vortrag: @mitglied:lwl.org (LWL)"
    ack = await say(
        app, "!beschluss Der Klinik-Pilot wird bis Ende 2026 verlängert; 8 ja, 1 nein, 2 Enthaltungen"
    )
    assert ack == "Beschluss 2026/01 festgehalten unter TOP 2 (8 ja, 1 nein, 2 Enthaltungen)."
    ack = await say(app, "!aufgabe @mitglied:lwl.org Evaluationsbericht entwerfen bis 20.06.2026")
    assert ack.startswith("Aufgabe #2 für @mitglied:lwl.org, fällig Sa., 20.06.2026, 23:59 Uhr unter TOP 2")
    await say(app, "!info Die Klinik Bonn steigt im Herbst ein.", MEMBER)

    assert "TOP 3: KI-Leitlinie" in await say(app, "!top 3")
    await say(app, "!beschluss Der Entwurf der KI-Leitlinie wird den Gremien vorgelegt (einstimmig)")
    await say(app, "!aufgabe „Dora Beispiel“ Stellungnahme der Personalräte einholen")

    draft = await say(app, "!sitzung beenden")
    assert draft.startswith("Niederschrift (Entwurf) – Sitzung #1 Sitzung des FAK KI")
    assert "LVR: @vorsitz:lvr.de, @zuhoerer:lvr.de" in draft
    assert "LWL: @mitglied:lwl.org" in draft
    assert "extern: @gast:beispiel.de" in draft
    # Begun before its time, the meeting's agenda stays as it was: no "Offene Aufgaben" grows into it.
    assert "TOP 5: Verschiedenes" in draft
    assert (
        "Beschluss 2026/01 (#1): „Der Klinik-Pilot wird bis Ende 2026 verlängert“ (8 ja, 1 nein, 2 Enthaltungen)"
        in draft
    )
    assert (
        "Beschluss 2026/02 (#4): „Der Entwurf der KI-Leitlinie wird den Gremien vorgelegt“ (einstimmig)"
        in draft
    )
    assert "Notiz #3: Die Klinik Bonn steigt im Herbst ein." in draft
    assert (
        "Offene Aufgaben" in draft
        and "Aufgabe #5: Stellungnahme der Personalräte einholen – Dora Beispiel" in draft
    )
    assert "Guten Morgen" not in draft  # only tags and attendance are kept, never the chat
    assert "Guten Morgen" not in json.dumps([dict(r) for r in app.db.query("SELECT * FROM tags")])
    assert "Protokoll ändern" not in draft and "!protokoll ändern <Nr> <Text>" in draft

    # Not yet the record: the register waits for the release.
    assert "noch keine Beschlüsse" in await say(app, "!beschlüsse", MEMBER)
    changed = await say(
        app, "!protokoll ändern 4 Der Entwurf der KI-Leitlinie wird beiden Landschaftsversammlungen vorgelegt"
    )
    assert (
        "Geändert: Beschluss 2026/02 (#4): „Der Entwurf der KI-Leitlinie wird beiden Landschaftsversammlungen"
        in changed
    )

    files: list[tuple[str, bytes, str]] = []
    released = await say(app, "!protokoll freigeben", files=files)
    assert released.startswith("Niederschrift – Sitzung #1 Sitzung des FAK KI (freigegeben)")
    assert [(name, kind) for name, _, kind in files] == [
        ("niederschrift-1-2026-06-12.pdf", "application/pdf"),
        ("niederschrift-1-2026-06-12.md", "text/markdown"),
    ]
    text = " ".join(pdf_text(files[0][1]).split())
    assert "Niederschrift über die Sitzung des Facharbeitskreises KI am 12.06.2026" in text
    assert "Köln, Landeshaus" in text and "Seite 1 von" in text
    assert "Beschluss 2026/01: „Der Klinik-Pilot wird bis Ende 2026 verlängert“" in " ".join(text.split())
    assert "Stellungnahme der Personalräte einholen" in text
    markdown = files[1][1].decode()
    assert "## TOP 2: Klinik-Pilot – Vortrag: @mitglied:lwl.org (LWL)" in markdown
    assert "beiden Landschaftsversammlungen" in markdown

    found = await say(app, "!beschlüsse leitlinie", MEMBER)
    assert "Beschluss 2026/02" in found and "Sitzung am Fr., 12.06.2026, TOP 3: KI-Leitlinie" in found
    assert "2026/01" not in found
    assert "2026/01" in await say(app, "!beschlüsse", MEMBER)
    assert "bereits freigegeben" in await say(app, "!protokoll ändern 4 Noch einmal anders")


async def test_the_agenda_export_carries_the_record_and_an_invitation_pdf(
    world: tuple[App, Recorder],
) -> None:
    app, _ = world
    await meeting_with_agenda(app)
    files: list[tuple[str, bytes, str]] = []
    await dispatch(app, "!tagesordnung export", MEMBER, files=files)
    assert [name for name, _, _ in files] == [
        "einladung-1-2026-06-12.pdf",
        "tagesordnung-1-2026-06-12.md",
        "tagesordnung-1-2026-06-12.json",
    ]
    invitation = " ".join(pdf_text(files[0][1]).split())
    assert "Einladung mit Tagesordnung" in invitation
    assert "TOP 3: KI-Leitlinie – Vortrag: @vorsitz:lvr.de (LVR)" in invitation
    assert "resultsProtocol" not in json.loads(files[2][1])

    await say(app, "!sitzung beginnen")
    await say(app, "!top 2")
    await say(app, "!beschluss Pilot verlängert; einstimmig")
    await say(app, "!sitzung beenden")
    await say(app, "!protokoll freigeben")
    files.clear()
    await dispatch(app, "!tagesordnung export 1", MEMBER, files=files)
    oparl = json.loads(files[2][1])
    jsonschema.validate(oparl, SCHEMA)
    assert oparl["resultsProtocol"]["fileName"] == "niederschrift-1-2026-06-12.pdf"
    second = oparl["agendaItem"][1]
    assert (second["result"], second["resolutionText"]) == (
        "beschlossen (einstimmig)",
        "Beschluss 2026/01: „Pilot verlängert“ (einstimmig)",
    )
    assert oparl["agendaItem"][2]["result"] is None


async def test_action_items_remind_their_owner_and_stand_on_the_next_agenda_until_done(
    world: tuple[App, Recorder], clock: time_machine.Coordinates
) -> None:
    app, recorder = world
    await meeting_with_agenda(app)
    await say(app, "!sitzung beginnen")
    await say(app, "!aufgabe @mitglied:lwl.org Bericht schreiben bis 20.06.2026 14 Uhr")
    await say(app, "!aufgabe Dora Raum buchen")  # a name without account: no reminder
    await say(app, "!sitzung beenden")

    reminders = app.reminders.list_for(ROOM, MEMBER, everyone=False)
    assert [(r.kind, r.next_at) for r in reminders] == [
        ("action", at("2026-06-19T14:00:00")),
        ("action", at("2026-06-20T14:00:00")),
    ]
    clock.move_to(at("2026-06-19T14:00:00"))
    await app.reminders.deliver(reminders[0].id)
    content = recorder.contents[-1]
    assert content["m.mentions"] == {"user_ids": [MEMBER]}
    assert "Aufgabe #1 „Bericht schreiben“ ist morgen fällig (Sa., 20.06.2026, 14:00 Uhr)" in content["body"]

    own = await say(app, "!aufgaben", MEMBER)
    assert "Ihre offenen Aufgaben (1)" in own and "Bericht schreiben" in own and "Raum buchen" not in own
    assert "Offene Aufgaben des Raums (2)" in await say(app, "!aufgaben")

    await say(app, "!sitzung 10.07.2026 10 Uhr; Nächste Sitzung")
    agenda = await say(app, "!tagesordnung 2", MEMBER)
    assert "TOP 2 Offene Aufgaben" in agenda and "Aufgabe #1: Bericht schreiben" in agenda
    assert "TOP 3 Verschiedenes" in agenda

    assert "nicht" not in await say(app, "!aufgabe erledigt 1", MEMBER)
    assert app.reminders.list_for(ROOM, MEMBER, everyone=False) == []  # its reminders went with it
    assert "gehört jemand anderem" in await say(app, "!aufgabe erledigt 2", MEMBER)
    await say(app, "!aufgabe erledigt 2")
    assert "Offene Aufgaben" not in await say(app, "!tagesordnung 2", MEMBER)


async def test_a_restart_mid_meeting_keeps_it_open_at_its_top_and_never_records_twice(
    tmp_path: Path, clock: time_machine.Coordinates
) -> None:
    app, _ = offline_app(tmp_path)
    await meeting_with_agenda(app)
    await say(app, "!sitzung beginnen")
    await say(app, "!top 3")
    await say(app, "!beschluss Einmal festgehalten", event_id="$decision")
    await close(app)

    app, _ = offline_app(tmp_path)  # the same database: the bot after a restart
    try:
        session = app.minutes.session(ROOM)
        assert session is not None and session.top is not None and session.top.number == 3
        # The same command handed over again by the sync after the restart: the same tag.
        again = await say(app, "!beschluss Einmal festgehalten", event_id="$decision")
        assert "Beschluss 2026/01" in again
        assert app.db.execute("SELECT count(*) FROM tags").fetchone()[0] == 1
        await hear(app, "Ich bin auch da", MEMBER)
        draft = await say(app, "!sitzung beenden")
        assert "LWL: @mitglied:lwl.org" in draft
    finally:
        await close(app)


async def test_undo_takes_back_ones_own_last_entry_and_the_chair_any(world: tuple[App, Recorder]) -> None:
    app, _ = world
    await meeting_with_agenda(app)
    await say(app, "!sitzung beginnen")
    await say(app, "!info Erste Notiz", MEMBER)
    await say(app, "!info Notiz des Vorsitzes")
    assert "Entfernt: Notiz #1: Erste Notiz" in await say(app, "!rückgängig", MEMBER)
    assert "keinen Eintrag von Ihnen" in await say(app, "!rückgängig", MEMBER)
    await say(app, "!info Zweite Notiz", MEMBER)
    assert "Entfernt: Notiz #3: Zweite Notiz" in await say(app, "!rückgängig")  # the chair: anyone's last
    await say(app, "!sitzung beenden")
    await say(app, "!protokoll freigeben")
    assert "bereits freigegeben" in await say(app, "!rückgängig")  # the record stays


async def test_wrong_arguments_and_missing_rights_get_a_friendly_answer(world: tuple[App, Recorder]) -> None:
    app, _ = world
    assert "Gerade läuft keine Sitzung" in await say(app, "!anwesend", MEMBER)
    assert "keine Sitzung geplant" in await say(app, "!sitzung beginnen")
    await meeting_with_agenda(app)
    assert "Vorsitz" in await say(app, "!sitzung beginnen", MEMBER)
    await say(app, "!sitzung beginnen")
    assert "Vorsitz" in await say(app, "!top 2", MEMBER)
    assert "bis TOP 5" in await say(app, "!top 9")
    answer = await say(app, "!aufgabe erledigt zwölf")
    assert "Aufruf: !aufgabe erledigt <id>" in answer
    answer = await say(app, "!beschluss")
    assert "Aufruf: !beschluss <Text>" in answer
    assert "Vorsitz" in await say(app, "!beschluss Etwas", MEMBER)
    assert "läuft bereits" in await say(app, "!sitzung beginnen 1")
    assert "läuft noch" in await say(app, "!sitzung absagen 1")
    assert "läuft noch" in await say(app, "!sitzung verschieben 1 13.06.2026 10 Uhr")
    assert "noch" in await say(app, "!protokoll freigeben")  # still running
    assert "liegt in der Vergangenheit" in await say(
        app, "!aufgabe @mitglied:lwl.org Alt bis 01.05.2026 10 Uhr"
    )
    assert app.db.execute("SELECT count(*) FROM tags").fetchone()[0] == 0


async def test_an_english_room_reads_the_same_record_in_english(world: tuple[App, Recorder]) -> None:
    app, _ = world
    await meeting_with_agenda(app)
    started = await say(app, "!meeting start", lang="en")
    assert "Item 1: Welcome and adoption of the agenda" in started
    await say(app, "!item next", lang="en")
    assert "Decision 2026/01 recorded under item 2" in await say(
        app, "!decision Pilot extended; 5 yes, 1 no, 1 abstention", lang="en"
    )
    files: list[tuple[str, bytes, str]] = []
    await say(app, "!meeting end", lang="en")
    await say(app, "!minutes approve", lang="en", files=files)
    text = pdf_text(files[0][1])
    assert "Minutes of the meeting of the AI working group on" in text and "Page 1 of 1" in text
    assert "5 in favour, 1 against, 1 abstention" in text


async def test_forgetting_a_member_keeps_the_decisions_but_not_their_name_or_attendance(
    world: tuple[App, Recorder],
) -> None:
    app, _ = world
    await meeting_with_agenda(app)
    await say(app, "!sitzung beginnen")
    await hear(app, "Hallo", MEMBER)
    await say(app, "!info Meine Notiz", MEMBER)
    await say(app, "!aufgabe @mitglied:lwl.org Bericht bis 20.06.2026 10 Uhr")
    await say(app, "!sitzung beenden")
    exported = app.privacy.export(MEMBER)
    assert [e["text"] for e in exported["minutes_entries"]] == ["Meine Notiz"]
    assert [e["text"] for e in exported["action_items_owned"]] == ["Bericht"]
    assert len(exported["attendance"]) == 1

    counts = app.privacy.forget(MEMBER, ROOM)

    assert (counts["minutes_entries"], counts["action_items"], counts["attendance"]) == (1, 1, 1)
    draft = await say(app, "!protokoll")
    assert "mitglied" not in draft
    assert "Notiz #1: Meine Notiz" in draft and "Bericht – ehemaliges Mitglied" in draft
    assert app.reminders.list_for(ROOM, MEMBER, everyone=False) == []


def test_votes_are_read_as_people_write_them() -> None:
    assert parse_vote("einstimmig") == Vote(unanimous=True)
    assert parse_vote("(Einstimmig)") == Vote(unanimous=True)
    assert parse_vote("8 ja, 1 nein, 2 Enthaltungen") == Vote(yes=8, no=1, abstain=2)
    assert parse_vote("8 Ja und 1 Enthaltung") == Vote(yes=8, abstain=1)
    assert parse_vote("12 yes, 0 no") == Vote(yes=12, no=0)
    assert parse_vote("bis 8 ja sagen") is None
    assert parse_vote("Haushalt 2027") is None
    assert split_vote("Der AK empfiehlt X; einstimmig") == ("Der AK empfiehlt X", Vote(unanimous=True))
    assert split_vote("Der AK empfiehlt X (3 ja, 1 nein)") == ("Der AK empfiehlt X", Vote(yes=3, no=1))
    assert split_vote("Budget (Entwurf) angenommen") == ("Budget (Entwurf) angenommen", None)
    assert split_vote("Erstens; zweitens") == ("Erstens; zweitens", None)


async def test_an_action_owner_mentioned_with_a_pill_is_found_by_their_name(
    world: tuple[App, Recorder],
) -> None:
    app, _ = world
    # As Element sends a mention: the display name in the body, the user in m.mentions.
    app.adapter.display_name = lambda room_id, user_id: "Anna Schmidt" if user_id == MEMBER else user_id  # type: ignore[method-assign]
    ack = await say(app, "!aufgabe Anna Schmidt: Entwurf schreiben bis 20.06.2026 12 Uhr", mentioned=[MEMBER])
    assert ack.startswith("Aufgabe #1 für Anna Schmidt, fällig")
    tag = app.minutes.tag(ROOM, 1)
    assert (tag.owner, tag.text, tag.meeting_id) == (MEMBER, "Entwurf schreiben", None)
    await say(app, "!aufgabe Bernd Unterlagen bis zur Klärung zurückhalten")
    tag = app.minutes.tag(ROOM, 2)
    assert (tag.owner, tag.text, tag.due) == ("Bernd", "Unterlagen bis zur Klärung zurückhalten", None)


async def test_the_record_keeps_its_tops_when_the_agenda_changes_afterwards(
    world: tuple[App, Recorder],
) -> None:
    app, _ = world
    await meeting_with_agenda(app)
    await say(app, "!sitzung beginnen")
    await say(app, "!top 2")
    await say(app, "!beschluss Pilot verlängert")
    await say(app, "!top zurückziehen 1", MEMBER)  # TOP 2's item leaves the agenda while the meeting runs
    assert "TOP 3: KI-Leitlinie" in await say(app, "!top weiter")  # not skipped
    await say(app, "!sitzung beenden")
    await say(app, "!protokoll freigeben")

    minutes = await say(app, "!protokoll 1", MEMBER)
    assert "TOP 2: Klinik-Pilot – Vortrag: @mitglied:lwl.org (LWL)\n\n• Beschluss 2026/01" in minutes


async def test_beginning_without_a_number_takes_the_next_meeting_not_the_one_just_held(
    world: tuple[App, Recorder], clock: time_machine.Coordinates
) -> None:
    app, _ = world
    await say(app, "!sitzung 01.06.2026 10 Uhr; Erste")  # an hour from now, two hours long
    await say(app, "!sitzung 01.06.2026 14 Uhr; Zweite")
    clock.move_to(at("2026-06-01T10:00:00"))
    await say(app, "!sitzung beginnen")
    await say(app, "!sitzung beenden")
    clock.move_to(at("2026-06-01T11:00:00"))  # the first is still within its time
    assert "Sitzung #2 Zweite hat begonnen" in await say(app, "!sitzung beginnen")


async def test_what_members_wrote_cannot_forge_lines_of_the_filed_minutes(
    world: tuple[App, Recorder],
) -> None:
    app, _ = world
    await meeting_with_agenda(app)
    await say(app, "!sitzung beginnen")
    await say(app, "!info Ok\n\n## TOP 9: Nachtrag\n- Beschluss 2026/99: gestrichen <b>x</b>", MEMBER)
    draft = (await dispatch(app, "!sitzung beenden", CHAIR))[0]
    assert "\n## TOP 9" not in draft and "\n- Beschluss 2026/99" not in draft
    files: list[tuple[str, bytes, str]] = []
    await dispatch(app, "!protokoll freigeben", CHAIR, files=files)
    markdown = files[1][1].decode()
    assert not any(line.startswith(("## TOP 9", "- Beschluss 2026/99")) for line in markdown.splitlines())
    assert "<b>" not in markdown and "\\<b\\>" in markdown
    shown = " ".join(pdf_text(files[0][1]).split())
    assert "Ok ## TOP 9: Nachtrag - Beschluss 2026/99: gestrichen <b>x</b>" in shown


async def test_replayed_commands_act_once_and_numbers_are_never_given_out_twice(
    world: tuple[App, Recorder],
) -> None:
    app, _ = world
    await meeting_with_agenda(app)
    await say(app, "!sitzung beginnen")
    await say(app, "!top weiter", event_id="$next")
    assert "TOP 2: Klinik-Pilot" in await say(app, "!top weiter", event_id="$next")  # the restart's replay
    await say(app, "!info Erste", MEMBER)
    await say(app, "!info Zweite", MEMBER)
    await say(app, "!rückgängig", MEMBER, event_id="$undo")
    await say(app, "!rückgängig", MEMBER, event_id="$undo")
    assert [tag.text for tag in app.minutes.minutes(ROOM, 1).tags] == ["Erste"]
    await say(app, "!beschluss Eins")
    await say(app, "!rückgängig")
    assert "Beschluss 2026/02" in await say(app, "!beschluss Zwei")  # 2026/01 was taken back, not reused
    assert "Aufgabe #5" in await say(app, "!aufgabe Dora Raum buchen")  # not #2 or #3 again
    assert "Einen Eintrag #3 gibt es" in await say(app, "!protokoll ändern 3 Wieder da")


async def test_a_command_whose_keys_came_late_is_filed_where_it_was_written(
    world: tuple[App, Recorder], clock: time_machine.Coordinates
) -> None:
    app, _ = world
    await meeting_with_agenda(app)
    await say(app, "!sitzung beginnen")
    await say(app, "!top 2")
    written = at("2026-06-01T09:05:00").timestamp()
    clock.move_to(at("2026-06-01T09:10:00"))
    await say(app, "!top 3")
    clock.move_to(at("2026-06-01T09:20:00"))
    await say(app, "!sitzung beenden")
    clock.move_to(at("2026-06-01T09:30:00"))
    # Decrypted only now: a decision written under TOP 2, and a member who wrote during the meeting.
    await say(app, "!info Nachgereicht", MEMBER, sent_at=written)
    await hear(app, "Ich war dabei", GUEST, at=written)
    minutes = app.minutes.minutes(ROOM, 1)
    assert [(t.top_number, t.text) for t in minutes.tags] == [(2, "Nachgereicht")]
    assert GUEST in [a.user_id for a in minutes.attendees]


async def test_actions_are_closed_by_owner_or_chair_and_old_minutes_keep_their_open_list(
    world: tuple[App, Recorder], clock: time_machine.Coordinates
) -> None:
    app, _ = world
    await meeting_with_agenda(app)
    await say(app, "!sitzung beginnen")
    await say(app, "!aufgabe Dora Raum buchen", MEMBER)
    await say(app, "!sitzung beenden")
    assert "gehört jemand anderem" in await say(app, "!aufgabe erledigt 1", MEMBER)  # only recorded it
    clock.move_to(at("2026-07-20T09:00:00"))
    await say(app, "!aufgabe Bernd Später notiert")
    old = await say(app, "!protokoll 1")
    assert "Raum buchen" in old and "Später notiert" not in old


async def test_owners_and_dates_that_cannot_be_are_explained(world: tuple[App, Recorder]) -> None:
    app, _ = world
    answer = await say(app, "!aufgabe Anna")
    assert "was zu tun ist" in answer and "Aufruf: !aufgabe <@Person|Name> <Text> [bis <wann>]" in answer
    assert "keine gültige Matrix-ID" in await say(app, "!aufgabe @:x Bericht")
    assert "Vergangenheit" in await say(app, "!aufgabe @mitglied:lwl.org Bericht bis gestern")
    answer = await say(app, "!beschluss ; einstimmig")
    assert "Bitte geben Sie einen Text an" in answer and "Aufruf: !beschluss" in answer
    assert app.db.execute("SELECT count(*) FROM tags").fetchone()[0] == 0


async def test_a_summary_the_chair_accepts_becomes_part_of_the_minutes_and_the_index(
    world: tuple[App, Recorder],
) -> None:
    app, _ = world
    await meeting_with_agenda(app)
    await say(app, "!sitzung beginnen")
    await say(app, "!beschluss Der Pilot wird verlängert")
    await say(app, "!sitzung beenden")
    assert "noch nicht freigegeben" in await say(app, "!zusammenfassung 1")
    await say(app, "!protokoll freigeben")
    assert "Vorsitz" in await say(app, "!zusammenfassung übernehmen 1", MEMBER)
    assert "kein Entwurf" in await say(app, "!zusammenfassung übernehmen 1")
    assert "kein Sprachmodell eingerichtet" in await say(app, "!zusammenfassung 1")  # none offline
    app.llm._drafts[(ROOM, "meeting:1")] = (
        "Der Arbeitskreis verlängert den Klinik-Piloten."  # as the model wrote it
    )

    assert "Teil der Niederschrift" in await say(app, "!zusammenfassung übernehmen 1")

    shown = await say(app, "!protokoll 1")
    assert "Zusammenfassung (KI-generiert, vom Vorsitz übernommen)\nDer Arbeitskreis verlängert" in shown
    files: list[tuple[str, bytes, str]] = []
    await dispatch(app, "!protokoll 1", CHAIR, files=files)
    assert "verlängert den Klinik-Piloten" in pdf_text(files[0][1])
    found = app.knowledge.search(ROOM, "Klinik-Piloten verlängert")
    assert any(p.kind == "minutes" and "verlängert den Klinik-Piloten" in p.body for p in found)
    assert "kein Entwurf" in await say(app, "!zusammenfassung verwerfen 1")
