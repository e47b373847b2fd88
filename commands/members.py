"""!profil, !gruppe (entfernen), !mitglieder, !bericht — members, their stakeholder groups and who is heard."""

from __future__ import annotations

from bot.router import Context, Rest, Router
from bot.services.members import people_in
from bot.views import members as views

router = Router("members")

DEFAULT_REPORT_MEETINGS = 5


@router.command("profil", alias="profile")
async def profile(ctx: Context, groups: Rest | None = None) -> None:
    directory = ctx.services.members
    if groups:
        directory.set_own_groups(ctx.sender, groups)
    shown = directory.profile(ctx.sender)
    change = ctx.spell("profile", ctx.t("members.groups_placeholder"))
    await ctx.reply(
        views.profile(shown, directory.group_names, ctx.lang, changed=bool(groups), change=change)
    )


group = router.group("gruppe", alias="group", chair=True)


@group.default
async def assign(ctx: Context, text: Rest) -> None:
    await _assign(ctx, text, remove=False)


@group.command("entfernen", alias="remove")
async def unassign(ctx: Context, text: Rest) -> None:
    await _assign(ctx, text, remove=True)


async def _assign(ctx: Context, text: str, *, remove: bool) -> None:
    # "<Name> @Person …": the name is the first word; the people are the pills and typed ids.
    name = text.split(maxsplit=1)[0] if text.strip() else ""
    people = people_in(text, ctx.mentioned)
    done = ctx.services.members.assign(ctx.room_id, ctx.sender, name, people, remove=remove)
    names = [ctx.services.runtime.display_name(ctx.room_id, user) for user in done.users]
    await ctx.reply(views.assigned(done, names, ctx.lang))


@router.command("mitglieder", alias="members")
async def members(ctx: Context) -> None:
    await ctx.reply(views.room_members(ctx.services.members.room(ctx.room_id), ctx.lang))


@router.command("bericht", alias="report", chair=True)
async def report(ctx: Context, meetings: int = DEFAULT_REPORT_MEETINGS) -> None:
    found = ctx.services.members.participation(
        ctx.room_id, max(1, min(meetings, 50)), ctx.services.reminders.now()
    )
    await ctx.reply(views.report(found, ctx.lang))
