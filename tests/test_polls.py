"""Poll rules without a homeserver: tally, both voting channels, deadline, close into a meeting."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from sqlite_utils import Database

from bot.errors import UserError
from bot.outbox import PollPoster
from bot.render import Markdown, render
from bot.router import Dispatcher
from bot.scheduler import Scheduler
from bot.services.audit import AuditLog
from bot.services.meetings import MeetingService
from bot.services.members import MemberDirectory
from bot.services.polls import MAYBE, YES, PollService, parse_selection
from bot.services.pseudonyms import Pseudonyms
from bot.services.reminders import ReminderService
from bot.settings import DEFAULT_GROUPS
from bot.storage import open_memory_db
from bot.timeparse import TimeParseError, parse_when
from bot.views import polls as views
from commands import polls as poll_commands
from tests.clock import BERLIN, at, frozen
from tests.kit import offline
from tests.test_meetings_service import NoAgenda
from tests.test_reminders_service import RecordingNotifier

ROOM = "!raum:lvr.de"
CHAIR, ANNA, BEN, CARO = "@vorsitz:lvr.de", "@anna:lvr.de", "@ben:lwl.org", "@caro:firma.de"


@dataclass
class Outbox:
    """Records what the service posts (the Matrix side is tested end to end)."""

    started: list[tuple[str, list[tuple[str, str]], bool, str]] = field(default_factory=list)
    ended: list[tuple[str, str]] = field(default_factory=list)
    notices: list[tuple[str, list[str]]] = field(default_factory=list)
    edits: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    async def start_poll(
        self,
        room_id: str,
        question: str,
        answers: Sequence[tuple[str, str]],
        *,
        anonymous: bool,
        fallback: str,
    ) -> str:
        self.started.append((question, list(answers), anonymous, fallback))
        return f"$start{len(self.started)}"

    async def end_poll(self, room_id: str, start_event_id: str, text: str) -> str:
        self.ended.append((start_event_id, text))
        return "$end"

    async def notice(self, room_id: str, markdown: Markdown, *, mentions: Sequence[str] = ()) -> str:
        self.notices.append((render(markdown)[0], list(mentions)))
        return f"$notice{len(self.notices)}"

    async def edit(
        self, room_id: str, event_id: str, markdown: Markdown, *, background: bool = False
    ) -> None:
        self.edits.append(render(markdown)[0])

    async def upload(self, room_id: str, filename: str, data: bytes, mimetype: str) -> str:
        self.files.append(filename)
        return "$file"


SPELL = Dispatcher([poll_commands.router], "!").spell


def poster(outbox: Outbox) -> PollPoster:
    """The bot's poll poster, wording in German, over the recording outbox."""
    return PollPoster(outbox, lambda _room: "de", SPELL)


class Roster:
    def members(self, room_id: str) -> list[str]:
        return [CHAIR, ANNA, BEN, CARO]

    def display_name(self, room_id: str, user_id: str) -> str:
        return user_id.split(":", maxsplit=1)[0].lstrip("@").capitalize()


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    yield from frozen("2026-06-01T10:00:00")


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def scheduler() -> Scheduler:
    return Scheduler(BERLIN)


def directory(db: Database) -> MemberDirectory:
    return MemberDirectory(
        db,
        groups=DEFAULT_GROUPS,
        organisations={"lvr.de": "LVR", "lwl.org": "LWL"},
        roster=Roster(),
        audit=AuditLog(db, BERLIN),
    )


@pytest.fixture
def members(polls: PollService) -> MemberDirectory:
    """The directory the poll service asks for groups."""
    found = polls._groups
    assert isinstance(found, MemberDirectory)
    return found


@pytest.fixture
async def polls(
    clock: time_machine.Coordinates, outbox: Outbox, scheduler: Scheduler
) -> AsyncIterator[PollService]:
    db = open_memory_db()
    reminders = ReminderService(db, BERLIN, scheduler, RecordingNotifier(), late_grace=timedelta(hours=24))
    meetings = MeetingService(
        db,
        BERLIN,
        reminders,
        NoAgenda(),
        offsets=[timedelta(days=1)],
        duration=timedelta(hours=2),
        audit=AuditLog(db, BERLIN),
    )
    service = PollService(
        db,
        BERLIN,
        meetings,
        scheduler,
        outbox=poster(outbox),
        roster=Roster(),
        audit=AuditLog(db, BERLIN),
        pseudonyms=Pseudonyms(db),
        groups=directory(db),
        nudge_before=timedelta(hours=24),
    )
    yield service
    await service.shutdown()


QUESTION = "Sitzung im Juni; Di 16.06. 10 Uhr; Mi 17.06. 14:00; lieber im Juli"


@pytest.mark.parametrize(
    ("text", "choices"),
    [
        ("1", {1: YES}),
        ("1 3", {1: YES, 3: YES}),
        ("1,3", {1: YES, 3: YES}),
        ("1, 2?, 3", {1: YES, 2: MAYBE, 3: YES}),
        ("#2?", {2: MAYBE}),
        ("keine", {}),
        ("none", {}),
        ("2 2?", {2: MAYBE}),  # the last word about an option counts
    ],
)
def test_selection_syntax(text: str, choices: dict[int, str]) -> None:
    assert parse_selection(text, option_count=3) == choices


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("4", "poll.option_out_of_range"),
        ("0 1", "poll.option_out_of_range"),
        ("ja", "poll.bad_selection"),
        ("", "poll.bad_selection"),
    ],
)
def test_bad_selections_are_explained(text: str, key: str) -> None:
    with pytest.raises(UserError) as error:
        parse_selection(text, option_count=3)
    assert error.value.key == key


async def test_options_that_read_as_dates_become_dates_the_others_stay_text(
    polls: PollService, outbox: Outbox
) -> None:
    poll = await polls.create(ROOM, CHAIR, QUESTION + "; frist: 10.06. 18 Uhr; anonym", "de")

    assert [(o.position, o.label, o.at) for o in poll.options] == [
        (1, "Di., 16.06.2026, 10:00 Uhr", at("2026-06-16T10:00:00")),
        (2, "Mi., 17.06.2026, 14:00 Uhr", at("2026-06-17T14:00:00")),
        (3, "lieber im Juli", None),
    ]
    assert poll.deadline == at("2026-06-10T18:00:00")
    assert poll.anonymous
    question, answers, anonymous, fallback = outbox.started[0]
    assert (question, anonymous) == ("Sitzung im Juni", True)
    assert answers == [
        ("1", "Di., 16.06.2026, 10:00 Uhr"),
        ("2", "Mi., 17.06.2026, 14:00 Uhr"),
        ("3", "lieber im Juli"),
    ]
    assert fallback.splitlines()[1:4] == [
        "1. Di., 16.06.2026, 10:00 Uhr",
        "2. Mi., 17.06.2026, 14:00 Uhr",
        "3. lieber im Juli",
    ]
    assert "!abstimmen #1 1 2?" in fallback


@pytest.mark.parametrize("options", ["; nur eine", "; " + "; ".join(f"Option {n}" for n in range(21))])
async def test_two_to_twenty_options(polls: PollService, options: str) -> None:
    with pytest.raises(UserError) as error:
        await polls.create(ROOM, CHAIR, "Frage" + options, "de")
    assert error.value.key == "poll.option_count"


async def test_latest_vote_wins_across_channels(polls: PollService) -> None:
    poll = await polls.create(ROOM, CHAIR, QUESTION, "de")

    polls.vote_text(ROOM, ANNA, None, "1 2?", cast_ts=100.0)
    polls.vote_native(ROOM, ANNA, "$start1", ["3"], cast_ts=200.0)  # newer: replaces the text vote
    polls.vote_native(ROOM, BEN, "$start1", ["1"], cast_ts=300.0)
    polls.vote_text(ROOM, BEN, poll.id, "2", cast_ts=250.0)  # older than Ben's native vote: ignored

    tally = polls.tally(poll)
    counts = {o.option.position: (o.yes, o.maybe) for o in tally.options}
    assert counts == {1: ([BEN], []), 2: ([], []), 3: ([ANNA], [])}
    assert tally.voters == [ANNA, BEN]
    assert tally.non_voters == [CARO, CHAIR]


async def test_unknown_answer_ids_spoil_the_vote(polls: PollService) -> None:
    poll = await polls.create(ROOM, CHAIR, QUESTION, "de")
    polls.vote_text(ROOM, ANNA, None, "1", cast_ts=100.0)

    polls.vote_native(ROOM, ANNA, "$start1", ["1", "99"], cast_ts=200.0)

    tally = polls.tally(poll)
    assert all(not o.yes and not o.maybe for o in tally.options)
    assert ANNA in tally.non_voters


async def test_votes_after_the_close_are_refused_or_ignored(polls: PollService) -> None:
    poll = await polls.create(ROOM, CHAIR, QUESTION, "de")
    polls.vote_text(ROOM, ANNA, None, "3", cast_ts=100.0)
    await polls.close(ROOM, poll.id, by=CHAIR, pick=None)

    with pytest.raises(UserError) as refused:
        polls.vote_text(ROOM, BEN, poll.id, "1", cast_ts=200.0)
    assert refused.value.key == "poll.closed"
    assert polls.vote_native(ROOM, BEN, "$start1", ["1"], cast_ts=200.0) is None
    assert [v.voter for v in polls.votes(poll.id)] == [ANNA]


async def test_ranking_by_yes_then_if_need_be_and_names_in_the_standing(polls: PollService) -> None:
    poll = await polls.create(ROOM, CHAIR, QUESTION, "de")
    polls.vote_text(ROOM, ANNA, None, "1 2?", cast_ts=1.0)
    polls.vote_text(ROOM, BEN, None, "2 1?", cast_ts=2.0)
    polls.vote_text(ROOM, CARO, None, "2", cast_ts=3.0)

    text = render(views.standing(polls.tally(poll), "de"))[0]

    assert text.splitlines() == [
        "Stand der Umfrage #1: Sitzung im Juni",
        "",
        "1. Option 2: Mi., 17.06.2026, 14:00 Uhr – 2 ja, 1 wenn nötig (ja: Ben, Caro; wenn nötig: Anna)",
        "2. Option 1: Di., 16.06.2026, 10:00 Uhr – 1 ja, 1 wenn nötig (ja: Anna; wenn nötig: Ben)",
        "3. Option 3: lieber im Juli – nur Absagen",
        "",
        "Noch nicht abgestimmt: Vorsitz",
    ]


async def test_anonymous_polls_show_counts_but_no_names(polls: PollService) -> None:
    poll = await polls.create(ROOM, CHAIR, QUESTION + "; anonym", "de")
    polls.vote_text(ROOM, ANNA, None, "1 2?", cast_ts=1.0)

    for text in (
        render(views.standing(polls.tally(poll), "de"))[0],
        render(views.summary(polls.tally(poll), "de", SPELL))[0],
    ):
        assert "1 ja" in text
        assert "Anna" not in text


async def test_the_confirmation_shows_the_whole_vote(polls: PollService) -> None:
    poll = await polls.create(ROOM, CHAIR, QUESTION, "en")
    _, vote = polls.vote_text(ROOM, ANNA, poll.id, "3 1?", cast_ts=1.0)

    assert render(views.vote_recorded(poll, vote, "en"))[0] == (
        "Your vote on poll #1: 1 (Tue, 16 Jun 2026, 10:00): if need be; 3 (lieber im Juli): yes"
    )


async def test_nudge_mentions_exactly_the_members_who_have_not_voted(
    polls: PollService, outbox: Outbox
) -> None:
    poll = await polls.create(ROOM, CHAIR, QUESTION, "de")
    polls.vote_text(ROOM, ANNA, None, "1", cast_ts=1.0)

    reminded = await polls.nudge(ROOM, poll.id)

    assert reminded == [BEN, CARO, CHAIR]
    body, mentions = outbox.notices[-1]
    assert mentions == [BEN, CARO, CHAIR]
    assert body.startswith("Ben, Caro, Vorsitz: Bitte stimmen Sie noch ab – Umfrage #1")


async def test_deadline_plans_a_nudge_and_the_close(polls: PollService, scheduler: Scheduler) -> None:
    poll = await polls.create(ROOM, CHAIR, QUESTION + "; frist: 05.06. 12 Uhr", "de")

    assert sorted(scheduler.job_ids()) == [f"poll-close:{poll.id}", f"poll-nudge:{poll.id}"]


async def test_closing_on_a_date_creates_the_meeting_with_reminders_and_calendar_file(
    polls: PollService, outbox: Outbox
) -> None:
    poll = await polls.create(ROOM, CHAIR, QUESTION, "de")
    polls.vote_text(ROOM, ANNA, None, "1 2", cast_ts=1.0)
    polls.vote_text(ROOM, BEN, None, "2", cast_ts=2.0)

    closed, meeting = await polls.close(ROOM, poll.id, by=CHAIR, pick=None)

    assert closed.state == "closed" and closed.winner == 2
    assert outbox.ended == [("$start1", "Gewählt: Option 2: Mi., 17.06.2026, 14:00 Uhr")]
    assert (
        meeting is not None
        and meeting.start == at("2026-06-17T14:00:00")
        and meeting.title == "Sitzung im Juni"
    )
    assert any(
        body.startswith("Sitzung #1 angelegt: Sitzung im Juni am Mi., 17.06.2026, 14:00 Uhr")
        for body, _ in outbox.notices
    )
    assert outbox.files == ["sitzung-1-2026-06-17.ics"]


async def test_the_chairs_pick_wins_and_a_text_option_creates_no_meeting(polls: PollService) -> None:
    poll = await polls.create(ROOM, CHAIR, QUESTION, "de")
    polls.vote_text(ROOM, ANNA, None, "1", cast_ts=1.0)

    closed, meeting = await polls.close(ROOM, poll.id, by=CHAIR, pick=3)

    assert closed.winner == 3
    assert meeting is None


async def test_withdrawing_ends_the_native_poll(
    polls: PollService, outbox: Outbox, scheduler: Scheduler
) -> None:
    poll = await polls.create(ROOM, CHAIR, QUESTION + "; frist: 05.06. 12 Uhr", "de")

    withdrawn = await polls.withdraw(ROOM, poll.id, by=CHAIR)

    assert withdrawn.state == "withdrawn"
    assert outbox.ended == [("$start1", "Diese Umfrage wurde zurückgezogen.")]
    assert scheduler.job_ids() == []


class VirtualTime:
    """``time.monotonic`` and ``asyncio.sleep`` for the poll service, on a clock that moves only when
    the test advances it: sleepers wake in the order of their times, each seeing its own time."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, delay), next(self._order), future))
        await future

    async def advance(self, delay: float) -> None:
        """Move the clock on by ``delay``, letting everything due on the way run until it waits again."""
        until = self.now + delay
        await settle()
        while self._sleepers and self._sleepers[0][0] <= until:
            self.now, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)
            await settle()
        self.now = until


async def settle() -> None:
    """Let the tasks that can run, run until they wait (for the virtual clock)."""
    for _ in range(20):
        await asyncio.sleep(0)


def as_module(real: object, **replaced: object) -> object:
    """A stand-in for a module: ``replaced`` attributes, everything else from ``real``."""

    class Module:
        def __getattr__(self, name: str) -> object:
            return replaced[name] if name in replaced else getattr(real, name)

    return Module()


async def test_summary_edits_never_come_closer_than_the_interval(
    polls: PollService, outbox: Outbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.services.polls as polls_module

    # Binary fractions throughout, so that the virtual times add up exactly.
    interval, latency, spacing = 0.25, 0.0625, 0.03125
    virtual = VirtualTime()
    monkeypatch.setattr(polls_module, "time", as_module(time, monotonic=virtual.monotonic))
    monkeypatch.setattr(polls_module, "asyncio", as_module(asyncio, sleep=virtual.sleep))
    monkeypatch.setattr(polls_module, "SUMMARY_EDIT_INTERVAL_S", interval)
    sent_at: list[float] = []

    async def slow_edit(room_id: str, event_id: str, markdown: Markdown, *, background: bool = False) -> None:
        await virtual.sleep(latency)  # the homeserver takes its time
        sent_at.append(virtual.monotonic())
        outbox.edits.append(render(markdown)[0])

    outbox.edit = slow_edit  # type: ignore[method-assign]
    poll = await polls.create(ROOM, CHAIR, QUESTION, "de")
    voters = [f"@m{n}:lvr.de" for n in range(40)]
    for n, voter in enumerate(voters):
        polls.vote_text(ROOM, voter, poll.id, "1", cast_ts=float(n))
        await virtual.advance(spacing)  # votes spread over time, so that several edits are due
    for _ in range(10):  # the edits still due after the last vote
        if outbox.edits and "40 ja" in outbox.edits[-1]:
            break
        await virtual.advance(interval)

    gaps = [b - a for a, b in itertools.pairwise(sent_at)]
    assert gaps and min(gaps) >= interval
    assert "40 ja" in outbox.edits[-1]  # the last edit shows every vote


async def test_through_the_app_only_the_summary_edit_waits_for_the_rooms_other_sends(
    tmp_path: Path, clock: time_machine.Coordinates, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.services.polls as polls_module

    monkeypatch.setattr(polls_module, "SUMMARY_EDIT_INTERVAL_S", 0.0)  # edits due at once
    async with offline.running(tmp_path) as (app, recorder):
        await offline.hear(app, "!umfrage Nächster Termin; Di 23.06. 10 Uhr; Mi 24.06. 14 Uhr", offline.CHAIR)
        before = len(recorder.contents)
        await offline.hear(app, "!abstimmen 1", offline.MEMBER)
        await settle()

    sent = list(zip(recorder.contents[before:], recorder.backgrounds[before:], strict=True))
    assert [background for _, background in sent] == [False, True], sent  # confirmation, edit
    assert "Option 1: Di., 23.06.2026, 10:00 Uhr – 1 ja" in str(sent[1][0]["body"])


@pytest.mark.parametrize(
    ("deadline", "nudge"),
    [
        ("05.06. 12 Uhr", "2026-06-04T12:00:00"),  # days away: the configured 24 h before
        ("in 3 Minuten", "2026-06-01T10:01:30"),  # minutes away: halfway, not at once
        ("01.06. 20 Uhr", "2026-06-01T15:00:00"),  # hours away: halfway
    ],
)
async def test_the_automatic_nudge_leaves_members_a_fair_chance_first(
    polls: PollService, scheduler: Scheduler, deadline: str, nudge: str
) -> None:
    poll = await polls.create(ROOM, CHAIR, f"{QUESTION}; frist: {deadline}", "de")

    assert scheduler.due(f"poll-nudge:{poll.id}") == at(nudge)


async def test_a_tie_is_named_and_the_chair_decides(polls: PollService, outbox: Outbox) -> None:
    poll = await polls.create(ROOM, CHAIR, QUESTION, "de")
    polls.vote_text(ROOM, ANNA, None, "1", cast_ts=1.0)
    polls.vote_text(ROOM, BEN, None, "2", cast_ts=2.0)

    with pytest.raises(UserError) as tie:
        await polls.close(ROOM, poll.id, by=CHAIR, pick=None)

    assert (tie.value.key, tie.value.params) == ("poll.tie", {"id": poll.id, "options": "1, 2"})
    assert polls.get(ROOM, poll.id).state == "open"  # no meeting, no result until the chair picks
    closed, meeting = await polls.close(ROOM, poll.id, by=CHAIR, pick=2)
    assert closed.winner == 2 and meeting is not None


async def test_a_tie_at_the_deadline_asks_the_chair_and_keeps_the_poll_open(
    polls: PollService, outbox: Outbox, scheduler: Scheduler
) -> None:
    poll = await polls.create(ROOM, CHAIR, QUESTION + "; frist: 05.06. 12 Uhr", "de")
    polls.vote_text(ROOM, ANNA, None, "1 2?", cast_ts=1.0)
    polls.vote_text(ROOM, BEN, None, "2 1?", cast_ts=2.0)

    await polls.close_at_deadline(ROOM, poll.id)

    body, mentions = outbox.notices[-1]
    assert body.startswith("Vorsitz: Die Frist der Umfrage #1 „Sitzung im Juni“ ist um – Gleichstand")
    assert "!umfrage schließen 1 <Option-Nr>" in body and mentions == [CHAIR]
    assert polls.get(ROOM, poll.id).state == "open" and outbox.ended == []
    assert scheduler.job_ids() == []


@pytest.mark.parametrize(
    ("option", "problem"),
    [
        ("32.13.2027 10:00", "bad_month"),
        ("01.05.2026 10:00", "past"),
        ("16.06.", "no_time"),
        ("Mi 16.06. 10 Uhr", "weekday_mismatch"),  # 16.06.2026 is a Tuesday
    ],
)
async def test_an_option_that_reads_as_a_date_but_is_no_valid_one_is_refused(
    polls: PollService, outbox: Outbox, option: str, problem: str
) -> None:
    with pytest.raises(UserError) as refused:
        await polls.create(ROOM, CHAIR, f"Unsinn; {option}; 16.01.2027 10:00", "de")

    assert refused.value.key == "poll.option_bad_date"
    assert refused.value.params["number"] == 1 and refused.value.params["label"] == option
    try:
        parse_when(option, now=polls.now(), tz=BERLIN, lang="de")
    except TimeParseError as error:
        assert error.reason == problem and refused.value.params["problem"] == error.message
    else:
        raise AssertionError(f"{option!r} parsed")
    assert outbox.started == []  # nothing posted, nothing stored


async def test_the_vote_hint_in_the_summary_fits_the_polls_options(
    polls: PollService, outbox: Outbox
) -> None:
    await polls.create(ROOM, CHAIR, "Mittagessen?; Pizza; Salat", "de")

    summary, _ = outbox.notices[0]

    assert "!abstimmen #1 1 2?" in summary and "1 3?" not in summary


async def test_a_deadline_without_a_time_is_the_end_of_that_day(polls: PollService) -> None:
    poll = await polls.create(ROOM, CHAIR, QUESTION + "; frist: 12.06.", "de")

    assert poll.deadline == at("2026-06-12T23:59:00")


async def test_a_relative_deadline_ends_on_a_whole_minute(
    polls: PollService, clock: time_machine.Coordinates
) -> None:
    clock.move_to(at("2026-06-01T10:00:30"))

    poll = await polls.create(ROOM, CHAIR, QUESTION + "; frist: in 3 Minuten", "de")

    assert poll.deadline == at("2026-06-01T10:04:00")


async def test_an_anonymous_poll_counts_per_group_but_never_says_what_a_group_chose(
    polls: PollService, members: MemberDirectory
) -> None:
    members.set_own_groups(ANNA, "Kliniken")
    members.set_own_groups(BEN, "IT")
    poll = await polls.create(ROOM, CHAIR, QUESTION + "; anonym", "de")
    polls.vote_text(ROOM, ANNA, poll.id, "1", cast_ts=1.0)
    polls.vote_text(ROOM, BEN, poll.id, "2", cast_ts=2.0)

    tally = polls.tally(polls.get(ROOM, poll.id))
    assert [(c.group, c.done, c.total) for c in tally.by_group()] == [
        ("IT", 1, 1),
        ("Kliniken", 1, 1),
        (None, 0, 2),
    ]
    assert all(tally.left_out(entry) == [] for entry in tally.options)
    shown = render(views.standing(tally, "de"))[0]
    assert "ohne Kliniken" not in shown and "ohne IT" not in shown
    assert "Kliniken: 1 von 1 abgestimmt" in shown
