"""Webhook mode: the secret-token header is checked; /healthz answers."""

from __future__ import annotations

import asyncio

import httpx

from bot.web import build_web_app
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
