"""Shared fixtures: real Redis, real demo artis.net over loopback, the real bot."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
import redis

from bot.settings import Settings
from tests.artis_fixtures import *  # noqa: F403 - demo_artis, artis, artis_client, artis_login
from tests.harness import BotHarness, make_settings, running_bot
from tests.store_fixtures import *  # noqa: F403 - store, store_kind, make_store, ...
from tests.store_fixtures import REDIS_URL, SESSION_PREFIX, new_namespace, wipe_redis_namespace

# The bot processes tests start (crmbot run, crmbot worker) inherit this: no digest or
# reminder at the real time of day in the middle of a test; the scheduling tests turn the
# scheduler on, or call bot.scheduled.tick with their own clock.
os.environ.setdefault("SCHEDULE_TICK_SECONDS", "0")


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    """Run a bot test once on the embedded SQLite store and once on Redis."""
    return request.param


@pytest.fixture(scope="session", autouse=True)
def no_redis_key_left() -> Iterator[None]:
    """Fail the session if a test left keys in the shared Redis: every test's keys live
    under its own namespace in this session's prefix, and are deleted at its teardown."""
    yield
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        left = list(client.scan_iter(match=f"{SESSION_PREFIX}*", count=1000))
        if left:
            client.unlink(*left)  # clean anyway, then say which tests leak
    except redis.ConnectionError:
        return  # no Redis: the Redis tests failed already
    finally:
        client.close()
    assert not left, f"{len(left)} Redis keys left by tests, e.g. {sorted(left)[:5]}"


@pytest.fixture
async def bot_settings(tmp_path: Path, artis, backend: str
                       ) -> AsyncIterator[Callable[..., Settings]]:
    """Settings for a bot on this test's store; every call shares the same data. The
    test's Redis namespace is purged at teardown, whichever bots it started."""
    namespace = new_namespace()
    redis_url = REDIS_URL if backend == "redis" else None

    def build(**extra: object) -> Settings:
        return make_settings(tmp_path, artis.url, redis_url=redis_url, namespace=namespace,
                             **extra)

    yield build
    if redis_url is not None:
        await wipe_redis_namespace(namespace)


@pytest.fixture
async def bot(bot_settings: Callable[..., Settings]) -> AsyncIterator[BotHarness]:
    async with running_bot(bot_settings()) as harness:
        yield harness


@pytest.fixture
def start_bot(bot_settings: Callable[..., Settings]
              ) -> Callable[..., AbstractAsyncContextManager[BotHarness]]:
    """Start extra bot instances (a restart, a second process) on the same store."""
    def start(**extra: object) -> AbstractAsyncContextManager[BotHarness]:
        return running_bot(bot_settings(**extra))
    return start

