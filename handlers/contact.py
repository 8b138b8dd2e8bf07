"""✏️ Modifier on a contact: pick a field, type the value, confirm old → new, saved.

Every press re-reads the contact through the rep's own action (artis.net refuses another
rep's); nothing is written before ✅.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler

from bot import steps
from bot.context import BotContext
from bot.outbound import answer, toast
from bot.services.contacts import Found, Invalid, NoDraft, Proposed, Refused, Saved
from bot.services.planning import NotYours
from bot.views import contact as views
from bot.views.contact import CtcCb, CtcOp
from handlers.home import artis_down, rep_of, stale
from handlers.steps import on_step
from integrations.artis.errors import ArtisUnavailable


async def on_button(update: Update, context: BotContext, data: CtcCb) -> None:
    try:
        await _on_button(update, context, data)
    except ArtisUnavailable:
        await artis_down(update, context, data)


async def _on_button(update: Update, context: BotContext, data: CtcCb) -> None:
    t, editor, rep = context.l10n, context.services.contacts, rep_of(context)
    match data.op:
        case CtcOp.FIELD if data.field is not None:
            found = await editor.ask(context.session, rep, data.action, data.contact,
                                     data.field, data.to(CtcOp.MENU).pack())
            if isinstance(found, Found):
                await answer(update, views.ask(t, found.contact, data.field), edit=True)
                return
        case CtcOp.SAVE:
            saved = await editor.save(context.session, rep, data.contact)
            match saved:
                case Saved(contact=contact):
                    await answer(update, views.edit_menu(t, contact, data, saved=True),
                                 edit=True)
                case Refused(message=message):
                    await answer(update, views.refused(t, message, data), edit=True)
                case NoDraft():
                    await toast(update, views.nothing_to_save(t), alert=True)
                case NotYours():
                    await stale(update, context)
            return
        case CtcOp.DROP:
            await editor.drop(context.session, data.contact)
            found = await editor.find(rep, data.action, data.contact)
            if isinstance(found, Found):
                await answer(update, views.edit_menu(t, found.contact, data), edit=True)
                return
        case _:
            found = await editor.find(rep, data.action, data.contact)
            if isinstance(found, Found):
                await answer(update, views.edit_menu(t, found.contact, data), edit=True)
                return
    await stale(update, context)


@on_step(steps.CONTACT_FIELD)
async def typed_value(update: Update, context: BotContext) -> None:
    text = update.effective_message.text if update.effective_message else None
    outcome = await context.services.contacts.take(context.session, rep_of(context), text or "")
    match outcome:
        case Proposed(draft=draft, contact_name=name):
            back = CtcCb.unpack(draft.back)
            if back is None:
                await stale(update, context)
                return
            await answer(update, views.confirm(context.l10n, draft, name, back))
        case Invalid(field=field, problem=problem):
            await answer(update, views.invalid(context.l10n, field, problem))
        case NotYours():
            await stale(update, context)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [CtcCb.handler(on_button)]
