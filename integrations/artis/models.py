"""Pydantic models of the artis.net CRM domain, shared by the client, the demo server and the bot.

Field names follow the domain brief (English snake_case, French vocabulary in the enum values).
Every datetime on the wire is timezone-aware ISO-8601, so the bot never guesses a rep's zone.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

DEFAULT_TIMEZONE = "Europe/Paris"


class LicenceType(StrEnum):
    """Licence types attributed to an artis.net access account (Administration > Licences)."""

    POSTE_TRAVAIL = "POSTE_TRAVAIL"
    CRM = "CRM"
    BM = "BM"
    PDA = "PDA"  # the "Smartphone" licence the mobile CRM app requires
    PDA_SIGN = "PDA_SIGN"
    WS_REST = "WS_REST"  # API access, held by the bot's service account
    INDICATEUR = "INDICATEUR"


class Mission(StrEnum):
    """Missions of a collaborateur; COMMERCIAL is a prerequisite of the CRM app."""

    COMMERCIAL = "COMMERCIAL"
    GESTIONNAIRE = "GESTIONNAIRE"
    TECHNICIEN = "TECHNICIEN"


class UOGroupType(StrEnum):
    """Group type of an organisational unit; only "Commerce" units count for the CRM."""

    COMMERCE = "Commerce"
    ACTIVITE_METIER = "Activité / Métier"
    SERVICE = "Service"


class RelationType(StrEnum):
    """How a third party works with the internal organisation."""

    SUSPECT = "SUSPECT"
    PROSPECT = "PROSPECT"
    CLIENT = "CLIENT"
    ANCIEN_CLIENT = "ANCIEN_CLIENT"
    HORS_CIBLE = "HORS_CIBLE"


class ActionType(StrEnum):
    """Kinds of sales actions (codes assumed, the real list is a configurable label table)."""

    RDV = "RDV"
    APPEL = "APPEL"
    EMAIL = "EMAIL"
    COURRIER = "COURRIER"
    RELANCE = "RELANCE"
    AUTRE = "AUTRE"


class ActionStatus(StrEnum):
    """Action status; "overdue" is derived, see `Action.is_overdue`."""

    A_REALISER = "A_REALISER"
    REALISEE = "REALISEE"
    ANNULEE = "ANNULEE"


class FollowUpKind(StrEnum):
    """The "suite à donner" chosen when closing an action."""

    AUCUNE = "AUCUNE"
    NOUVELLE_ACTION = "NOUVELLE_ACTION"
    NOUVELLE_AFFAIRE = "NOUVELLE_AFFAIRE"


class AffaireSalesStatus(StrEnum):
    """Pre-sales (commercial) status of an affaire; the last three are final."""

    DETECTEE = "DETECTEE"
    QUALIFIEE = "QUALIFIEE"
    PROPOSITION = "PROPOSITION"
    NEGOCIATION = "NEGOCIATION"
    REFUSEE = "REFUSEE"
    GAGNEE = "GAGNEE"
    PERDUE = "PERDUE"
    ANNULEE = "ANNULEE"


class AffaireAfterSalesStatus(StrEnum):
    """After-sales (sales administration) status of an affaire."""

    AVANT_VENTE = "AVANT_VENTE"
    A_VERIFIER = "A_VERIFIER"
    EN_COURS = "EN_COURS"
    LIVREE = "LIVREE"
    FACTUREE = "FACTUREE"
    CLOTUREE = "CLOTUREE"


class ArtisModel(BaseModel):
    """Base model: tolerate unknown fields so a newer server does not break an older bot."""

    # defer_build: each model builds its validator at first use, not at import (cold start).
    model_config = ConfigDict(extra="ignore", defer_build=True)


class OrgUnit(ArtisModel):
    """Unité organisationnelle (team, service); its head sees the members' actions."""

    code: str
    name: str
    group_type: UOGroupType
    activity: str | None = None
    parent_code: str | None = None
    head_login: str | None = None
    member_logins: list[str] = Field(default_factory=list)

    @property
    def is_commerce(self) -> bool:
        """True when the CRM takes this unit into account."""
        return self.group_type is UOGroupType.COMMERCE


class User(ArtisModel):
    """Collaborateur plus access account: what the bot checks before pairing a rep."""

    id: str
    login: str
    civility: str | None = None
    last_name: str
    first_name: str | None = None
    job_title: str | None = None
    email: str | None = None
    mobile_phone: str | None = None
    missions: list[Mission] = Field(default_factory=list)
    licences: list[LicenceType] = Field(default_factory=list)
    org_units: list[OrgUnit] = Field(default_factory=list)
    heads_org_units: list[str] = Field(default_factory=list)
    sso: bool = False
    active: bool = True
    timezone: str = DEFAULT_TIMEZONE

    @property
    def display_name(self) -> str:
        """Full name as "Prénom Nom", the way reps are greeted."""
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class Site(ArtisModel):
    """An establishment of a third party; actions and contacts hang off a site."""

    id: str
    code: str | None = None
    third_party_code: str
    company_name: str
    name: str | None = None
    is_main_site: bool = True
    relation_type: RelationType = RelationType.CLIENT
    address_lines: list[str] = Field(default_factory=list)
    postal_code: str
    city: str
    country: str = "FR"
    phone: str | None = None
    email: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    opening_hours: str | None = None
    active: bool = True

    @property
    def full_address(self) -> str:
        """One-line postal address, handy for maps links and messages."""
        return ", ".join([*self.address_lines, f"{self.postal_code} {self.city}"])


class Contact(ArtisModel):
    """Interlocuteur at a client site."""

    id: str
    site_ids: list[str] = Field(default_factory=list)
    third_party_code: str
    civility: str | None = None
    last_name: str
    first_name: str | None = None
    functions: list[str] = Field(default_factory=list)
    role: str | None = None
    email: str | None = None
    direct_phone: str | None = None
    mobile_phone: str | None = None
    active: bool = True

    @property
    def display_name(self) -> str:
        """Full name as "Prénom Nom"."""
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class Attachment(ArtisModel):
    """Metadata of a GED file; CRM users only ever see files flagged accessible_crm."""

    id: str
    owner_type: str
    owner_id: str
    file_name: str
    file_type: str
    media_type: str
    size_bytes: int
    description: str | None = None
    accessible_crm: bool = True
    author: str | None = None
    created_at: AwareDatetime


class QuoteStatus(StrEnum):
    """State of a quote (devis); labels assumed."""

    EN_COURS = "EN_COURS"
    ENVOYE = "ENVOYE"
    ACCEPTE = "ACCEPTE"
    REFUSE = "REFUSE"
    INVALIDE = "INVALIDE"


class Quote(ArtisModel):
    """A quote (devis) of an affaire."""

    id: str
    number: str
    version: int = Field(ge=1)
    name: str | None = None
    created_on: date
    amount: float
    status: QuoteStatus


class AffaireSummary(ArtisModel):
    """What an action shows about its linked affaire."""

    id: str
    number: str
    label: str
    third_party_code: str
    client_name: str
    sales_status: AffaireSalesStatus
    after_sales_status: AffaireAfterSalesStatus = AffaireAfterSalesStatus.AVANT_VENTE
    commercial_revenue: float | None = None
    expected_close_date: date | None = None
    main_sales_rep_login: str | None = None
    # Day of the last sales-status change: for a GAGNEE affaire, the day it was won.
    status_changed_on: date | None = None


class Affaire(AffaireSummary):
    """Full affaire (opportunity) record."""

    date: date
    internal_org: str
    margin: float | None = None
    probability_pct: int | None = None
    affaire_type: str | None = None
    comment: str | None = None
    quotes: list[Quote] = Field(default_factory=list)


class Report(ArtisModel):
    """Compte rendu of a done action."""

    text: str
    executed_at: AwareDatetime
    executed_by_login: str
    created_at: AwareDatetime
    source: str = "telegram"


class FollowUp(ArtisModel):
    """Suite à donner as recorded on the closed action, with what it created."""

    kind: FollowUpKind
    action_type: ActionType | None = None
    planned_start: AwareDatetime | None = None
    subject: str | None = None
    created_action_id: str | None = None
    created_affaire_id: str | None = None


class Action(ArtisModel):
    """A sales action (RDV, call, email...) of a rep's planning."""

    id: str
    type: ActionType
    subject: str
    detail: str | None = None
    status: ActionStatus
    created_at: AwareDatetime
    planned_start: AwareDatetime
    planned_end: AwareDatetime | None = None
    executed_at: AwareDatetime | None = None
    issuer_login: str | None = None
    assignee_login: str
    org_unit_code: str | None = None
    site_id: str
    third_party_code: str
    company_name: str
    contact_ids: list[str] = Field(default_factory=list)
    affaire_id: str | None = None
    report: Report | None = None
    follow_up: FollowUp | None = None

    def is_overdue(self, now: datetime) -> bool:
        """Still to do although its planned start has passed ("en retard")."""
        return self.status is ActionStatus.A_REALISER and self.planned_start < now


class ActionDetail(ArtisModel):
    """Everything the bot shows when a rep opens an action, in one round trip."""

    action: Action
    site: Site
    contacts: list[Contact] = Field(default_factory=list)
    attachments: list[Attachment] = Field(default_factory=list)
    affaire: AffaireSummary | None = None


class NearbyAction(ArtisModel):
    """One of the rep's open actions near a point, with its site and the distance to it."""

    action: Action
    site: Site
    distance_m: int = Field(ge=0)


class ContactCreate(ArtisModel):
    """New contact at a site; the server runs the duplicate check."""

    site_id: str
    civility: str | None = None
    last_name: str = Field(min_length=1)
    first_name: str | None = None
    functions: list[str] = Field(default_factory=list)
    role: str | None = None
    email: str | None = None
    direct_phone: str | None = None
    mobile_phone: str | None = None
    allow_duplicate: bool = False  # the rep saw the likely duplicates and chose to create


class ContactPatch(ArtisModel):
    """Partial contact update: only the fields explicitly set are sent."""

    civility: str | None = None
    last_name: str | None = Field(default=None, min_length=1)
    first_name: str | None = None
    functions: list[str] | None = None
    role: str | None = None
    email: str | None = None
    direct_phone: str | None = None
    mobile_phone: str | None = None


class FollowUpIn(ArtisModel):
    """Follow-up requested with a report; a new action needs a planned start."""

    kind: FollowUpKind
    planned_start: AwareDatetime | None = None
    subject: str | None = None
    action_type: ActionType | None = None

    @model_validator(mode="after")
    def _new_action_needs_date(self) -> FollowUpIn:
        if self.kind is FollowUpKind.NOUVELLE_ACTION and self.planned_start is None:
            raise ValueError("a NOUVELLE_ACTION follow-up needs planned_start")
        return self


class ReportIn(ArtisModel):
    """Compte rendu typed by the rep; executed_at defaults to the server's now."""

    text: str = Field(min_length=1)
    executed_at: AwareDatetime | None = None
    follow_up: FollowUpIn | None = None
    source: str = "telegram"


class LoginRequest(ArtisModel):
    """Credentials for POST /auth/login."""

    login: str = Field(min_length=1)
    password: str


class SsoExchangeRequest(ArtisModel):
    """A one-time SSO ticket for POST /auth/sso/exchange (assumed protocol, see openapi.yaml)."""

    ticket: str = Field(min_length=1, max_length=512)


class LoginResult(ArtisModel):
    """A user session: the bot keeps the token, never the password."""

    token: str
    expires_at: AwareDatetime
    user: User


class ErrorBody(ArtisModel):
    """JSON error envelope of every non-2xx answer."""

    error: str
    message: str = ""
    existing_id: str | None = None
