"""/envois: the rep's comptes rendus not yet in artis.net, and why they wait."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import BotContext
from bot.outbound import answer
from bot.views import outbox


async def show_waiting(update: Update, context: BotContext) -> None:
    link = context.session.link
    records = await context.services.outbox.waiting(link.login) if link else []
    await answer(update, outbox.waiting_list(context.l10n, records))


HANDLERS = [
    CommandHandler(["envois", "outbox"], show_waiting),
]
