"""Storage backends behind the one ``Store`` contract (see ``base``)."""

from __future__ import annotations

from pathlib import Path

from bot.storage.base import LockTimeout, QueueItem, Store
from bot.storage.redis import RedisStore
from bot.storage.sqlite import SQLiteStore

__all__ = ["LockTimeout", "QueueItem", "RedisStore", "SQLiteStore", "Store", "open_store"]

SQLITE_FILENAME = "crmbot.sqlite3"


async def open_store(redis_url: str | None, data_dir: Path, namespace: str = "crmbot") -> Store:
    """Redis when ``redis_url`` is set (shared by processes/hosts), else the
    embedded SQLite file ``data_dir / "crmbot.sqlite3"`` (dir created)."""
    if redis_url:
        return await RedisStore.connect(redis_url, namespace=namespace)
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    return await SQLiteStore.open(data_dir / SQLITE_FILENAME, namespace=namespace)
