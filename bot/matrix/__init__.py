"""The Matrix side of the bot: the only package that imports matrix-nio.

One module per concern: ``session`` (login, credentials, device), ``client`` (nio's client,
hardened), ``identity`` (the bot's
cross-signing) with ``secret_storage`` and ``operator`` (the ``akbot identity`` commands), ``trust`` (which members' devices the bot trusts),
``rooms`` (joins, invitations, membership, power levels), ``sync`` (loop, ledger, backfill,
undecrypted retry), ``sending`` (queue, 429, transaction ids), ``content`` (what is sent) and
``adapter``, the face the app sees.
"""

from bot.matrix.adapter import MatrixAdapter
from bot.matrix.content import (
    POLL_END,
    POLL_RESPONSES,
    POLL_START,
    edit_content,
    edit_html_content,
    html_content,
    message_content,
    poll_end_content,
    poll_response,
    poll_start_content,
)
from bot.matrix.events import EventHandler, IncomingEvent, PrivateHint
from bot.matrix.sending import SendError, transaction_for
from bot.matrix.session import Credentials

__all__ = [
    "POLL_END",
    "POLL_RESPONSES",
    "POLL_START",
    "Credentials",
    "EventHandler",
    "IncomingEvent",
    "MatrixAdapter",
    "PrivateHint",
    "SendError",
    "edit_content",
    "edit_html_content",
    "html_content",
    "message_content",
    "poll_end_content",
    "poll_response",
    "poll_start_content",
    "transaction_for",
]
