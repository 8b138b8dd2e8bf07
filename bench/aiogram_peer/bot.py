"""The aiogram 3 baseline of the benchmark, written the way aiogram's documentation writes bots.

Redis FSM storage with per-chat event isolation (a Redis lock around each update), aiogram's
default aiohttp session pointed at the Bot API server in BOT_API_URL, long polling.
The workloads mirror the CRM bot's:

* a plain message gets a fixed answer;
* the language button answers the query, stores the choice in the FSM data, sets the
  chat's command menu and edits the message;
* ``/token T`` keeps the rep's artis.net session token in the chat's FSM data (the
  benchmark pairs each chat this way before it measures);
* the planning button (``pl:…``, the CRM bot's callback data) reads the token from the FSM
  data, GETs the day's actions from artis.net (ARTIS_URL) with one shared aiohttp
  session, answers the query and edits the message into the day's list with one button
  per action;
* the action button (``act:ID:…``) does the same with ``GET /actions/ID`` and edits the
  message into the card: type, status, date, subject, site, contacts, affaire,
  attachments, and the card's eight buttons.

No cache and no model validation: ``response.json()`` and f-strings, as a short aiogram
bot would do it.
"""

import asyncio
import html
import os
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

router = Router()
TZ = ZoneInfo("Europe/Paris")
ARTIS_URL = os.environ.get("ARTIS_URL", "").rstrip("/")
http: dict[str, aiohttp.ClientSession] = {}


@router.callback_query(F.data.startswith("lang:"))
async def choose_language(callback: CallbackQuery, state: FSMContext, bot: Bot) -> None:
    lang = callback.data.split(":", 1)[1]
    await state.update_data(lang=lang)
    await callback.answer()
    await bot.set_my_commands([BotCommand(command="aide", description="Aide")],
                              scope=BotCommandScopeChat(chat_id=callback.message.chat.id))
    await callback.message.edit_text(f"Done: language {lang}.")


@router.message(Command("token"))
async def keep_token(message: Message, command: CommandObject, state: FSMContext) -> None:
    await state.update_data(artis_token=command.args)
    await message.answer("Paired.")


async def artis_get(token: str, path: str, params: dict[str, str] | None = None) -> Any:
    async with http["artis"].get(f"{ARTIS_URL}/{path}", params=params,
                                 headers={"Authorization": f"Bearer {token}"}) as response:
        response.raise_for_status()
        return await response.json()


def button(text: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data)


def local(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).astimezone(TZ)


@router.callback_query(F.data.startswith("pl:"))
async def planning(callback: CallbackQuery, state: FSMContext) -> None:
    token = (await state.get_data())["artis_token"]
    raw_day = callback.data.split(":")[2]
    day = datetime.strptime(raw_day, "%Y%m%d").date() if raw_day else datetime.now(TZ).date()
    start = datetime.combine(day, time(0), tzinfo=TZ)
    actions = await artis_get(token, "actions", {
        "from": start.isoformat(), "to": (start + timedelta(days=1)).isoformat()})
    actions.sort(key=lambda a: a["planned_start"])
    lines = [f"<b>Planning du {day:%d/%m/%Y}</b>", ""]
    rows = []
    for a in actions:
        lines.append(f"{local(a['planned_start']):%H:%M} · {a['type']} · {a['status']} · "
                     f"{html.escape(a['company_name'])}")
        rows.append([button(f"{local(a['planned_start']):%H:%M} {a['company_name']}"[:60],
                            f"act:{a['id']}:d::0:0")])
    if not actions:
        lines.append("Aucune action ce jour-là.")
    rows.append([button("◀", f"pl:d:{day - timedelta(days=1):%Y%m%d}:0"),
                 button("▶", f"pl:d:{day + timedelta(days=1):%Y%m%d}:0")])
    rows.append([button("Jour", f"pl:d:{day:%Y%m%d}:0"), button("Semaine", f"pl:w:{day:%Y%m%d}:0"),
                 button("Mois", f"pl:m:{day:%Y%m%d}:0")])
    await callback.answer()
    await callback.message.edit_text("\n".join(lines),
                                     reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


@router.callback_query(F.data.startswith("act:"))
async def action_card(callback: CallbackQuery, state: FSMContext) -> None:
    token = (await state.get_data())["artis_token"]
    action_id = callback.data.split(":")[1]
    detail = await artis_get(token, f"actions/{action_id}")
    action, site = detail["action"], detail["site"]
    when = f"{local(action['planned_start']):%d/%m/%Y · %H:%M}"
    if action.get("planned_end"):
        when += f"–{local(action['planned_end']):%H:%M}"
    lines = [f"<b>{action['type']}</b> · {action['status']}", f"📅 {when}",
             f"<b>{html.escape(action['subject'])}</b>"]
    if action.get("detail"):
        lines.append(f"<i>{html.escape(action['detail'])}</i>")
    address = ", ".join([*site.get("address_lines", []), f"{site['postal_code']} {site['city']}"])
    lines += ["", f"🏢 <b>{html.escape(site['company_name'])}</b>", f"📍 {html.escape(address)}"]
    if site.get("opening_hours"):
        lines.append(f"🕘 Horaires : {html.escape(site['opening_hours'])}")
    if site.get("phone"):
        lines.append(f"☎️ {site['phone']}")
    if detail.get("contacts"):
        lines += ["", "👥 <b>Contacts</b>"]
        for c in detail["contacts"]:
            name = " ".join(p for p in (c.get("first_name"), c["last_name"]) if p)
            functions = ", ".join(c.get("functions", []))
            lines.append(f"• {html.escape(name)}" + (f" — {html.escape(functions)}"
                                                      if functions else ""))
    affaire = detail.get("affaire")
    if affaire:
        lines += ["", f"💼 Affaire n° {affaire['number']} — {html.escape(affaire['label'])} "
                      f"({affaire['sales_status']})"]
    lines.append(f"📎 {len(detail.get('attachments', []))} pièce(s) jointe(s)")
    ref = f"{action_id}:d::0:0"
    rows = [[button("📞 Appeler", f"op:call:{ref}"), button("🗺 Itinéraire", f"op:route:{ref}")],
            [button("👥 Contacts", f"op:ctc:{ref}"),
             button(f"📎 Pièces jointes ({len(detail.get('attachments', []))})",
                    f"op:pj:{ref}")],
            [*([button("💼 Affaire", f"op:aff:{ref}")] if affaire else []),
             button("✍️ Compte rendu", f"op:cr:{ref}")],
            [button("⬅ Retour", "pl:d::0")]]
    await callback.answer()
    await callback.message.edit_text("\n".join(lines),
                                     reply_markup=InlineKeyboardMarkup(inline_keyboard=rows))


@router.message()
async def any_message(message: Message) -> None:
    await message.answer("To use me, scan the pairing QR code your administrator gave you.")


async def main() -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["BOT_API_URL"]))
    bot = Bot(token=os.environ["BOT_TOKEN"], session=session,
              default=DefaultBotProperties(parse_mode="HTML"))
    storage = RedisStorage.from_url(
        os.environ["REDIS_URL"], key_builder=DefaultKeyBuilder(prefix=os.environ["FSM_PREFIX"]))
    dp = Dispatcher(storage=storage, events_isolation=storage.create_isolation())
    dp.include_router(router)
    http["artis"] = aiohttp.ClientSession()
    try:
        await dp.start_polling(bot)
    finally:
        await http["artis"].close()


if __name__ == "__main__":
    asyncio.run(main())
