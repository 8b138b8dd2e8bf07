"""The send step of the managers' digests and the reps' reminders.

``tick(services, bot, now)`` is the one entry point: it asks ``services.schedule`` what is due
at ``now``, builds each message (artis.net reads with the service account), claims the
occurrence in the store, then sends it through ``bot/outbound.py`` — whose ``Bot`` carries the
shared ``SendLimiter`` (overall rate across processes, 1 msg/s per chat, 429 pauses, 403
marks). Claiming after building means a failed artis.net read is retried at the next tick;
see ``bot/services/schedule.py`` for the exactly-once rule and the crash trade-off.

taskiq's scheduler kicks it every ``SCHEDULE_TICK_SECONDS`` on the workers
(``bot/jobs/scheduling.py``); any number of processes may call it at once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from telegram import Bot
from telegram.error import Forbidden, TelegramError

from bot import outbound
from bot.container import Services
from bot.i18n import L10n
from bot.services.digests import Digest
from bot.services.schedule import NOT_DUE, DigestDue, Due, ReminderDue, ReminderKind
from bot.storage import LockTimeout
from bot.views import Outgoing
from bot.views import digest as digest_views
from bot.views import reminders as reminder_views
from integrations.artis.errors import ArtisError
from integrations.artis.models import ActionDetail, ActionStatus, ActionType

log = logging.getLogger(__name__)

#: Messages built and sent at once by one tick (the limiter paces them anyway).
CONCURRENCY = 16


async def digest_messages(services: Services, login: str, t: L10n,
                          now: datetime) -> list[Outgoing] | None:
    """The digest's text parts then its chart; None when the login heads no Commerce unit."""
    found = await services.digests.digest(login, now.astimezone(t.tz))
    if not isinstance(found, Digest):
        return None
    messages: list[Outgoing] = list(digest_views.digest(t, found))
    chart = await asyncio.to_thread(_chart, t, found)
    if chart is not None:
        messages.append(chart)
    return messages


def _chart(t: L10n, found: Digest) -> Outgoing | None:
    from bot.views.digest_chart import week_chart  # matplotlib: in the job, never at start-up

    return week_chart(t, found)


async def reminder_message(services: Services, item: ReminderDue, t: L10n,
                           now: datetime, detail: ActionDetail | None = None) -> Outgoing:
    """``detail``: the action as artis.net shows it now, if read already."""
    if item.kind is ReminderKind.BRIEFING:
        return reminder_views.briefing(
            t, await services.reminders.briefing(item.action, now, detail))
    return reminder_views.nudge(t, services.reminders.nudge(
        detail.action if detail else item.action))


async def _still_due_message(services: Services, item: ReminderDue, t: L10n,
                             now: datetime) -> list[Outgoing]:
    """The reminder, if the action as artis.net shows it now still calls for it (the tick
    found it on a copy of the planning up to a few minutes old); else nothing, and the
    copy is dropped."""
    detail = await services.reminders.current(item.action.id)
    if not services.schedule.still_due(item, detail.action, now):
        log.info("%s no longer due (the action changed)", item.marker)
        await services.schedule.forget_planning(item.login)
        return []
    return [await reminder_message(services, item, t, now, detail)]


async def _l10n(services: Services, item: Due) -> L10n:
    t = await services.sessions.l10n_of(item.user_id)
    return L10n(t.lang, item.tz)


async def _build(services: Services, item: Due, now: datetime) -> list[Outgoing] | None:
    t = await _l10n(services, item)
    match item:
        case DigestDue():
            return await digest_messages(services, item.login, t, now)
        case ReminderDue():
            return await _still_due_message(services, item, t, now)


async def _send(bot: Bot, item: Due, messages: list[Outgoing]) -> None:
    try:
        for message in messages:
            await outbound.send_item(bot, item.user_id, message)
    except Forbidden:
        log.info("user %s blocked the bot; skipped", item.user_id)
        raise
    except TelegramError as exc:
        # At most once: the claim stays "sending" (Telegram may have shown part of it).
        log.warning("sending %s to user %s failed: %s", item.marker, item.user_id, exc)
        raise


async def deliver(services: Services, bot: Bot, item: Due, now: datetime) -> bool:
    """Build, claim, send one occurrence; True when this caller sent it."""
    schedule = services.schedule
    if await schedule.is_blocked(item.user_id):
        return False
    try:
        messages = await _build(services, item, now)
    except ArtisError as exc:
        log.warning("could not build %s for user %s (next tick retries): %s",
                    type(item).__name__, item.user_id, exc)
        return False
    if messages is None:  # no longer heads a Commerce unit: settle the day, read no more
        await schedule.claim(item, state=NOT_DUE)
        return False
    if not messages:
        return False
    try:
        # The chat's scope, like any work on a chat: the messages never interleave with
        # an answer the rep is getting; the rep waits at most for these few sends.
        async with services.scopes.scope(item.user_id, item.user_id):
            if not await schedule.claim(item):
                return False
            await _send(bot, item, messages)
    except LockTimeout:
        log.info("chat %s busy; %s waits for the next tick", item.user_id, item.marker)
        return False
    except TelegramError:
        return False
    await schedule.sent(item)
    return True


async def tick(services: Services, bot: Bot, now: datetime | None = None) -> int:
    """Send everything due at ``now`` (default: the current time); returns how many
    occurrences this caller sent. Safe to call from any number of processes at once."""
    now = now or datetime.now(UTC)
    due = await services.schedule.due(now)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(item: Due) -> bool:
        async with gate:
            return await deliver(services, bot, item, now)

    return sum(await asyncio.gather(*map(one, due)))


# -- on demand (the terminal demo) ------------------------------------------------------------


async def send_digest_now(services: Services, bot: Bot, user_id: int, login: str) -> bool:
    """The digest now, whatever the day and time (``/digest maintenant``, ``:digest``)."""
    t = (await services.sessions.load(user_id, user_id, None)).l10n
    messages = await digest_messages(services, login, t, datetime.now(UTC))
    for message in messages or []:
        await outbound.send_item(bot, user_id, message)
    return messages is not None


async def send_reminder_now(services: Services, bot: Bot, user_id: int, login: str,
                            kind: ReminderKind) -> bool:
    """A reminder now, on the rep's next appointment (briefing) or latest action without a
    report (nudge): what the scheduler would send, without waiting for its time."""
    now = datetime.now(UTC)
    actions = await services.artis.team_actions(login, now - timedelta(days=14),
                                                now + timedelta(days=14))
    if kind is ReminderKind.BRIEFING:
        rdv = [a for a in actions if a.type is ActionType.RDV
               and a.status is ActionStatus.A_REALISER and a.planned_start >= now]
        chosen = rdv[0] if rdv else None
    else:
        past = [a for a in actions if a.report is None and a.status is not ActionStatus.ANNULEE
                and a.planned_start < now]
        chosen = past[-1] if past else None
    if chosen is None:
        return False
    session = await services.sessions.load(user_id, user_id, None)
    t = session.l10n
    item = ReminderDue(user_id, login, session.tz, kind, chosen)
    await outbound.send_item(bot, user_id, await reminder_message(services, item, t, now))
    return True
