"""Delivering one report, sweeping the outbox, and telling the rep what became of it.

``ReportOutbox`` (``bot/services/outbox.py``) does the attempt and says who should be told;
this module turns that into a message in the rep's chat, through the chat scope (so it
never interleaves with an update of that chat) and ``bot/outbound.py``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Bot
from telegram.error import TelegramError

from bot import outbound
from bot.container import Services
from bot.i18n import L10n
from bot.services.outbox import (
    AttemptOutcome,
    Finished,
    NeedsUnlock,
    OutboxRecord,
    ReportState,
)
from bot.storage import LockTimeout, QueueItem
from bot.views import Reply
from bot.views import outbox as views

log = logging.getLogger(__name__)

#: Kicks ``deliver`` on whichever process takes it (``report_id``, claim number, payload).
KickDelivery = Callable[[str, int, str], Awaitable[None]]


class ReportDelivery:
    def __init__(self, services: Services, bot: Bot) -> None:
        self.services = services
        self.bot = bot

    async def deliver(self, report_id: str, claim: int = 0, payload: str = "") -> str:
        """One attempt; then the rep's message if it is theirs to get, and, for a swept
        report (``claim`` > 0), its next look in the queue. Returns the outcome's name."""
        outbox = self.services.outbox
        outcome = await outbox.attempt(report_id)
        await self.tell(outcome)
        if claim > 0:
            await outbox.settle(QueueItem(report_id, payload, claim - 1), outcome)
        log.info("report %s: %s", report_id, type(outcome).__name__)
        return type(outcome).__name__

    async def sweep(self, kick: KickDelivery) -> int:
        """Kick a delivery for every report due a look; returns how many."""
        items = await self.services.outbox.claim_due()
        for item in items:
            try:
                await kick(item.item_id, item.claim, item.payload)
            except Exception:  # the broker is down: the claim's lease brings it back
                log.exception("could not queue the delivery of report %s", item.item_id)
        return len(items)

    async def tell(self, outcome: AttemptOutcome) -> None:
        match outcome:
            case Finished(record=record, tell=True):
                await self._send(record, record.order.chat_id,
                                 views.delivered_later if record.state is ReportState.DELIVERED
                                 else views.refused_later)
            case NeedsUnlock(record=record, chat_id=int(chat_id), ask=True):
                await self._send(record, chat_id, views.unlock_needed)

    async def _send(self, record: OutboxRecord, chat_id: int,
                    view: Callable[[L10n, OutboxRecord], Reply]) -> None:
        try:
            async with self.services.scopes.scope(chat_id, chat_id) as session:
                await outbound.send(self.bot, chat_id, view(session.l10n, record))
        except (TelegramError, LockTimeout) as exc:
            log.warning("could not tell chat %s about report %s: %s", chat_id, record.order.id,
                        exc)
