"""The aiogram 3 baseline of the benchmark, written the way aiogram's documentation writes bots.

Redis FSM storage with per-chat event isolation (a Redis lock around each update), aiogram's
default aiohttp session pointed at the Bot API server in BOT_API_URL, long polling.
The two workloads mirror the CRM bot's: a plain message gets a fixed answer; the language
button answers the query, stores the choice in the FSM data, sets the chat's command menu
and edits the message.
"""

import asyncio
import os

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import BotCommand, BotCommandScopeChat, CallbackQuery, Message

router = Router()


@router.callback_query(F.data.startswith("lang:"))
async def choose_language(callback: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    lang = callback.data.split(":", 1)[1]
    await state.update_data(lang=lang)
    await callback.answer()
    await bot.set_my_commands([BotCommand(command="aide", description="Aide")],
                              scope=BotCommandScopeChat(chat_id=callback.message.chat.id))
    await callback.message.edit_text(f"Done: language {lang}.")


@router.message()
async def any_message(message: Message) -> None:
    await message.answer("To use me, scan the pairing QR code your administrator gave you.")


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["BOT_API_URL"]))
    bot = Bot(token=os.environ["BOT_TOKEN"], session=session)
    storage = RedisStorage.from_url(
        os.environ["REDIS_URL"], key_builder=DefaultKeyBuilder(prefix=os.environ["FSM_PREFIX"]))
    dp = Dispatcher(storage=storage, events_isolation=storage.create_isolation())
    dp.include_router(router)
    await dp.start_polling(bot)


if __name__ == "__main__":
    asyncio.run(main())
