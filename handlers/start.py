"""/start: the greeting, or — with a QR code's token — the start of pairing."""

from __future__ import annotations

from telegram import Update, User
from telegram.ext import CommandHandler

from bot import steps
from bot.context import BotContext
from bot.outbound import answer
from bot.views import common, pairing


async def start(update: Update, context: BotContext) -> None:
    session, services = context.session, context.services
    if context.args:
        ticket = await services.pairing.redeem(context.args[0])
        if ticket is None:
            await answer(update, pairing.invalid_link(context.l10n))
            return
        await services.sessions.goto(session, steps.LOGIN_PASSWORD, login=ticket.login,
                                     display_name=ticket.display_name)
        sso_url = (await services.sso.sign_in_url(session, ticket.login,
                                                  telegram_account(update.effective_user))
                   if ticket.sso else None)
        await answer(update, pairing.ask_password(context.l10n, ticket.display_name, sso_url))
        return
    if session.link is not None:
        link = session.link
        if link.locked or link.artis_token is None or services.pairing.is_idle(link):
            await answer(update, pairing.already_paired(context.l10n, link.display_name))
        else:
            from handlers import home  # imported at first need (handlers/later.py)

            await home.show_home(update, context, welcome=pairing.already_paired(
                context.l10n, link.display_name))
        return
    user = update.effective_user
    await answer(update, common.welcome_unpaired(context.l10n, user.first_name if user else ""))


def telegram_account(user: User | None) -> str:
    """How the SSO page names the Telegram account being paired: "Camille Martin (@cm)"."""
    if user is None:
        return ""
    return f"{user.full_name} (@{user.username})" if user.username else user.full_name


HANDLERS = [CommandHandler("start", start)]
