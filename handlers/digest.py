"""/digest (managers): when the daily digest comes, change the time, pause, resume, or get one
now (``/digest maintenant``); /reglages (everyone): the reminders on or off."""

from __future__ import annotations

from datetime import UTC, datetime, time

from telegram import Update
from telegram.ext import CommandHandler

from bot.context import BotContext
from bot.outbound import answer, answer_cards, toast
from bot.scheduled import digest_messages
from bot.services.preferences import parse_time
from bot.views import digest as views
from bot.views import reminders as reminder_views
from bot.views.digest import DigestCb, DigestOp
from bot.views.reminders import ReminderCb
from handlers.home import artis_down, waiting
from integrations.artis.errors import ArtisUnavailable

NOW = {"maintenant", "now", "tout de suite"}
PAUSE = {"pause", "stop", "suspendre", "off"}
RESUME = {"reprendre", "resume", "reprise", "on"}


def _user_id(update: Update) -> int:
    user = update.effective_user
    if user is None:
        raise RuntimeError("a command without a user")
    return user.id


async def _schedule(update: Update, context: BotContext, *, edit: bool = False) -> None:
    prefs = await context.services.preferences.digest(_user_id(update))
    await answer(update, views.schedule(context.l10n, prefs, str(context.session.tz)),
                 edit=edit)


async def _send_now(update: Update, context: BotContext) -> None:
    link = context.session.link
    if link is None:
        return
    try:
        async with waiting(update):
            messages = await digest_messages(context.services, link.login, context.l10n,
                                             datetime.now(UTC))
    except ArtisUnavailable:
        await artis_down(update, context, DigestCb(DigestOp.NOW))
        return
    if messages is None:
        await answer(update, views.managers_only(context.l10n))
        return
    await answer_cards(update, messages)


async def command(update: Update, context: BotContext) -> None:
    link = context.session.link
    if link is None or not link.is_manager:
        await answer(update, views.managers_only(context.l10n))
        return
    said = " ".join(context.args or []).strip().lower()
    preferences, user_id = context.services.preferences, _user_id(update)
    if said in NOW:
        await _send_now(update, context)
        return
    if said in PAUSE:
        await preferences.pause_digest(user_id, True)
    elif said in RESUME:
        await preferences.pause_digest(user_id, False)
    elif said:
        at = parse_time(said)
        if at is None:
            await answer(update, views.unreadable_time(context.l10n))
            return
        await preferences.digest_at(user_id, at)
    await _schedule(update, context)


async def pressed(update: Update, context: BotContext, data: DigestCb) -> None:
    link = context.session.link
    if link is None or not link.is_manager:
        await toast(update, views.managers_only(context.l10n).text, alert=True)
        return
    preferences, user_id = context.services.preferences, _user_id(update)
    match data.op:
        case DigestOp.NOW:
            await _send_now(update, context)
            return
        case DigestOp.PAUSE | DigestOp.RESUME:
            await preferences.pause_digest(user_id, data.op is DigestOp.PAUSE)
        case DigestOp.AT:
            hhmm = data.hhmm or ""
            if len(hhmm) == 4 and hhmm.isdigit() and int(hhmm[:2]) < 24 and int(hhmm[2:]) < 60:
                await preferences.digest_at(user_id, time(int(hhmm[:2]), int(hhmm[2:])))
    await _schedule(update, context, edit=True)


async def _settings(update: Update, context: BotContext, *, edit: bool = False) -> None:
    settings = context.services.settings
    prefs = await context.services.preferences.reminders(_user_id(update))
    await answer(update, reminder_views.settings(
        context.l10n, prefs, lead=settings.briefing_lead_minutes,
        delay=settings.report_nudge_minutes), edit=edit)


async def settings_command(update: Update, context: BotContext) -> None:
    await _settings(update, context)


async def toggle(update: Update, context: BotContext, data: ReminderCb) -> None:
    await context.services.preferences.toggle_reminder(_user_id(update), data.kind.value)
    await _settings(update, context, edit=True)


HANDLERS = [
    CommandHandler(["digest", "resume_equipe"], command),
    CommandHandler(["reglages", "settings", "rappels"], settings_command),
    DigestCb.handler(pressed),
    ReminderCb.handler(toggle),
]
