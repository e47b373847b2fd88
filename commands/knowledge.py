"""!wissen (hinzufügen, entfernen) — documents in the record that !frage answers from."""

from __future__ import annotations

from bot.errors import UserError
from bot.router import Context, Router
from bot.services.knowledge import DocumentFile
from bot.views import knowledge as views

router = Router("knowledge")

knowledge = router.group("wissen", alias="knowledge")


@knowledge.default
async def listing(ctx: Context) -> None:
    await ctx.reply(views.listing(ctx.services.knowledge.documents(ctx.room_id), ctx.lang))


@knowledge.command("hinzufügen", alias="add", chair=True)
async def add(ctx: Context) -> None:
    if ctx.replied_file is None:
        raise UserError("knowledge.reply_to_file")
    try:
        file = await ctx.replied_file()
    except OSError as error:
        raise UserError("knowledge.download_failed") from error
    if file is None:
        raise UserError("knowledge.reply_to_file")
    name = ctx.services.runtime.display_name(ctx.room_id, ctx.sender)
    document = ctx.services.knowledge.add(
        ctx.room_id, ctx.sender, name, file.event_id, DocumentFile(file.name, file.mimetype, file.data)
    )
    await ctx.reply(views.added(document, ctx.lang))


@knowledge.command("entfernen", alias="remove", chair=True)
async def remove(ctx: Context, id: int) -> None:
    await ctx.reply(views.removed(ctx.services.knowledge.remove(ctx.room_id, id, ctx.sender), ctx.lang))
