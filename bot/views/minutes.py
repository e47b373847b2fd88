"""The record as members read it: the running meeting, the acknowledgement of a tag, the minutes
(in the room, as Markdown file and as PDF), the invitation PDF, the lists of action items and
decisions, and an action item's reminder."""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.i18n import t, template
from bot.render import Markdown, code, escape, join, mention
from bot.services.agenda import OPEN_ACTIONS, Agenda, Item, Outcome, Outcomes
from bot.services.meetings import Meeting
from bot.services.minutes import (
    ActionDue,
    Attendee,
    Decision,
    Kind,
    Minutes,
    Session,
    State,
    Tag,
    Top,
    Undone,
    Vote,
)
from bot.services.reminders import DueReminder
from bot.timeparse import format_datetime
from bot.timeparse.format import format_date
from bot.views import Spell, item_title, pdf, person

# ---- the running meeting ------------------------------------------------------------------------


def top_line(top: Top | None, lang: str) -> Markdown:
    """ "**TOP 2: Klinik-Pilot** – Vortrag: Anna Schmidt (LVR)"."""
    if top is None:
        return t(lang, "minutes.no_top")
    line = t(lang, "minutes.top", number=top.number, title=item_title(top.title, lang))
    if top.item is not None:
        presenter = person(top.item.submitter_name, lang)
        line = Markdown(line + " – " + t(lang, "minutes.presenter", name=presenter, org=top.item.affiliation))
    return line


def started(session: Session, lang: str, spell: Spell) -> Markdown:
    meeting = session.meeting
    key = "minutes.resumed" if session.resumed else "minutes.started"
    lines = [
        t(lang, key, id=meeting.id, title=meeting.title),
        top_line(session.top, lang),
        t(
            lang,
            "minutes.how_to_tag",
            decision=code(spell("decision", lang, "")),
            action=code(spell("action", lang, "")),
            note=code(spell("note", lang, "")),
            present=code(spell("present", lang, "")),
            next=code(spell("item next", lang, "")),
        ),
    ]
    if session.groups.absent:
        lines.append(t(lang, "minutes.groups_absent", groups=", ".join(session.groups.absent)))
    if session.groups.without_members:
        lines.append(
            t(lang, "minutes.groups_without_members", groups=", ".join(session.groups.without_members))
        )
    return join(lines, "  \n")


def switched(session: Session, lang: str) -> Markdown:
    return top_line(session.top, lang)


def attendance_noted(present: bool, lang: str) -> Markdown:
    return t(lang, "minutes.noted_present" if present else "minutes.noted_absent")


# ---- tags ---------------------------------------------------------------------------------------


def vote(found: Vote, lang: str) -> str:
    if found.unanimous:
        return template(lang, "minutes.vote.unanimous") or "einstimmig"
    parts = []
    for name, count in (("yes", found.yes), ("no", found.no), ("abstain", found.abstain)):
        if count is not None:
            key = f"minutes.vote.{name}" + (".one" if count == 1 else "")
            parts.append(
                (template(lang, key) or template(lang, f"minutes.vote.{name}") or name).format(n=count)
            )
    return ", ".join(parts)


def entry(tag: Tag, lang: str, *, ids: bool = True) -> str:
    """One entry as plain text (escaped by the caller where it goes into Markdown): "Beschluss
    2026/07 (#5): „…“ (einstimmig)", "Aufgabe #12: … – Anna Schmidt (bis …)", "Notiz #13: …".
    ``ids``: with the number a decision is corrected by (not in what is filed)."""
    if tag.kind == Kind.DECISION:
        key = "minutes.entry.decision_id" if ids else "minutes.entry.decision"
        text = _raw(lang, key, number=tag.number or "", id=tag.id, text=tag.text)
        if tag.vote is not None:
            text += f" ({vote(tag.vote, lang)})"
    elif tag.kind == Kind.ACTION:
        text = _raw(lang, "minutes.entry.action", id=tag.id, text=tag.text, owner=_owner(tag, lang))
        if tag.due is not None:
            text += " " + _raw(lang, "minutes.entry.due", due=format_datetime(tag.due, lang))
        if tag.done_at is not None:
            text += " " + _raw(lang, "minutes.entry.done")
    else:
        text = _raw(lang, "minutes.entry.info", id=tag.id, text=tag.text)
    return text


def acknowledged(tag: Tag, lang: str, *, reminded: bool) -> Markdown:
    """A brief reply: what was recorded, with the number to correct or close it by."""
    where = (
        t(lang, "minutes.under_top", number=tag.top_number) if tag.top_number is not None else Markdown("")
    )
    if tag.kind == Kind.DECISION:
        counted = f" ({vote(tag.vote, lang)})" if tag.vote is not None else ""
        line = t(lang, "minutes.ack.decision", number=tag.number or "", where=where, vote=counted)
    elif tag.kind == Kind.ACTION:
        who = (
            mention(tag.owner, tag.owner_name or tag.owner)
            if tag.owner_is_member and tag.owner
            else escape(_owner(tag, lang))
        )
        due = (
            t(lang, "minutes.ack.due", due=format_datetime(tag.due, lang))
            if tag.due
            else t(lang, "minutes.ack.no_due")
        )
        line = t(lang, "minutes.ack.action", id=tag.id, who=who, due=due, where=where)
        if tag.due is not None and not reminded:
            line = Markdown(line + " " + t(lang, "minutes.ack.no_reminder"))
    else:
        line = t(lang, "minutes.ack.info", id=tag.id, where=where)
    return line


def undone(result: Undone, lang: str) -> Markdown:
    return t(lang, "minutes.undone", entry=entry(result.tag, lang))


def corrected(tag: Tag, lang: str) -> Markdown:
    return t(lang, "minutes.corrected", entry=entry(tag, lang))


# ---- the minutes --------------------------------------------------------------------------------


def _organisation(name: str | None, lang: str) -> str:
    return name if name is not None else _raw(lang, "minutes.external")


def _attendance(minutes: Minutes, lang: str) -> list[str]:
    """ "LVR: Anna, Bernd", "extern: Dora" — and who said they are absent."""
    lines = [
        f"{_organisation(org, lang)}: {', '.join(_attendee(a, lang) for a in people)}"
        for org, people in minutes.present_by_organisation().items()
    ]
    absent: list[Attendee] = [a for a in minutes.attendees if not a.present]
    if absent:
        lines.append(_raw(lang, "minutes.absent", names=", ".join(person(a.name, lang) for a in absent)))
    return lines


def _attendee(attendee: Attendee, lang: str) -> str:
    """ "Anna Schmidt (Kliniken)": the name, and the stakeholder groups when known."""
    name = person(attendee.name, lang)
    return f"{name} ({', '.join(attendee.groups)})" if attendee.groups else name


def _meeting_facts(meeting: Meeting, lang: str) -> list[tuple[str, str]]:
    """What heads the minutes and the invitation: the meeting, its date and place."""
    rows = [
        (_raw(lang, "minutes.fact.meeting"), f"{meeting.title} (#{meeting.id})"),
        (_raw(lang, "minutes.fact.date"), format_datetime(meeting.start, lang)),
    ]
    if meeting.location:
        rows.append((_raw(lang, "minutes.fact.place"), meeting.location))
    return rows


def _facts(minutes: Minutes, lang: str) -> list[tuple[str, str]]:
    rows = _meeting_facts(minutes.meeting, lang)
    rows.append((_raw(lang, "minutes.fact.chair"), person(minutes.chair_name, lang)))
    state = _raw(lang, f"minutes.state.{minutes.state}")
    if minutes.state == State.APPROVED and minutes.approved_at is not None:
        state = _raw(lang, "minutes.state.approved_on", date=format_date(minutes.approved_at.date(), lang))
    rows.append((_raw(lang, "minutes.fact.state"), state))
    return rows


def minutes_message(minutes: Minutes, lang: str, spell: Spell) -> Markdown:
    """The minutes in the room: the draft for the chair to check, or the released record."""
    meeting = minutes.meeting
    key = "minutes.title_approved" if minutes.state == State.APPROVED else "minutes.title_draft"
    lines = [t(lang, key, id=meeting.id, title=meeting.title)]
    lines += [Markdown(f"{escape(label)}: {escape(value)}  ") for label, value in _facts(minutes, lang)[1:]]
    if minutes.summary:
        lines += [Markdown(""), t(lang, "minutes.summary_title"), Markdown(_line(minutes.summary))]
    lines.append(Markdown(""))
    lines.append(t(lang, "minutes.present"))
    attendance = _attendance(minutes, lang)
    lines += [Markdown(f"- {_line(line)}") for line in attendance] or [t(lang, "minutes.nobody")]
    for title, tags in _sections(minutes, lang):
        lines += [Markdown(""), Markdown(f"**{_line(title)}**")]
        lines += [Markdown(f"- {_line(entry(tag, lang), lang, short=True)}") for tag in tags] or [
            t(lang, "minutes.nothing_recorded")
        ]
    if minutes.open_actions:
        lines += [Markdown(""), Markdown(f"**{_line(_raw(lang, OPEN_ACTIONS))}**")]
        lines += [Markdown(f"- {_line(entry(tag, lang), lang, short=True)}") for tag in minutes.open_actions]
    if minutes.state == State.DRAFT:
        lines += [
            Markdown(""),
            t(
                lang,
                "minutes.draft_hint",
                change=code(spell("minutes change", lang, _raw(lang, "minutes.change_args"))),
                approve=code(spell("minutes approve", lang, "")),
            ),
        ]
    return join(lines)


def _sections(minutes: Minutes, lang: str) -> list[tuple[str, list[Tag]]]:
    sections: list[tuple[str, list[Tag]]] = []
    if minutes.general:
        sections.append((_raw(lang, "minutes.general"), minutes.general))
    for record in minutes.tops:
        top = record.top
        title = _raw(lang, "minutes.top_plain", number=top.number, title=item_title(top.title, lang))
        if top.item is not None:
            title += " – " + _presenter(top.item, lang)
        sections.append((title, record.tags))
    return sections


def summary_coming(minutes: Minutes, lang: str, spell: Spell) -> Markdown:
    meeting_id = str(minutes.meeting.id)
    return t(
        lang,
        "minutes.summary_coming",
        id=minutes.meeting.id,
        accept=code(spell("summary accept", lang, meeting_id)),
        discard=code(spell("summary discard", lang, meeting_id)),
    )


def thread_material(texts: Sequence[tuple[str, str]]) -> str:
    """A thread as the model reads it: "Name: text", one message a line."""
    return "\n".join(f"{name}: {' '.join(text.split())}" for name, text in texts)


def thread_summary_coming(lang: str, spell: Spell) -> Markdown:
    return t(
        lang,
        "minutes.thread_summary_coming",
        accept=code(spell("summary accept", lang, "")),
        discard=code(spell("summary discard", lang, "")),
    )


def thread_summary_note(summary: str, lang: str) -> str:
    """The text of the note a thread's accepted summary becomes (plain, stored as written)."""
    return _raw(lang, "minutes.thread_summary_note", text=" ".join(summary.split()))


def summary_accepted(minutes: Minutes, lang: str) -> Markdown:
    return t(lang, "minutes.summary_accepted", id=minutes.meeting.id)


def minutes_file(minutes: Minutes, lang: str) -> bytes:
    """The minutes as a Markdown file (the same text as the PDF)."""
    # Every text members wrote is one line with its markup escaped: a "## TOP 9" in a note stays
    # the note's text, and a filed document stays readable as plain text.
    lines = [f"# {_file_line(_minutes_title(minutes, lang))}", ""]
    lines += [f"- **{_file_line(label)}:** {_file_line(value)}" for label, value in _facts(minutes, lang)]
    if minutes.summary:
        lines += [
            "",
            f"## {_file_line(_raw(lang, 'minutes.summary_plain'))}",
            "",
            _file_line(minutes.summary),
        ]
    lines += ["", f"## {_file_line(_raw(lang, 'minutes.present_plain'))}", ""]
    lines += [f"- {_file_line(line)}" for line in _attendance(minutes, lang)] or [
        _raw(lang, "minutes.nobody")
    ]
    for title, tags in _sections(minutes, lang):
        lines += ["", f"## {_file_line(title)}", ""]
        lines += [f"- {_file_line(entry(tag, lang, ids=False))}" for tag in tags] or [
            _raw(lang, "minutes.nothing_recorded")
        ]
    if minutes.open_actions:
        lines += ["", f"## {_file_line(_raw(lang, OPEN_ACTIONS))}", ""]
        lines += [f"- {_file_line(entry(tag, lang))}" for tag in minutes.open_actions]
    return ("\n".join(lines) + "\n").encode()


def _minutes_title(minutes: Minutes, lang: str) -> str:
    return _raw(
        lang, "minutes.pdf.title", date=format_date(minutes.meeting.start.date(), lang).split(", ")[-1]
    )


def minutes_pdf(minutes: Minutes, lang: str) -> bytes:
    """ "Niederschrift über die Sitzung des Facharbeitskreises KI am 12.03.2026", as filed."""
    blocks: list[pdf.Block] = [pdf.Facts(tuple(_facts(minutes, lang)))]
    if minutes.summary:
        blocks += [pdf.Heading(_raw(lang, "minutes.summary_plain")), pdf.Paragraph(minutes.summary)]
    blocks.append(pdf.Heading(_raw(lang, "minutes.present_plain")))
    attendance = _attendance(minutes, lang)
    blocks.append(
        pdf.Bullets(tuple(attendance)) if attendance else pdf.Paragraph(_raw(lang, "minutes.nobody"))
    )
    for title, tags in _sections(minutes, lang):
        blocks.append(pdf.Heading(title))
        if tags:
            blocks.append(pdf.Bullets(tuple(entry(tag, lang, ids=False) for tag in tags)))
        else:
            blocks.append(pdf.Paragraph(_raw(lang, "minutes.nothing_recorded")))
    if minutes.open_actions:
        blocks.append(pdf.Heading(_raw(lang, OPEN_ACTIONS)))
        blocks.append(pdf.Bullets(tuple(entry(tag, lang) for tag in minutes.open_actions)))
    return pdf.render(
        pdf.Document(
            title=_minutes_title(minutes, lang),
            blocks=tuple(blocks),
            page_label=_raw(lang, "pdf.page"),
            subject=minutes.meeting.title,
            footer=_raw(lang, "pdf.footer"),
        )
    )


def minutes_stem(minutes: Minutes, lang: str) -> str:
    meeting = minutes.meeting
    return _raw(lang, "file.minutes", id=meeting.id, date=f"{meeting.start:%Y-%m-%d}")


def invitation_pdf(shown: Agenda, lang: str) -> bytes:
    """ "Einladung mit Tagesordnung": the meeting's facts and its TOPs."""
    meeting = shown.meeting
    facts = _meeting_facts(meeting, lang)
    rows = []
    for number, title, item in shown.numbered():
        row = _raw(lang, "minutes.top_plain", number=number, title=item_title(title, lang))
        if item is not None:
            row += " – " + _presenter(item, lang)
            if item.description:
                row += "\n" + item.description
        elif title == OPEN_ACTIONS:
            row += "".join(f"\n{entry(tag, lang)}" for tag in shown.open_actions)
        rows.append(row)
    blocks: list[pdf.Block] = [pdf.Facts(tuple(facts)), pdf.Heading(_raw(lang, "minutes.pdf.agenda"))]
    blocks.append(pdf.Bullets(tuple(rows)) if rows else pdf.Paragraph(_raw(lang, "agenda.no_items")))
    return pdf.render(
        pdf.Document(
            title=_raw(lang, "minutes.pdf.invitation"),
            blocks=tuple(blocks),
            page_label=_raw(lang, "pdf.page"),
            subject=meeting.title,
            footer=_raw(lang, "pdf.footer"),
        )
    )


def oparl_outcomes(minutes: Minutes, lang: str) -> Outcomes:
    """Per TOP what released minutes decided (OParl ``result`` / ``resolutionText``)."""
    by_top: dict[int, Outcome] = {}
    for record in minutes.tops:
        decided = [tag for tag in record.tags if tag.kind == Kind.DECISION]
        if decided:
            votes = [vote(tag.vote, lang) for tag in decided if tag.vote is not None]
            result = _raw(lang, "minutes.oparl.decided") + (f" ({'; '.join(votes)})" if votes else "")
            by_top[record.top.number] = Outcome(
                result, "\n".join(entry(tag, lang, ids=False) for tag in decided)
            )
        elif record.tags:
            by_top[record.top.number] = Outcome(_raw(lang, "minutes.oparl.discussed"), None)
    return Outcomes(by_top, f"{minutes_stem(minutes, lang)}.pdf", _minutes_title(minutes, lang))


OPEN_ACTIONS_LISTED = 20
"""Open action items the agenda lists by name (the soonest due); the rest are counted."""


def open_actions_lines(tags: Sequence[Tag], lang: str) -> list[Markdown]:
    """Under the agenda's fixed item "Offene Aufgaben"."""
    lines = [Markdown(f"  - {_line(entry(tag, lang))}") for tag in tags[:OPEN_ACTIONS_LISTED]]
    if len(tags) > OPEN_ACTIONS_LISTED:
        more = t(lang, "minutes.more_open_actions", count=len(tags) - OPEN_ACTIONS_LISTED)
        lines.append(Markdown(f"  - {more}"))
    return lines


# ---- lists --------------------------------------------------------------------------------------


def actions(tags: Sequence[Tag], lang: str, *, everyone: bool, spell: Spell) -> Markdown:
    if not tags:
        return t(lang, "minutes.actions_none_all" if everyone else "minutes.actions_none_own")
    lines = [t(lang, "minutes.actions_all" if everyone else "minutes.actions_own", count=len(tags))]
    lines += [Markdown(f"- {_line(entry(tag, lang))}") for tag in tags]
    lines.append(t(lang, "minutes.actions_hint", command=code(spell("action done", lang, "<id>"))))
    return join(lines)


def completed(tag: Tag, lang: str) -> Markdown:
    return t(lang, "minutes.action_done", id=tag.id, text=tag.text)


def decisions(found: Sequence[Decision], lang: str, word: str | None) -> Markdown:
    if not found:
        return (
            t(lang, "minutes.decisions_none_word", word=word) if word else t(lang, "minutes.decisions_none")
        )
    title = t(lang, "minutes.decisions_word", word=word) if word else t(lang, "minutes.decisions")
    lines = [title]
    for decision in found:
        tag = decision.tag
        if decision.meeting is not None:
            where = _raw(lang, "minutes.in_meeting", date=format_date(decision.meeting.start.date(), lang))
            if tag.top_number is not None:
                where += ", " + _raw(
                    lang,
                    "minutes.top_plain",
                    number=tag.top_number,
                    title=item_title(tag.top_title or "", lang),
                )
        else:
            where = _raw(lang, "minutes.outside_meeting", date=format_date(tag.created_at.date(), lang))
        lines.append(Markdown(f"- {_line(entry(tag, lang, ids=False))} · {_line(where)}"))
    return join(lines)


# ---- an action item's reminder ------------------------------------------------------------------


def action_reminder(due: DueReminder, lang: str) -> Markdown:
    assert isinstance(due.subject, ActionDue)
    action = due.subject.action
    who = mention(action.owner or "", action.owner_name or action.owner or "")
    key = "minutes.reminder_due" if due.subject.final else "minutes.reminder_tomorrow"
    when = format_datetime(action.due, lang) if action.due else ""
    return t(lang, key, who=who, id=action.id, text=action.text, due=when)


def _presenter(item: Item, lang: str) -> str:
    return _raw(lang, "minutes.presenter_plain", name=person(item.submitter_name, lang), org=item.affiliation)


def _owner(tag: Tag, lang: str) -> str:
    return person(tag.owner_name or tag.owner or "", lang)


SHORT_ENTRY = 300
"""Longer entries are shortened in the room (the minutes must fit one event); files keep them whole."""


def _line(text: str, lang: str = "de", *, short: bool = False) -> Markdown:
    """Plain text as one escaped Markdown line: line breaks in what members wrote cannot start a
    heading or a list item of their own."""
    flat = " ".join(text.split())
    if short and len(flat) > SHORT_ENTRY:
        flat = f"{flat[:SHORT_ENTRY].rstrip()}… {_raw(lang, 'minutes.shortened')}"
    return escape(flat)


_FILE_MARKUP = re.compile(r"([\\`*_\[\]<>|])")


def _file_line(text: str) -> str:
    """Plain text as one line of the Markdown file: only what would be markup is escaped."""
    return _FILE_MARKUP.sub(r"\\\1", " ".join(text.split()))


def _raw(lang: str, key: str, **params: object) -> str:
    """Catalog text outside Markdown (a file, a PDF): not escaped."""
    text = template(lang, key) or key
    return text.format(**params) if params else text
