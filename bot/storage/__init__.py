"""Storage backends behind the one ``Store`` contract (see ``base``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from redis.exceptions import RedisError

from bot.storage._lockgate import keep_renewed
from bot.storage.base import Entry, Lease, LockTimeout, QueueItem, Store
from bot.storage.files import private_dir
from bot.storage.redis import RedisStore
from bot.storage.sqlite import SQLiteStore

__all__ = ["STORE_ERRORS", "Entry", "Lease", "LockTimeout", "QueueItem", "RedisStore",
           "SQLiteStore", "Store", "keep_renewed", "open_store"]

# What a backend raises when it is unreachable or failing (Redis down or restarting, the
# SQLite file unwritable): entry points answer these politely instead of with a 500.
STORE_ERRORS: tuple[type[Exception], ...] = (RedisError, sqlite3.Error, OSError)

SQLITE_FILENAME = "crmbot.sqlite3"


async def open_store(redis_url: str | None, data_dir: Path, namespace: str = "crmbot") -> Store:
    """Redis when ``redis_url`` is set (shared by processes/hosts), else the
    embedded SQLite file ``data_dir / "crmbot.sqlite3"`` (folder 0700, files 0600)."""
    if redis_url:
        return await RedisStore.connect(redis_url, namespace=namespace)
    data_dir = private_dir(Path(data_dir))
    return await SQLiteStore.open(data_dir / SQLITE_FILENAME, namespace=namespace)
