"""Polite answers for everything no other handler took: never silence, never a traceback."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, MessageHandler, filters

from bot.context import BotContext
from bot.outbound import answer
from bot.views import common


async def unknown_command(update: Update, context: BotContext) -> None:
    text = update.effective_message.text if update.effective_message else ""
    await answer(update, common.unknown_command(context.l10n, (text or "/").split()[0]))


async def free_text(update: Update, context: BotContext) -> None:
    await answer(update, common.not_understood(context.l10n))


async def other_message(update: Update, context: BotContext) -> None:
    await answer(update, common.unsupported_message(context.l10n))


async def stale_button(update: Update, context: BotContext) -> None:
    """A button that decodes as nothing we know: the stale answer and a fresh menu."""
    from handlers import home  # imported at first need (handlers/later.py)

    await home.stale(update, context)


HANDLERS = [
    MessageHandler(filters.COMMAND, unknown_command),
    MessageHandler(filters.TEXT, free_text),
    CallbackQueryHandler(stale_button),
    MessageHandler(filters.ALL, other_message),
]
