"""What the bot sends on its own, and when: the managers' digests and the reps' reminders.

Two halves:

- **pure rules** (``digest_due``, ``reminders_due``): from one user's preferences, their
  actions and the current time, what is due now. No I/O: tests drive them with any clock;
- **the claim** (``Schedule.claim``): each occurrence has one marker in the store — per
  manager and local day, per (reminder kind, action, rep) — written with ``add`` (Redis
  ``SET NX``) *before* sending. Whoever writes it sends; every other process, scheduler or
  worker, and every later tick, finds it and skips. So two bot processes, two schedulers or a
  re-run never send twice.

Crash between the claim and the send — the trade-off chosen is **at most once**. The marker
is written as ``sending`` and turned into ``sent`` after Telegram accepted the message. A
process that dies in between leaves ``sending``: nobody sends that occurrence again (we cannot
know whether Telegram delivered it, and a manager receiving the same digest twice is worse
than a missed reminder); ``state()`` tells such an occurrence apart. What *can* fail
before anything left — reading artis.net to build the message — happens before the claim, so
a failed read is simply retried at the next tick.

**What the reminders read.** A rep's planning is read once per refresh (``refresh``,
``REMINDER_REFRESH_MINUTES``, 10 by default), not at every tick: the window read reaches
that far ahead (a little less for some reps, so that the reads spread out) and is kept in
the store, and the ticks in between decide from it. With many reps this is the difference
between one artis.net request per rep per minute and one per ten minutes. What a tick finds
due from that copy is checked against artis.net before it is sent (``still_due`` on the
action read again): an RDV cancelled or moved, or an action reported since, gets nothing,
and the rep's copy is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ValidationError

from bot import keys
from bot.services.preferences import DigestPrefs, Preferences, ReminderPrefs
from bot.services.sessions import ArtisLink, SessionRepo
from bot.services.workdays import WorkingHours, is_working_day
from bot.storage import Store
from integrations.artis.client import ArtisClient
from integrations.artis.errors import ArtisError
from integrations.artis.models import Action, ActionStatus, ActionType

log = logging.getLogger(__name__)

MARKER_TTL = 8 * 86400  # longer than any occurrence can be due again
SENDING, SENT = "sending", "sent"
NOT_DUE = "not-due"  # looked at, nothing to send (a "manager" who heads no unit any more)


class ReminderKind(StrEnum):
    BRIEFING = "briefing"  # before an RDV
    NUDGE = "nudge"  # an action ended a while ago and has no compte rendu


@dataclass(frozen=True)
class Rules:
    """When things are due (from the settings)."""

    digest_catch_up: timedelta = timedelta(hours=3)  # a late process still sends till then
    hours: WorkingHours = field(default_factory=WorkingHours)
    briefing_lead: timedelta = timedelta(minutes=60)  # zero: no briefings
    nudge_delay: timedelta = timedelta(minutes=30)  # zero: no nudges
    nudge_lookback: timedelta = timedelta(hours=24)  # older actions are not nudged about


@dataclass(frozen=True)
class Recipient:
    """A paired user, as the scheduler sees them."""

    user_id: int
    login: str
    is_manager: bool
    tz: ZoneInfo
    digest: DigestPrefs
    reminders: ReminderPrefs


@dataclass(frozen=True)
class DigestDue:
    user_id: int
    login: str
    tz: ZoneInfo
    day: date  # the manager's local day

    @property
    def marker(self) -> str:
        return keys.digest_sent(self.user_id, self.day.isoformat())


@dataclass(frozen=True)
class ReminderDue:
    user_id: int
    login: str
    tz: ZoneInfo
    kind: ReminderKind
    action: Action

    @property
    def marker(self) -> str:
        return keys.reminder_sent(self.kind.value, self.action.id, self.user_id)


Due = DigestDue | ReminderDue


# -- pure rules -------------------------------------------------------------------------------


def digest_due(who: Recipient, now: datetime, rules: Rules) -> DigestDue | None:
    """A manager's digest is due on a working day from their chosen local time, for a few
    hours (a process started late still sends it; the marker stops a second one)."""
    if not who.is_manager or who.digest.paused:
        return None
    local = now.astimezone(who.tz)
    if not is_working_day(local.date()):
        return None
    at = local.replace(hour=who.digest.at.hour, minute=who.digest.at.minute, second=0,
                       microsecond=0)
    if not at <= local < at + rules.digest_catch_up:
        return None
    return DigestDue(who.user_id, who.login, who.tz, local.date())


def reminders_due(who: Recipient, actions: list[Action], now: datetime,
                  rules: Rules) -> list[ReminderDue]:
    """Briefings ``briefing_lead`` before an RDV still to do; a nudge ``nudge_delay`` after an
    action's planned end when it has no compte rendu. Never outside working hours."""
    if not rules.hours.contains(now.astimezone(who.tz)):
        return []
    due: list[ReminderDue] = []
    for action in actions:
        if action.assignee_login != who.login:
            continue
        if who.reminders.briefing and _briefing_due(action, now, rules):
            due.append(ReminderDue(who.user_id, who.login, who.tz, ReminderKind.BRIEFING,
                                   action))
        if who.reminders.nudge and _nudge_due(action, now, rules):
            due.append(ReminderDue(who.user_id, who.login, who.tz, ReminderKind.NUDGE, action))
    return due


def still_due(item: ReminderDue, action: Action, now: datetime, rules: Rules) -> bool:
    """``item``, found due on a copy of the planning, is still due on ``action`` as artis.net
    shows it now (same rules; the rep's preferences were checked already)."""
    if action.id != item.action.id or action.assignee_login != item.login:
        return False
    if item.kind is ReminderKind.BRIEFING:
        return _briefing_due(action, now, rules)
    return _nudge_due(action, now, rules)


def _briefing_due(action: Action, now: datetime, rules: Rules) -> bool:
    return (bool(rules.briefing_lead) and action.type is ActionType.RDV
            and action.status is ActionStatus.A_REALISER
            and action.planned_start - rules.briefing_lead <= now < action.planned_start)


def _nudge_due(action: Action, now: datetime, rules: Rules) -> bool:
    end = action.planned_end or action.planned_start
    return (bool(rules.nudge_delay) and action.status is not ActionStatus.ANNULEE
            and action.report is None
            and end + rules.nudge_delay <= now < end + rules.nudge_lookback)


class _PlanningCopy(BaseModel):
    """A window of one rep's planning as the reminders last read it."""

    start: AwareDatetime
    end: AwareDatetime
    actions: list[Action]


#: Reads of reps' plannings a tick makes at once.
READ_CONCURRENCY = 8
#: A window reaches between this share of the refresh and all of it ahead: the next reads
#: of reps first read together spread over the last fifth of the refresh.
SPREAD = 0.8


# -- the store side ---------------------------------------------------------------------------


class Schedule:
    """Finds what is due for every paired user and claims each occurrence once."""

    def __init__(self, store: Store, artis: ArtisClient, sessions: SessionRepo,
                 preferences: Preferences, rules: Rules, *,
                 refresh: timedelta = timedelta(minutes=10)) -> None:
        self.store = store
        self.artis = artis
        self.sessions = sessions
        self.preferences = preferences
        self.rules = rules
        self.refresh = refresh  # zero: every tick reads every rep's planning

    async def recipients(self) -> list[Recipient]:
        """Every paired user with their preferences (one scan, then batched reads)."""
        link_keys = [key async for key in self.store.scan(keys.links())]
        user_ids = [int(key.removeprefix(keys.links())) for key in link_keys
                    if key.removeprefix(keys.links()).isdigit()]
        if not user_ids:
            return []
        values = await self.store.get_many(
            *(k for uid in user_ids
              for k in (keys.link(uid), keys.digest_prefs(uid), keys.reminder_prefs(uid))))
        found: list[Recipient] = []
        for index, user_id in enumerate(user_ids):
            raw_link, raw_digest, raw_reminders = values[3 * index:3 * index + 3]
            if raw_link is None:
                continue
            try:
                link = ArtisLink.model_validate_json(raw_link)
            except ValueError:
                continue
            found.append(Recipient(
                user_id, link.login, link.is_manager, self.sessions.zone_of(link),
                self.preferences.read_digest(raw_digest),
                self.preferences.read_reminders(raw_reminders)))
        return found

    async def due(self, now: datetime) -> list[Due]:
        """Everything due at ``now`` and not yet claimed."""
        recipients = await self.recipients()
        found: list[Due] = [digest for who in recipients
                            if (digest := digest_due(who, now, self.rules)) is not None]
        wanting = [who for who in recipients if self._wants_reminders(who, now)]
        plannings = await self._plannings([who.login for who in wanting], now)
        for who in wanting:
            if (actions := plannings.get(who.login)) is not None:
                found += reminders_due(who, actions, now, self.rules)
        if not found:
            return []
        markers = await self.store.get_many(*(item.marker for item in found))
        return [item for item, marker in zip(found, markers, strict=True) if marker is None]

    def _wants_reminders(self, who: Recipient, now: datetime) -> bool:
        wants = (who.reminders.briefing and self.rules.briefing_lead) or (
            who.reminders.nudge and self.rules.nudge_delay)
        return bool(wants) and self.rules.hours.contains(now.astimezone(who.tz))

    async def _plannings(self, logins: list[str], now: datetime) -> dict[str, list[Action]]:
        """Each rep's actions around ``now``: from the copy in the store while it covers
        what the rules look at, else read (and kept). A rep whose read fails is left out
        (not in a Commerce unit, artis.net down: the next tick)."""
        if not logins:
            return {}
        start = now - self.rules.nudge_lookback - self.rules.nudge_delay
        end = now + self.rules.briefing_lead + timedelta(minutes=1)
        found: dict[str, list[Action]] = {}
        copies = (await self.store.get_many(*map(keys.reminder_planning, logins))
                  if self.refresh else [None] * len(logins))
        for login, raw in zip(logins, copies, strict=True):
            copy = _read_copy(raw)
            if copy is not None and copy.start <= start and end <= copy.end:
                found[login] = copy.actions
        gate = asyncio.Semaphore(READ_CONCURRENCY)

        async def read(login: str) -> None:
            ahead = self.refresh * random.uniform(SPREAD, 1.0)
            async with gate:
                try:
                    actions = await self.artis.team_actions(login, start, end + ahead)
                except ArtisError as exc:
                    log.info("no reminders for %s this time: %s", login, exc)
                    return
            found[login] = actions
            if self.refresh:
                copy = _PlanningCopy(start=start, end=end + ahead, actions=actions)
                await self.store.set(keys.reminder_planning(login), copy.model_dump_json(),
                                     self.refresh.total_seconds() * 2)

        await asyncio.gather(*(read(login) for login in logins if login not in found))
        return found

    def still_due(self, item: ReminderDue, action: Action, now: datetime) -> bool:
        return still_due(item, action, now, self.rules)

    async def forget_planning(self, login: str) -> None:
        """Drop the rep's copy: what it said was not so any more (the next tick reads)."""
        await self.store.delete(keys.reminder_planning(login))

    async def is_blocked(self, user_id: int) -> bool:
        """The user blocked the bot (a 403 marked the chat): skip, do not retry forever."""
        return await self.store.get(keys.blocked(user_id)) is not None

    async def claim(self, item: Due, state: str = SENDING) -> bool:
        """True for the one caller that may send ``item`` (marker written ``sending``)."""
        return await self.store.add(item.marker, state, ttl=MARKER_TTL)

    async def sent(self, item: Due) -> None:
        """Telegram accepted it: ``sending`` becomes ``sent``."""
        await self.store.set(item.marker, SENT, ttl=MARKER_TTL)

    async def state(self, item: Due) -> str | None:
        return await self.store.get(item.marker)


def _read_copy(raw: str | None) -> _PlanningCopy | None:
    if raw is None:
        return None
    try:
        return _PlanningCopy.model_validate_json(raw)
    except ValidationError:
        return None  # written by another version: read again
