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
from collections.abc import AsyncIterator, Mapping, Sequence
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


@dataclass(frozen=True, slots=True)
class Lease:
    """A lock held through ``Store.enter``: its name and the holder's token. Only the holder
    (the one who knows the token) can ``renew`` or ``release`` it."""

    name: str
    token: str


@dataclass(frozen=True, slots=True)
class Entry:
    """What ``Store.enter`` did.

    - ``fresh`` False: the mark was already there (a duplicate); nothing else was done.
    - ``lease`` None (fresh): the lock is held by someone else; the mark is set all the same.
    - otherwise the lock is ours and ``values`` are the keys' values read under it.
    """

    fresh: bool
    lease: Lease | None = None
    values: tuple[str | None, ...] = ()


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
    async def set_many(self, items: Mapping[str, str], ttl: float | None = None) -> None:
        """``set`` of several keys, all with ``ttl``, in one round trip (each key on its
        own: not a transaction)."""

    @abstractmethod
    async def put_unmarked(self, items: Sequence[tuple[str, str, str]], ttl: float | None = None,
                           *, delete: Sequence[str] = ()) -> int:
        """For each ``(mark, key, value)``: write ``key`` (with ``ttl``) unless ``mark`` is
        set, the check and the write one atomic step; then delete the keys ``delete``. One
        round trip where the backend can. Returns how many keys were written.

        The inbox records a polled batch with it: an update the pipeline already took
        (its de-duplication mark, set by ``enter``) is never recorded after its record
        was crossed out."""

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

    @abstractmethod
    async def enter(
        self, mark: str, mark_ttl: float, lock: str, lease: float, keys: Sequence[str]
    ) -> Entry:
        """The hot path of a piece of work, in one round trip where the backend can:

        1. set ``mark`` (with ``mark_ttl``) if absent, else stop: ``Entry(fresh=False)``;
        2. take the lock ``lock`` for ``lease`` seconds if it is free, else stop with the
           mark set: ``Entry(fresh=True, lease=None)`` (wait for it with ``lock()``);
        3. read ``keys`` under the lock: ``Entry(True, Lease(...), values)``.

        The lock is the same as ``lock()``'s: the two exclude each other across processes.
        The holder must ``release`` the lease; a long holder ``renew``s it.
        """

    @abstractmethod
    async def renew(self, lease: Lease, seconds: float) -> bool:
        """Extend a held lease to ``seconds`` from now. False if it had run out (the lock
        may be someone else's now): the holder has lost it and must stop."""

    @abstractmethod
    async def release(self, lease: Lease, *, delete: Sequence[str] = (),
                      raise_to: Sequence[tuple[str, int, float]] = ()) -> bool:
        """Free a held lease. False if it had run out (the lock is left as it is).

        ``delete``: keys deleted in the same step, before the lock is freed (e.g. the
        record of the work just done), whether or not the lease had run out.
        ``raise_to``: ``(key, number, ttl seconds)``: in that step too, the key holding a
        number (or nothing) is set to ``number`` with that ttl if that is higher (a
        time that only moves later: the chat's pace)."""

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
