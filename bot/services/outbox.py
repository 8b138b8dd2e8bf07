"""The report outbox: a confirmed compte rendu is stored first, then delivered to artis.net.

The outbox record is the source of truth. ``submit`` writes it (once per report id: a
second ✅ on the same confirmation card finds the record and changes nothing) before
anything can fail, then tries to deliver. Delivery posts the report with **the rep's
own artis.net session** and the report id as ``Idempotency-Key``, so a retry after a
timeout or a crash is applied once by artis.net.

This first version delivers inline, once; the background jobs (retries with backoff,
waiting for the rep's unlock, the sweep that re-queues lost jobs, the confirmation
sent to the chat later) build on the same records and the same outcomes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field

from bot import keys
from bot.storage import Store
from integrations.artis.client import ArtisClient
from integrations.artis.errors import (
    AccessDenied,
    ArtisUnavailable,
    Conflict,
    InvalidData,
    NotFound,
    SessionExpired,
)
from integrations.artis.models import Action, FollowUpIn, ReportIn

#: How long a delivered or refused record is kept (for ``/envois`` and duplicate presses).
DONE_TTL = 30 * 24 * 3600


class ReportState(StrEnum):
    PENDING = "pending"  # stored, not yet accepted by artis.net (down, slow, or queued)
    WAITING_UNLOCK = "waiting_unlock"  # the rep's artis.net session expired or was dropped
    DELIVERED = "delivered"  # artis.net recorded it
    REFUSED = "refused"  # artis.net said no for good (not the rep's action, already reported)


class ReportOrder(BaseModel):
    """What the rep confirmed: everything needed to deliver, without the chat."""

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")  # also the Idempotency-Key
    chat_id: int
    user_id: int
    login: str
    action_id: str
    action_label: str = ""  # "RDV · Carpentier SA · 3 déc. 14:00", for messages and /envois
    text: str = Field(min_length=1)
    executed_at: AwareDatetime
    follow_up: FollowUpIn | None = None
    lang: str = "fr"

    def report_in(self) -> ReportIn:
        return ReportIn(text=self.text, executed_at=self.executed_at,
                        follow_up=self.follow_up, source="telegram")


class OutboxRecord(BaseModel):
    order: ReportOrder
    state: ReportState = ReportState.PENDING
    created_at: float = Field(default_factory=time.time)
    attempts: int = 0
    last_error: str | None = None
    delivered_at: float | None = None
    created_action_id: str | None = None  # the follow-up action artis.net created, if any


# -- outcomes of submit, matched by the handler ------------------------------------------


@dataclass(frozen=True)
class Delivered:
    """artis.net recorded the report now."""

    record: OutboxRecord
    action: Action | None = None


@dataclass(frozen=True)
class Stored:
    """Stored; it goes to artis.net as soon as it answers (``record.state`` says why it
    waits: PENDING while artis.net is down or slow, WAITING_UNLOCK until the rep unlocks)."""

    record: OutboxRecord


@dataclass(frozen=True)
class Refused:
    """artis.net refused it for good (``record.last_error``: forbidden, already_reported…)."""

    record: OutboxRecord


@dataclass(frozen=True)
class AlreadySubmitted:
    """This report id was submitted before (a second ✅): nothing new was done."""

    record: OutboxRecord


SubmitOutcome = Delivered | Stored | Refused | AlreadySubmitted


def outbox_key(report_id: str) -> str:
    return keys.outbox(report_id)


class ReportOutbox:
    def __init__(self, store: Store, artis: ArtisClient) -> None:
        self.store = store
        self.artis = artis

    async def get(self, report_id: str) -> OutboxRecord | None:
        raw = await self.store.get(outbox_key(report_id))
        return OutboxRecord.model_validate_json(raw) if raw else None

    async def _save(self, record: OutboxRecord) -> None:
        done = record.state in (ReportState.DELIVERED, ReportState.REFUSED)
        await self.store.set(outbox_key(record.order.id), record.model_dump_json(),
                             DONE_TTL if done else None)

    async def submit(self, order: ReportOrder, token: str | None) -> SubmitOutcome:
        """Store the order (once per id), then try to deliver it with ``token`` (the rep's
        own artis.net session; None: it waits for the unlock)."""
        record = OutboxRecord(order=order)
        if not await self.store.add(outbox_key(order.id), record.model_dump_json()):
            existing = await self.get(order.id)
            return AlreadySubmitted(existing or record)
        return await self.deliver(record, token)

    async def deliver(self, record: OutboxRecord, token: str | None) -> SubmitOutcome:
        """One delivery attempt; the record is saved with what happened."""
        if token is None:
            record.state = ReportState.WAITING_UNLOCK
            await self._save(record)
            return Stored(record)
        record.attempts += 1
        try:
            action = await self.artis.submit_report(token, record.order.action_id,
                                                    record.order.report_in(), record.order.id)
        except SessionExpired:
            record.state, record.last_error = ReportState.WAITING_UNLOCK, "session_expired"
            await self._save(record)
            return Stored(record)
        except ArtisUnavailable as exc:
            record.state, record.last_error = ReportState.PENDING, f"unavailable: {exc}"[:200]
            await self._save(record)
            return Stored(record)
        except (AccessDenied, Conflict, NotFound, InvalidData) as exc:
            record.state, record.last_error = ReportState.REFUSED, type(exc).__name__
            await self._save(record)
            return Refused(record)
        record.state, record.delivered_at = ReportState.DELIVERED, time.time()
        record.last_error = None
        if action.follow_up is not None:
            record.created_action_id = action.follow_up.created_action_id
        await self._save(record)
        return Delivered(record, action)

