"""/lang: the user picks French or English; the choice is kept in the store."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.views import common
from bot.views.common import LangCb
from handlers.reply import answer, toast


async def show_menu(update: Update, context: BotContext) -> None:
    await answer(update, common.language_menu(context.l10n, context.session.lang))


async def choose(update: Update, context: BotContext) -> None:
    choice = LangCb.unpack(update.callback_query.data if update.callback_query else None)
    if choice is None or choice.lang not in common.LANGUAGE_NAMES:
        await toast(update, common.stale_button(context.l10n), alert=True)
        return
    await context.services.sessions.set_lang(context.session, choice.lang)
    await context.services.commands.apply_to_chat(context.bot, context.session)
    await answer(update, common.language_set(context.l10n), edit=True)


HANDLERS = [
    CommandHandler(["lang", "langue", "language"], show_menu),
    CallbackQueryHandler(choose, pattern=LangCb.pattern()),
]
