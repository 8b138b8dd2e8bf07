"""Everything the bot says goes out here: answers to updates and messages from jobs.

- ``answer(update, reply)`` — in the update's chat; ``edit=True`` replaces the pressed
  button's message (screens are edited in place as the rep navigates);
- ``send(bot, chat_id, reply)`` — a message nobody asked for right now (a manager's
  notice, the SSO result, a finished transcription, a digest);
- ``edit(bot, chat_id, message_id, reply)`` — a known message, from a job;
- ``answer_cards(update, items)`` — several messages in the update's chat: texts, place
  cards (``sendVenue``), contact cards (``sendContact``) and files, in order;
- ``toast`` answers a button press with a short notice; ``delete_secret`` removes a
  password or PIN from the chat;
- ``typing(update)`` shows "typing…" while the bot waits (on artis.net, say), so a rep
  never waits in silence.

Long texts are split at line breaks into Telegram-sized messages; the keyboard goes
with the last part. A button press is answered exactly once, here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from telegram import Bot, KeyboardButton, Message, ReplyKeyboardMarkup, Update
from telegram.constants import ChatAction, MessageLimit
from telegram.error import BadRequest, TelegramError

from bot.views import ContactCard, Document, LocationRequest, Outgoing, Photo, Reply, Venue

log = logging.getLogger(__name__)


async def answer(update: Update, reply: Reply, *, edit: bool = False) -> None:
    """Reply in the update's chat; with ``edit`` (button presses) replace the pressed message."""
    query = update.callback_query
    if query is not None:
        await _answer_query(update)
        if edit and query.message is not None and await _edit(
                lambda: query.edit_message_text(reply.text, reply_markup=reply.keyboard),
                reply):
            return
    chat = update.effective_chat
    if chat is None:
        return
    await send(chat.get_bot(), chat.id, reply)


async def send(bot: Bot, chat_id: int, reply: Reply) -> list[Message]:
    """Send ``reply`` to ``chat_id`` (split when longer than Telegram allows)."""
    chunks = split_text(reply.text)
    sent = []
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        sent.append(await bot.send_message(chat_id, chunk,
                                           reply_markup=reply.keyboard if last else None))
    return sent


async def answer_cards(update: Update, items: list[Outgoing]) -> None:
    """Send ``items`` in the update's chat (a pressed button stops spinning first)."""
    await _answer_query(update)
    chat = update.effective_chat
    if chat is None:
        return
    bot = chat.get_bot()
    for item in items:
        await send_item(bot, chat.id, item)


async def send_item(bot: Bot, chat_id: int, item: Outgoing) -> list[Message]:
    """One message, place card, contact card, file or image."""
    match item:
        case Reply():
            return await send(bot, chat_id, item)
        case Venue():
            return [await bot.send_venue(chat_id, latitude=item.latitude,
                                         longitude=item.longitude, title=item.title[:128],
                                         address=item.address[:256],
                                         reply_markup=item.keyboard)]
        case ContactCard():
            return [await bot.send_contact(chat_id, phone_number=item.phone_number,
                                           first_name=item.first_name[:64],
                                           last_name=(item.last_name or None))]
        case Document():
            return [await bot.send_document(chat_id, document=item.content,
                                            filename=item.filename, caption=item.caption)]
        case Photo():
            return [await bot.send_photo(chat_id, photo=item.content, filename=item.filename,
                                         caption=item.caption)]
        case LocationRequest():
            markup = ReplyKeyboardMarkup([[KeyboardButton(item.button, request_location=True)]],
                                         resize_keyboard=True, one_time_keyboard=True)
            return [await bot.send_message(chat_id, item.text, reply_markup=markup)]


async def edit(bot: Bot, chat_id: int, message_id: int, reply: Reply) -> None:
    """Replace a message the bot sent earlier; a new message when it cannot be edited."""
    if not await _edit(lambda: bot.edit_message_text(reply.text, chat_id=chat_id,
                                                     message_id=message_id,
                                                     reply_markup=reply.keyboard), reply):
        await send(bot, chat_id, reply)


async def _edit(call: Callable[[], Awaitable[object]], reply: Reply) -> bool:
    """True when the message now shows ``reply`` (edited, or already identical)."""
    if len(reply.text) > MessageLimit.MAX_TEXT_LENGTH:
        return False
    try:
        await call()
        return True
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return True
        log.info("could not edit message (%s); sending a new one", exc)
        return False


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


async def leave(bot: Bot, chat_id: int) -> None:
    """Leave a group the bot was added to (it works in private chats only)."""
    try:
        await bot.leave_chat(chat_id)
    except TelegramError as exc:
        log.warning("could not leave chat %s: %s", chat_id, exc)


TYPING_EVERY = 4.0  # Telegram shows a chat action for about 5 seconds


@contextlib.asynccontextmanager
async def typing(update: Update) -> AsyncIterator[None]:
    """Show "typing…" in the update's chat until the block ends (renewed every few seconds).
    A failure to show it never disturbs the work."""
    chat = update.effective_chat
    if chat is None:
        yield
        return
    bot = chat.get_bot()

    async def keep_typing() -> None:
        while True:
            try:
                await bot.send_chat_action(chat.id, ChatAction.TYPING)
            except TelegramError as exc:
                log.info("could not show typing in chat %s: %s", chat.id, exc)
            await asyncio.sleep(TYPING_EVERY)

    task = asyncio.create_task(keep_typing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


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
