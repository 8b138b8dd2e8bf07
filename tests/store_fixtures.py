"""Fixtures giving tests real ``Store`` backends (no mocks).

``from tests.store_fixtures import *`` in a conftest exposes:

* ``store_kind`` - "sqlite" / "redis" (parametrized; ids are the same)
* ``store``      - a fresh store of that kind, isolated per test
* ``make_store`` - ``await make_store(kind, namespace=None)``: another,
  independent store object on the *same* data as ``store`` (same SQLite file /
  same Redis namespace), i.e. a second bot process. ``namespace="x"`` gives a
  sibling namespace on the same backing data instead.
* ``store_namespace`` - the per-test namespace.

Redis is ``TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``), shared with other
runs. Every test uses its own namespace ``test:<session>:<test>`` (``new_namespace()``)
and its keys are deleted afterwards; ``tests/conftest.py`` fails the session if any key
of this session's ``test:<session>:`` prefix is left.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Protocol

import pytest
import redis.asyncio as aioredis

from bot.storage import RedisStore, SQLiteStore, Store

__all__ = [
    "REDIS_URL",
    "SESSION_PREFIX",
    "STORE_KINDS",
    "MakeStore",
    "make_store",
    "store",
    "store_kind",
    "store_namespace",
]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STORE_KINDS = ("sqlite", "redis")
#: Every Redis key this test session writes starts with it (other runs share the server).
SESSION_PREFIX = f"test:{uuid.uuid4().hex[:12]}:"


def new_namespace() -> str:
    """A fresh per-test namespace under this session's prefix (≤ 64 characters, the
    limit of STORE_NAMESPACE)."""
    return f"{SESSION_PREFIX}{uuid.uuid4().hex[:16]}"


class MakeStore(Protocol):
    def __call__(self, kind: str, *, namespace: str | None = None) -> Awaitable[Store]: ...


@pytest.fixture(params=STORE_KINDS, ids=STORE_KINDS)
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store_namespace() -> str:
    return new_namespace()


async def wipe_redis_namespace(namespace: str) -> None:
    """Delete every key of ``namespace`` (and of its sibling namespaces ``namespace:*``)."""
    client = aioredis.from_url(REDIS_URL, decode_responses=True)
    try:
        # The namespace is "test:<hex>:<hex>", no glob specials to escape.
        batch: list[str] = []
        async for key in client.scan_iter(match=f"{namespace}*", count=1000):
            batch.append(key)
            if len(batch) >= 500:
                await client.unlink(*batch)
                batch.clear()
        if batch:
            await client.unlink(*batch)
    finally:
        await client.aclose()


@pytest.fixture
async def make_store(tmp_path: Path, store_namespace: str) -> AsyncIterator[MakeStore]:
    opened: list[Store] = []
    used_redis = False
    db_path = tmp_path / "store.sqlite3"

    async def factory(kind: str, *, namespace: str | None = None) -> Store:
        nonlocal used_redis
        ns = store_namespace if namespace is None else f"{store_namespace}:{namespace}"
        s: Store
        if kind == "sqlite":
            s = await SQLiteStore.open(db_path, namespace=ns)
        elif kind == "redis":
            used_redis = True
            s = await RedisStore.connect(REDIS_URL, namespace=ns)
        else:
            raise ValueError(f"unknown store kind {kind!r}")
        opened.append(s)
        return s

    yield factory

    for s in reversed(opened):
        await s.close()
    if used_redis:
        await wipe_redis_namespace(store_namespace)


@pytest.fixture
async def store(store_kind: str, make_store: MakeStore) -> Store:
    return await make_store(store_kind)
