"""A short read cache of artis.net answers, per login, in the store.

Back-and-forth navigation (planning → card → planning) then costs no artis.net round
trip for ``ARTIS_CACHE_TTL`` seconds (60 by default; 0 turns it off). Every entry is keyed
by the artis.net login whose token read it (``bot/keys.py``), so an answer artis.net gave
rep A is never served to rep B, and a press still re-checks ownership: a foreign id is
not in the rep's cache, so it goes to artis.net, which refuses it. A write by the rep
(a report, a contact edit) calls ``forget(login)``; the store shares the cache between
bot processes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from pydantic import TypeAdapter, ValidationError

from bot import keys
from bot.storage import Store

T = TypeVar("T")


class ReadCache:
    def __init__(self, store: Store, ttl: float) -> None:
        self.store = store
        self.ttl = ttl

    async def read(self, login: str, what: str, adapter: TypeAdapter[T],
                   load: Callable[[], Awaitable[T]]) -> T:
        """The cached answer for ``what``, else ``load()`` (kept for ``ttl`` seconds)."""
        if self.ttl <= 0:
            return await load()
        key = keys.artis_read(login, what)
        raw = await self.store.get(key)
        if raw is not None:
            try:
                return adapter.validate_json(raw)
            except ValidationError:
                pass  # written by another version: read again
        value = await load()
        await self.store.set(key, adapter.dump_json(value).decode(), self.ttl)
        return value

    async def forget(self, login: str) -> None:
        """Drop everything cached for ``login`` (after a write by that rep)."""
        stale = [key async for key in self.store.scan(keys.artis_reads_of(login))]
        if stale:
            await self.store.delete(*stale)
