"""Members and groups as members read them: a profile, the room by group and organisation, what the
chair assigned, and the participation report."""

from __future__ import annotations

from collections.abc import Sequence

from bot.i18n import t, template
from bot.render import Markdown, escape, join
from bot.services.members import Assigned, GroupCount, Member, Profile, Report, RoomMembers
from bot.timeparse.format import format_date
from bot.views import person


def group_name(group: str | None, lang: str) -> str:
    """A configured group as written; the members who named none in the reader's language."""
    return group if group is not None else (template(lang, "members.no_group") or "-")


def organisation_name(name: str | None, lang: str) -> str:
    return name if name is not None else (template(lang, "minutes.external") or "extern")


def profile(shown: Profile, groups: Sequence[str], lang: str, *, changed: bool, change: Markdown) -> Markdown:
    """``!profil``: organisation and groups, and how to change them."""
    own = ", ".join(shown.groups) if shown.groups else template(lang, "members.no_groups_yet") or "-"
    source = "members.organisation_set" if shown.organisation_set else "members.organisation_domain"
    lines = [
        t(lang, "members.profile_saved" if changed else "members.profile_title"),
        t(lang, source, organisation=organisation_name(shown.organisation, lang)),
        t(lang, "members.profile_groups", groups=own),
        t(lang, "members.profile_how", command=change, groups=", ".join(groups)),
    ]
    return join(lines, "  \n")


def assigned(done: Assigned, names: Sequence[str], lang: str) -> Markdown:
    who = ", ".join(person(name, lang) for name in names)
    if done.is_organisation:
        key = "members.organisation_reset" if done.removed else "members.organisation_assigned"
    else:
        key = "members.group_removed" if done.removed else "members.group_assigned"
    return t(lang, key, name=done.name, who=who)


def _names(members: Sequence[Member], lang: str) -> str:
    return ", ".join(person(member.name, lang) for member in members)


def room_members(shown: RoomMembers, lang: str) -> Markdown:
    """``!mitglieder``: by group, then by organisation; a line per group, no table."""
    lines = [t(lang, "members.room_title", count=shown.total), t(lang, "members.by_group")]
    lines += [
        Markdown(f"- {escape(group_name(group, lang))} ({len(people)}): {escape(_names(people, lang))}")
        for group, people in shown.by_group
    ]
    lines.append(t(lang, "members.by_organisation"))
    lines += [
        Markdown(f"- {escape(organisation_name(name, lang))} ({len(people)}): {escape(_names(people, lang))}")
        for name, people in shown.by_organisation
    ]
    return join(lines)


def group_counts(counts: Sequence[GroupCount], lang: str, key: str) -> list[Markdown]:
    """ "Kliniken: 2 von 3 haben abgestimmt", one line per group (``key`` words the verb)."""
    return [
        t(lang, key, group=group_name(count.group, lang), done=count.done, total=count.total)
        for count in counts
    ]


def report(found: Report, lang: str) -> Markdown:
    """``!bericht``: per group, participation over the last meetings held."""
    if not found.meetings:
        return t(lang, "members.report_no_meetings")
    since = format_date(found.since.date(), lang) if found.since else ""
    lines = [t(lang, "members.report_title", meetings=found.meetings, since=since, polls=found.polls)]
    unheard = []
    for row in found.groups:
        name = group_name(row.group, lang)
        if not row.members:
            lines.append(Markdown(f"- {t(lang, 'members.report_no_members', group=name)}"))
            continue
        line = t(
            lang,
            "members.report_line",
            group=name,
            members=row.members,
            present=row.meetings_present,
            meetings=found.meetings,
            items=row.items,
            votes=row.votes,
        )
        lines.append(Markdown(f"- {line}"))
        if row.group is not None and (row.meetings_present == 0 or (found.polls and row.votes == 0)):
            unheard.append(name)
    if unheard:
        lines.append(t(lang, "members.report_unheard", groups=", ".join(unheard)))
    return join(lines)
