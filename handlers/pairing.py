"""Password, PIN and session steps: login after a QR scan, unlock, /pin, /logout, reload."""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import CommandHandler

from bot import outbound, steps
from bot.context import BotContext
from bot.outbound import answer, delete_secret
from bot.services.pairing import (
    AccountLockedAtArtis,
    LockedOut,
    LoggedIn,
    LoginOutcome,
    NoAnswer,
    PinNeedsPassword,
    PinRevoked,
    PinUnlocked,
    PrerequisitesMissing,
    WrongPassword,
    WrongPin,
)
from bot.views import common, pairing
from bot.views.common import HelpCb, HelpTopic
from handlers.access import TYPED_TEXT, replay
from handlers.steps import on_step

log = logging.getLogger(__name__)

PIN_FORMAT = re.compile(r"^\d{4,8}$")


def _secret_text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message else ""


@on_step(steps.LOGIN_PASSWORD)
async def login_password(update: Update, context: BotContext) -> None:
    secret = _secret_text(update)
    await delete_secret(update.effective_message)
    session, services = context.session, context.services
    async with outbound.typing(update):
        outcome = await services.pairing.log_in(session, session.flow.data["login"], secret)
    await _after_login(update, context, outcome, unlocking=False)


@on_step(steps.UNLOCK_PASSWORD)
async def unlock_password(update: Update, context: BotContext) -> None:
    secret = _secret_text(update)
    await delete_secret(update.effective_message)
    session = context.session
    if session.link is None:
        await context.services.sessions.end_flow(session)
        return
    async with outbound.typing(update):
        outcome = await context.services.pairing.unlock_with_password(session, secret)
    await _after_login(update, context, outcome, unlocking=True)


async def _after_login(update: Update, context: BotContext, outcome: LoginOutcome,
                       *, unlocking: bool) -> None:
    session, services, t = context.session, context.services, context.l10n
    match outcome:
        case WrongPassword(attempts_left=left):
            await answer(update, pairing.wrong_password(t, left, unlocking=unlocking))
        case LockedOut():
            await services.sessions.end_flow(session)
            await answer(update, pairing.locked_out(t, outcome.minutes, unlocking=unlocking))
            if outcome.just_locked and outcome.manager_user_id:
                await _tell_manager(context, outcome)
        case AccountLockedAtArtis(login=login):
            await services.sessions.end_flow(session)
            await answer(update, pairing.account_locked_at_artis(t, login))
        case NoAnswer(seconds=seconds):
            await answer(update, pairing.no_answer(t, seconds))
        case PrerequisitesMissing(user=user, missing=missing):
            await services.sessions.end_flow(session)
            await answer(update, pairing.missing_prerequisites(t, user, missing))
        case LoggedIn(user=user):
            pending = session.flow.data.get("pending")
            await services.sessions.end_flow(session)
            await _send_waiting_reports(context)
            if unlocking:
                await answer(update, pairing.unlocked(t))
                await resume(update, context, pending)
            else:
                from handlers import home  # imported at first need (handlers/later.py)

                await home.show_home(update, context, welcome=pairing.home(t, user))
                await services.commands.apply_to_chat(context.bot, session)


async def _send_waiting_reports(context: BotContext) -> None:
    """The rep has a session again: comptes rendus that waited for it go now."""
    link = context.session.link
    if link is not None:
        await context.services.outbox.resume_login(link.login)


async def _tell_manager(context: BotContext, outcome: LockedOut) -> None:
    manager_id = outcome.manager_user_id
    assert manager_id is not None
    t = await context.services.sessions.l10n_of(manager_id)
    reply = pairing.manager_lockout_notice(t, outcome.rep_name, outcome.minutes)
    try:
        await outbound.send(context.bot, manager_id, reply)
    except TelegramError as exc:
        log.warning("could not warn manager chat %s: %s", manager_id, exc)


async def resume(update: Update, context: BotContext, pending: dict[str, Any] | None) -> None:
    """Carry out the request that was waiting for the unlock (queued after this update);
    typed text was not kept: ask for it again."""
    if not pending:
        return
    kept = replay(pending, context.bot)
    if kept is not None:
        await context.application.update_queue.put(kept)
    elif pending.get("kind") == TYPED_TEXT:
        await answer(update, pairing.send_text_again(context.l10n))


@on_step(steps.UNLOCK_PIN)
async def unlock_pin(update: Update, context: BotContext) -> None:
    secret = _secret_text(update)
    await delete_secret(update.effective_message)
    session, services, t = context.session, context.services, context.l10n
    async with outbound.typing(update):
        outcome = await services.pairing.unlock_with_pin(session, secret)
    match outcome:
        case WrongPin(attempts_left=left):
            await answer(update, pairing.wrong_pin(t, left))
        case PinRevoked():
            await services.sessions.goto(session, steps.UNLOCK_PASSWORD, **session.flow.data)
            await answer(update, pairing.pin_revoked(t))
        case PinNeedsPassword():
            await services.sessions.goto(session, steps.UNLOCK_PASSWORD, **session.flow.data)
            await answer(update, pairing.pin_needs_password(t))
        case NoAnswer(seconds=seconds):
            await answer(update, pairing.no_answer(t, seconds))
        case PinUnlocked():
            pending = session.flow.data.get("pending")
            await services.sessions.end_flow(session)
            await _send_waiting_reports(context)
            await answer(update, pairing.unlocked(t))
            await resume(update, context, pending)


async def use_password(update: Update, context: BotContext) -> None:
    """/password while locked: unlock with the artis.net password instead of the PIN."""
    session = context.session
    if session.step is steps.UNLOCK_PIN:
        await context.services.sessions.goto(session, steps.UNLOCK_PASSWORD, **session.flow.data)
        await answer(update, pairing.session_locked(context.l10n, with_pin=False))
    else:
        await answer(update, common.nothing_to_cancel(context.l10n))


async def choose_pin(update: Update, context: BotContext) -> None:
    await context.services.sessions.goto(context.session, steps.NEW_PIN)
    await answer(update, pairing.ask_new_pin(context.l10n))


@on_step(steps.NEW_PIN)
async def new_pin(update: Update, context: BotContext) -> None:
    secret = _secret_text(update).strip()
    await delete_secret(update.effective_message)
    if not PIN_FORMAT.match(secret):
        await answer(update, pairing.bad_pin_format(context.l10n))
        return
    await context.services.pairing.set_pin(context.session, secret)
    await context.services.sessions.end_flow(context.session)
    await answer(update, pairing.pin_saved(context.l10n))


async def logout(update: Update, context: BotContext) -> None:
    if await context.services.pairing.log_out(context.session):
        await context.services.commands.apply_to_chat(context.bot, context.session)
        await answer(update, pairing.logged_out(context.l10n))
    else:
        await answer(update, pairing.not_logged_in(context.l10n))


async def help_topic(update: Update, context: BotContext, data: HelpCb) -> None:
    match data.topic:
        case HelpTopic.RELOAD:
            await reload_configuration(update, context)


async def reload_configuration(update: Update, context: BotContext) -> None:
    """"Recharger la configuration": rights and units re-read from artis.net."""
    user, missing = await context.services.pairing.reload(context.session)
    await answer(update, pairing.reloaded(context.l10n, user, missing))


HANDLERS = [
    CommandHandler(["logout", "deconnexion"], logout),
    CommandHandler("pin", choose_pin),
    CommandHandler(["password", "motdepasse"], use_password),
    HelpCb.handler(help_topic),
]
