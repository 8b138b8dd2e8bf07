"""The report outbox: a confirmed compte rendu is stored first, then delivered to artis.net.

The outbox record is the source of truth. ``submit`` writes it (once per report id: a
second ✅ on the same confirmation card finds the record and changes nothing) before
anything can fail, puts its id in the store queue ``keys.outbox_queue()`` (the index of
unfinished reports) and in the rep's own index, kicks the background job
(``bot/jobs``: taskiq) and waits up to ``OUTBOX_SUBMIT_WAIT`` seconds for its first
attempt, so a fast artis.net gives the rep "✅ enregistré dans artis.net" at once.

Delivery (``attempt``) posts the report with **the rep's own artis.net session**, read
from the rep's link (``SessionRepo``), and the report id as ``Idempotency-Key``. One
attempt at a time per report (``keys.outbox_delivery`` lock), the record written after
each. artis.net down or slow: retried with capped exponential backoff. No valid session
(expired, dropped at the idle lock): the record waits for the rep's unlock
(``resume_login``). The sweep (``claim_due``) re-queues whatever is due, including a
record whose job was lost with its process.

Who tells the rep how it ended: ``submit`` if it ended within its wait, else the job;
``keys.outbox_told`` (SET NX) makes it exactly one of them. No Telegram here: results
are returned, and ``bot/jobs`` turns them into messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field

from bot import keys
from bot.services.sessions import SessionRepo
from bot.storage import LockTimeout, QueueItem, Store
from integrations.artis.client import ArtisClient
from integrations.artis.errors import (
    AccessDenied,
    ArtisError,
    Conflict,
    InvalidData,
    NotFound,
    SessionExpired,
)
from integrations.artis.models import Action, FollowUpIn, ReportIn

log = logging.getLogger(__name__)

#: How long a delivered or refused record is kept (for duplicate presses and support).
DONE_TTL = 30 * 24 * 3600
#: Polling step of ``submit`` while it waits for the first attempt.
WAIT_STEP = 0.05
#: At most this many due reports taken per sweep tick (the rest at the next tick).
SWEEP_BATCH = 50


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
    next_attempt_at: float = 0.0  # after artis.net failed: not before (backoff)
    updated_at: float = Field(default_factory=time.time)  # since when it is in this state

    @property
    def done(self) -> bool:
        return self.state in (ReportState.DELIVERED, ReportState.REFUSED)


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


# -- what one delivery attempt did, for the job that tells the rep -----------------------


@dataclass(frozen=True)
class Finished:
    """Delivered or refused for good. ``tell``: this caller won the right to tell the rep."""

    record: OutboxRecord
    tell: bool


@dataclass(frozen=True)
class Retrying:
    """artis.net did not answer; the next attempt is due at ``record.next_attempt_at``."""

    record: OutboxRecord


@dataclass(frozen=True)
class NeedsUnlock:
    """No valid session of the rep's: it waits for the unlock. ``ask``: tell the rep now
    (once per login until the unlock), in ``chat_id``."""

    record: OutboxRecord
    chat_id: int | None
    ask: bool


@dataclass(frozen=True)
class NotYet:
    """Its backoff has not run out yet: nothing was done."""

    record: OutboxRecord


@dataclass(frozen=True)
class Busy:
    """Another process is delivering it right now."""


@dataclass(frozen=True)
class Missing:
    """No such record (expired long after it ended)."""


AttemptOutcome = Finished | Retrying | NeedsUnlock | NotYet | Busy | Missing

#: Kicks the background delivery of one report (set by ``bot/jobs`` when jobs run).
Kick = Callable[[str], Awaitable[None]]


def outbox_key(report_id: str) -> str:
    return keys.outbox(report_id)


@dataclass(frozen=True)
class OutboxTiming:
    """How long ``submit`` waits, how retries back off, when a lost job is re-queued."""

    submit_wait: float = 2.5
    retry_base: float = 5.0
    retry_max: float = 600.0
    lease: float = 60.0

    def backoff(self, attempts: int) -> float:
        """Seconds before the next attempt after ``attempts`` failed ones (capped)."""
        return min(self.retry_max, self.retry_base * 2.0 ** max(0, min(attempts - 1, 30)))


class ReportOutbox:
    def __init__(self, store: Store, artis: ArtisClient, sessions: SessionRepo | None = None,
                 timing: OutboxTiming | None = None) -> None:
        self.store = store
        self.artis = artis
        self.sessions = sessions
        self.timing = timing or OutboxTiming()
        self.kick: Kick | None = None  # None: no jobs running, ``submit`` delivers inline
        # Reports whose ``submit`` is waiting here, woken when this process attempts them
        # (a job run on another process is seen by polling the record).
        self._waiters: dict[str, asyncio.Event] = {}

    async def get(self, report_id: str) -> OutboxRecord | None:
        raw = await self.store.get(outbox_key(report_id))
        return OutboxRecord.model_validate_json(raw) if raw else None

    async def _save(self, record: OutboxRecord) -> None:
        record.updated_at = time.time()
        await self.store.set(outbox_key(record.order.id), record.model_dump_json(),
                             DONE_TTL if record.done else None)

    # -- the rep confirms -------------------------------------------------------------

    async def submit(self, order: ReportOrder, token: str | None = None) -> SubmitOutcome:
        """Store the order (once per id), queue its delivery, and wait a little for the
        first attempt.

        ``token`` is the rep's session as the handler saw it; delivery reads the rep's
        link itself (the same token, or a newer one after an unlock), so it may be None.
        Returns ``Delivered``/``Refused`` when artis.net answered within the wait (the
        rep hears nothing more about it), else ``Stored``: ``record.state`` PENDING (the
        job retries and confirms in the chat) or WAITING_UNLOCK (tell the rep to unlock;
        the job will not ask again). ``AlreadySubmitted`` for a second ✅.
        """
        record = OutboxRecord(order=order)
        # Queued first: a crash right after the record is written still leaves it to the
        # sweep, which looks once the lease has passed whatever happens to the job (an
        # entry without a record, or for a record already done, is simply dropped).
        await self.store.enqueue(keys.outbox_queue(), order.id, order.login,
                                 time.time() + self.timing.lease)
        if not await self.store.add(outbox_key(order.id), record.model_dump_json()):
            existing = await self.get(order.id)
            return AlreadySubmitted(existing or record)
        await self._index(order.login, add=order.id)
        if self.kick is None:
            await self.attempt(order.id)
        else:
            try:
                await self.kick(order.id)
            except Exception:  # the broker is down: the sweep will take it
                log.exception("could not queue the delivery of report %s", order.id)
        return await self._first_answer(record)

    async def _first_answer(self, stored: OutboxRecord) -> SubmitOutcome:
        report_id = stored.order.id
        deadline = stored.created_at + self.timing.submit_wait
        woken = self._waiters.setdefault(report_id, asyncio.Event())
        try:
            while True:
                found = await self.get(report_id)
                if found is None:
                    return Stored(stored)
                record = found
                if record.attempts or record.state is not ReportState.PENDING:
                    break
                left = deadline - time.time()
                if left <= 0:
                    return Stored(record)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(woken.wait(), min(WAIT_STEP, left))
                woken.clear()
        finally:
            self._waiters.pop(report_id, None)
        match record.state:
            case ReportState.DELIVERED if await self._claim_telling(record):
                return Delivered(record)
            case ReportState.REFUSED if await self._claim_telling(record):
                return Refused(record)
            case ReportState.WAITING_UNLOCK:
                await self.store.add(keys.outbox_unlock_asked(record.order.login), "submit",
                                     DONE_TTL)
        return Stored(record)

    async def _claim_telling(self, record: OutboxRecord) -> bool:
        return await self.store.add(keys.outbox_told(record.order.id), "1", DONE_TTL)

    # -- one delivery attempt -----------------------------------------------------------

    async def attempt(self, report_id: str, *, now_anyway: bool = False) -> AttemptOutcome:
        """Try to deliver one report (unless another process is at it, or its backoff
        runs; ``now_anyway`` ignores the backoff, after an unlock)."""
        lease = min(30.0, self.timing.lease)
        try:
            async with self.store.lock(keys.outbox_delivery(report_id), timeout=lease,
                                       wait=0, renew=True):
                try:
                    return await self._attempt(report_id, now_anyway)
                finally:
                    if (waiter := self._waiters.get(report_id)) is not None:
                        waiter.set()
        except LockTimeout:
            return Busy()

    async def _attempt(self, report_id: str, now_anyway: bool) -> AttemptOutcome:
        record = await self.get(report_id)
        if record is None:
            return Missing()
        if record.done:
            return await self._finished(record)
        now = time.time()
        if record.next_attempt_at > now and not now_anyway:
            return NotYet(record)
        login = record.order.login
        holder = await self.sessions.holder_of(login) if self.sessions else None
        chat_id = holder[0] if holder else None
        token = holder[1].artis_token if holder and holder[1] else None
        if token is None:
            return await self._wait_for_unlock(record, chat_id, "unlock_needed")
        record.attempts += 1
        try:
            action = await self.artis.submit_report(token, record.order.action_id,
                                                    record.order.report_in(), record.order.id)
        except SessionExpired:
            return await self._wait_for_unlock(record, chat_id, "session_expired")
        except (AccessDenied, Conflict, NotFound, InvalidData) as exc:
            record.state, record.last_error = ReportState.REFUSED, _reason(exc)
            await self._save(record)
            return await self._finished(record)
        except ArtisError as exc:  # down, slow, or something passing (an account locked)
            record.state, record.last_error = ReportState.PENDING, f"unavailable: {exc}"[:200]
            record.next_attempt_at = time.time() + self.timing.backoff(record.attempts)
            await self._save(record)
            return Retrying(record)
        record.state, record.delivered_at = ReportState.DELIVERED, time.time()
        record.last_error = None
        if action.follow_up is not None:
            record.created_action_id = action.follow_up.created_action_id
        await self._save(record)
        return await self._finished(record)

    async def _wait_for_unlock(self, record: OutboxRecord, chat_id: int | None,
                               why: str) -> NeedsUnlock:
        record.state, record.last_error = ReportState.WAITING_UNLOCK, why
        record.next_attempt_at = 0.0  # the unlock tries again at once
        await self._save(record)
        # Within submit's wait, submit reports it to the rep (and marks it asked).
        ask = (chat_id is not None
               and time.time() >= record.created_at + self.timing.submit_wait
               and await self.store.add(keys.outbox_unlock_asked(record.order.login), "job",
                                        DONE_TTL))
        return NeedsUnlock(record, chat_id, ask)

    async def _finished(self, record: OutboxRecord) -> Finished:
        await self._index(record.order.login, remove=record.order.id)
        # Within submit's wait, submit tells the rep; after it, whoever sets the mark.
        tell = (time.time() >= record.created_at + self.timing.submit_wait
                and await self._claim_telling(record))
        return Finished(record, tell)

    # -- the sweep ------------------------------------------------------------------------

    async def claim_due(self, limit: int = SWEEP_BATCH) -> list[QueueItem]:
        """Unfinished reports due for a look (new ones past their lease, lost jobs, retries
        whose backoff ran out); each is ours for ``lease`` seconds, then due again."""
        return await self.store.claim(keys.outbox_queue(), now=time.time(),
                                      lease=self.timing.lease, limit=limit)

    async def settle(self, item: QueueItem, outcome: AttemptOutcome) -> None:
        """Put a swept report back in the queue for its next look, or take it out."""
        queue, now = keys.outbox_queue(), time.time()
        match outcome:
            case Finished() | Missing():
                await self.store.ack(queue, item)
            case Retrying(record=record) | NotYet(record=record):
                await self.store.retry(queue, item, max(now, record.next_attempt_at))
            case NeedsUnlock():  # the unlock kicks it; a slow re-check in case it was missed
                await self.store.retry(queue, item, now + self.timing.retry_max)
            case Busy():
                await self.store.retry(queue, item, now + self.timing.retry_base)

    # -- the rep's reports ------------------------------------------------------------------

    async def waiting(self, login: str) -> list[OutboxRecord]:
        """The rep's reports not yet in artis.net, oldest first."""
        ids = await self._ids(login)
        if not ids:
            return []
        raws = await self.store.get_many(*(outbox_key(i) for i in ids))
        records = [OutboxRecord.model_validate_json(r) for r in raws if r]
        return sorted((r for r in records if not r.done), key=lambda r: r.created_at)

    async def resume_login(self, login: str) -> int:
        """The rep just unlocked (or logged in again): deliver their waiting reports now.
        Returns how many were queued."""
        await self.store.delete(keys.outbox_unlock_asked(login))
        records = await self.waiting(login)
        for record in records:
            if self.kick is None:
                await self.attempt(record.order.id, now_anyway=True)
                continue
            try:
                await self.kick(record.order.id)
            except Exception:
                log.exception("could not queue the delivery of report %s", record.order.id)
        return len(records)

    async def _ids(self, login: str) -> list[str]:
        raw = await self.store.get(keys.outbox_of(login))
        return list(json.loads(raw)) if raw else []

    async def _index(self, login: str, *, add: str | None = None,
                     remove: str | None = None) -> None:
        """The rep's index of unfinished report ids (read by ``/envois`` and the unlock)."""
        async with self.store.lock(keys.outbox_of(login), timeout=10, wait=10):
            ids = await self._ids(login)
            if add is not None and add not in ids:
                ids.append(add)
            if remove is not None and remove in ids:
                ids.remove(remove)
            if ids:
                await self.store.set(keys.outbox_of(login), json.dumps(ids))
            else:
                await self.store.delete(keys.outbox_of(login))


def _reason(exc: Exception) -> str:
    """Why artis.net refused, as a short code the view explains."""
    match exc:
        case AccessDenied():
            return "forbidden"
        case Conflict():
            return "already_reported"
        case NotFound():
            return "not_found"
        case _:
            return "invalid_data"
