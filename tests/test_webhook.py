"""Webhook mode: the secret-token header is checked; /healthz answers; bad bodies get 4xx."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.web import MAX_UPDATE_BYTES, build_web_app
from tests.harness import BotHarness, new_user

SECRET = "s3cret_token-42-webhook"


async def test_webhook_checks_the_secret_and_processes_updates(bot: BotHarness) -> None:
    app = bot.runtime.application
    web = build_web_app(bot.runtime, webhook_path="/telegram", secret=SECRET)
    user = new_user()
    update = bot.api.text_update(user, "/aide")
    await app.start()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web),
                                     base_url="http://bot") as client:
            refused = await client.post("/telegram", json=update,
                                        headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"})
            missing = await client.post("/telegram", json=update)
            assert refused.status_code == missing.status_code == 403
            assert bot.api.texts(user.id) == []
            accepted = await client.post("/telegram", json=update,
                                         headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            assert accepted.status_code == 200
            garbage = await client.post("/telegram", content=b"{not json",
                                        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
            assert garbage.status_code == 400
            health = await client.get("/healthz")
            assert health.status_code == 200 and health.json()["store"] is True
        for _ in range(100):
            if bot.api.texts(user.id):
                break
            await asyncio.sleep(0.02)
        assert "Ce que je sais faire" in bot.api.texts(user.id)[0]
    finally:
        await app.stop()


def webhook_client(bot: BotHarness) -> httpx.AsyncClient:
    web = build_web_app(bot.runtime, webhook_path="/telegram", secret=SECRET)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://bot",
                             headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})


NESTED_UPDATE = '{"update_id": 7, "message": ' + '{"a": ' * 100 + "1" + "}" * 100 + "}"


@pytest.mark.parametrize("body", [
    "[]", '[{"update_id": 1}]', "null", "42", "-1.5e300", '"update"', "true", "{}",
    '{"update_id": "1"}', '{"update_id": 1, "message": 5}', '{"update_id": 1, "message": []}',
    "[" * 100_000 + "]" * 100_000, '{"a":' * 100_000, NESTED_UPDATE, "1" * 5000, "\xff",
], ids=["array", "array-of-update", "null", "number", "float", "string", "true", "empty",
        "string-id", "message-number", "message-array", "deep-array", "deep-unclosed",
        "deep-in-update", "huge-int", "not-utf8"])
async def test_a_body_that_is_not_an_update_gets_400_never_a_traceback(
        bot: BotHarness, body: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with webhook_client(bot) as client:
        answer = await client.post("/telegram", content=body.encode("latin-1"),
                                   headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"ok": False, "error": "not an update"}
    assert bot.runtime.application.update_queue.empty()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_big_body_gets_413_without_being_read(bot: BotHarness) -> None:
    pulled: list[int] = []

    async def body(chunks: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
        for _ in range(chunks):
            pulled.append(size)
            yield b" " * size

    async with webhook_client(bot) as client:
        declared = await client.post("/telegram", content=body(100),
                                     headers={"Content-Length": str(100 * 64 * 1024)})
        assert declared.status_code == 413 and pulled == []
        streamed = await client.post("/telegram", content=body(100))  # chunked: no length
        assert streamed.status_code == 413
        assert len(pulled) == MAX_UPDATE_BYTES // (64 * 1024) + 1  # stopped past the limit
        pulled.clear()
        forged = await client.post("/telegram", content=body(100),
                                   headers={"X-Telegram-Bot-Api-Secret-Token": "wrong" * 4,
                                            "Content-Length": str(100 * 64 * 1024)})
        assert forged.status_code == 403 and pulled == []
        bad_length = await client.post("/telegram", content=b"{}",
                                       headers={"Content-Length": "1e9"})
        assert bad_length.status_code == 400
    assert bot.runtime.application.update_queue.empty()
