"""The access rule, in one place, before any handler (PTB group -1).

- the bot works in private chats only: in a group it says so and does nothing;
- a message longer than Telegram allows gets a polite refusal;
- an unpaired Telegram user may only greet, get help, pick a language and
  pair — anything else gets "how to pair";
- a paired rep idle for longer than ``SESSION_IDLE_LOCK`` (or whose artis.net
  session expired) is asked for the password or PIN first; the request is
  kept and carried out after the unlock.
"""

from __future__ import annotations

import time
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, ExtBot, TypeHandler

from bot import steps
from bot.callbacks import is_public_button
from bot.commands import PUBLIC_COMMANDS
from bot.context import BotContext
from bot.outbound import answer, delete_secret
from bot.services.sessions import ChatSession
from bot.views import common, pairing
from handlers.steps import command_of, routed_step

MAX_TEXT = 4096


def is_public(update: Update, session: ChatSession) -> bool:
    """Reachable without a paired, unlocked session: public commands and buttons, and the
    messages a public step (logging in, unlocking) awaits."""
    if update.callback_query is not None:
        return is_public_button(update.callback_query.data)
    command = command_of(update.effective_message)
    if command is not None and command in PUBLIC_COMMANDS:
        return True
    routed = routed_step(update, session)
    return routed is not None and routed[0].public


async def guard(update: Update, context: BotContext) -> None:
    session, services, t = context.session, context.services, context.l10n
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        # Passwords and a rep's data must never be typed or shown where others read.
        await answer(update, common.private_chat_only(t, context.bot.username))
        raise ApplicationHandlerStop
    message = update.effective_message
    if message is not None and message.text and len(message.text) > MAX_TEXT:
        await answer(update, common.too_long(t, MAX_TEXT))
        raise ApplicationHandlerStop
    if is_public(update, session):
        return
    link = session.link
    if link is None:
        await answer(update, common.how_to_pair(t))
        raise ApplicationHandlerStop
    if link.locked or link.artis_token is None or services.pairing.is_idle(link):
        await ask_to_unlock(update, context)
        raise ApplicationHandlerStop
    await services.pairing.touch(session)


async def ask_to_unlock(update: Update, context: BotContext, *, expired: bool = False) -> None:
    """Lock the session and ask for the PIN (if any) or the password; keep the request."""
    session, services = context.session, context.services
    await services.pairing.lock(session, expired=expired)
    link = session.link
    assert link is not None
    with_pin = link.pin_hash is not None and link.artis_token is not None
    step = session.step
    if step is not None and step.secret and update.message is not None:
        # The text answers a secret step (e.g. the new PIN): delete it, never keep it.
        await delete_secret(update.message)
        pending = None
    else:
        pending = update.to_dict()
    await services.sessions.goto(session, steps.UNLOCK_PIN if with_pin else steps.UNLOCK_PASSWORD,
                                 pending=pending)
    await answer(update, pairing.session_locked(context.l10n, with_pin=with_pin))


def replay(pending: dict[str, Any], bot: ExtBot[Any]) -> Update:
    """The kept request as a new update (a fresh id, so de-duplication lets it through)."""
    return Update.de_json({**pending, "update_id": -time.time_ns()}, bot)


HANDLERS = [TypeHandler(Update, guard)]
