"""Visibility rules of the demo server, mirroring artis.net's CRM rules.

A rep sees their own actions; the head of a Commerce unit also sees its members' actions and
those of its sub-units' members; the service account (WS_REST) reads the planning of every
member of a Commerce unit, for the managers' digests and the reps' reminders.
Sites, contacts, affaires and attachments are visible only when reachable from a visible action
(or, for affaires, when the caller or a managed rep is the main sales rep). Anything else is
answered as "not found" so the API never reveals that another rep's data exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from integrations.artis.demo.store import DemoStore
from integrations.artis.models import Action, Attachment, LicenceType, OrgUnit, User


@dataclass
class Caller:
    """The authenticated user of a request and the logins whose planning they may read."""

    user: User
    visible_logins: frozenset[str] = field(default_factory=frozenset)

    @property
    def login(self) -> str:
        """Login of the caller."""
        return self.user.login

    @property
    def is_service(self) -> bool:
        """Holders of the API licence act as the bot's service account."""
        return LicenceType.WS_REST in self.user.licences


def sub_units(units: list[OrgUnit], code: str) -> list[OrgUnit]:
    """Every unit below `code` (children, then their children...), parents first."""
    found: list[OrgUnit] = []
    parents = [code]
    while parents:
        children = [u for u in units if u.parent_code in parents and u not in found]
        found += children
        parents = [u.code for u in children]
    return found


def headed_units(units: list[OrgUnit], login: str) -> list[OrgUnit]:
    """The units `login` heads, with every unit below them."""
    found: list[OrgUnit] = []
    for unit in units:
        if unit.head_login == login:
            for one in (unit, *sub_units(units, unit.code)):
                if one not in found:
                    found.append(one)
    return found


def caller_for(store: DemoStore, login: str) -> Caller | None:
    """Resolve the caller and the set of reps whose planning they may read."""
    user = store.user(login)
    if user is None or not user.active:
        return None
    logins = {login}
    units = store.org_units()
    if LicenceType.WS_REST in user.licences:
        reachable = [u for u in units if u.is_commerce]
    else:
        reachable = [u for u in headed_units(units, login) if u.is_commerce]
    for unit in reachable:
        logins.update(unit.member_logins)
    return Caller(user=user, visible_logins=frozenset(logins))


class Visibility:
    """Per-request reachability checks for one caller."""

    def __init__(self, store: DemoStore, caller: Caller) -> None:
        self.store = store
        self.caller = caller
        self._actions: list[Action] | None = None

    def actions(self) -> list[Action]:
        """Every action the caller may read (computed once per request)."""
        if self._actions is None:
            self._actions = self.store.actions(self.caller.visible_logins)
        return self._actions

    def can_see_action(self, action: Action) -> bool:
        """Own action, or one of a member of a Commerce unit the caller heads."""
        return action.assignee_login in self.caller.visible_logins

    def site_ids(self) -> set[str]:
        """Sites reachable from visible actions."""
        return {a.site_id for a in self.actions()}

    def can_see_site(self, site_id: str) -> bool:
        """Site of one of the visible actions."""
        return site_id in self.site_ids()

    def can_see_contact_sites(self, site_ids: list[str]) -> bool:
        """A contact is visible when one of its sites is."""
        return bool(self.site_ids().intersection(site_ids))

    def affaire_ids(self) -> set[str]:
        """Affaires linked to visible actions or led by a visible rep."""
        linked = {a.affaire_id for a in self.actions() if a.affaire_id}
        led = {a.id for a in self.store.affaires_of_reps(self.caller.visible_logins)}
        return linked | led

    def can_see_attachment(self, attachment: Attachment) -> bool:
        """CRM-accessible file hanging off something the caller can see."""
        if not attachment.accessible_crm:
            return False
        owner = attachment.owner_id
        if attachment.owner_type == "action":
            return any(a.id == owner for a in self.actions())
        if attachment.owner_type == "site":
            return self.can_see_site(owner)
        if attachment.owner_type == "affaire":
            return owner in self.affaire_ids()
        return False
