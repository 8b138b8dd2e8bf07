"""Business rules of the demo artis.net: sessions, planning, contacts and reports.

Every public method is synchronous and meant to run in a worker thread; write paths run inside
one store transaction so a replayed or concurrent report can never be applied twice.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta

import phonenumbers

from integrations.artis.demo.access import Caller, Visibility, caller_for, headed_units, sub_units
from integrations.artis.demo.passwords import verify_password
from integrations.artis.demo.seed import PARIS, build_seed
from integrations.artis.demo.seed_data import INTERNAL_ORG
from integrations.artis.demo.store import DemoStore
from integrations.artis.models import (
    Action,
    ActionDetail,
    ActionStatus,
    ActionType,
    Affaire,
    AffaireSalesStatus,
    AffaireSummary,
    Attachment,
    Contact,
    ContactCreate,
    ContactPatch,
    FollowUp,
    FollowUpKind,
    LoginRequest,
    LoginResult,
    NearbyAction,
    OrgUnit,
    RelationType,
    Report,
    ReportIn,
    Site,
    SsoExchangeRequest,
    User,
)

SESSION_TTL = timedelta(hours=12)
SSO_TICKET_TTL = timedelta(seconds=60)
MAX_PLANNING_RANGE = timedelta(days=93)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ApiError(Exception):
    """An error answer of the contract: HTTP status plus {"error", "message"} body."""

    def __init__(
        self, status: int, code: str, message: str, *, existing_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.existing_id = existing_id

    def body(self) -> dict[str, str]:
        """JSON body of the error answer."""
        body = {"error": self.code, "message": self.message}
        if self.existing_id is not None:
            body["existing_id"] = self.existing_id
        return body


def _not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


class DemoService:
    """Implements each operation of the contract against the store."""

    def __init__(self, store: DemoStore, today: Callable[[], date]) -> None:
        self.store = store
        self._today = today

    # -- data freshness -----------------------------------------------------

    def ensure_current(self) -> bool:
        """Reseed when the data was generated for another day; True if it reseeded."""
        today = self._today()
        with self.store.transaction():
            if self.store.seeded_on() == today:
                return False
            self.store.reseed(build_seed(today))
        return True

    def today(self) -> date:
        """The day the demo data is built around."""
        return self._today()

    # -- sessions -----------------------------------------------------------

    def login(self, request: LoginRequest) -> LoginResult:
        """Check credentials and open a session."""
        return self._open_session(self._checked_user(request.login, request.password))

    def sso_authorize(self, login: str, password: str) -> str:
        """The demo identity provider: check the credentials, return a one-time ticket."""
        user = self._checked_user(login, password)
        return self.store.create_sso_ticket(user.login, SSO_TICKET_TTL)

    def sso_exchange(self, request: SsoExchangeRequest) -> LoginResult:
        """Consume an SSO ticket (once) and open a session for the user who signed in."""
        login = self.store.pop_sso_ticket(request.ticket)
        if login is None:
            raise ApiError(401, "invalid_ticket", "unknown, expired or already used SSO ticket")
        credentials = self.store.user_credentials(login)
        if credentials is not None and credentials[1]:
            raise ApiError(423, "account_locked", "this account is locked")
        user = self.store.user(login)
        if user is None or not user.active:
            raise ApiError(401, "invalid_ticket", "unknown, expired or already used SSO ticket")
        return self._open_session(user)

    def _checked_user(self, login: str, password: str) -> User:
        credentials = self.store.user_credentials(login)
        if credentials is None or not verify_password(password, credentials[0]):
            raise ApiError(401, "invalid_credentials", "invalid login or password")
        if credentials[1]:
            raise ApiError(423, "account_locked", "this account is locked")
        user = self.store.user(login)
        if user is None or not user.active:
            raise ApiError(401, "invalid_credentials", "invalid login or password")
        return user

    def _open_session(self, user: User) -> LoginResult:
        token, expires = self.store.create_session(user.login, SESSION_TTL)
        return LoginResult(token=token, expires_at=expires.astimezone(PARIS), user=user)

    def logout(self, token: str) -> None:
        """Close a session."""
        self.store.delete_session(token)

    def authenticate(self, token: str | None) -> Caller:
        """Resolve a bearer token, or fail with 401."""
        login = self.store.session_login(token) if token else None
        caller = caller_for(self.store, login) if login else None
        if caller is None:
            raise ApiError(401, "invalid_token", "missing, invalid or expired session token")
        return caller

    # -- users and units ----------------------------------------------------

    def get_user(self, caller: Caller, login: str) -> User:
        """A user profile: service account, the user themself, or their unit head."""
        if not (caller.is_service or login in caller.visible_logins):
            raise ApiError(403, "forbidden", "reading users needs the WS_REST licence")
        user = self.store.user(login)
        if user is None:
            raise _not_found("user")
        return user

    def list_org_units(self, caller: Caller) -> list[OrgUnit]:
        """All units for the service account, else the units the caller heads."""
        units = self.store.org_units()
        if caller.is_service:
            return units
        headed = [u for u in units if u.head_login == caller.login]
        if not headed:
            raise ApiError(403, "forbidden", "only the service account or a unit head may list")
        return headed

    def get_org_unit(self, caller: Caller, code: str) -> OrgUnit:
        """One unit, for the service account or the unit's head."""
        unit = next((u for u in self.store.org_units() if u.code == code), None)
        if caller.is_service:
            if unit is None:
                raise _not_found("org unit")
            return unit
        if unit is None or unit.head_login != caller.login:
            raise ApiError(403, "forbidden", "only the service account or the unit head")
        return unit

    def _readable_unit(self, caller: Caller, code: str) -> OrgUnit:
        """A unit the service account, its head or the head of a unit above it may read."""
        units = self.store.org_units()
        unit = next((u for u in units if u.code == code), None)
        if caller.is_service:
            if unit is None:
                raise _not_found("org unit")
            return unit
        if unit is None or unit not in headed_units(units, caller.login):
            raise ApiError(403, "forbidden", "only the service account or a head above the unit")
        return unit

    def list_sub_units(self, caller: Caller, code: str) -> list[OrgUnit]:
        """Every unit below `code`, parents first."""
        unit = self._readable_unit(caller, code)
        return sub_units(self.store.org_units(), unit.code)

    def list_affaires(
        self,
        caller: Caller,
        code: str,
        start: date,
        end: date,
        sales_status: AffaireSalesStatus | None,
    ) -> list[AffaireSummary]:
        """Affaires led by the unit's direct members whose status changed in [start, end)."""
        if end <= start or end - start > timedelta(days=366):
            raise ApiError(422, "invalid_range", "'to' must follow 'from' by at most 366 days")
        unit = self._readable_unit(caller, code)
        found = [
            AffaireSummary.model_validate(a.model_dump())
            for a in self.store.affaires_of_reps(unit.member_logins)
            if a.status_changed_on is not None and start <= a.status_changed_on < end
            and (sales_status is None or a.sales_status is sales_status)
        ]
        found.sort(key=lambda a: (a.status_changed_on or start, a.number))
        return found

    # -- planning -----------------------------------------------------------

    def list_actions(
        self,
        caller: Caller,
        start: datetime,
        end: datetime,
        status: ActionStatus | None,
        assignee: str | None,
    ) -> list[Action]:
        """The caller's planning, or a member's when the caller heads their Commerce unit."""
        if end <= start or end - start > MAX_PLANNING_RANGE:
            raise ApiError(422, "invalid_range", "'to' must follow 'from' by at most 93 days")
        login = assignee or caller.login
        if login != caller.login and login not in caller.visible_logins:
            raise ApiError(403, "forbidden", "only the head of a Commerce unit sees its members")
        return self.store.actions([login], start, end, status)

    def action_detail(self, caller: Caller, action_id: str) -> ActionDetail:
        """An action with everything the rep needs on the road."""
        visibility = Visibility(self.store, caller)
        action = self._visible_action(visibility, action_id)
        site = self.store.site(action.site_id)
        if site is None:
            raise _not_found("site")
        contacts = [c for c in map(self.store.contact, action.contact_ids) if c is not None]
        owners = [("action", action.id), ("site", action.site_id)]
        affaire: AffaireSummary | None = None
        if action.affaire_id:
            owners.append(("affaire", action.affaire_id))
            full = self.store.affaire(action.affaire_id)
            if full is not None:
                affaire = AffaireSummary.model_validate(full.model_dump())
        attachments = [a for a in self.store.attachments_of(owners) if a.accessible_crm]
        return ActionDetail(
            action=action, site=site, contacts=contacts, attachments=attachments, affaire=affaire
        )

    def nearby_actions(
        self, caller: Caller, lat: float, lon: float, radius_km: float, limit: int
    ) -> list[NearbyAction]:
        """The caller's open actions (a month either side of today) near a point."""
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not 0 < radius_km <= 200:
            raise ApiError(422, "invalid_data", "lat, lon or radius_km out of range")
        if not 1 <= limit <= 50:
            raise ApiError(422, "invalid_data", "limit must be 1 to 50")
        today = datetime.combine(self._today(), datetime.min.time(), tzinfo=PARIS)
        actions = self.store.actions(
            [caller.login],
            today - timedelta(days=31),
            today + timedelta(days=32),
            ActionStatus.A_REALISER,
        )
        found: list[NearbyAction] = []
        for action in actions:
            site = self.store.site(action.site_id)
            if site is None or site.latitude is None or site.longitude is None:
                continue
            metres = _distance_m(lat, lon, site.latitude, site.longitude)
            if metres <= radius_km * 1000:
                found.append(NearbyAction(action=action, site=site, distance_m=metres))
        found.sort(key=lambda n: (n.distance_m, n.action.planned_start))
        return found[:limit]

    def _visible_action(self, visibility: Visibility, action_id: str) -> Action:
        action = self.store.action(action_id)
        if action is None or not visibility.can_see_action(action):
            raise _not_found("action")
        return action

    # -- clients ------------------------------------------------------------

    def get_site(self, caller: Caller, site_id: str) -> Site:
        """A site reachable from the caller's planning."""
        site = self.store.site(site_id)
        if site is None or not Visibility(self.store, caller).can_see_site(site_id):
            raise _not_found("site")
        return site

    def get_contact(self, caller: Caller, contact_id: str) -> Contact:
        """A contact of a reachable site."""
        contact = self.store.contact(contact_id)
        if contact is None or not Visibility(self.store, caller).can_see_contact_sites(
            contact.site_ids
        ):
            raise _not_found("contact")
        return contact

    def patch_contact(self, caller: Caller, contact_id: str, patch: ContactPatch) -> Contact:
        """Apply the fields explicitly sent."""
        with self.store.transaction():
            contact = self.get_contact(caller, contact_id)
            changes = patch.model_dump(exclude_unset=True)
            if "last_name" in changes and not (changes["last_name"] or "").strip():
                raise ApiError(422, "invalid_data", "last_name cannot be empty")
            changes = _clean_contact_fields(changes)
            updated = contact.model_copy(update=changes)
            self.store.save_contact(updated)
        return updated

    def create_contact(self, caller: Caller, new: ContactCreate) -> Contact:
        """Create a contact after the artis duplicate check (name, phones, email)."""
        with self.store.transaction():
            site = self.store.site(new.site_id)
            if site is None or not Visibility(self.store, caller).can_see_site(new.site_id):
                raise ApiError(422, "unknown_site", "site_id is not one of your sites")
            fields = _clean_contact_fields(
                new.model_dump(exclude={"site_id", "allow_duplicate"})
            )
            candidate = Contact(
                id="new",
                site_ids=[site.id],
                third_party_code=site.third_party_code,
                **fields,
            )
            duplicate = _find_duplicate(candidate, self.store.contacts_of(site.third_party_code))
            if duplicate is not None and not new.allow_duplicate:
                raise ApiError(
                    409,
                    "duplicate_contact",
                    "a similar contact already exists",
                    existing_id=duplicate.id,
                )
            created = candidate.model_copy(update={"id": self.store.next_id("CTC", 5001)})
            self.store.save_contact(created)
        return created

    def duplicate_contacts(self, caller: Caller, new: ContactCreate) -> list[Contact]:
        """The client's contacts ``new`` would duplicate; nothing is written."""
        site = self.store.site(new.site_id)
        if site is None or not Visibility(self.store, caller).can_see_site(new.site_id):
            raise ApiError(422, "unknown_site", "site_id is not one of your sites")
        fields = _clean_contact_fields(new.model_dump(exclude={"site_id", "allow_duplicate"}))
        candidate = Contact(
            id="new", site_ids=[site.id], third_party_code=site.third_party_code, **fields
        )
        return _find_duplicates(candidate, self.store.contacts_of(site.third_party_code))

    def attachment_content(self, caller: Caller, attachment_id: str) -> tuple[Attachment, bytes]:
        """Bytes of a CRM-accessible attachment reachable by the caller."""
        found = self.store.attachment(attachment_id)
        if found is None or not Visibility(self.store, caller).can_see_attachment(found[0]):
            raise _not_found("attachment")
        return found

    def get_affaire(self, caller: Caller, affaire_id: str) -> Affaire:
        """An affaire linked to the caller's planning or led by a visible rep."""
        affaire = self.store.affaire(affaire_id)
        if affaire is None or affaire_id not in Visibility(self.store, caller).affaire_ids():
            raise _not_found("affaire")
        return affaire

    # -- reports ------------------------------------------------------------

    def submit_report(self, caller: Caller, action_id: str, key: str, report: ReportIn) -> str:
        """Close an action with its report, once per Idempotency-Key; returns the Action JSON."""
        with self.store.transaction():
            action = self._visible_action(Visibility(self.store, caller), action_id)
            remembered = self.store.idempotent_response(key)
            if remembered is not None:
                login, remembered_action, response = remembered
                if login != caller.login or remembered_action != action_id:
                    raise ApiError(
                        409,
                        "idempotency_key_reused",
                        "this Idempotency-Key was used for another request",
                    )
                return response
            self._check_reportable(caller, action)
            now = datetime.now(PARIS)
            executed = report.executed_at or now
            if executed > now + timedelta(minutes=5):
                raise ApiError(422, "invalid_data", "executed_at is in the future")
            action.status = ActionStatus.REALISEE
            action.executed_at = executed
            action.report = Report(
                text=report.text.strip(),
                executed_at=executed,
                executed_by_login=caller.login,
                created_at=now,
                source=report.source,
            )
            action.follow_up = self._follow_up(caller, action, report)
            self._promote_suspect(action)
            self.store.save_action(action)
            response = action.model_dump_json()
            self.store.remember_response(key, caller.login, action_id, response)
        return response

    @staticmethod
    def _check_reportable(caller: Caller, action: Action) -> None:
        if action.assignee_login != caller.login:
            raise ApiError(403, "forbidden", "only the assignee can report on an action")
        if action.status is ActionStatus.REALISEE and action.report is not None:
            raise ApiError(409, "already_reported", "this action already has a report")
        if action.status is ActionStatus.ANNULEE:
            raise ApiError(409, "action_cancelled", "this action was cancelled")

    def _follow_up(self, caller: Caller, action: Action, report: ReportIn) -> FollowUp:
        wanted = report.follow_up
        if wanted is None or wanted.kind is FollowUpKind.AUCUNE:
            return FollowUp(kind=FollowUpKind.AUCUNE)
        if wanted.kind is FollowUpKind.NOUVELLE_AFFAIRE:
            affaire = self._new_affaire(caller, action, wanted.subject)
            return FollowUp(kind=wanted.kind, subject=affaire.label, created_affaire_id=affaire.id)
        assert wanted.planned_start is not None  # enforced by FollowUpIn
        kind = wanted.action_type or action.type
        subject = wanted.subject or f"Suite : {action.subject}"
        duration = timedelta(hours=1) if kind is ActionType.RDV else timedelta(minutes=15)
        created = action.model_copy(
            update={
                "id": self.store.next_id("ACT", 50001),
                "type": kind,
                "subject": subject,
                "detail": None,
                "status": ActionStatus.A_REALISER,
                "created_at": datetime.now(PARIS),
                "planned_start": wanted.planned_start,
                "planned_end": wanted.planned_start + duration,
                "executed_at": None,
                "issuer_login": caller.login,
                "report": None,
                "follow_up": None,
            }
        )
        self.store.save_action(created)
        return FollowUp(
            kind=wanted.kind,
            action_type=kind,
            planned_start=wanted.planned_start,
            subject=subject,
            created_action_id=created.id,
        )

    def _new_affaire(self, caller: Caller, action: Action, label: str | None) -> Affaire:
        affaire_id = self.store.next_id("AFF", 9001)
        today = self._today()
        affaire = Affaire(
            id=affaire_id,
            number=f"{today.year % 100:02d}{int(affaire_id.split('-')[1]) % 10000:04d}",
            label=label or f"Nouvelle affaire - {action.company_name}",
            third_party_code=action.third_party_code,
            client_name=action.company_name,
            sales_status=AffaireSalesStatus.DETECTEE,
            main_sales_rep_login=caller.login,
            date=today,
            internal_org=INTERNAL_ORG,
            probability_pct=10,
        )
        self.store.save_affaire(affaire)
        return affaire

    def _promote_suspect(self, action: Action) -> None:
        """artis rule: the report of an RDV turns a suspect into a prospect."""
        if action.type is not ActionType.RDV:
            return
        site = self.store.site(action.site_id)
        if site is not None and site.relation_type is RelationType.SUSPECT:
            site.relation_type = RelationType.PROSPECT
            self.store.save_site(site)


def _distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> int:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * 6_371_000 * math.asin(math.sqrt(a)))


def _clean_contact_fields(fields: dict[str, object]) -> dict[str, object]:
    """Validate and normalize phones (international format) and email, trim names."""
    cleaned = dict(fields)
    for name in ("last_name", "first_name", "civility", "role"):
        value = cleaned.get(name)
        if isinstance(value, str):
            cleaned[name] = value.strip() or None
    for name in ("direct_phone", "mobile_phone"):
        value = cleaned.get(name)
        if isinstance(value, str) and value.strip():
            cleaned[name] = _normalize_phone(value, name)
        elif name in cleaned:
            cleaned[name] = None
    if "functions" in cleaned:
        functions = cleaned["functions"] or []
        assert isinstance(functions, list)
        cleaned["functions"] = [f.strip() for f in functions if f and f.strip()]
    email = cleaned.get("email")
    if isinstance(email, str) and email.strip():
        if not _EMAIL.match(email.strip()):
            raise ApiError(422, "invalid_data", "email is not a valid address")
        cleaned["email"] = email.strip()
    elif "email" in cleaned:
        cleaned["email"] = None
    return cleaned


def _normalize_phone(value: str, field_name: str) -> str:
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException as exc:
        raise ApiError(422, "invalid_data", f"{field_name} is not a phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise ApiError(422, "invalid_data", f"{field_name} is not a phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _fold(text: str | None) -> str:
    """Accent- and case-insensitive form used by the duplicate check."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return " ".join(ascii_text.casefold().split())


def _digits(phone: str | None) -> str:
    return re.sub(r"\D", "", phone or "")


def _find_duplicate(candidate: Contact, existing: list[Contact]) -> Contact | None:
    """The first of ``_find_duplicates``, or None."""
    found = _find_duplicates(candidate, existing)
    return found[0] if found else None


def _find_duplicates(candidate: Contact, existing: list[Contact]) -> list[Contact]:
    """Same name and first name, same phone or mobile, or same email, at the same client."""
    found: list[Contact] = []
    phones = {_digits(p) for p in (candidate.direct_phone, candidate.mobile_phone)} - {""}
    email = _fold(candidate.email)
    for other in existing:
        if not other.active:
            continue
        same_name = _fold(other.last_name) == _fold(candidate.last_name) and _fold(
            other.first_name
        ) == _fold(candidate.first_name)
        other_phones = {_digits(p) for p in (other.direct_phone, other.mobile_phone)} - {""}
        if same_name or phones & other_phones or (email and email == _fold(other.email)):
            found.append(other)
    return found
