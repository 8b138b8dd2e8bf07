"""Sending a ``Reply``: the only place handlers touch the Bot API for output."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.constants import MessageLimit
from telegram.error import BadRequest, TelegramError

from bot.views import Reply

log = logging.getLogger(__name__)


async def answer(update: Update, reply: Reply, *, edit: bool = False) -> None:
    """Reply in the update's chat; with ``edit`` (button presses) replace the pressed message."""
    query = update.callback_query
    if query is not None:
        await _answer_query(update)
        if edit and query.message is not None and len(reply.text) <= MessageLimit.MAX_TEXT_LENGTH:
            try:
                await query.edit_message_text(reply.text, reply_markup=reply.keyboard)
                return
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    return
                log.info("could not edit message (%s); sending a new one", exc)
    chat = update.effective_chat
    if chat is None:
        return
    chunks = split_text(reply.text)
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        await chat.send_message(chunk, reply_markup=reply.keyboard if last else None)


async def toast(update: Update, text: str, *, alert: bool = False) -> None:
    """A short notice on a pressed button (≤ 200 characters)."""
    await _answer_query(update, text[:200], alert=alert)


async def _answer_query(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Stop the button's spinner. A query answers once and only for a short while: a late or
    replayed one (e.g. the request carried out after an unlock) is refused by Telegram, and
    that must not stop the reply itself."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest as exc:
        log.info("button query %s could not be answered (%s)", query.id, exc)


async def delete_secret(message: Message | None) -> None:
    """Remove a password or PIN from the chat at once; never log its content."""
    if message is None:
        return
    try:
        await message.delete()
    except TelegramError as exc:
        log.warning("could not delete a secret message in chat %s: %s", message.chat_id, exc)


def split_text(text: str, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[str]:
    """Cut a long text into Telegram-sized parts at line breaks where possible."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    parts.append(text)
    return parts
