"""/lang: the user picks French or English; the choice is kept in the store."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import BotContext
from bot.outbound import answer
from bot.views import common
from bot.views.common import LangCb


async def show_menu(update: Update, context: BotContext) -> None:
    await answer(update, common.language_menu(context.l10n, context.session.lang))


async def choose(update: Update, context: BotContext, choice: LangCb) -> None:
    await context.services.sessions.set_lang(context.session, choice.lang.value)
    await context.services.commands.apply_to_chat(context.bot, context.session)
    await answer(update, common.language_set(context.l10n), edit=True)


HANDLERS = [
    CommandHandler(["lang", "langue", "language"], show_menu),
    LangCb.handler(choose),
]
