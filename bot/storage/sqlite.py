"""Embedded ``Store`` on one SQLite file (the default; no server needed).

Several bot processes may open the same file, so every operation is written to
be safe across processes, not just across tasks:

* WAL mode (readers never block the writer) and a ``busy_timeout`` so a
  process waiting for the write lock sleeps inside SQLite instead of failing.
* Every read-modify-write is ONE data-changing statement (``INSERT .. ON
  CONFLICT DO UPDATE .. RETURNING``, ``DELETE .. RETURNING``, ``UPDATE .. WHERE
  .. IN (SELECT ..) RETURNING``) run in autocommit mode. SQLite takes the write
  lock when such a statement *starts* (exactly what ``BEGIN IMMEDIATE`` does
  for a multi-statement transaction), so the read and the write see the same
  snapshot and no other process can interleave. One statement also means one
  hop to aiosqlite's worker thread, and no transaction can be left open
  between two awaits of concurrent tasks sharing the connection.
* Expiry is lazy (rows past ``expires_at`` are ignored by reads and replaced
  by writes) plus an occasional purge, so expired rows do not pile up.
* Time is wall-clock epoch seconds because it is compared across processes.
"""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import sqlite3
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import aiosqlite

from bot.storage._lockgate import LockGates, check_lock_args
from bot.storage.base import Entry, Lease, QueueItem, Store
from bot.storage.files import private_file

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    ns TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at REAL,
    PRIMARY KEY (ns, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS locks (
    ns TEXT NOT NULL,
    name TEXT NOT NULL,
    owner TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (ns, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS queue (
    ns TEXT NOT NULL,
    queue TEXT NOT NULL,
    item_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    due REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (ns, queue, item_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS queue_due ON queue (ns, queue, due);
"""

# "live" = not expired at the bound :now.
_LIVE = "(expires_at IS NULL OR expires_at > :now)"

_SQL_GET = f"SELECT value FROM kv WHERE ns = :ns AND key = :key AND {_LIVE}"
_SQL_TTL = f"SELECT expires_at FROM kv WHERE ns = :ns AND key = :key AND {_LIVE}"
_SQL_SET = """
INSERT INTO kv (ns, key, value, expires_at) VALUES (:ns, :key, :value, :exp)
ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
"""
# Only replaces a row that has expired; RETURNING yields a row iff written.
_SQL_ADD = """
INSERT INTO kv (ns, key, value, expires_at) VALUES (:ns, :key, :value, :exp)
ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= :now
RETURNING 1
"""
# Writes unless the mark (:mark) is live; RETURNING yields a row iff written.
_SQL_PUT_UNMARKED = """
INSERT INTO kv (ns, key, value, expires_at)
SELECT :ns, :key, :value, :exp WHERE NOT EXISTS (
  SELECT 1 FROM kv WHERE ns = :ns AND key = :mark
  AND (expires_at IS NULL OR expires_at > :now))
ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
RETURNING 1
"""
_SQL_POP = "DELETE FROM kv WHERE ns = :ns AND key = :key RETURNING value, expires_at"
# An expired row restarts at 1 with the new ttl; a live one keeps its expiry.
# A non-integer value becomes NULL, which the NOT NULL constraint rejects
# (so incr fails like Redis' INCR does instead of silently restarting).
_SQL_INCR = """
INSERT INTO kv (ns, key, value, expires_at) VALUES (:ns, :key, '1', :exp)
ON CONFLICT (ns, key) DO UPDATE SET
    value = CASE
        WHEN kv.expires_at IS NOT NULL AND kv.expires_at <= :now THEN '1'
        WHEN CAST(CAST(kv.value AS INTEGER) AS TEXT) = kv.value
            THEN CAST(CAST(kv.value AS INTEGER) + 1 AS TEXT)
        ELSE NULL
    END,
    expires_at = CASE
        WHEN kv.expires_at IS NOT NULL AND kv.expires_at <= :now THEN excluded.expires_at
        ELSE kv.expires_at
    END
RETURNING value
"""
_SQL_SCAN = f"""
SELECT key FROM kv
WHERE ns = :ns AND key > :after AND substr(key, 1, :plen) = :prefix AND {_LIVE}
ORDER BY key LIMIT :page
"""
# Insert, or take over a row whose holder's lease has run out.
_SQL_LOCK = """
INSERT INTO locks (ns, name, owner, expires_at) VALUES (:ns, :name, :owner, :exp)
ON CONFLICT (ns, name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
WHERE locks.expires_at <= :now
RETURNING 1
"""
_SQL_RENEW = (
    "UPDATE locks SET expires_at = :exp WHERE ns = :ns AND name = :name AND owner = :owner "
    "AND expires_at > :now RETURNING 1"
)
_SQL_UNLOCK = (
    "DELETE FROM locks WHERE ns = :ns AND name = :name AND owner = :owner RETURNING expires_at"
)
# Only the holder, and only while its lease runs.
_SQL_RENEW = """
UPDATE locks SET expires_at = :exp
WHERE ns = :ns AND name = :name AND owner = :owner AND expires_at > :now
RETURNING 1
"""
_SQL_ENQUEUE = """
INSERT INTO queue (ns, queue, item_id, payload, due) VALUES (:ns, :queue, :item_id, :payload, :due)
ON CONFLICT (ns, queue, item_id) DO NOTHING
RETURNING 1
"""
_SQL_CLAIM = """
UPDATE queue SET due = :until, attempts = attempts + 1
WHERE ns = :ns AND queue = :queue AND item_id IN (
    SELECT item_id FROM queue WHERE ns = :ns AND queue = :queue AND due <= :now
    ORDER BY due LIMIT :limit
)
RETURNING item_id, payload, attempts, due
"""


def _expiry(ttl: float | None, now: float) -> float | None:
    if ttl is None:
        return None
    if not ttl > 0 or math.isinf(ttl):
        raise ValueError(f"ttl must be a positive finite number of seconds, got {ttl!r}")
    return now + ttl


class SQLiteStore(Store):
    """``Store`` on a SQLite file, safe for several processes on one host."""

    #: Seconds between purges of expired rows (piggybacks on writes).
    PURGE_INTERVAL = 60.0
    #: How long a statement waits for another process' write lock.
    BUSY_TIMEOUT_MS = 10_000
    _SCAN_PAGE = 500
    _LOCK_POLL_MIN = 0.005
    _LOCK_POLL_MAX = 0.02

    def __init__(self, path: Path, *, namespace: str = "crmbot") -> None:
        self.path = Path(path)
        self.namespace = namespace
        self._db: aiosqlite.Connection | None = None
        self._next_purge = 0.0
        self._locks: LockGates[tuple[str, str]] = LockGates(
            self._lock_acquire, self._lock_release, self._lock_renew)

    @classmethod
    async def open(cls, path: Path, *, namespace: str = "crmbot") -> SQLiteStore:
        """Open (creating if needed) the database file and its schema."""
        self = cls(path, namespace=namespace)
        await self._connect()
        return self

    async def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # 0600 before SQLite opens it: the -wal and -shm files it creates take that mode.
        private_file(self.path)
        for sibling in ("-wal", "-shm"):  # left by an earlier version, maybe world-readable
            if (leftover := self.path.with_name(self.path.name + sibling)).exists():
                private_file(leftover)
        # isolation_level=None: autocommit; each statement is its own transaction.
        db = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            # busy_timeout first: switching to WAL and creating tables may
            # race with another process doing the same.
            await db.execute(f"PRAGMA busy_timeout = {self.BUSY_TIMEOUT_MS}")
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")  # durable enough in WAL
            await db.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}COMMIT;")
        except BaseException:
            await db.close()
            raise
        self._db = db

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("SQLiteStore is not open (use `await SQLiteStore.open(...)`)")
        return self._db

    async def _rows(self, sql: str, params: dict[str, object]) -> list[sqlite3.Row]:
        """Run one statement to completion (commits it) in a single thread hop."""
        return list(await self.db.execute_fetchall(sql, params))

    async def _maybe_purge(self, now: float) -> None:
        if now < self._next_purge:
            return
        self._next_purge = now + self.PURGE_INTERVAL
        try:
            await self._rows(
                "DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= :now",
                {"now": now},
            )
            await self._rows("DELETE FROM locks WHERE expires_at <= :now", {"now": now})
        except sqlite3.OperationalError as exc:  # busy for too long: just try later
            log.warning("sqlite purge skipped: %s", exc)

    # -- plain keys -----------------------------------------------------------
    async def get(self, key: str) -> str | None:
        rows = await self._rows(_SQL_GET, {"ns": self.namespace, "key": key, "now": time.time()})
        return rows[0][0] if rows else None

    async def get_many(self, *keys: str) -> list[str | None]:
        if not keys:
            return []
        marks = ", ".join(f":k{i}" for i in range(len(keys)))
        params: dict[str, object] = {"ns": self.namespace, "now": time.time(),
                                     **{f"k{i}": key for i, key in enumerate(keys)}}
        rows = await self._rows(
            f"SELECT key, value FROM kv WHERE ns = :ns AND key IN ({marks}) AND {_LIVE}", params)
        found = {row[0]: row[1] for row in rows}
        return [found.get(key) for key in keys]

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        now = time.time()
        exp = _expiry(ttl, now)
        await self._rows(_SQL_SET, {"ns": self.namespace, "key": key, "value": value, "exp": exp})
        await self._maybe_purge(now)

    async def set_many(self, items: Mapping[str, str], ttl: float | None = None) -> None:
        if not items:
            return
        now = time.time()
        exp = _expiry(ttl, now)
        await self.db.executemany(_SQL_SET, [
            {"ns": self.namespace, "key": key, "value": value, "exp": exp}
            for key, value in items.items()])
        await self._maybe_purge(now)

    async def put_unmarked(self, items: Sequence[tuple[str, str, str]], ttl: float | None = None,
                           *, delete: Sequence[str] = ()) -> int:
        now = time.time()
        exp = _expiry(ttl, now)
        written = 0
        for mark, key, value in items:  # one statement each: each check-and-write is atomic
            written += len(await self._rows(_SQL_PUT_UNMARKED, {
                "ns": self.namespace, "mark": mark, "key": key, "value": value, "exp": exp,
                "now": now}))
        if delete:
            await self.delete(*delete)
        await self._maybe_purge(now)
        return written

    async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        now = time.time()
        exp = _expiry(ttl, now)
        params: dict[str, object] = {"ns": self.namespace, "key": key, "value": value,
                                     "exp": exp, "now": now}
        rows = await self._rows(_SQL_ADD, params)
        await self._maybe_purge(now)
        return bool(rows)

    async def pop(self, key: str) -> str | None:
        now = time.time()
        rows = await self._rows(_SQL_POP, {"ns": self.namespace, "key": key})
        if not rows:
            return None
        value, exp = rows[0]
        return value if exp is None or exp > now else None

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        now = time.time()
        unique = list(dict.fromkeys(keys))
        marks = ",".join("?" * len(unique))
        rows = await self.db.execute_fetchall(
            f"DELETE FROM kv WHERE ns = ? AND key IN ({marks}) RETURNING expires_at",
            (self.namespace, *unique),
        )
        return sum(1 for (exp,) in rows if exp is None or exp > now)

    async def incr(self, key: str, ttl: float | None = None) -> int:
        now = time.time()
        exp = _expiry(ttl, now)
        try:
            rows = await self._rows(
                _SQL_INCR, {"ns": self.namespace, "key": key, "exp": exp, "now": now}
            )
        except sqlite3.IntegrityError:
            raise ValueError(f"value of {key!r} is not an integer") from None
        await self._maybe_purge(now)
        return int(rows[0][0])

    async def ttl(self, key: str) -> float | None:
        now = time.time()
        rows = await self._rows(_SQL_TTL, {"ns": self.namespace, "key": key, "now": now})
        if not rows or rows[0][0] is None:
            return None
        return max(0.0, float(rows[0][0]) - now)

    async def scan(self, prefix: str) -> AsyncIterator[str]:
        # Keyset pagination: no read cursor stays open while the caller
        # works between items (it would pin the WAL and the worker thread).
        after = ""
        while True:
            rows = await self._rows(
                _SQL_SCAN,
                {
                    "ns": self.namespace,
                    "after": after,
                    "plen": len(prefix),
                    "prefix": prefix,
                    "now": time.time(),
                    "page": self._SCAN_PAGE,
                },
            )
            for (key,) in rows:
                yield key
            if len(rows) < self._SCAN_PAGE:
                return
            after = rows[-1][0]

    # -- locks ----------------------------------------------------------------
    def lock(
        self, name: str, *, timeout: float = 60.0, wait: float = 30.0, renew: bool = False
    ) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(name, timeout, wait, renew=renew)

    async def _try_lock(self, name: str, owner: str, timeout: float) -> bool:
        now = time.time()
        params = {"ns": self.namespace, "name": name, "owner": owner, "exp": now + timeout}
        return bool(await self._rows(_SQL_LOCK, {**params, "now": now}))

    async def _lock_acquire(self, name: str, timeout: float, wait: float) -> tuple[str, str] | None:
        """Poll the lock row with short, growing sleeps until ``wait`` is spent."""
        owner = secrets.token_hex(16)
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + wait
        delay = self._LOCK_POLL_MIN
        try:
            while True:
                if await self._try_lock(name, owner, timeout):
                    return name, owner
                left = give_up_at - loop.time()
                if left <= 0:
                    return None
                await asyncio.sleep(min(delay, left))
                delay = min(delay * 1.5, self._LOCK_POLL_MAX)
        except BaseException:
            # Cancelled mid-statement: the insert may have landed in the
            # worker thread anyway. Drop it rather than wait for the timeout.
            try:
                await self._rows(_SQL_UNLOCK, {"ns": self.namespace, "name": name, "owner": owner})
            except Exception:  # pragma: no cover - best effort
                log.debug("sqlite lock cleanup failed", exc_info=True)
            raise

    async def _lock_renew(self, handle: tuple[str, str], timeout: float) -> bool:
        """Reset the lease to ``timeout`` from now, if the lock row is still ours."""
        name, owner = handle
        now = time.time()
        rows = await self._rows(_SQL_RENEW, {"ns": self.namespace, "name": name,
                                             "owner": owner, "exp": now + timeout, "now": now})
        return bool(rows)

    async def _lock_release(self, handle: tuple[str, str]) -> None:
        # Delete only our own row: if our lease ran out and someone took
        # over, their row has another owner and stays.
        name, owner = handle
        rows = await self._rows(_SQL_UNLOCK, {"ns": self.namespace, "name": name, "owner": owner})
        if not rows or rows[0][0] <= time.time():
            log.warning("lock %r expired before it was released", name)

    async def enter(
        self, mark: str, mark_ttl: float, lock: str, lease: float, keys: Sequence[str]
    ) -> Entry:
        # Three statements, each atomic; between them another process may only take the
        # lock (then: lease None) or write the keys (read after the lock: still consistent).
        check_lock_args(lease, 0.0)
        if not await self.add(mark, "1", mark_ttl):
            return Entry(fresh=False)
        owner = secrets.token_hex(16)
        try:
            taken = await self._try_lock(lock, owner, lease)
        except BaseException:
            await self._drop_lock(lock, owner)
            raise
        if not taken:
            return Entry(fresh=True)
        held = Lease(lock, owner)
        try:
            values = await self.get_many(*keys)
        except BaseException:
            await self._drop_lock(lock, owner)
            raise
        return Entry(True, held, tuple(values))

    async def _drop_lock(self, name: str, owner: str) -> None:
        try:
            await self._rows(_SQL_UNLOCK, {"ns": self.namespace, "name": name, "owner": owner})
        except Exception:  # pragma: no cover - best effort
            log.debug("sqlite lock cleanup failed", exc_info=True)

    async def renew(self, lease: Lease, seconds: float) -> bool:
        now = time.time()
        exp = _expiry(seconds, now)
        rows = await self._rows(_SQL_RENEW, {"ns": self.namespace, "name": lease.name,
                                             "owner": lease.token, "exp": exp, "now": now})
        return bool(rows)

    async def release(self, lease: Lease, *, delete: Sequence[str] = (),
                      raise_to: Sequence[tuple[str, int, float]] = ()) -> bool:
        if delete:
            await self.delete(*delete)
        for key, number, ttl in raise_to:  # one process: read, then write, is one step
            current = await self.get(key)
            if current is None or number > int(current):
                await self.set(key, str(number), ttl)
        rows = await self._rows(_SQL_UNLOCK, {"ns": self.namespace, "name": lease.name,
                                              "owner": lease.token})
        if not rows or rows[0][0] <= time.time():
            log.warning("lock %r expired before it was released", lease.name)
            return False
        return True

    # -- queues ---------------------------------------------------------------
    async def enqueue(self, queue: str, item_id: str, payload: str, due: float) -> bool:
        params = {
            "ns": self.namespace,
            "queue": queue,
            "item_id": item_id,
            "payload": payload,
            "due": due,
        }
        return bool(await self._rows(_SQL_ENQUEUE, params))

    async def claim(
        self, queue: str, *, now: float, lease: float, limit: int = 10
    ) -> list[QueueItem]:
        if limit <= 0:
            return []
        rows = await self._rows(
            _SQL_CLAIM,
            {
                "ns": self.namespace,
                "queue": queue,
                "now": now,
                "until": now + lease,
                "limit": limit,
            },
        )
        # RETURNING order is unspecified; hand items out in id order for stability.
        return [
            QueueItem(item_id=item_id, payload=payload, attempts=attempts - 1)
            for item_id, payload, attempts, _ in sorted(rows)
        ]

    async def ack(self, queue: str, item: QueueItem) -> bool:
        rows = await self.db.execute_fetchall(
            "DELETE FROM queue WHERE ns = ? AND queue = ? AND item_id = ? AND attempts = ? "
            "RETURNING 1",
            (self.namespace, queue, item.item_id, item.claim),
        )
        return bool(list(rows))

    async def retry(self, queue: str, item: QueueItem, due: float) -> bool:
        rows = await self.db.execute_fetchall(
            "UPDATE queue SET due = ? WHERE ns = ? AND queue = ? AND item_id = ? AND attempts = ? "
            "RETURNING 1",
            (due, self.namespace, queue, item.item_id, item.claim),
        )
        return bool(list(rows))

    async def queue_size(self, queue: str) -> int:
        rows = await self.db.execute_fetchall(
            "SELECT COUNT(*) FROM queue WHERE ns = ? AND queue = ?", (self.namespace, queue)
        )
        return int(next(iter(rows))[0])

    # -- lifecycle ------------------------------------------------------------
    async def ping(self) -> bool:
        if self._db is None:
            return False
        try:
            await self._db.execute_fetchall("SELECT 1")
        except Exception:
            return False
        return True

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()
