"""The Bot API over aiohttp (``integrations/telegram_http.py``), against the fake Bot API
served on a real loopback socket: what PTB sends arrives intact, errors map to PTB's."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
import uvicorn
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, NetworkError, TimedOut

from integrations.fake_bot_api import FakeBotApi
from integrations.telegram_http import AiohttpBotApiRequest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def served() -> AsyncIterator[tuple[FakeBotApi, str]]:
    api = FakeBotApi()
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(api.asgi_app(), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield api, f"http://127.0.0.1:{port}"
    server.should_exit = server.force_exit = True
    await task


async def test_messages_buttons_and_files_arrive_as_sent(served) -> None:
    api, url = served
    async with Bot(api.token, base_url=f"{url}/bot", request=AiohttpBotApiRequest()) as bot:
        assert bot.username == "artis_crm_demo_bot"
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Oui", callback_data="yes:1")]])
        sent = await bot.send_message(42, "Bonjour <b>Camille</b> — 4 800,00 €",
                                      parse_mode="HTML", reply_markup=keyboard)
        await bot.edit_message_text("Fait", chat_id=42, message_id=sent.message_id)
        await bot.send_document(42, InputFile(b"%PDF-1.4 demo", filename="cr.pdf"),
                                caption="Compte rendu")
    message, edit, document = api.sent(42)
    assert message.params["text"] == "Bonjour <b>Camille</b> — 4 800,00 €"
    assert message.params["parse_mode"] == "HTML"
    assert message.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes:1"
    assert edit.method == "editMessageText" and edit.params["message_id"] == sent.message_id
    assert document.params["caption"] == "Compte rendu"
    assert b"%PDF-1.4 demo" in document.files.values()


async def test_refusals_and_network_failures_are_ptbs_errors(served) -> None:
    api, url = served
    async with Bot(api.token, base_url=f"{url}/bot", request=AiohttpBotApiRequest()) as bot:
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(42, " ")
    refused = AiohttpBotApiRequest(connect_timeout=1)
    await refused.initialize()
    try:
        with pytest.raises(NetworkError):
            await refused.post(f"http://127.0.0.1:{_free_port()}/bot{api.token}/getMe")
    finally:
        await refused.shutdown()


async def test_a_slow_answer_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    request = AiohttpBotApiRequest(read_timeout=0.2)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"http://127.0.0.1:{port}/bot1:x/getMe")
    finally:
        await request.shutdown()
        server.close()


async def test_a_request_is_reusable_after_shutdown(served) -> None:
    api, url = served
    request = AiohttpBotApiRequest()
    for _ in range(2):  # PTB may initialize a request again after shutting it down
        async with Bot(api.token, base_url=f"{url}/bot", request=request) as bot:
            await bot.send_message(7, "ok")
    assert len(api.sent(7)) == 2
