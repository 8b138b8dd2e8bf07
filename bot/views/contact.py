"""Editing a contact: the field menu, the question, old → new, the result. Pure renderers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from telegram import InlineKeyboardButton

from bot.callbacks import CallbackData
from bot.i18n import L10n
from bot.services.contacts import (
    CLEAR,
    NEW_ORDER,
    ContactDraft,
    Field,
    Problem,
    shown,
)
from bot.services.contacts import NewContactDraft as ContactDraftNew
from bot.services.planning import View
from bot.views import Reply, button, esc, keyboard
from bot.views.planning import CardCb, Op, OpCb
from integrations.artis.models import Contact


class CtcOp(StrEnum):
    MENU = "m"  # the contact's fields, each with ✏️
    FIELD = "f"  # ask for the new value of one field
    SAVE = "s"  # ✅ write the confirmed change
    DROP = "x"  # ✖️ abandon it


@dataclass(frozen=True)
class CtcCb(CallbackData, prefix="ct"):
    """A contact of an action, and the way back to its card's planning or home."""

    op: CtcOp
    action: str
    contact: str
    field: Field | None = None
    view: View = View.DAY
    day: date | None = None
    page: int = 0
    home: bool = False

    @classmethod
    def of(cls, card: CardCb, op: CtcOp, contact: str, field: Field | None = None) -> CtcCb:
        return cls(op, card.id, contact, field, card.view, card.day, card.page, card.home)

    def card(self) -> CardCb:
        return CardCb(self.action, self.view, self.day, self.page, self.home)

    def to(self, op: CtcOp, field: Field | None = None) -> CtcCb:
        return CtcCb(op, self.action, self.contact, field, self.view, self.day, self.page,
                     self.home)


def field_name(t: L10n, field: Field) -> str:
    return {
        Field.CIVILITY: t._("Civility"),
        Field.FIRST_NAME: t._("First name"),
        Field.LAST_NAME: t._("Last name"),
        Field.FUNCTIONS: t._("Functions"),
        Field.DIRECT_PHONE: t._("Direct line"),
        Field.MOBILE_PHONE: t._("Mobile"),
        Field.EMAIL: t._("Email"),
    }[field]


def edit_menu(t: L10n, contact: Contact, data: CtcCb, *, saved: bool = False) -> Reply:
    lines = [t._("✅ Saved in artis.net.")] if saved else []
    lines.append(t._("✏️ <b>{name}</b> — choose the field to change:",
                     name=esc(contact.display_name)))
    rows: list[list[InlineKeyboardButton]] = []
    for field in Field:
        value = shown(contact, field)
        lines.append(f"• {esc(field_name(t, field))} : {esc(value) if value else '—'}")
        rows.append([button(f"✏️ {field_name(t, field)}", data.to(CtcOp.FIELD, field).pack())])
    rows.append([button(t._("⬅ Back"), OpCb.of(data.card(), Op.CONTACTS).pack())])
    return Reply("\n".join(lines), keyboard(*rows))


def ask(t: L10n, contact: Contact, field: Field) -> Reply:
    current = shown(contact, field)
    lines = [t._("Send the new {field} of {name} (now: {current}).",
                 field=esc(field_name(t, field).lower()), name=esc(contact.display_name),
                 current=esc(current) if current else "—")]
    if field in (Field.DIRECT_PHONE, Field.MOBILE_PHONE):
        lines.append(t._("For example 06 12 34 56 78 or +32 470 12 34 56."))
    if field is Field.FUNCTIONS:
        lines.append(t._("Several functions: separate them with commas."))
    if field is not Field.LAST_NAME:
        lines.append(t._("Send {clear} to empty it.", clear=CLEAR))
    lines.append(t._("/annuler to stop."))
    return Reply("\n".join(lines))


def invalid(t: L10n, field: Field, problem: Problem) -> Reply:
    text = {
        Problem.PHONE: t._("This is not a valid phone number. Write it like 06 12 34 56 78 "
                           "(or with its country code: +32 470 12 34 56)."),
        Problem.EMAIL: t._("This is not a valid email address (like prenom.nom@societe.fr)."),
        Problem.EMPTY: t._("The last name cannot be empty."),
        Problem.TOO_LONG: t._("That is too long (80 characters at most)."),
    }[problem]
    return Reply(text + "\n" + t._("Try again, or /annuler."))


def confirm(t: L10n, draft: ContactDraft, name: str, data: CtcCb) -> Reply:
    lines = [t._("Change the {field} of {name}?", field=esc(field_name(t, draft.field).lower()),
                 name=esc(name)),
             t._("Before: {value}", value=esc(draft.old) if draft.old else "—"),
             t._("After: {value}", value=f"<b>{esc(draft.new)}</b>" if draft.new else "—"),
             t._("Nothing is written to artis.net before you confirm.")]
    return Reply("\n".join(lines), keyboard(
        [button(t._("✅ Save"), data.to(CtcOp.SAVE).pack()),
         button(t._("✖️ Cancel"), data.to(CtcOp.DROP).pack())]))


def refused(t: L10n, message: str, data: CtcCb) -> Reply:
    return Reply(t._("artis.net refused this value ({reason}). Choose the field again to "
                     "send another one.", reason=esc(message[:200])),
                 keyboard([button(t._("⬅ Back"), data.to(CtcOp.MENU).pack())]))


def nothing_to_save(t: L10n) -> str:
    return t._("This change was already saved or cancelled.")


# -- a new contact ------------------------------------------------------------------------------
class NewOp(StrEnum):
    START = "s"
    CREATE = "c"  # create it, even beside the duplicates shown
    PICK = "p"  # the new contact is this existing one: create nothing
    DROP = "x"


@dataclass(frozen=True)
class NewCtcCb(CallbackData, prefix="nc"):
    op: NewOp
    action: str
    ref: str | None = None
    view: View = View.DAY
    day: date | None = None
    page: int = 0
    home: bool = False

    @classmethod
    def of(cls, card: CardCb, op: NewOp, ref: str | None = None) -> NewCtcCb:
        return cls(op, card.id, ref, card.view, card.day, card.page, card.home)

    def card(self) -> CardCb:
        return CardCb(self.action, self.view, self.day, self.page, self.home)

    def to(self, op: NewOp, ref: str | None = None) -> NewCtcCb:
        return NewCtcCb(op, self.action, ref, self.view, self.day, self.page, self.home)


def ask_new(t: L10n, draft: ContactDraftNew, field: Field) -> Reply:
    number = NEW_ORDER.index(field) + 1
    lines = [t._("➕ New contact at {company} ({n}/{total})", company=esc(draft.company),
                 n=number, total=len(NEW_ORDER)),
             t._("{field}?", field=esc(field_name(t, field)))]
    if field in (Field.DIRECT_PHONE, Field.MOBILE_PHONE):
        lines.append(t._("For example 06 12 34 56 78 or +32 470 12 34 56."))
    if field is Field.FUNCTIONS:
        lines.append(t._("Several functions: separate them with commas."))
    if field is not Field.LAST_NAME:
        lines.append(t._("Send {clear} to skip.", clear=CLEAR))
    lines.append(t._("/annuler to stop."))
    return Reply("\n".join(lines))


def review(t: L10n, draft: ContactDraftNew, duplicates: list[Contact], data: NewCtcCb) -> Reply:
    lines = [t._("➕ <b>New contact at {company}</b>", company=esc(draft.company))]
    for field in NEW_ORDER:
        value = draft.values.get(field)
        lines.append(f"• {esc(field_name(t, field))} : {esc(value) if value else '—'}")
    rows: list[list[InlineKeyboardButton]] = []
    if duplicates:
        lines += ["", t._("⚠️ <b>Likely duplicates</b> at this client:")]
        for other in duplicates[:5]:
            phones = ", ".join(p for p in (other.direct_phone, other.mobile_phone) if p)
            lines.append(f"• {esc(other.display_name)}"
                         + (f" — {esc(', '.join(other.functions))}" if other.functions else "")
                         + (f" — {esc(phones)}" if phones else "")
                         + (f" — {esc(other.email)}" if other.email else ""))
            rows.append([button(t._("👤 It is {name}", name=other.display_name)[:60],
                                data.to(NewOp.PICK, other.id).pack())])
        rows.append([button(t._("➕ Create anyway"), data.to(NewOp.CREATE).pack())])
    else:
        lines += ["", t._("No similar contact at this client.")]
        rows.append([button(t._("✅ Create"), data.to(NewOp.CREATE).pack())])
    rows.append([button(t._("✖️ Cancel"), data.to(NewOp.DROP).pack())])
    return Reply("\n".join(lines), keyboard(*rows))


def created(t: L10n, contact: Contact, company: str, data: NewCtcCb) -> Reply:
    return Reply(t._("✅ {name} is created in artis.net at {company}.",
                     name=esc(contact.display_name), company=esc(company)),
                 keyboard([button(t._("⬅ Back"), OpCb.of(data.card(), Op.CONTACTS).pack())]))


def not_created(t: L10n, data: NewCtcCb, name: str | None = None) -> Reply:
    text = (t._("No new contact: {name} is already in artis.net.", name=esc(name)) if name
            else t._("No new contact."))
    return Reply(text, keyboard([button(t._("⬅ Back"), OpCb.of(data.card(), Op.CONTACTS).pack())]))
