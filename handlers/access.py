"""The access rule, in one place, before any handler (PTB group -1).

- the bot works in private chats only: in a group it answers only a command or a
  mention of itself, with where to write instead; added to a group, it says so once
  and leaves; channel posts get nothing; in a private chat, the user blocking the bot
  or coming back is noted (no answer);
- a message longer than Telegram allows gets a polite refusal;
- an unpaired Telegram user may only greet, get help, pick a language and
  pair — anything else gets "how to pair";
- a paired rep idle for longer than ``SESSION_IDLE_LOCK`` (or whose artis.net
  session expired) is asked for the password or PIN first; the request is
  kept *by reference* and carried out after the unlock (``pending_request``).

A locked rep often types the password first: typed text is never kept. A plain text
that arrives while locked is deleted from the chat, the rep is told to send the
password now, and after the unlock to send that text again.
"""

from __future__ import annotations

import time
from typing import Any

from telegram import Message, MessageEntity, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, ExtBot, TypeHandler

from bot import outbound, steps
from bot.callbacks import is_public_button
from bot.commands import PUBLIC_COMMANDS
from bot.context import BotContext
from bot.outbound import answer, delete_secret
from bot.services.sessions import ChatSession
from bot.views import common, pairing
from handlers.steps import command_of, routed_step

MAX_TEXT = 4096


def is_public(update: Update, session: ChatSession) -> bool:
    """Reachable without a paired, unlocked session: public commands and buttons, and the
    messages a public step (logging in, unlocking) awaits."""
    if update.callback_query is not None:
        return is_public_button(update.callback_query.data)
    command = command_of(update.effective_message)
    if command is not None and command in PUBLIC_COMMANDS:
        return True
    routed = routed_step(update, session)
    return routed is not None and routed[0].public


async def guard(update: Update, context: BotContext) -> None:
    session, services, t = context.session, context.services, context.l10n
    chat = update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        # Passwords and a rep's data must never be typed or shown where others read.
        await outside_private_chat(update, context)
        raise ApplicationHandlerStop
    if update.my_chat_member is not None and chat is not None:
        # The user blocked the bot or came back: note it for what the bot sends on its own.
        kicked = update.my_chat_member.new_chat_member.status == ChatMemberStatus.BANNED
        await services.membership.changed(chat.id, blocked=kicked)
        raise ApplicationHandlerStop
    message = update.effective_message
    if message is not None and message.text and len(message.text) > MAX_TEXT:
        await answer(update, common.too_long(t, MAX_TEXT))
        raise ApplicationHandlerStop
    if is_public(update, session):
        return
    link = session.link
    if link is None:
        await answer(update, common.how_to_pair(t))
        raise ApplicationHandlerStop
    if link.locked or link.artis_token is None or services.pairing.is_idle(link):
        await ask_to_unlock(update, context)
        raise ApplicationHandlerStop
    await services.pairing.touch(session)


_IN = (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER,
       ChatMemberStatus.RESTRICTED)


async def outside_private_chat(update: Update, context: BotContext) -> None:
    """A group or a channel: never spam it. Added to a group, say why once and leave;
    in a group, answer only what is addressed to the bot; in a channel, nothing."""
    chat, bot = update.effective_chat, context.bot
    assert chat is not None
    if chat.type == ChatType.CHANNEL:
        return
    notice = common.private_chat_only(context.l10n, bot.username)
    member = update.my_chat_member
    if member is not None:
        if member.new_chat_member.status in _IN and member.old_chat_member.status not in _IN:
            await outbound.send(bot, chat.id, notice)
            await outbound.leave(bot, chat.id)
        return
    message = update.message
    if message is not None and addressed_to_bot(message, bot.username, bot.id):
        await answer(update, notice)


def addressed_to_bot(message: Message, username: str, bot_id: int) -> bool:
    """A command (``/aide`` or ``/aide@this_bot``, not ``/aide@other_bot``) or a mention."""
    wanted = "@" + username.lower()
    for entity in message.entities:
        text = message.parse_entity(entity).lower()
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            _, at, target = text.partition("@")
            addressed = not at or "@" + target == wanted
        elif entity.type == MessageEntity.MENTION:
            addressed = text == wanted
        elif entity.type == MessageEntity.TEXT_MENTION:
            addressed = entity.user is not None and entity.user.id == bot_id
        else:
            addressed = False
        if addressed:
            return True
    return False


async def ask_to_unlock(update: Update, context: BotContext, *, expired: bool = False) -> None:
    """Lock the session and ask for the PIN (if any) or the password; keep the request."""
    session, services = context.session, context.services
    await services.pairing.lock(session, expired=expired)
    link = session.link
    assert link is not None
    with_pin = link.pin_hash is not None and link.artis_token is not None
    step = session.step
    pending = pending_request(update, known_commands(context.application))
    typed = pending is not None and pending["kind"] == TYPED_TEXT
    if step is not None and step.secret and update.message is not None:
        # The text answers a secret step (e.g. the new PIN): delete it, never keep it.
        await delete_secret(update.message)
        pending, typed = None, False
    elif typed and not expired:
        # It may well be the password, typed before we asked: out of the chat at once.
        await delete_secret(update.effective_message)
    await services.sessions.goto(session, steps.UNLOCK_PIN if with_pin else steps.UNLOCK_PASSWORD,
                                 pending=pending)
    await answer(update, pairing.session_locked(context.l10n, with_pin=with_pin,
                                                text_deleted=typed and not expired))


TYPED_TEXT = "text"  # a kept request's kind: only the kind, the text is asked for again


def known_commands(application: Application[Any, Any, Any, Any, Any, Any]) -> frozenset[str]:
    """Every command some handler answers (``/aide``, ``/pin``…)."""
    return frozenset(command for group in application.handlers.values() for handler in group
                     if isinstance(handler, CommandHandler) for command in handler.commands)


def pending_request(update: Update, commands: frozenset[str]) -> dict[str, Any] | None:
    """What of a request made while locked is kept, to carry out after the unlock.

    Only references: a known command, a button's data, a voice note's file id, a location's
    coordinates, a contact card. Typed text (an unknown ``/…`` included) may be the password:
    only its kind is kept (``{"kind": "text"}``) and the rep is asked to send it again.
    Anything else is not kept. A kept request is ``{"kind": …, "update": {…}}``.
    """
    query = update.callback_query
    if query is not None:
        message = query.message
        kept_query: dict[str, Any] = {"id": query.id, "from": query.from_user.to_dict(),
                                      "chat_instance": query.chat_instance, "data": query.data}
        if message is not None:
            kept_query["message"] = {"message_id": message.message_id,
                                     "date": message.to_dict().get("date", 0),
                                     "chat": message.chat.to_dict()}
        return {"kind": "button", "update": {"callback_query": kept_query}}
    message = update.message
    if message is None:
        edited = update.edited_message  # a text edited into the password is typed text too
        return {"kind": TYPED_TEXT} if edited is not None and edited.text is not None else None
    if message.text is not None:
        command = command_of(message)
        if command is None or command not in commands:
            return {"kind": TYPED_TEXT}
        entities = [e.to_dict() for e in message.entities if e.offset == 0][:1]
        return _kept(message, "command", text=message.text, entities=entities)
    if message.voice is not None:
        return _kept(message, "voice", voice=message.voice.to_dict())
    if message.audio is not None:
        return _kept(message, "voice", audio=message.audio.to_dict())
    if message.location is not None:
        return _kept(message, "location", location={"latitude": message.location.latitude,
                                                    "longitude": message.location.longitude})
    if message.contact is not None:
        contact = message.contact
        return _kept(message, "contact", contact={
            key: value for key, value in (("phone_number", contact.phone_number),
                                          ("first_name", contact.first_name),
                                          ("last_name", contact.last_name),
                                          ("user_id", contact.user_id)) if value is not None})
    return None


def _kept(message: Message, kind: str, **content: Any) -> dict[str, Any]:
    raw = message.to_dict()
    kept = {key: raw[key] for key in ("message_id", "date", "chat", "from") if key in raw}
    return {"kind": kind, "update": {"message": {**kept, **content}}}


def replay(pending: dict[str, Any], bot: ExtBot[Any]) -> Update | None:
    """The kept request as a new update (a fresh id, so de-duplication lets it through);
    None when only its kind was kept (typed text: the rep is asked to send it again)."""
    kept = pending.get("update")
    if not isinstance(kept, dict):
        return None
    return Update.de_json({**kept, "update_id": -time.time_ns()}, bot)


HANDLERS = [TypeHandler(Update, guard)]
