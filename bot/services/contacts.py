"""Editing a contact from an action, one field at a time, confirmed before artis.net.

The rep picks a field, types the new value (checked here: phones parsed with
``phonenumbers``, French by default, and written in international format; emails checked),
sees old → new, and only then is artis.net written. The proposed change is a draft (its own
key per chat and contact, ``bot/services/drafts.py``): it survives the rep opening another
screen and a restart. No Telegram type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import phonenumbers
from pydantic import BaseModel

from bot import steps
from bot.services.drafts import Drafts, DraftSlot
from bot.services.planning import Card, NotYours, PlanningService, Rep
from bot.services.sessions import ChatSession, SessionRepo
from integrations.artis.client import ArtisClient
from integrations.artis.errors import AccessDenied, Conflict, InvalidData, NotFound
from integrations.artis.models import Contact, ContactCreate, ContactPatch

MAX_LENGTH = 80
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CLEAR = "-"  # typed alone: empty an optional field


class Field(StrEnum):
    CIVILITY = "civ"
    FIRST_NAME = "first"
    LAST_NAME = "last"
    FUNCTIONS = "fn"
    DIRECT_PHONE = "dir"
    MOBILE_PHONE = "mob"
    EMAIL = "mail"


_ATTRIBUTE = {Field.CIVILITY: "civility", Field.FIRST_NAME: "first_name",
              Field.LAST_NAME: "last_name", Field.FUNCTIONS: "functions",
              Field.DIRECT_PHONE: "direct_phone", Field.MOBILE_PHONE: "mobile_phone",
              Field.EMAIL: "email"}


def shown(contact: Contact, field: Field) -> str | None:
    """The field as the rep reads it (functions joined)."""
    value: Any = getattr(contact, _ATTRIBUTE[field])
    if isinstance(value, list):
        return ", ".join(value) or None
    return value or None


class ContactDraft(BaseModel):
    """A proposed change of one field, waiting for the rep's ✅."""

    action_id: str
    contact_id: str
    field: Field
    old: str | None
    new: str | None
    back: str  # the packed button of the edit menu, to come back to the same place


CONTACT_EDIT = DraftSlot("contact", ContactDraft)


class Problem(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    EMPTY = "empty"
    TOO_LONG = "long"


@dataclass(frozen=True)
class Found:
    card: Card
    contact: Contact


@dataclass(frozen=True)
class Invalid:
    field: Field
    problem: Problem


@dataclass(frozen=True)
class Proposed:
    draft: ContactDraft
    contact_name: str


@dataclass(frozen=True)
class Saved:
    contact: Contact
    draft: ContactDraft


@dataclass(frozen=True)
class Refused:
    """artis.net refused the value (its own checks): the rep may try another."""

    draft: ContactDraft
    message: str


@dataclass(frozen=True)
class NoDraft:
    """Nothing to confirm any more (already saved or cancelled)."""


#: The questions for a new contact, in order (only the last name is required).
NEW_ORDER = (Field.LAST_NAME, Field.FIRST_NAME, Field.FUNCTIONS, Field.MOBILE_PHONE,
             Field.EMAIL)


class NewContactDraft(BaseModel):
    """A contact being created on an action's site, answer by answer."""

    action_id: str
    site_id: str
    company: str
    back: str  # the packed button of the action card
    values: dict[Field, str | None] = {}

    @property
    def asking(self) -> Field | None:
        return next((f for f in NEW_ORDER if f not in self.values), None)

    @property
    def name(self) -> str:
        return " ".join(v for v in (self.values.get(Field.FIRST_NAME),
                                    self.values.get(Field.LAST_NAME)) if v)

    def to_create(self, *, allow_duplicate: bool) -> ContactCreate:
        functions = self.values.get(Field.FUNCTIONS) or ""
        return ContactCreate(
            site_id=self.site_id, last_name=self.values.get(Field.LAST_NAME) or "?",
            first_name=self.values.get(Field.FIRST_NAME),
            functions=[part.strip() for part in functions.split(",") if part.strip()],
            mobile_phone=self.values.get(Field.MOBILE_PHONE),
            email=self.values.get(Field.EMAIL), allow_duplicate=allow_duplicate)


NEW_CONTACT = DraftSlot("contact-new", NewContactDraft)


@dataclass(frozen=True)
class Asking:
    """The next question of a new contact."""

    draft: NewContactDraft
    field: Field


@dataclass(frozen=True)
class Review:
    """Every answer given: the new contact and its likely duplicates, for the rep to choose."""

    draft: NewContactDraft
    duplicates: list[Contact]


@dataclass(frozen=True)
class Created:
    contact: Contact
    draft: NewContactDraft


FindOutcome = Found | NotYours
ValueOutcome = Proposed | Invalid | NotYours
SaveOutcome = Saved | Refused | NoDraft | NotYours
NewOutcome = Asking | Invalid | Review | NotYours
CreateOutcome = Created | Review | NoDraft | NotYours


def check(field: Field, raw: str) -> str | Problem | None:
    """The normalised value, None to empty the field, or what is wrong with it."""
    text = " ".join(raw.split())
    if text == CLEAR and field is not Field.LAST_NAME:
        return None
    if not text:
        return Problem.EMPTY
    if field in (Field.DIRECT_PHONE, Field.MOBILE_PHONE):
        try:
            number = phonenumbers.parse(text, "FR")
        except phonenumbers.NumberParseException:
            return Problem.PHONE
        if not phonenumbers.is_valid_number(number):
            return Problem.PHONE
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if field is Field.EMAIL:
        return text.lower() if _EMAIL.match(text) and len(text) <= 254 else Problem.EMAIL
    if len(text) > MAX_LENGTH:
        return Problem.TOO_LONG
    return text


class ContactEditor:
    def __init__(self, artis: ArtisClient, planning: PlanningService, sessions: SessionRepo,
                 drafts: Drafts) -> None:
        self.artis = artis
        self.planning = planning
        self.sessions = sessions
        self.drafts = drafts

    async def find(self, rep: Rep, action_id: str, contact_id: str) -> FindOutcome:
        """A contact of one of the rep's actions, read fresh from artis.net."""
        card = await self.planning.card(rep, action_id)
        if isinstance(card, NotYours) or all(c.id != contact_id for c in card.detail.contacts):
            return NotYours()
        try:
            contact = await self.artis.get_contact(rep.token, contact_id)
        except (NotFound, AccessDenied, InvalidData):
            return NotYours()
        return Found(card, contact)

    async def ask(self, session: ChatSession, rep: Rep, action_id: str, contact_id: str,
                  field: Field, back: str) -> FindOutcome:
        """Enter the step awaiting the new value of ``field``."""
        found = await self.find(rep, action_id, contact_id)
        if isinstance(found, Found):
            await self.sessions.goto(session, steps.CONTACT_FIELD, action=action_id,
                                     contact=contact_id, field=field.value, back=back)
        return found

    async def take(self, session: ChatSession, rep: Rep, raw: str) -> ValueOutcome:
        """The typed value: checked, then kept as a draft to confirm."""
        data = session.flow.data
        field = Field(data["field"])
        value = check(field, raw)
        if isinstance(value, Problem):
            return Invalid(field, value)
        found = await self.find(rep, str(data["action"]), str(data["contact"]))
        await self.sessions.end_flow(session)
        if isinstance(found, NotYours):
            return found
        draft = ContactDraft(action_id=found.card.detail.action.id,
                             contact_id=found.contact.id, field=field,
                             old=shown(found.contact, field), new=value, back=str(data["back"]))
        await self.drafts.put(session, CONTACT_EDIT, draft.contact_id, draft)
        return Proposed(draft, found.contact.display_name)

    async def save(self, session: ChatSession, rep: Rep, contact_id: str) -> SaveOutcome:
        """Write the confirmed change to artis.net (only the one field)."""
        draft = await self.drafts.get(session, CONTACT_EDIT, contact_id)
        if draft is None:
            return NoDraft()
        found = await self.find(rep, draft.action_id, contact_id)
        if isinstance(found, NotYours):
            await self.drafts.drop(session, CONTACT_EDIT, contact_id)
            return found
        value: Any = draft.new
        if draft.field is Field.FUNCTIONS:
            value = [part.strip() for part in (draft.new or "").split(",") if part.strip()]
        patch = ContactPatch.model_validate({_ATTRIBUTE[draft.field]: value})
        try:
            contact = await self.artis.update_contact(rep.token, contact_id, patch)
        except InvalidData as exc:
            return Refused(draft, str(exc))
        await self.drafts.drop(session, CONTACT_EDIT, contact_id)
        await self.planning.cache.forget(rep.login)  # the cached card shows the old value
        return Saved(contact, draft)

    async def drop(self, session: ChatSession, contact_id: str) -> ContactDraft | None:
        """Abandon the proposed change."""
        draft = await self.drafts.get(session, CONTACT_EDIT, contact_id)
        await self.drafts.drop(session, CONTACT_EDIT, contact_id)
        if session.flow.step == steps.CONTACT_FIELD.name:
            await self.sessions.end_flow(session)
        return draft

    # -- a new contact on the action's site ----------------------------------------------------
    async def start_new(self, session: ChatSession, rep: Rep, action_id: str,
                        back: str) -> Asking | NotYours:
        card = await self.planning.card(rep, action_id)
        if isinstance(card, NotYours):
            return card
        site = card.detail.site
        draft = NewContactDraft(action_id=action_id, site_id=site.id,
                                company=site.company_name, back=back)
        await self.drafts.put(session, NEW_CONTACT, action_id, draft)
        await self.sessions.goto(session, steps.CONTACT_NEW, action=action_id)
        return Asking(draft, NEW_ORDER[0])

    async def take_new(self, session: ChatSession, rep: Rep, raw: str) -> NewOutcome:
        """One answer; the next question, or (all given) the review with duplicates."""
        action_id = str(session.flow.data.get("action", ""))
        draft = await self.drafts.get(session, NEW_CONTACT, action_id)
        if draft is None or draft.asking is None:
            await self.sessions.end_flow(session)
            return NotYours()
        field = draft.asking
        value = check(field, raw)
        if isinstance(value, Problem):
            return Invalid(field, value)
        draft.values[field] = value
        await self.drafts.put(session, NEW_CONTACT, action_id, draft)
        if draft.asking is not None:
            return Asking(draft, draft.asking)
        await self.sessions.end_flow(session)
        return await self.review(rep, draft)

    async def review(self, rep: Rep, draft: NewContactDraft) -> Review:
        duplicates = await self.artis.duplicate_contacts(
            rep.token, draft.to_create(allow_duplicate=False))
        return Review(draft, duplicates)

    async def create(self, session: ChatSession, rep: Rep, action_id: str) -> CreateOutcome:
        """Create the contact the rep reviewed (even beside the duplicates they saw)."""
        draft = await self.drafts.get(session, NEW_CONTACT, action_id)
        if draft is None or draft.asking is not None:
            return NoDraft()
        if isinstance(await self.planning.card(rep, action_id), NotYours):
            return NotYours()
        try:
            contact = await self.artis.create_contact(rep.token,
                                                      draft.to_create(allow_duplicate=True))
        except Conflict:
            return await self.review(rep, draft)
        await self.drafts.drop(session, NEW_CONTACT, action_id)
        await self.planning.cache.forget(rep.login)
        return Created(contact, draft)

    async def drop_new(self, session: ChatSession, action_id: str) -> None:
        await self.drafts.drop(session, NEW_CONTACT, action_id)
        if session.flow.step == steps.CONTACT_NEW.name:
            await self.sessions.end_flow(session)

    async def pick(self, session: ChatSession, rep: Rep, action_id: str,
                   contact_id: str) -> Contact | None:
        """The new contact is an existing one: create nothing; that contact, if readable."""
        await self.drop_new(session, action_id)
        try:
            return await self.artis.get_contact(rep.token, contact_id)
        except (NotFound, AccessDenied, InvalidData):
            return None
