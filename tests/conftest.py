"""Shared fixtures: real Redis, real demo artis.net over loopback, the real bot."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.artis_fixtures import *  # noqa: F403 - demo_artis, artis, artis_client, artis_login
from tests.harness import BotHarness, make_settings, running_bot
from tests.store_fixtures import *  # noqa: F403 - store, store_kind, make_store, ...
from tests.store_fixtures import REDIS_URL


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    """Run a bot test once on the embedded SQLite store and once on Redis."""
    return request.param


@pytest.fixture
def bot_settings(tmp_path: Path, artis, backend: str) -> Callable[..., Settings]:
    """Settings for a bot on this test's store; every call shares the same data."""
    namespace = f"test:{uuid.uuid4().hex}"
    redis_url = REDIS_URL if backend == "redis" else None

    def build(**extra: object) -> Settings:
        return make_settings(tmp_path, artis.url, redis_url=redis_url, namespace=namespace,
                             **extra)

    return build


@pytest.fixture
async def bot(bot_settings: Callable[..., Settings]) -> AsyncIterator[BotHarness]:
    async with running_bot(bot_settings()) as harness:
        yield harness
    await _purge(bot_settings())


@pytest.fixture
def start_bot(bot_settings: Callable[..., Settings]
              ) -> Callable[..., AbstractAsyncContextManager[BotHarness]]:
    """Start extra bot instances (a restart, a second process) on the same store."""
    def start(**extra: object) -> AbstractAsyncContextManager[BotHarness]:
        return running_bot(bot_settings(**extra))
    return start


async def _purge(settings: Settings) -> None:
    if settings.redis_url is None:
        return
    import redis.asyncio as redis

    client = redis.Redis.from_url(settings.redis_url)
    async for key in client.scan_iter(match=f"{settings.store_namespace}:*"):
        await client.delete(key)
    await client.aclose()
