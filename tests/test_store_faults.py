"""The store failing under the bot, as an operator sees it: a Redis restart costs no
request, and the admin page explains a store outage instead of answering 500."""

from __future__ import annotations

import html
import logging
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.storage import RedisStore
from tests.store_fixtures import REDIS_URL
from tests.test_admin_page import SECRET, start_site


async def test_the_first_command_after_a_redis_restart_succeeds(make_store) -> None:
    store = await make_store("redis")
    assert isinstance(store, RedisStore)
    await store.set("k", "before")
    # What a Redis restart does to the pool: every open connection is dropped server-side.
    own_id = await store.client.client_id()
    killer = aioredis.Redis.from_url(REDIS_URL)
    try:
        assert await killer.client_kill_filter(_id=own_id) == 1
    finally:
        await killer.aclose()
    assert await store.get("k") == "before"  # retried once on a fresh connection
    await store.set("k", "after")
    assert await store.get("k") == "after"


async def test_the_admin_page_explains_a_store_outage(tmp_path: Path, monkeypatch,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with start_site(tmp_path, SECRET) as site:
        async def down(*keys: str) -> None:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379.")

        store = site.runtime.services.store
        monkeypatch.setattr(store, "get", down)
        monkeypatch.setattr(store, "get_many", down)
        async with httpx.AsyncClient(base_url=site.url) as http:
            page = await http.get("/admin", auth=("admin", SECRET))
    assert page.status_code == 503
    assert "Le stockage de l'assistant (Redis) ne répond pas" in html.unescape(page.text)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
