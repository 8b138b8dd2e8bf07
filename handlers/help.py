"""/help and /aide: what the bot can do, and "reload configuration"."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import BotContext
from bot.outbound import answer
from bot.views import common


async def show_help(update: Update, context: BotContext) -> None:
    session = context.session
    await answer(update, common.help_text(
        context.l10n, paired=session.link is not None and not session.link.locked,
        support_contact=context.services.settings.support_contact))


async def cancel(update: Update, context: BotContext) -> None:
    """/annuler, /cancel: leave whatever multi-step flow the chat is in."""
    if context.session.step is None:
        await answer(update, common.nothing_to_cancel(context.l10n))
        return
    await context.services.sessions.end_flow(context.session)
    await answer(update, common.flow_cancelled(context.l10n))


HANDLERS = [
    CommandHandler(["help", "aide"], show_help),
    CommandHandler(["cancel", "annuler"], cancel),
]
