"""A manager's daily digest: for each Commerce unit they head (and its sub-units), each rep's
actions today, the previous working day's actions still without a compte rendu, and the
unit's week (RDV planned / done, reports missing, affaires won).

Every read goes through the **service account** (``ArtisClient.team_*``): the digest is built
at 07:30 when nobody is chatting and the manager's own session may have expired overnight.
No Telegram type here: ``bot/views/digest.py`` renders the result.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from bot.services.workdays import previous_working_day
from integrations.artis.client import ArtisClient
from integrations.artis.errors import NotFound
from integrations.artis.models import (
    Action,
    ActionStatus,
    ActionType,
    AffaireSalesStatus,
    Mission,
    OrgUnit,
    User,
)


@dataclass(frozen=True)
class Line:
    """One action as the manager reads it: time, type, company, town."""

    action_id: str
    start: datetime
    type: ActionType
    company: str
    town: str | None


@dataclass(frozen=True)
class Week:
    """A rep's (or a unit's) week so far."""

    rdv_planned: int = 0
    rdv_done: int = 0
    reports_missing: int = 0

    def __add__(self, other: Week) -> Week:
        return Week(self.rdv_planned + other.rdv_planned, self.rdv_done + other.rdv_done,
                    self.reports_missing + other.reports_missing)


@dataclass(frozen=True)
class RepDigest:
    login: str
    name: str
    today: list[Line]
    unreported: list[Line]  # the previous working day's, still without a compte rendu
    week: Week


@dataclass(frozen=True)
class UnitDigest:
    code: str
    name: str
    parent_name: str | None  # the unit above, for a sub-unit
    reps: list[RepDigest]
    affaires_won: int = 0
    won_amount: float = 0.0

    @property
    def week(self) -> Week:
        return sum((rep.week for rep in self.reps), Week())


@dataclass(frozen=True)
class Digest:
    """What the manager receives for ``day`` (their local day)."""

    manager_name: str
    day: date
    previous_day: date
    week_start: date
    units: list[UnitDigest] = field(default_factory=list)

    @property
    def reps(self) -> list[RepDigest]:
        return [rep for unit in self.units for rep in unit.reps]


@dataclass(frozen=True)
class NotAManager:
    """The login heads no Commerce unit: no digest for them."""


DigestOutcome = Digest | NotAManager


def _midnight(day: date, now: datetime) -> datetime:
    return datetime.combine(day, time(0), tzinfo=now.tzinfo)


def week_of(actions: list[Action], now: datetime) -> Week:
    """RDV planned (not cancelled) and done; past actions with no compte rendu."""
    live = [a for a in actions if a.status is not ActionStatus.ANNULEE]
    rdv = [a for a in live if a.type is ActionType.RDV]
    missing = [a for a in live if a.report is None and (a.planned_end or a.planned_start) < now]
    return Week(len(rdv), sum(1 for a in rdv if a.status is ActionStatus.REALISEE), len(missing))


class DigestService:
    """Builds digests from artis.net, read with the bot's service account."""

    def __init__(self, artis: ArtisClient) -> None:
        self.artis = artis

    async def units_of(self, manager: User) -> list[tuple[OrgUnit, str | None]]:
        """The Commerce units ``manager`` heads, each followed by its sub-units, with the name
        of the unit above for a sub-unit."""
        by_code = {u.code: u for u in await self.artis.list_org_units()}
        found: list[tuple[OrgUnit, str | None]] = []
        seen: set[str] = set()
        for code in manager.heads_org_units:
            unit = by_code.get(code)
            if unit is None or not unit.is_commerce or code in seen:
                continue
            for one in [unit, *await self.artis.list_sub_units(code)]:
                if one.is_commerce and one.code not in seen:
                    seen.add(one.code)
                    parent = by_code.get(one.parent_code or "") if one is not unit else None
                    found.append((one, parent.name if parent else None))
        return found

    async def digest(self, login: str, now: datetime) -> DigestOutcome:
        """The digest of ``login`` for the local day of ``now`` (aware, in their zone)."""
        manager = await self.artis.find_user(login)
        if manager is None or not manager.heads_org_units:
            return NotAManager()
        units = await self.units_of(manager)
        if not units:
            return NotAManager()
        today = now.date()
        previous = previous_working_day(today)
        monday = today - timedelta(days=today.weekday())
        built = await asyncio.gather(*(
            self._unit(unit, parent, login, now, previous, monday) for unit, parent in units))
        return Digest(manager.display_name, today, previous, monday, list(built))

    async def _unit(self, unit: OrgUnit, parent: str | None, manager: str, now: datetime,
                    previous: date, monday: date) -> UnitDigest:
        users = await asyncio.gather(*(self.artis.find_user(m) for m in unit.member_logins
                                       if m != manager and m != unit.head_login))
        reps = [u for u in users if u is not None and u.active
                and Mission.COMMERCIAL in u.missions]
        rep_digests = await asyncio.gather(*(self._rep(u, now, previous, monday) for u in reps))
        won = await self.artis.list_affaires(unit.code, monday, monday + timedelta(days=7),
                                             AffaireSalesStatus.GAGNEE)
        return UnitDigest(unit.code, unit.name, parent,
                          sorted(rep_digests, key=lambda r: r.name),
                          len(won), sum(a.commercial_revenue or 0.0 for a in won))

    async def _rep(self, rep: User, now: datetime, previous: date, monday: date) -> RepDigest:
        start = _midnight(min(previous, monday), now)
        actions = await self.artis.team_actions(rep.login, start,
                                                _midnight(monday + timedelta(days=7), now))
        tz = now.tzinfo

        def local_day(a: Action) -> date:
            return a.planned_start.astimezone(tz).date()

        live = [a for a in actions if a.status is not ActionStatus.ANNULEE]
        todays = [a for a in live if local_day(a) == now.date()]
        unreported = [a for a in live if local_day(a) == previous and a.report is None]
        week = week_of([a for a in actions if local_day(a) >= monday], now)
        towns = await self._towns([a.id for a in todays + unreported])
        return RepDigest(
            rep.login, rep.display_name,
            [_line(a, towns) for a in todays], [_line(a, towns) for a in unreported], week)

    async def _towns(self, action_ids: list[str]) -> dict[str, str]:
        """The town of each action's site (one read per action, all at once)."""
        async def town(action_id: str) -> tuple[str, str] | None:
            try:
                detail = await self.artis.team_action(action_id)
            except NotFound:
                return None
            return action_id, detail.site.city

        return dict(found for found in await asyncio.gather(*map(town, action_ids)) if found)


def _line(action: Action, towns: dict[str, str]) -> Line:
    return Line(action.id, action.planned_start, action.type, action.company_name,
                towns.get(action.id))
