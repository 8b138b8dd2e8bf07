"""The action card and its buttons: call, route, contacts, attachments, affaire, report.

Every press asks artis.net again with the rep's own token: an action that is not the rep's
(a forged button) gets the expired-button answer and a fresh menu, never its data.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler

from bot.context import BotContext
from bot.outbound import answer, answer_cards
from bot.services.planning import (
    AffaireCard,
    AttachmentFile,
    CallSheet,
    Card,
    NotYours,
    TooBig,
)
from bot.views import action as views
from bot.views.planning import CardCb, Op, OpCb
from handlers.home import rep_of, retry_when_artis_down, stale
from handlers.report import open_report


@retry_when_artis_down
async def open_card(update: Update, context: BotContext, data: CardCb) -> None:
    outcome = await context.services.planning.card(rep_of(context), data.id)
    match outcome:
        case Card():
            await answer(update, views.card(context.l10n, outcome, data), edit=True)
        case NotYours():
            await stale(update, context)


async def operate(update: Update, context: BotContext, data: OpCb) -> None:
    if data.op is Op.REPORT:
        await open_report(update, context, data.card())
        return
    await _operate(update, context, data)


@retry_when_artis_down
async def _operate(update: Update, context: BotContext, data: OpCb) -> None:
    t, planning, rep = context.l10n, context.services.planning, rep_of(context)
    if data.op is Op.CALL:
        sheet = await planning.call_sheet(rep, data.id, data.ref)
        match sheet:
            case CallSheet():
                await answer_cards(update, views.call(t, sheet))
            case NotYours():
                await stale(update, context)
        return
    if data.op is Op.AFFAIRE:
        affaire = await planning.affaire(rep, data.id)
        match affaire:
            case AffaireCard():
                await answer(update, views.affaire(t, affaire, data.card()), edit=True)
            case NotYours():
                await stale(update, context)
        return
    if data.op is Op.FILE:
        found = await planning.attachment(rep, data.id, data.ref or "")
        match found:
            case AttachmentFile():
                await answer_cards(update, views.attachment_file(t, found))
            case TooBig():
                await answer(update, views.attachment_too_big(t, found))
            case NotYours():
                await stale(update, context)
        return
    outcome = await planning.card(rep, data.id)
    if isinstance(outcome, NotYours):
        await stale(update, context)
        return
    match data.op:
        case Op.ROUTE:
            await answer_cards(update, views.route(t, outcome.detail))
        case Op.CONTACTS:
            await answer(update, views.contacts(t, outcome, data.card()), edit=True)
        case Op.FILES:
            await answer(update, views.attachments(t, outcome, data.card()), edit=True)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CardCb.handler(open_card),
    OpCb.handler(operate),
]
