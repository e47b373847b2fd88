"""Date polls as members read them: the native poll's text fallback, the live summary, the standing,
the result, the nudge, a recorded vote and the list of open polls."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import t, template
from bot.render import Markdown, code, escape, join, mention, render
from bot.services.polls import CLOSED, OPEN, WITHDRAWN, YES, Listed, Option, Outcome, Poll, Tally, Vote
from bot.timeparse import format_datetime
from bot.views import Spell, person
from bot.views.members import group_counts

_STATES = {OPEN: "poll.state_open", CLOSED: "poll.state_closed", WITHDRAWN: "poll.state_withdrawn"}


def vote_example(poll: Poll, lang: str, spell: Spell, selection: str) -> Markdown:
    """The text vote as typed in this language, e.g. ``!abstimmen #3 1 2?``."""
    return code(spell("vote", lang, f"#{poll.id} {selection}"))


def fallback_text(poll: Poll, lang: str, spell: Spell) -> str:
    """For clients without native polls: the question, numbered options, how to vote by text."""
    lines = [t(lang, "poll.fallback_title", question=poll.question)]
    lines += [Markdown(f"{option.position}\\. {escape(option.label)}") for option in poll.options]
    lines.append(t(lang, "poll.how_to_vote", example=vote_example(poll, lang, spell, "1 2?")))
    return plain(join(lines, "  \n"))


def summary(tally: Tally, lang: str, spell: Spell) -> Markdown:
    """The poll's live message: options with counts, who voted (unless anonymous), how to vote."""
    poll = tally.poll
    lines = [
        t(lang, "poll.summary_title", id=poll.id, question=poll.question, state=t(lang, _STATES[poll.state]))
    ]
    if poll.deadline and poll.state == OPEN:
        lines.append(t(lang, "poll.deadline", when=format_datetime(poll.deadline, lang)))
    lines.append(Markdown(""))
    lines.extend(_option_lines(tally, lang, ranked=False))
    lines.append(Markdown(""))
    lines.append(t(lang, "poll.voted_count", voted=len(tally.voters), missing=len(tally.non_voters)))
    if tally.by_group():
        per_group = "; ".join(group_counts(tally.by_group(), lang, "members.voted"))
        lines.append(t(lang, "poll.by_group_line", groups=Markdown(per_group)))
    if poll.state == OPEN:
        # An example that fits this poll: its last option as "if need be", the first as yes.
        selection = f"1 {len(poll.options)}?"
        lines.append(t(lang, "poll.how_to_vote", example=vote_example(poll, lang, spell, selection)))
    return join(lines)


def standing(tally: Tally, lang: str) -> Markdown:
    """``!umfrage stand``: ranked options with names, and who has not voted yet."""
    poll = tally.poll
    lines = [t(lang, "poll.standing_title", id=poll.id, question=poll.question), Markdown("")]
    lines.extend(_option_lines(tally, lang, ranked=True))
    lines.append(Markdown(""))
    lines.extend(_group_lines(tally, lang))
    if tally.non_voters:
        lines.append(
            t(lang, "poll.not_voted", names=", ".join(tally.name(user) for user in tally.non_voters))
        )
    else:
        lines.append(t(lang, "poll.everyone_voted"))
    return join(lines)


def result(outcome: Outcome, lang: str) -> Markdown:
    """The result posted at the close: ranked options, and the chosen one."""
    poll = outcome.poll
    lines = [t(lang, "poll.result_title", id=poll.id, question=poll.question), Markdown("")]
    lines.extend(_option_lines(outcome.tally, lang, ranked=True))
    lines.append(Markdown(""))
    lines.extend(_group_lines(outcome.tally, lang))
    lines.append(result_line(poll, outcome.winner, lang))
    chosen = next((e for e in outcome.tally.options if outcome.winner and e.option == outcome.winner), None)
    left_out = outcome.tally.left_out(chosen) if chosen is not None else []
    if left_out:
        lines.append(t(lang, "poll.winner_leaves_out", groups=", ".join(left_out)))
    return join(lines)


def _group_lines(tally: Tally, lang: str) -> list[Markdown]:
    """Per stakeholder group, how many voted, as list items; then the groups not heard."""
    counts = tally.by_group()
    if not counts:
        return []
    lines = [t(lang, "poll.by_group_title")]
    lines += [Markdown(f"- {line}") for line in group_counts(counts, lang, "members.voted")]
    lines.append(Markdown(""))
    return lines


def everyone_voted(tally: Tally, lang: str, spell: Spell) -> Markdown:
    """To the poll's creator: everyone has voted; the dates nobody can make, and how to close."""
    poll = tally.poll
    who = mention(poll.created_by, tally.name(poll.created_by))
    lines = [t(lang, "poll.all_voted", who=who, id=poll.id, question=poll.question, count=len(tally.voters))]
    for option in tally.only_no():
        command = code(spell("poll drop", lang, f"{poll.id} {option.position}"))
        lines.append(
            t(lang, "poll.only_no_hint", number=option.position, label=option.label, command=command)
        )
    command = code(spell("poll close", lang, str(poll.id)))
    lines.append(t(lang, "poll.close_hint", command=command))
    return join(lines, "  \n")


def dropped(poll: Poll, position: int, lang: str) -> Markdown:
    return t(lang, "poll.dropped_ok", id=poll.id, number=position, label=poll.option(position).label)


def result_line(poll: Poll, winner: Option | None, lang: str) -> Markdown:
    if winner is None:
        return t(lang, "poll.no_winner", id=poll.id)
    return t(lang, "poll.winner", number=winner.position, label=winner.label)


def tie_at_deadline(tally: Tally, lang: str, spell: Spell) -> Markdown:
    """At the deadline with a tie: the creator (the chair) is asked to pick."""
    poll = tally.poll
    options = ", ".join(str(option.position) for option in tally.tied())
    command = code(spell("poll close", lang, f"{poll.id} <{template(lang, 'arg.option')}>"))
    who = mention(poll.created_by, tally.name(poll.created_by))
    return t(
        lang,
        "poll.tie_at_deadline",
        who=who,
        id=poll.id,
        question=poll.question,
        options=options,
        command=command,
    )


def withdrawn_end(lang: str) -> str:
    """The text the ended native poll shows when it was withdrawn."""
    return plain(t(lang, "poll.withdrawn_end"))


def nudge(tally: Tally, lang: str) -> Markdown:
    """One message mentioning everyone who has not voted yet."""
    poll = tally.poll
    pills = ", ".join(mention(user, tally.name(user)) for user in tally.non_voters)
    deadline = (
        t(lang, "poll.deadline", when=format_datetime(poll.deadline, lang)) if poll.deadline else Markdown("")
    )
    text = t(lang, "poll.nudge", who=Markdown(pills), id=poll.id, question=poll.question, deadline=deadline)
    unheard = tally.unheard()
    if unheard:
        text = Markdown(f"{text.rstrip()}  \n{t(lang, 'poll.unheard', groups=', '.join(unheard))}")
    return text


def vote_recorded(poll: Poll, vote: Vote, lang: str) -> Markdown:
    """The answer to ``!abstimmen``: the vote as it now stands."""
    if not vote.choices:
        return t(lang, "poll.vote_none", id=poll.id)
    parts = []
    for position in sorted(vote.choices):
        key = "poll.vote_yes" if vote.choices[position] == YES else "poll.vote_maybe"
        parts.append(t(lang, key, number=position, label=poll.option(position).label))
    return t(lang, "poll.vote_recorded", id=poll.id, choices=Markdown("; ".join(parts)))


def listing(polls: Sequence[Listed], lang: str) -> Markdown:
    """``!umfragen``: the open polls, each with its votes and deadline."""
    if not polls:
        return t(lang, "poll.list_empty")
    lines = [t(lang, "poll.list_title")]
    for item in polls:
        line = t(lang, "poll.list_line", id=item.poll.id, question=item.poll.question, count=item.votes)
        if item.poll.deadline is not None:
            deadline = t(lang, "poll.deadline", when=format_datetime(item.poll.deadline, lang))
            line = Markdown(f"{line} · {deadline}")
        lines.append(Markdown(f"- {line}"))
    return join(lines)


def _option_lines(tally: Tally, lang: str, *, ranked: bool) -> list[Markdown]:
    entries = tally.options if ranked else sorted(tally.options, key=lambda o: o.option.position)
    lines = []
    only_no = tally.only_no()
    for rank, entry in enumerate(entries, start=1):
        label = t(lang, "poll.option_line", number=entry.option.position, label=entry.option.label)
        counts = (
            t(lang, "poll.only_no")
            if entry.option in only_no
            else t(lang, "poll.counts", yes=len(entry.yes), maybe=len(entry.maybe))
        )
        line = f"{rank}\\. {label} – {counts}" if ranked else f"- {label} – {counts}"
        if not tally.poll.anonymous and (entry.yes or entry.maybe):
            groups = []
            if entry.yes:
                groups.append(
                    t(lang, "poll.names_yes", names=", ".join(person(tally.name(u), lang) for u in entry.yes))
                )
            if entry.maybe:
                groups.append(
                    t(
                        lang,
                        "poll.names_maybe",
                        names=", ".join(person(tally.name(u), lang) for u in entry.maybe),
                    )
                )
            line += f" ({'; '.join(groups)})"
        if ranked and entry.option not in only_no and (left_out := tally.left_out(entry)):
            line += " – " + t(lang, "poll.leaves_out", groups=", ".join(left_out))
        lines.append(Markdown(line))
    for option in tally.dropped:
        label = t(lang, "poll.option_line", number=option.position, label=option.label)
        lines.append(Markdown(f"- {t(lang, 'poll.struck', option=label)}"))
    return lines


def plain(markdown: str) -> str:
    """Plain text of Markdown, for places that take none (poll fallback, poll end)."""
    return render(markdown)[0]
