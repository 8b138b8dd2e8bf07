"""The one storage interface the bot uses for everything it keeps.

Two implementations share this contract (and one contract test suite):
``SQLiteStore`` (embedded, the default, a file under ``DATA_DIR``) and
``RedisStore`` (``REDIS_URL``, what several bot processes share).

The interface is deliberately small and key/value shaped, like Redis, so both
backends can honour it exactly: typed repositories (chat state, links, pairing
tokens, the report outbox) are built on top of it in ``bot/services``.
Values are ``str`` (the repositories store JSON).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass


class LockTimeout(Exception):
    """The lock could not be acquired within the allowed wait."""


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One unit of pending work claimed from a queue."""

    item_id: str
    payload: str
    attempts: int  # how many times it was claimed before, this claim excluded

    @property
    def claim(self) -> int:
        """This claim's number: a fencing token. ``ack``/``retry`` act only while the item
        has not been claimed again since (e.g. by another consumer after our lease ran out)."""
        return self.attempts + 1


class Store(ABC):
    """Async key/value store with TTLs, cross-process locks and work queues."""

    # -- plain keys -----------------------------------------------------------
    @abstractmethod
    async def get(self, key: str) -> str | None:
        """The value, or None if absent or expired."""

    @abstractmethod
    async def get_many(self, *keys: str) -> list[str | None]:
        """Values of several keys in one round trip (MGET), in the order asked."""

    @abstractmethod
    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        """Write (overwrite) a value; ``ttl`` in seconds, None = forever."""

    @abstractmethod
    async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        """Write only if absent (SET NX). True if written."""

    @abstractmethod
    async def pop(self, key: str) -> str | None:
        """Atomically read and delete (GETDEL): single-use values."""

    @abstractmethod
    async def delete(self, *keys: str) -> int:
        """Delete keys; returns how many existed."""

    @abstractmethod
    async def incr(self, key: str, ttl: float | None = None) -> int:
        """Atomically add 1 (missing counts as 0); ``ttl`` applies when created."""

    @abstractmethod
    async def ttl(self, key: str) -> float | None:
        """Seconds left before expiry; None if absent or without expiry."""

    @abstractmethod
    def scan(self, prefix: str) -> AsyncIterator[str]:
        """Iterate keys (without the store's namespace) starting with ``prefix``."""

    # -- locks ----------------------------------------------------------------
    @abstractmethod
    def lock(
        self, name: str, *, timeout: float = 60.0, wait: float = 30.0, renew: bool = False
    ) -> AbstractAsyncContextManager[None]:
        """Mutual exclusion across tasks *and* processes sharing the store.

        ``timeout``: the lease: the lock expires by itself after this many seconds (a
        crashed holder cannot wedge a chat). With ``renew``, a living holder renews it
        every ``timeout / 3`` while it works (for at most five minutes), so the lease can
        be short: it is then how soon a *dead* holder's lock frees itself, not how long
        the work may take. ``wait``: how long to wait for it before raising
        ``LockTimeout``.
        """

    # -- work queues (at-least-once; consumers are idempotent by item_id) ------
    @abstractmethod
    async def enqueue(self, queue: str, item_id: str, payload: str, due: float) -> bool:
        """Add an item runnable at epoch time ``due``. Idempotent on ``item_id``:
        returns False (and changes nothing) if that id is already queued."""

    @abstractmethod
    async def claim(
        self, queue: str, *, now: float, lease: float, limit: int = 10
    ) -> list[QueueItem]:
        """Take up to ``limit`` due items. A claimed item is invisible to other
        consumers for ``lease`` seconds; if not acked or retried by then it is
        due again (its holder is presumed dead)."""

    @abstractmethod
    async def ack(self, queue: str, item: QueueItem) -> bool:
        """The item is done: remove it for good. False (and nothing changes) if the item is
        gone or was claimed again since ``item`` was handed out: the claim was stale."""

    @abstractmethod
    async def retry(self, queue: str, item: QueueItem, due: float) -> bool:
        """Release a claimed item to run again at ``due``. False for a stale claim, as ``ack``."""

    @abstractmethod
    async def queue_size(self, queue: str) -> int:
        """Items still in the queue (due, future or claimed)."""

    # -- lifecycle ------------------------------------------------------------
    @abstractmethod
    async def ping(self) -> bool:
        """True if the backend answers (used by /healthz)."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections/files."""
