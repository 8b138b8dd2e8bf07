"""/planning and the planning buttons: a day, a week or a month of the rep's actions."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import BotContext
from bot.outbound import answer
from bot.services.planning import View
from bot.views import planning as views
from bot.views.planning import PlanCb
from handlers.home import artis_down, token_of
from integrations.artis.errors import ArtisUnavailable


async def show(update: Update, context: BotContext, data: PlanCb) -> None:
    try:
        shown = await context.services.planning.planning(token_of(context), data.view, data.day)
    except ArtisUnavailable:
        await artis_down(update, context, data)
        return
    await answer(update, views.planning(context.l10n, shown, data.page),
                 edit=update.callback_query is not None)


async def command(update: Update, context: BotContext) -> None:
    await show(update, context, PlanCb(View.DAY))


HANDLERS = [
    CommandHandler(["planning", "agenda"], command),
    PlanCb.handler(show),
]
