"""The rep's day: home indicators, the planning of a day, week or month, and action cards.

Every read goes to artis.net with the rep's own session token, so artis.net decides what
the rep may see: an action of another rep answers "not found" there, and ``NotYours`` here.
Navigation (view, date, page) is not kept anywhere: it travels in the buttons.
No Telegram type: the handlers turn these results into screens.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from pydantic import ConfigDict, TypeAdapter

from bot.services.artis_cache import ReadCache
from integrations.artis.client import ArtisClient
from integrations.artis.errors import AccessDenied, InvalidData, NotFound
from integrations.artis.models import (
    Action,
    ActionDetail,
    ActionStatus,
    ActionType,
    Affaire,
    Attachment,
    Contact,
    Site,
)

#: How far back the home screen looks for overdue actions and missing reports.
LOOKBACK_DAYS = 31

# Built at first use, not at import (cold start): the list's schema alone takes ~70 ms.
_ACTIONS = TypeAdapter(list[Action], config=ConfigDict(defer_build=True))
_DETAIL = TypeAdapter(ActionDetail)
_AFFAIRE = TypeAdapter(Affaire)
NEARBY_RADIUS_KM = 10.0


@dataclass(frozen=True)
class Rep:
    """Who asks: the artis.net login and its session token (every read uses the rep's own)."""

    login: str
    token: str
    tz: tzinfo | None = None  # the rep's time zone; None: the service's (BOT_TIMEZONE)


class View(StrEnum):
    """The span a planning screen shows (its value travels in the buttons)."""

    DAY = "d"
    WEEK = "w"
    MONTH = "m"


class Status(StrEnum):
    """What a rep reads on an action: to do, done, overdue (to do and past) or cancelled."""

    TODO = "todo"
    DONE = "done"
    OVERDUE = "late"
    CANCELLED = "cancelled"


def status_of(action: Action, now: datetime) -> Status:
    if action.status is ActionStatus.REALISEE:
        return Status.DONE
    if action.status is ActionStatus.ANNULEE:
        return Status.CANCELLED
    return Status.OVERDUE if action.is_overdue(now) else Status.TODO


@dataclass(frozen=True)
class Span:
    """The days [first, end) a view shows around its anchor day."""

    view: View
    anchor: date
    first: date
    end: date  # exclusive

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.end - self.first).days)]


def span(view: View, anchor: date) -> Span:
    if view is View.DAY:
        return Span(view, anchor, anchor, anchor + timedelta(days=1))
    if view is View.WEEK:
        monday = anchor - timedelta(days=anchor.weekday())
        return Span(view, anchor, monday, monday + timedelta(days=7))
    first = anchor.replace(day=1)
    length = calendar.monthrange(anchor.year, anchor.month)[1]
    return Span(view, anchor, first, first + timedelta(days=length))


def shift(view: View, anchor: date, step: int) -> date:
    """The anchor of the previous (-1) or next (+1) day, week or month."""
    if view is View.DAY:
        return anchor + timedelta(days=step)
    if view is View.WEEK:
        return anchor + timedelta(days=7 * step)
    month = anchor.month - 1 + step
    year, month = anchor.year + month // 12, month % 12 + 1
    return date(year, month, min(anchor.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Item:
    """One action of a planning, with the status the rep reads."""

    action: Action
    status: Status


@dataclass(frozen=True)
class Planning:
    span: Span
    items: list[Item]
    today: date


@dataclass(frozen=True)
class NextAction:
    """The next action of the day, with what the home screen needs to call and go there."""

    item: Item
    site: Site
    phone: str | None  # the first number to call: a contact's, else the site's


@dataclass(frozen=True)
class Home:
    today: date
    actions_today: int
    rdv_this_week: int
    overdue: int
    done_without_report: int
    next: NextAction | None


# -- action card and its screens: closed outcomes -----------------------------------------------
@dataclass(frozen=True)
class Card:
    detail: ActionDetail
    status: Status


@dataclass(frozen=True)
class AffaireCard:
    detail: ActionDetail
    affaire: Affaire


@dataclass(frozen=True)
class NotYours:
    """The action (or what hangs off it) is not the rep's, or no longer exists: artis.net
    said "not found"; the rep sees the expired-button answer, never the data."""


CardOutcome = Card | NotYours
AffaireOutcome = AffaireCard | NotYours


@dataclass(frozen=True)
class Callee:
    """A number to call, in international format, and whose it is."""

    phone: str
    name: str
    first_name: str
    last_name: str | None
    function: str | None


@dataclass(frozen=True)
class CallSheet:
    detail: ActionDetail
    callees: list[Callee]


CallOutcome = CallSheet | NotYours

#: Telegram takes files up to 50 MB from a bot.
MAX_UPLOAD = 50 * 1024 * 1024


@dataclass(frozen=True)
class AttachmentFile:
    attachment: Attachment
    content: bytes


@dataclass(frozen=True)
class TooBig:
    """Over what Telegram accepts from a bot: the rep opens it in artis.net."""

    attachment: Attachment


AttachmentOutcome = AttachmentFile | TooBig | NotYours


@dataclass(frozen=True)
class NearbyItem:
    item: Item
    site: Site
    distance_m: int


@dataclass(frozen=True)
class Nearby:
    """The rep's open actions around a point, nearest first."""

    radius_km: float
    items: list[NearbyItem]


def international(raw: str | None, region: str = "FR") -> str | None:
    """``01 99 00 01 10`` → ``+33 1 99 00 01 10``; None when it is not a phone number."""
    if not raw or not raw.strip():
        return None
    import phonenumbers  # ~50 ms: at the first number shown, not at start-up

    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def callees(site: Site, contacts: list[Contact], only: str | None = None) -> list[Callee]:
    """The contacts' numbers (direct line, then mobile), then the site's switchboard."""
    found: list[Callee] = []
    seen: set[str] = set()
    for contact in contacts:
        if only is not None and contact.id != only:
            continue
        for raw in (contact.direct_phone, contact.mobile_phone):
            phone = international(raw)
            if phone and phone not in seen:
                seen.add(phone)
                found.append(Callee(phone, contact.display_name,
                                    contact.first_name or contact.last_name,
                                    contact.last_name if contact.first_name else None,
                                    ", ".join(contact.functions) or None))
    site_phone = international(site.phone)
    if only is None and site_phone and site_phone not in seen:
        found.append(Callee(site_phone, site.company_name, site.company_name, None, None))
    return found


class PlanningService:
    """Reads the rep's planning and actions from artis.net with the rep's token."""

    def __init__(self, artis: ArtisClient, tz: tzinfo, cache: ReadCache) -> None:
        self.artis = artis
        self.tz = tz
        self.cache = cache

    def now(self, rep: Rep | None = None) -> datetime:
        return datetime.now(self._tz(rep))

    def _tz(self, rep: Rep | None) -> tzinfo:
        return rep.tz if rep is not None and rep.tz is not None else self.tz

    def _midnight(self, day: date, rep: Rep | None = None) -> datetime:
        return datetime.combine(day, time(0), tzinfo=self._tz(rep))

    async def _actions(self, rep: Rep, first: date, end: date) -> list[Action]:
        start, stop = self._midnight(first, rep), self._midnight(end, rep)
        return await self.cache.read(
            rep.login, f"actions:{self._tz(rep)}:{first:%Y%m%d}:{end:%Y%m%d}", _ACTIONS,
            lambda: self.artis.list_actions(rep.token, start, stop))

    async def planning(self, rep: Rep, view: View, anchor: date | None) -> Planning:
        now = self.now(rep)
        shown = span(view, anchor or now.date())
        actions = await self._actions(rep, shown.first, shown.end)
        items = [Item(a, status_of(a, now)) for a in sorted(actions, key=lambda a: a.planned_start)]
        return Planning(shown, items, now.date())

    async def home(self, rep: Rep) -> Home:
        now = self.now(rep)
        tz = self._tz(rep)
        today = now.date()
        week = span(View.WEEK, today)
        start = min(week.first, today - timedelta(days=LOOKBACK_DAYS))
        actions = await self._actions(rep, start, week.end)
        todays = [a for a in actions if a.planned_start.astimezone(tz).date() == today
                  and a.status is not ActionStatus.ANNULEE]
        home = Home(
            today=today,
            actions_today=len(todays),
            rdv_this_week=sum(1 for a in actions if a.type is ActionType.RDV
                              and a.status is not ActionStatus.ANNULEE
                              and week.first <= a.planned_start.astimezone(tz).date()
                              < week.end),
            overdue=sum(1 for a in actions if a.is_overdue(now)
                        and a.planned_start.astimezone(tz).date() < today),
            done_without_report=sum(1 for a in actions
                                    if a.status is ActionStatus.REALISEE and a.report is None),
            next=None,
        )
        upcoming = sorted((a for a in todays if a.status is ActionStatus.A_REALISER),
                          key=lambda a: (a.planned_start < now, a.planned_start))
        if not upcoming:
            return home
        outcome = await self.card(rep, upcoming[0].id)
        if isinstance(outcome, NotYours):
            return home
        detail = outcome.detail
        numbers = callees(detail.site, detail.contacts)
        nxt = NextAction(Item(detail.action, outcome.status), detail.site,
                         numbers[0].phone if numbers else None)
        return Home(home.today, home.actions_today, home.rdv_this_week, home.overdue,
                    home.done_without_report, nxt)

    async def card(self, rep: Rep, action_id: str) -> CardOutcome:
        """The action with its site, contacts, attachments and affaire: the rep's own only."""
        try:
            detail = await self.cache.read(rep.login, f"action:{action_id}", _DETAIL,
                                           lambda: self.artis.get_action(rep.token, action_id))
        except (NotFound, AccessDenied, InvalidData):
            return NotYours()
        return Card(detail, status_of(detail.action, self.now(rep)))

    async def call_sheet(self, rep: Rep, action_id: str, contact_id: str | None) -> CallOutcome:
        """The numbers to call for an action (or one of its contacts), re-checked with artis."""
        outcome = await self.card(rep, action_id)
        if isinstance(outcome, NotYours):
            return outcome
        detail = outcome.detail
        if contact_id is not None and all(c.id != contact_id for c in detail.contacts):
            return NotYours()
        return CallSheet(detail, callees(detail.site, detail.contacts, contact_id))

    async def affaire(self, rep: Rep, action_id: str) -> AffaireOutcome:
        """The affaire linked to one of the rep's actions."""
        outcome = await self.card(rep, action_id)
        if isinstance(outcome, NotYours) or outcome.detail.action.affaire_id is None:
            return NotYours()
        affaire_id = outcome.detail.action.affaire_id
        try:
            affaire = await self.cache.read(rep.login, f"affaire:{affaire_id}", _AFFAIRE,
                                            lambda: self.artis.get_affaire(rep.token, affaire_id))
        except (NotFound, AccessDenied, InvalidData):
            return NotYours()
        return AffaireCard(outcome.detail, affaire)

    async def attachment(self, rep: Rep, action_id: str, attachment_id: str
                         ) -> AttachmentOutcome:
        """A CRM-visible file of one of the rep's actions (its bytes are never cached)."""
        outcome = await self.card(rep, action_id)
        if isinstance(outcome, NotYours):
            return outcome
        found = next((a for a in outcome.detail.attachments if a.id == attachment_id), None)
        if found is None or not found.accessible_crm:
            return NotYours()
        if found.size_bytes > MAX_UPLOAD:
            return TooBig(found)
        try:
            content = await self.artis.get_attachment_content(rep.token, attachment_id)
        except (NotFound, AccessDenied, InvalidData):
            return NotYours()
        if len(content) > MAX_UPLOAD:
            return TooBig(found)
        return AttachmentFile(found, content)

    async def nearby(self, rep: Rep, latitude: float, longitude: float) -> Nearby:
        """Open actions (overdue included) within ``NEARBY_RADIUS_KM`` of the rep."""
        now = self.now(rep)
        found = await self.artis.nearby_actions(rep.token, latitude, longitude,
                                                NEARBY_RADIUS_KM, limit=8)
        return Nearby(NEARBY_RADIUS_KM, [NearbyItem(Item(n.action, status_of(n.action, now)),
                                                    n.site, n.distance_m) for n in found])
