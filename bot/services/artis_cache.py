"""A short read cache of artis.net answers, per login, in the store.

Back-and-forth navigation (planning → card → planning) then costs no artis.net round
trip for ``ARTIS_CACHE_TTL`` seconds (60 by default; 0 turns it off). Every entry is keyed
by the artis.net login whose token read it (``bot/keys.py``), so an answer artis.net gave
rep A is never served to rep B, and a press still re-checks ownership: a foreign id is
not in the rep's cache, so it goes to artis.net, which refuses it. A write by the rep
(a report, a contact edit) calls ``forget(login)``; the store shares the cache between
bot processes.

``forget`` is one write, whatever the store holds: each entry carries the login's
*generation* current when its read began, and ``forget`` draws a new one, so every
older entry stops matching (it was a ``SCAN`` of the whole keyspace for the login's
entries, before the rep's confirmation). A read that was in flight across a
``forget`` is not served afterwards either: it carries the older generation.
"""

from __future__ import annotations

import secrets
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
        raw, generation = await self.store.get_many(key, keys.artis_reads_generation(login))
        generation = generation or ""
        if raw is not None:
            written_in, _, body = raw.partition("\n")
            if written_in == generation:
                try:
                    return adapter.validate_json(body)
                except ValidationError:
                    pass  # written by another version: read again
        value = await load()
        await self.store.set(key, f"{generation}\n{adapter.dump_json(value).decode()}",
                             self.ttl)
        return value

    async def forget(self, login: str) -> None:
        """Make everything cached for ``login`` stale (after a write by that rep).

        The generation outlives every entry written before it (twice the entries' time),
        so when it expires no entry of the generation before it can be left; generations
        are random, never reused."""
        if self.ttl > 0:
            await self.store.set(keys.artis_reads_generation(login), secrets.token_hex(8),
                                 2 * self.ttl)
