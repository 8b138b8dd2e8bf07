"""Deterministic generation of the demo dataset, relative to a given day.

Dates are computed from `today` so the planning always looks current; the random generator is
seeded with a constant so two seeds of the same day are identical.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from integrations.artis.demo import seed_data as data
from integrations.artis.demo.files import tiny_pdf
from integrations.artis.demo.passwords import hash_password
from integrations.artis.demo.seed_data import DemoLogins
from integrations.artis.models import (
    Action,
    ActionStatus,
    ActionType,
    Affaire,
    AffaireAfterSalesStatus,
    AffaireSalesStatus,
    Attachment,
    Contact,
    FollowUp,
    FollowUpKind,
    OrgUnit,
    Quote,
    QuoteStatus,
    Report,
    Site,
    UOGroupType,
    User,
)

PARIS = ZoneInfo("Europe/Paris")


@dataclass
class UserRow:
    """A user as stored: the public profile plus what only the server knows."""

    user: User
    password_hash: str
    locked: bool


@dataclass
class AttachmentRow:
    """Attachment metadata with its bytes."""

    attachment: Attachment
    content: bytes


@dataclass
class SeedData:
    """Everything the store needs to (re)build the demo database."""

    day: date
    users: list[UserRow] = field(default_factory=list)
    units: list[OrgUnit] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    affaires: list[Affaire] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    attachments: list[AttachmentRow] = field(default_factory=list)


def paris_today() -> date:
    """The current day in Europe/Paris, which decides when the demo reseeds."""
    return datetime.now(PARIS).date()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A Paris wall-clock time on `day`."""
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def build_seed(today: date) -> SeedData:
    """Build the whole dataset for `today`."""
    return _SeedBuilder(today).build()


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _phone(prefix: str, number: int) -> str:
    """A number from an ARCEP fiction range, e.g. "+33 1 99 00 12 34"."""
    return f"{prefix} {number // 100:02d} {number % 100:02d}"


class _SeedBuilder:
    def __init__(self, today: date) -> None:
        self.today = today
        self.rng = random.Random(42)
        self.seed = SeedData(day=today)
        self.sites_by_index: dict[int, Site] = {}
        self.contacts_by_site: dict[str, list[Contact]] = {}
        self.affaires_by_rep: dict[str, list[Affaire]] = {}
        self.unit_by_login: dict[str, str] = {}
        self.action_seq = 0
        self.created_at = at(today - timedelta(days=30), 8, 30)

    def build(self) -> SeedData:
        self._units_and_users()
        self._sites_and_contacts()
        self._affaires()
        self._quotes()
        for login, indexes in data.PORTFOLIOS.items():
            self._actions_for(login, indexes)
        self._done_without_report(DemoLogins.COMMERCIAL)
        self._attachments()
        self._status_days()
        # Last, and without random draws: everything above stays as it was before the sub-unit.
        self._sub_unit_rep(DemoLogins.LMERCIER, data.SUB_UNIT_SITES)
        return self.seed

    # -- people -------------------------------------------------------------

    def _units_and_users(self) -> None:
        for unit in data.UNITS:
            self.seed.units.append(
                OrgUnit(
                    code=unit.code,
                    name=unit.name,
                    group_type=unit.group_type,
                    activity=unit.activity,
                    head_login=unit.head_login,
                    member_logins=list(unit.member_logins),
                    parent_code=unit.parent_code,
                )
            )
            if unit.group_type is UOGroupType.COMMERCE:
                for login in unit.member_logins:
                    self.unit_by_login.setdefault(login, unit.code)
        for number, person in enumerate(data.PEOPLE, start=1):
            first = _slug(person.first_name).replace("-", "")
            email = f"{first}.{_slug(person.last_name)}@{data.USER_EMAIL_DOMAIN}"
            if person.login == DemoLogins.SERVICE:
                email = f"bot@{data.USER_EMAIL_DOMAIN}"
            user = User(
                id=f"COL-{number:04d}",
                login=person.login,
                civility=person.civility or None,
                last_name=person.last_name,
                first_name=person.first_name,
                job_title=person.job_title,
                email=email,
                mobile_phone=_phone("+33 6 39 98", 1000 + number * 17) if person.missions else None,
                missions=list(person.missions),
                licences=list(person.licences),
                sso=person.sso,
            )
            self.seed.users.append(
                UserRow(user, hash_password(data.DEMO_PASSWORD, salt=f"s{number}"), person.locked)
            )

    # -- clients ------------------------------------------------------------

    def _sites_and_contacts(self) -> None:
        contact_no = 0
        for index, seed in enumerate(data.SITES):
            number = index + 1
            in_lyon = seed.postal_code.startswith("69")
            fixed = "+33 4 65 71" if in_lyon else "+33 1 99 00"
            domain = f"{_slug(seed.company)}.example"
            site = Site(
                id=f"SIT-{number:04d}",
                code=f"C{number:05d}-01",
                third_party_code=f"C{number:05d}",
                company_name=seed.company,
                name=f"{seed.company} - {seed.city}",
                relation_type=seed.relation,
                address_lines=[seed.address],
                postal_code=seed.postal_code,
                city=seed.city,
                phone=_phone(fixed, 100 * number + 10),
                email=f"contact@{domain}",
                latitude=seed.latitude,
                longitude=seed.longitude,
                opening_hours="Lun-Ven 9h00-12h30, 14h00-18h00",
            )
            self.sites_by_index[index] = site
            self.seed.sites.append(site)
            functions = (
                data.TOWN_HALL_FUNCTIONS
                if seed.company.startswith("Mairie")
                else data.COMPANY_FUNCTIONS
            )
            contacts: list[Contact] = []
            for slot in range(self.rng.randint(1, 3)):
                contact_no += 1
                civility, first = self.rng.choice(data.CONTACT_FIRST_NAMES)
                last = data.CONTACT_LAST_NAMES[(contact_no * 7) % len(data.CONTACT_LAST_NAMES)]
                contact = Contact(
                    id=f"CTC-{contact_no:04d}",
                    site_ids=[site.id],
                    third_party_code=site.third_party_code,
                    civility=civility,
                    last_name=last,
                    first_name=first,
                    functions=[functions[(index + slot) % len(functions)]],
                    email=f"{_slug(first)}.{_slug(last)}@{domain}",
                    direct_phone=_phone(fixed, 100 * number + 20 + slot),
                    mobile_phone=_phone("+33 6 39 98", 3000 + contact_no * 13),
                )
                contacts.append(contact)
            self.contacts_by_site[site.id] = contacts
            self.seed.contacts.extend(contacts)

    def _affaires(self) -> None:
        statuses = (
            AffaireSalesStatus.QUALIFIEE,
            AffaireSalesStatus.PROPOSITION,
            AffaireSalesStatus.NEGOCIATION,
            AffaireSalesStatus.DETECTEE,
            AffaireSalesStatus.GAGNEE,
            AffaireSalesStatus.PERDUE,
        )
        number = 0
        for login, indexes in data.PORTFOLIOS.items():
            # Every other site of a portfolio has an open case, which some actions link to.
            for position, index in enumerate(indexes[::2]):
                number += 1
                site = self.sites_by_index[index]
                status = statuses[(number + position) % len(statuses)]
                amount = float(self.rng.randrange(36, 960) * 100)
                after_sales = (
                    AffaireAfterSalesStatus.EN_COURS
                    if status is AffaireSalesStatus.GAGNEE
                    else AffaireAfterSalesStatus.AVANT_VENTE
                )
                affaire = Affaire(
                    id=f"AFF-{number:04d}",
                    number=f"{self.today.year % 100:02d}{number:04d}",
                    label=self.rng.choice(data.AFFAIRE_LABELS),
                    third_party_code=site.third_party_code,
                    client_name=site.company_name,
                    sales_status=status,
                    after_sales_status=after_sales,
                    commercial_revenue=amount,
                    margin=round(amount * self.rng.uniform(0.18, 0.35), 2),
                    probability_pct=self._probability(status),
                    expected_close_date=self.today + timedelta(days=self.rng.randint(-10, 75)),
                    main_sales_rep_login=login,
                    date=self.today - timedelta(days=self.rng.randint(20, 120)),
                    internal_org=data.INTERNAL_ORG,
                    affaire_type="Vente" if position % 2 == 0 else "Location",
                )
                self.affaires_by_rep.setdefault(login, []).append(affaire)
                self.seed.affaires.append(affaire)

    def _quotes(self) -> None:
        """One or two quotes per affaire, from its amount (no random draw: the rest of the
        seed stays as it was)."""
        by_status = {
            AffaireSalesStatus.GAGNEE: QuoteStatus.ACCEPTE,
            AffaireSalesStatus.PERDUE: QuoteStatus.REFUSE,
            AffaireSalesStatus.DETECTEE: QuoteStatus.EN_COURS,
        }
        for number, affaire in enumerate(self.seed.affaires, start=1):
            base = affaire.commercial_revenue or 1000.0
            latest = by_status.get(affaire.sales_status, QuoteStatus.ENVOYE)
            versions = 2 if number % 2 else 1
            quotes = []
            for version in range(versions, 0, -1):
                quotes.append(
                    Quote(
                        id=f"DEV-{number:04d}-{version}",
                        number=f"D{affaire.number}",
                        version=version,
                        name=affaire.label,
                        created_on=affaire.date + timedelta(days=7 * version),
                        amount=round(base * (1 + 0.06 * (versions - version)), 2),
                        status=latest if version == versions else QuoteStatus.INVALIDE,
                    )
                )
            affaire.quotes = quotes

    @staticmethod
    def _probability(status: AffaireSalesStatus) -> int:
        return {
            AffaireSalesStatus.DETECTEE: 10,
            AffaireSalesStatus.QUALIFIEE: 30,
            AffaireSalesStatus.PROPOSITION: 50,
            AffaireSalesStatus.NEGOCIATION: 70,
            AffaireSalesStatus.GAGNEE: 100,
        }.get(status, 0)

    # -- planning -----------------------------------------------------------

    def _actions_for(self, login: str, indexes: tuple[int, ...]) -> None:
        """Two weeks of planning around today plus a few overdue actions of last week."""
        monday = self.today - timedelta(days=self.today.weekday())
        busy = login == DemoLogins.COMMERCIAL
        for offset in range(-7, 14):
            day = monday + timedelta(days=offset)
            if day == self.today and busy:
                self._today_of_main_rep(login, indexes)
                continue
            if day.weekday() >= 5 or offset < -4:
                continue
            count = self.rng.randint(2, 4) if busy else self.rng.randint(0, 2)
            # Last Thursday's first calls of the demo rep are left undone: always some overdue.
            overdue = 2 if busy and offset == -4 else 0
            hours = sorted(
                self.rng.sample([(9, 0), (10, 30), (11, 30), (14, 0), (15, 30), (17, 0)], count)
            )
            for hour, minute in hours:
                kind = self.rng.choices(
                    [ActionType.RDV, ActionType.APPEL, ActionType.EMAIL, ActionType.RELANCE],
                    weights=[4, 3, 2, 1],
                )[0]
                self._add_action(
                    login, indexes, kind, at(day, hour, minute), force_todo=overdue > 0
                )
                overdue -= 1

    def _today_of_main_rep(self, login: str, indexes: tuple[int, ...]) -> None:
        """The demo rep always has a full day, whatever the weekday."""
        slots = [
            (ActionType.RDV, 9, 30),
            (ActionType.APPEL, 11, 30),
            (ActionType.RDV, 14, 30),
            (ActionType.EMAIL, 16, 30),
            (ActionType.RELANCE, 17, 30),
        ]
        for position, (kind, hour, minute) in enumerate(slots):
            self._add_action(
                login,
                indexes,
                kind,
                at(self.today, hour, minute),
                force_affaire=position == 0,
                force_todo=True,
            )

    def _add_action(
        self,
        login: str,
        indexes: tuple[int, ...],
        kind: ActionType,
        start: datetime,
        *,
        force_affaire: bool = False,
        force_todo: bool = False,
    ) -> Action:
        self.action_seq += 1
        site = self.sites_by_index[indexes[self.action_seq % len(indexes)]]
        if force_affaire:
            site = self.sites_by_index[indexes[0]]
        contacts = self.contacts_by_site[site.id]
        picked = contacts[: 2 if kind is ActionType.RDV else 1]
        affaire = next(
            (
                a
                for a in self.affaires_by_rep.get(login, [])
                if a.third_party_code == site.third_party_code
            ),
            None,
        )
        if affaire is not None and not force_affaire and self.rng.random() < 0.4:
            affaire = None
        duration = timedelta(hours=1) if kind is ActionType.RDV else timedelta(minutes=15)
        action = Action(
            id=f"ACT-{self.action_seq:05d}",
            type=kind,
            subject=self.rng.choice(data.SUBJECTS[kind.value]),
            detail=self.rng.choice(data.DETAILS[kind.value]),
            status=ActionStatus.A_REALISER,
            created_at=self.created_at,
            planned_start=start,
            planned_end=start + duration,
            issuer_login=login,
            assignee_login=login,
            org_unit_code=self.unit_by_login.get(login),
            site_id=site.id,
            third_party_code=site.third_party_code,
            company_name=site.company_name,
            contact_ids=[c.id for c in picked],
            affaire_id=affaire.id if affaire else None,
        )
        if start.date() < self.today and not force_todo:
            self._settle_past(action)
        self.seed.actions.append(action)
        return action

    def _settle_past(self, action: Action) -> None:
        """Most past actions are done with a report; some stay overdue, a few are cancelled."""
        roll = self.rng.random()
        if roll < 0.2:
            return  # overdue: still A_REALISER in the past
        if roll < 0.27:
            action.status = ActionStatus.ANNULEE
            return
        executed = action.planned_start + timedelta(minutes=self.rng.randint(0, 25))
        action.status = ActionStatus.REALISEE
        action.executed_at = executed
        action.report = Report(
            text=self.rng.choice(data.REPORTS),
            executed_at=executed,
            executed_by_login=action.assignee_login,
            created_at=executed + timedelta(minutes=self.rng.randint(5, 90)),
            source="artis",
        )
        action.follow_up = FollowUp(kind=FollowUpKind.AUCUNE)

    def _done_without_report(self, login: str, count: int = 2) -> None:
        """The rep's latest done actions before today were ticked done in artis.net with no
        compte rendu yet: the home screen always has some to show."""
        done = sorted(
            (
                a
                for a in self.seed.actions
                if a.assignee_login == login
                and a.status is ActionStatus.REALISEE
                and a.planned_start.date() < self.today
            ),
            key=lambda a: a.planned_start,
        )
        for action in done[-count:]:
            action.report = None
            action.follow_up = None

    def _status_days(self) -> None:
        """Closed affaires changed status two weeks ago; the first won one, today (so a team
        always has an affaire won this week)."""
        closed = (AffaireSalesStatus.GAGNEE, AffaireSalesStatus.PERDUE)
        first_won = True
        for affaire in self.seed.affaires:
            if affaire.sales_status in closed:
                won_today = first_won and affaire.sales_status is AffaireSalesStatus.GAGNEE
                affaire.status_changed_on = (
                    self.today if won_today else self.today - timedelta(days=14)
                )
                first_won = first_won and not won_today
            else:
                affaire.status_changed_on = affaire.date

    def _sub_unit_rep(self, login: str, indexes: tuple[int, ...]) -> None:
        """A fixed week for the sub-unit's rep: a done RDV with its report every weekday
        before the previous one; on the previous weekday a reported RDV, an RDV done without
        a report and an overdue call; today an RDV (with an open affaire) and a call; an
        affaire won today."""
        sites = [self.sites_by_index[i] for i in indexes]
        number = len(self.seed.affaires)
        open_case, won = (
            Affaire(
                id=f"AFF-{number + n:04d}",
                number=f"{self.today.year % 100:02d}{number + n:04d}",
                label=data.AFFAIRE_LABELS[n],
                third_party_code=sites[n - 1].third_party_code,
                client_name=sites[n - 1].company_name,
                sales_status=status,
                after_sales_status=after,
                commercial_revenue=amount,
                margin=round(amount * 0.25, 2),
                probability_pct=probability,
                expected_close_date=self.today + timedelta(days=30),
                main_sales_rep_login=login,
                date=self.today - timedelta(days=40),
                internal_org=data.INTERNAL_ORG,
                affaire_type="Vente",
                status_changed_on=self.today - timedelta(days=40) if n == 1 else self.today,
            )
            for n, status, after, amount, probability in (
                (1, AffaireSalesStatus.PROPOSITION, AffaireAfterSalesStatus.AVANT_VENTE,
                 12_400.0, 50),
                (2, AffaireSalesStatus.GAGNEE, AffaireAfterSalesStatus.EN_COURS, 8_900.0, 100),
            )
        )
        self.seed.affaires += [open_case, won]
        previous = self.today - timedelta(days=1)
        while previous.weekday() >= 5:
            previous -= timedelta(days=1)
        monday = self.today - timedelta(days=self.today.weekday())
        plan: list[tuple[date, int, ActionType, int, str]] = []  # day, hour, type, site, state
        day = min(monday, previous)
        while day < previous:
            if day.weekday() < 5:
                plan.append((day, 10, ActionType.RDV, 2, "reported"))
            day += timedelta(days=1)
        plan += [
            (previous, 9, ActionType.RDV, 0, "reported"),
            (previous, 14, ActionType.RDV, 1, "done"),
            (previous, 16, ActionType.APPEL, 2, "todo"),
            (self.today, 10, ActionType.RDV, 0, "todo"),
            (self.today, 15, ActionType.APPEL, 1, "todo"),
        ]
        for day, hour, kind, site_no, state in plan:
            site = sites[site_no]
            self.action_seq += 1
            start = at(day, hour)
            duration = timedelta(hours=1) if kind is ActionType.RDV else timedelta(minutes=15)
            action = Action(
                id=f"ACT-{self.action_seq:05d}",
                type=kind,
                subject=data.SUBJECTS[kind.value][0],
                detail=data.DETAILS[kind.value][0],
                status=ActionStatus.A_REALISER if state == "todo" else ActionStatus.REALISEE,
                created_at=self.created_at,
                planned_start=start,
                planned_end=start + duration,
                issuer_login=login,
                assignee_login=login,
                org_unit_code=self.unit_by_login.get(login),
                site_id=site.id,
                third_party_code=site.third_party_code,
                company_name=site.company_name,
                contact_ids=[c.id for c in self.contacts_by_site[site.id][:1]],
                affaire_id=open_case.id if site_no == 0 else None,
            )
            if state != "todo":
                action.executed_at = start
            if state == "reported":
                action.report = Report(
                    text=data.REPORTS[0], executed_at=start, executed_by_login=login,
                    created_at=start + timedelta(hours=1), source="artis",
                )
                action.follow_up = FollowUp(kind=FollowUpKind.AUCUNE)
            self.seed.actions.append(action)

    # -- files ----------------------------------------------------------------

    def _attachments(self) -> None:
        """Files around the demo rep's first appointment of today, two of them ERP-only."""
        first_rdv = next(
            a
            for a in self.seed.actions
            if a.assignee_login == DemoLogins.COMMERCIAL and a.planned_start.date() == self.today
        )
        files = [
            (
                "affaire",
                first_rdv.affaire_id,
                "Proposition_commerciale.pdf",
                True,
                "Proposition commerciale en cours de négociation",
            ),
            (
                "affaire",
                first_rdv.affaire_id,
                "Analyse_marge_confidentielle.pdf",
                False,
                "Calcul de marge interne (réservé ADV)",
            ),
            ("site", first_rdv.site_id, "Plan_acces.pdf", True, "Plan d'accès et parking"),
            ("action", first_rdv.id, "Ordre_du_jour.txt", True, "Ordre du jour du rendez-vous"),
            ("action", first_rdv.id, "Note_interne_ADV.txt", False, "Note interne ADV"),
        ]
        for other in ("SIT-0029", "SIT-0013"):
            files.append(("site", other, "Fiche_parc_installe.pdf", True, "Parc installé"))
        for number, (owner_type, owner_id, name, crm, description) in enumerate(files, start=1):
            assert owner_id is not None
            is_pdf = name.endswith(".pdf")
            content = (
                tiny_pdf(f"{description} - {data.INTERNAL_ORG}")
                if is_pdf
                else f"{description}\n\n1. Présentations\n2. Besoins\n3. Suite\n".encode()
            )
            attachment = Attachment(
                id=f"PJ-{number:04d}",
                owner_type=owner_type,
                owner_id=owner_id,
                file_name=name,
                file_type="pdf" if is_pdf else "text",
                media_type="application/pdf" if is_pdf else "text/plain; charset=utf-8",
                size_bytes=len(content),
                description=description,
                accessible_crm=crm,
                author="Laurent Girard",
                created_at=self.created_at,
            )
            self.seed.attachments.append(AttachmentRow(attachment, content))
