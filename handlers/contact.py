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
from bot.services.contacts import (
    Asking,
    Created,
    Found,
    Invalid,
    NoDraft,
    Proposed,
    Refused,
    Review,
    Saved,
)
from bot.services.planning import NotYours
from bot.views import contact as views
from bot.views.contact import CtcCb, CtcOp, NewCtcCb, NewOp
from handlers.home import rep_of, retry_when_artis_down, stale
from handlers.steps import on_step


@retry_when_artis_down
async def on_button(update: Update, context: BotContext, data: CtcCb) -> None:
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


@retry_when_artis_down
async def on_new(update: Update, context: BotContext, data: NewCtcCb) -> None:
    t, editor, session, rep = (context.l10n, context.services.contacts, context.session,
                               rep_of(context))
    match data.op:
        case NewOp.START:
            started = await editor.start_new(session, rep, data.action, data.pack())
            if isinstance(started, Asking):
                await answer(update, views.ask_new(t, started.draft, started.field), edit=True)
                return
        case NewOp.CREATE:
            outcome = await editor.create(session, rep, data.action)
            match outcome:
                case Created(contact=contact, draft=draft):
                    await answer(update, views.created(t, contact, draft.company, data),
                                 edit=True)
                    return
                case Review(draft=draft, duplicates=duplicates):
                    await answer(update, views.review(t, draft, duplicates, data), edit=True)
                    return
                case NoDraft():
                    await toast(update, views.nothing_to_save(t), alert=True)
                    return
        case NewOp.PICK:
            existing = await editor.pick(session, rep, data.action, data.ref or "")
            await answer(update, views.not_created(
                t, data, existing.display_name if existing else None), edit=True)
            return
        case NewOp.DROP:
            await editor.drop_new(session, data.action)
            await answer(update, views.not_created(t, data), edit=True)
            return
    await stale(update, context)


@on_step(steps.CONTACT_NEW)
async def new_answer(update: Update, context: BotContext) -> None:
    text = update.effective_message.text if update.effective_message else None
    outcome = await context.services.contacts.take_new(context.session, rep_of(context),
                                                       text or "")
    match outcome:
        case Asking(draft=draft, field=field):
            await answer(update, views.ask_new(context.l10n, draft, field))
        case Invalid(field=field, problem=problem):
            await answer(update, views.invalid(context.l10n, field, problem))
        case Review(draft=draft, duplicates=duplicates):
            back = NewCtcCb.unpack(draft.back)
            if back is None:
                await stale(update, context)
                return
            await answer(update, views.review(context.l10n, draft, duplicates, back))
        case NotYours():
            await stale(update, context)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [CtcCb.handler(on_button), NewCtcCb.handler(on_new)]
