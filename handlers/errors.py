"""The error handler: log with context (never message contents), answer politely."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError

from bot.context import BotContext
from bot.outbound import answer
from bot.scope import CURRENT_SESSION
from bot.views import common, pairing
from handlers.access import ask_to_unlock
from integrations.artis.errors import AccountLocked, ArtisUnavailable, SessionExpired

log = logging.getLogger("crmbot.errors")


async def on_error(update: object, context: BotContext) -> None:
    error = context.error
    session = CURRENT_SESSION.get()
    where = (f"update={update.update_id} chat={session.chat_id if session else '?'} "
             f"step={session.step if session else None}") if isinstance(update, Update) else "job"
    if isinstance(error, Forbidden):
        log.info("bot blocked by the user (%s)", where)
        return
    if not isinstance(update, Update) or session is None:
        log.error("error outside an update (%s)", where, exc_info=error)
        return
    t = session.l10n
    try:
        if isinstance(error, SessionExpired) and session.link is not None:
            log.info("artis.net session expired (%s)", where)
            await ask_to_unlock(update, context, expired=True)
        elif isinstance(error, AccountLocked) and session.link is not None:
            # artis.net locked the account: the rep's administrator's job, not a crash.
            log.info("artis.net account locked (%s)", where)
            await context.services.sessions.end_flow(session)
            await answer(update, pairing.account_locked_at_artis(t, session.link.login))
        elif isinstance(error, ArtisUnavailable):
            log.warning("artis.net unavailable (%s): %s", where, error)
            await answer(update, common.artis_unavailable(t))
        else:
            log.error("unhandled error (%s)", where, exc_info=error)
            await answer(update, common.something_went_wrong(t))
    except TelegramError:
        log.exception("could not tell the user about an error (%s)", where)
