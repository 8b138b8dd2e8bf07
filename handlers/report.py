"""✍️ Compte rendu: typed or dictated, reviewed on a confirmation card, confirmed with ✅.

Every ✍️ re-reads the action with the rep's own token (another rep's action gets the stale
answer); the draft then lives in the store until ✅ or ❌. A voice note is downloaded here
(the only Telegram part) and handed to the service, which transcribes it off the event loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Audio, Message, Update, Voice
from telegram.ext import BaseHandler, MessageHandler, filters

from bot import steps
from bot.context import BotContext
from bot.outbound import answer, edit, send, toast, typing
from bot.services.outbox import AlreadySubmitted, Delivered, Refused, Stored
from bot.services.planning import NotYours
from bot.services.reports import (
    AlreadyReported,
    Asking,
    BadDate,
    Cancelled,
    NoCandidate,
    NoDraft,
    Review,
    SpeechOff,
    VoiceOutcome,
    VoiceTooLong,
    VoiceUnreadable,
    WhichAction,
)
from bot.views import Reply
from bot.views import planning as planning_views
from bot.views import report as views
from bot.views.planning import CardCb, MenuCb, MenuTarget
from bot.views.report import RepCb, RepOp
from handlers.home import artis_down, rep_of, stale
from handlers.steps import on_step
from integrations.artis.errors import ArtisUnavailable
from integrations.artis.models import FollowUpKind


async def open_report(update: Update, context: BotContext, card: CardCb) -> None:
    """✍️ on an action card: the draft's card if there is one, else the question."""
    try:
        outcome = await context.services.reports.start(context.session, rep_of(context),
                                                       card.id, card.pack())
    except ArtisUnavailable:
        await artis_down(update, context, RepCb.of(card, RepOp.START))
        return
    t = context.l10n
    match outcome:
        case Asking(draft=draft):
            await answer(update, views.ask(t, draft), edit=True)
        case Review(draft=draft):
            await answer(update, views.review(t, draft), edit=True)
        case AlreadyReported(card=found):
            await answer(update, views.already_reported(t, found, card), edit=True)
        case Cancelled():
            await answer(update, views.cancelled(t, card), edit=True)
        case NotYours():
            await stale(update, context)


async def on_button(update: Update, context: BotContext, data: RepCb) -> None:
    t, desk, session = context.l10n, context.services.reports, context.session
    match data.op:
        case RepOp.START:
            await open_report(update, context, data.card())
            return
        case RepOp.PICK:
            await picked(update, context, data)
            return
        case RepOp.SAVE:
            saved = await desk.confirm(session, data.action)
            match saved:
                case Delivered() | Stored() | Refused() | AlreadySubmitted():
                    await answer(update, views.submitted(t, saved, data.card()), edit=True)
                case NoDraft():
                    await stale(update, context)
            return
        case RepOp.DROP:
            if await desk.drop(session, data.action):
                await answer(update, views.dropped(t, data.card()), edit=True)
                return
        case RepOp.EDIT:
            asked = await desk.correct(session, data.action)
            if isinstance(asked, Asking):
                await answer(update, views.ask(t, asked.draft, again=True), edit=True)
                return
        case RepOp.DATE | RepOp.SUBJECT:
            asked = await (desk.ask_date if data.op is RepOp.DATE
                           else desk.ask_subject)(session, data.action)
            if isinstance(asked, Asking):
                view = views.ask_date if data.op is RepOp.DATE else views.ask_subject
                await answer(update, view(t, asked.draft))
                return
        case RepOp.TYPE:
            changed = await desk.next_type(session, data.action)
            if isinstance(changed, Review):
                await answer(update, views.review(t, changed.draft), edit=True)
                return
        case RepOp.NONE | RepOp.ACTION | RepOp.AFFAIRE:
            kind = {RepOp.NONE: FollowUpKind.AUCUNE, RepOp.ACTION: FollowUpKind.NOUVELLE_ACTION,
                    RepOp.AFFAIRE: FollowUpKind.NOUVELLE_AFFAIRE}[data.op]
            changed = await desk.set_follow(session, rep_of(context), data.action, kind)
            if isinstance(changed, Review):
                await answer(update, views.review(t, changed.draft), edit=True)
                return
    await stale(update, context)  # no draft: saved, cancelled, or never the rep's


# -- the report step: typed text or a voice note ----------------------------------------------
def voice_of(message: Message | None) -> Voice | Audio | None:
    if message is None:
        return None
    return message.voice or message.audio


def seconds_of(voice: Voice | Audio) -> int:
    """The duration Telegram announced, in seconds (checked before anything is downloaded;
    read from the wire form: PTB 22 deprecates the attribute's int type)."""
    return int(voice.to_dict().get("duration") or 0)


async def _show_transcription(update: Update, context: BotContext,
                              transcribe: Callable[[], Awaitable[object]]) -> None:
    """« 🎙 Transcription… », then the card (or what went wrong) in that same message."""
    chat = update.effective_chat
    assert chat is not None
    if update.callback_query is not None and update.callback_query.message is not None:
        await answer(update, views.transcribing(context.l10n), edit=True)
        message_id = update.callback_query.message.message_id
    else:
        [sent] = (await send(context.bot, chat.id, views.transcribing(context.l10n)))[:1]
        message_id = sent.message_id
    async with typing(update):
        outcome = await transcribe()
    reply = voice_reply(context, outcome)
    if reply is None:
        await stale(update, context)
        return
    await edit(context.bot, chat.id, message_id, reply)


def voice_reply(context: BotContext, outcome: object) -> Reply | None:
    t = context.l10n
    match outcome:
        case Review(draft=draft):
            return views.review(t, draft)
        case VoiceTooLong(seconds=seconds):
            return views.too_long(t, seconds)
        case VoiceUnreadable():
            return views.unreadable(t)
        case SpeechOff():
            return views.speech_off(t)
        case Asking(draft=draft):
            return views.ask(t, draft)
        case AlreadyReported(card=card):
            return views.already_reported(t, card, card_of(card.detail.action.id))
        case Cancelled(card=card):
            return views.cancelled(t, card_of(card.detail.action.id))
        case NoDraft():
            return Reply(views.nothing_left(t))
    return None


def card_of(action_id: str) -> CardCb:
    return CardCb(action_id, home=True)


async def _download(context: BotContext, file_id: str) -> bytes:
    file = await context.bot.get_file(file_id)
    return bytes(await file.download_as_bytearray())


@on_step(steps.REPORT_TEXT)
async def report_message(update: Update, context: BotContext) -> None:
    message = update.effective_message
    desk, session = context.services.reports, context.session
    voice = voice_of(message)
    if voice is None:
        text = message.text if message is not None else None
        outcome = await desk.take_text(session, rep_of(context), text or "")
        match outcome:
            case Review(draft=draft):
                await answer(update, views.review(context.l10n, draft))
            case NoDraft():
                await answer(update, Reply(views.nothing_left(context.l10n)))
        return
    file_id, duration = voice.file_id, seconds_of(voice)

    async def transcribe() -> VoiceOutcome:
        return await desk.take_voice(session, rep_of(context), file_id, duration,
                                     lambda: _download(context, file_id))

    await _show_transcription(update, context, transcribe)


@on_step(steps.REPORT_DATE)
async def typed_date(update: Update, context: BotContext) -> None:
    message = update.effective_message
    outcome = await context.services.reports.take_date(
        context.session, rep_of(context), (message.text if message else None) or "")
    match outcome:
        case Review(draft=draft):
            await answer(update, views.review(context.l10n, draft))
        case BadDate():
            await answer(update, views.bad_date(context.l10n))
        case NoDraft():
            await answer(update, Reply(views.nothing_left(context.l10n)))


@on_step(steps.REPORT_SUBJECT)
async def typed_subject(update: Update, context: BotContext) -> None:
    message = update.effective_message
    outcome = await context.services.reports.take_subject(
        context.session, (message.text if message else None) or "")
    match outcome:
        case Review(draft=draft):
            await answer(update, views.review(context.l10n, draft))
        case NoDraft():
            await answer(update, Reply(views.nothing_left(context.l10n)))


# -- a voice note on its own ----------------------------------------------------------------
async def voice_alone(update: Update, context: BotContext) -> None:
    """A voice note outside the report flow: which action is it about?"""
    voice = voice_of(update.effective_message)
    if voice is None:
        return
    try:
        outcome = await context.services.reports.voice_alone(
            context.session, rep_of(context), voice.file_id, seconds_of(voice))
    except ArtisUnavailable:
        await answer(update, planning_views.unavailable(context.l10n,
                                                        MenuCb(MenuTarget.HOME).pack()))
        return
    match outcome:
        case WhichAction(candidates=candidates):
            await answer(update, views.which_action(context.l10n, candidates))
        case NoCandidate():
            await answer(update, views.no_candidate(context.l10n))
        case VoiceTooLong(seconds=seconds):
            await answer(update, views.too_long(context.l10n, seconds))


async def picked(update: Update, context: BotContext, data: RepCb) -> None:
    desk, session = context.services.reports, context.session
    if await desk.pending_voice(session) is None:
        await toast(update, views.nothing_left(context.l10n), alert=True)
        return

    async def transcribe() -> object:
        return await desk.pick(session, rep_of(context), data.action, data.card().pack(),
                               lambda file_id: _download(context, file_id))

    try:
        await _show_transcription(update, context, transcribe)
    except ArtisUnavailable:
        await artis_down(update, context, data)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    RepCb.handler(on_button),
    MessageHandler(filters.VOICE | filters.AUDIO, voice_alone),
]
