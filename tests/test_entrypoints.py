"""`crmbot run` as an operator starts it: long polling and webhook, as real processes.

The fake Bot API is served over loopback HTTP and the bot finds it through
TELEGRAM_API_URL, exactly as it would find a self-hosted Bot API server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from integrations.fake_bot_api import FakeBotApi, SimUser

TOKEN = "123456:ENTRYPOINT-TEST-token-abcdefgh"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
async def bot_api() -> AsyncIterator[tuple[FakeBotApi, str]]:
    api = FakeBotApi(token=TOKEN)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(api.asgi_app(), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield api, f"http://127.0.0.1:{port}"
    server.should_exit = server.force_exit = True  # don't wait out a pending long poll
    await task


async def _start(tmp_path: Path, api_url: str, artis, *args: str,
                 **env: str) -> asyncio.subprocess.Process:
    base = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ARTIS_URL")}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", *args, cwd=tmp_path,
        env={**base, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api_url,
             "ARTIS_URL": artis.url, "ARTIS_SERVICE_LOGIN": "bot.service",
             "ARTIS_SERVICE_PASSWORD": "demo", "DATA_DIR": str(tmp_path), **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def _wait_for(condition, timeout: float = 20.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("timed out waiting for the bot")


async def _stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, err.decode()
    return err.decode()


async def test_long_polling_answers_a_user(tmp_path: Path, bot_api, artis) -> None:
    api, url = bot_api
    user = SimUser(id=9_100_001, first_name="Camille")
    process = await _start(tmp_path, url, artis)
    try:
        await _wait_for(lambda: any(c.method == "getUpdates" for c in api.calls))
        api.push_update(api.text_update(user, "/aide"))
        await _wait_for(lambda: api.texts(user.id))
        assert "Ce que je sais faire" in api.texts(user.id)[0]
        await _wait_for(lambda: any(c.method == "setMyCommands" for c in api.calls))
    finally:
        err = await _stop(process)
    assert TOKEN not in err, "the bot token leaked into the logs"


async def test_a_fresh_start_answers_before_publishing_its_menu(
        tmp_path: Path, bot_api, artis) -> None:
    """The message that was waiting when the bot started is answered first; the command
    menu (and the background jobs) come after it (cold start)."""
    api, url = bot_api
    user = SimUser(id=9_100_002, first_name="Camille")
    api.push_update(api.text_update(user, "/aide"))
    process = await _start(tmp_path, url, artis)
    try:
        await _wait_for(lambda: any(c.method == "setMyCommands" for c in api.calls))
        methods = [c.method for c in api.calls]
        assert "Ce que je sais faire" in api.texts(user.id)[0]
        assert methods.index("sendMessage") < methods.index("setMyCommands")
    finally:
        err = await _stop(process)
    assert TOKEN not in err, "the bot token leaked into the logs"


async def test_webhook_mode_registers_checks_the_secret_and_answers(
        tmp_path: Path, bot_api, artis) -> None:
    api, url = bot_api
    port = _free_port()
    secret = "hook_secret-123-webhook"
    process = await _start(tmp_path, url, artis, "--webhook",
                           WEBHOOK_URL="https://bot.example.fr", WEBHOOK_SECRET=secret,
                           WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port))
    user = SimUser(id=9_100_002, first_name="Camille")
    try:
        await _wait_for(lambda: api.webhook is not None)
        assert api.webhook == {**api.webhook, "url": "https://bot.example.fr/telegram",
                               "secret_token": secret}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(100):
                try:
                    health = await client.get("/healthz")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.05)
            assert health.status_code == 200
            update = api.text_update(user, "/aide")
            forged = await client.post("/telegram", json=update)
            assert forged.status_code == 403
            sent = await client.post("/telegram", json=update,
                                     headers={"X-Telegram-Bot-Api-Secret-Token": secret})
            assert sent.status_code == 200
        await _wait_for(lambda: api.texts(user.id))
        assert len(api.texts(user.id)) == 1 and "Ce que je sais faire" in api.texts(user.id)[0]
    finally:
        await _stop(process)


async def test_a_refused_token_stops_start_up_with_one_line(tmp_path: Path, bot_api,
                                                            artis) -> None:
    _, url = bot_api  # the fake server answers 401 for any other token, as Telegram does
    process = await _start(tmp_path, url, artis, TELEGRAM_BOT_TOKEN="999:WRONG-token-abcdefghijkl")
    _, err = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 1
    assert "Traceback" not in err.decode()
    assert err.decode().strip().splitlines()[-1] == (
        "startup error: the Bot API refused TELEGRAM_BOT_TOKEN (check the token given by "
        "@BotFather)")


async def test_long_polling_asks_for_its_membership_and_leaves_a_group(
        tmp_path: Path, bot_api, artis) -> None:
    """Telegram delivers only the update kinds the bot asks for: being added to a group
    reaches `crmbot run`, which says why once and leaves."""
    api, url = bot_api
    adder = SimUser(id=9_100_003, first_name="Camille")
    group = {"id": -100_555, "type": "group", "title": "Commerciaux IDF"}
    process = await _start(tmp_path, url, artis)
    try:
        await _wait_for(lambda: any(c.method == "getUpdates" for c in api.calls))
        me = {"id": int(TOKEN.split(":")[0]), "is_bot": True, "first_name": "artis CRM"}
        api.push_update({"update_id": api.next_update_id(), "my_chat_member": {
            "chat": group, "from": adder.as_json(), "date": int(time.time()),
            "old_chat_member": {"user": me, "status": "left"},
            "new_chat_member": {"user": me, "status": "member"}}})
        await _wait_for(lambda: api.left_chats == [group["id"]])
        assert "conversation privée" in api.texts(group["id"])[0]
    finally:
        await _stop(process)
