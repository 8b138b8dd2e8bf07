"""Editing a contact: the field menu, the question, old → new, the result. Pure renderers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from telegram import InlineKeyboardButton

from bot.callbacks import CallbackData
from bot.i18n import L10n
from bot.services.contacts import CLEAR, ContactDraft, Field, Problem, shown
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
