"""``Store`` on Redis: what several bot processes (or hosts) share.

Key layout, everything under ``<namespace>:`` so several bots/tests can share
one database and a namespace can be wiped with one ``SCAN``:

* ``<ns>:k:<key>``         plain keys (the ``k:`` sub-prefix keeps user keys
                           from colliding with, or being scanned together
                           with, the internal lock and queue keys)
* ``<ns>:lock:<name>``     lock tokens (redis-py's ``Lock``: SET NX PX +
                           compare-and-delete Lua)
* ``<ns>:q:<queue>:due``      sorted set, score = epoch time the item is due
                              (a claimed item is re-scored to its lease end)
* ``<ns>:q:<queue>:items``    hash item_id -> payload (the source of truth)
* ``<ns>:q:<queue>:attempts`` hash item_id -> claims so far
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import secrets
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.lock import Lock
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import LockError, ResponseError

from bot.storage._lockgate import LockGates, check_lock_args
from bot.storage.base import Entry, Lease, QueueItem, Store

log = logging.getLogger(__name__)

# Store.enter. KEYS: mark, lock, then the keys to read. ARGV: mark ttl (ms), token, lease (ms).
# The lock key and value are redis-py Lock's (SET NX PX token), so enter() and lock() exclude
# each other. Returns {0} (duplicate), {1} (lock busy; mark set) or {2, {values...}}.
_LUA_ENTER = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return {0} end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return {1} end
if #KEYS == 2 then return {2, {}} end
return {2, redis.call('MGET', unpack(KEYS, 3))}
"""

# KEYS: lock. ARGV: token, lease (ms). Only the holder renews.
_LUA_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""

# KEYS: lock, then keys to delete first, then keys to raise. ARGV: token, how many to
# delete, then a number and a ttl (ms) per key to raise (set only if higher). Only the
# holder frees the lock.
_LUA_RELEASE = """
local nd = tonumber(ARGV[2] or '0')
if nd > 0 then redis.call('DEL', unpack(KEYS, 2, 1 + nd)) end
for i = 2 + nd, #KEYS do
  local j = 3 + 2 * (i - 2 - nd)
  if tonumber(ARGV[j]) > tonumber(redis.call('GET', KEYS[i]) or '-1') then
    redis.call('SET', KEYS[i], ARGV[j], 'PX', ARGV[j + 1])
  end
end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
"""

# Store.put_unmarked. KEYS: mark1, key1, mark2, key2, ..., then the keys to delete.
# ARGV: px ('' for no ttl), n (pairs), value1, value2, ... Returns how many were written.
_LUA_PUT_UNMARKED = """
local px, n, written = ARGV[1], tonumber(ARGV[2]), 0
for i = 1, n do
  if redis.call('EXISTS', KEYS[2 * i - 1]) == 0 then
    if px == '' then redis.call('SET', KEYS[2 * i], ARGV[2 + i])
    else redis.call('SET', KEYS[2 * i], ARGV[2 + i], 'PX', px) end
    written = written + 1
  end
end
if #KEYS > 2 * n then redis.call('DEL', unpack(KEYS, 2 * n + 1)) end
return written
"""

# KEYS: due, items, attempts. ARGV: item_id, payload, due.
_LUA_ENQUEUE = """
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
"""

# KEYS: due, items, attempts. ARGV: now, lease_until, limit.
# Returns a flat list: id, payload, attempts-before-this-claim, ...
_LUA_CLAIM = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local payload = redis.call('HGET', KEYS[2], id)
  if payload then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    local n = redis.call('HINCRBY', KEYS[3], id, 1)
    out[#out + 1] = id
    out[#out + 1] = payload
    out[#out + 1] = n - 1
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
"""

# KEYS: due, items, attempts. ARGV: item_id, claim number. Acts only if not re-claimed since.
_LUA_ACK = """
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
"""

# KEYS: due, attempts. ARGV: item_id, claim number, new due.
_LUA_RETRY = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1
"""

_GLOB_SPECIAL = re.compile(r"([\\*?\[\]])")


def _glob_escape(s: str) -> str:
    return _GLOB_SPECIAL.sub(r"\\\1", s)


def _str(v: Any) -> str:
    """Tolerate clients created without ``decode_responses=True``."""
    return v.decode() if isinstance(v, bytes) else str(v)


def _px(ttl: float) -> int:
    if not ttl > 0 or math.isinf(ttl):
        raise ValueError(f"ttl must be a positive finite number of seconds, got {ttl!r}")
    return max(1, math.ceil(ttl * 1000))


class RedisStore(Store):
    """``Store`` on a Redis database, shared by any number of processes."""

    #: Poll interval of a process waiting for a lock held by another process
    #: (tasks of the same process queue locally and do not poll).
    LOCK_POLL = 0.01

    def __init__(
        self, client: aioredis.Redis, *, namespace: str = "crmbot", owns_client: bool = False
    ) -> None:
        self.client = client
        self.namespace = namespace
        self._owns_client = owns_client
        self._ns = f"{namespace}:"
        self._kp = f"{namespace}:k:"
        self._enqueue = client.register_script(_LUA_ENQUEUE)
        self._claim = client.register_script(_LUA_CLAIM)
        self._ack = client.register_script(_LUA_ACK)
        self._retry = client.register_script(_LUA_RETRY)
        self._enter = client.register_script(_LUA_ENTER)
        self._renew = client.register_script(_LUA_RENEW)
        self._release = client.register_script(_LUA_RELEASE)
        self._put_unmarked = client.register_script(_LUA_PUT_UNMARKED)
        self._locks: LockGates[tuple[Lock, str]] = LockGates(
            self._lock_acquire, self._lock_release, self._lock_renew)

    @classmethod
    async def connect(
        cls, url: str, *, namespace: str = "crmbot", max_connections: int = 2048
    ) -> RedisStore:
        """Create a client from ``url`` (closed with the store) and check it answers.

        A plain (non-blocking) pool: a command takes a free connection or opens one, with
        no wait on a condition per command (``BlockingConnectionPool`` did that for every
        command, measurably on the hot path). The bound on concurrency is the update
        processor's (``ChatPipeline``, 512 updates at once, each using one connection at a
        time); ``max_connections`` is only a safety net far above it.

        After a Redis restart every pooled connection is dead: a command retries once on
        a fresh connection (``retry``), and a connection idle for 30 s is checked before
        use (``health_check_interval``), so the first request after the restart succeeds.
        """
        pool = aioredis.ConnectionPool.from_url(
            url, decode_responses=True, max_connections=max_connections,
            retry=Retry(NoBackoff(), retries=1), retry_on_error=[RedisConnectionError],
            health_check_interval=30,
        )
        client = aioredis.Redis.from_pool(pool)  # the client owns (closes) the pool
        try:
            await client.ping()
        except BaseException:
            await client.aclose()
            raise
        return cls(client, namespace=namespace, owns_client=True)

    def _k(self, key: str) -> str:
        return self._kp + key

    def full_key(self, key: str) -> str:
        """The Redis key under which the plain key ``key`` lives (for a Lua script of
        another module, such as the send limiter's)."""
        return self._kp + key

    def _q(self, queue: str) -> list[str]:
        base = f"{self._ns}q:{queue}:"
        return [base + "due", base + "items", base + "attempts"]

    # -- plain keys -----------------------------------------------------------
    async def get(self, key: str) -> str | None:
        v = await self.client.get(self._k(key))
        return None if v is None else _str(v)

    async def get_many(self, *keys: str) -> list[str | None]:
        if not keys:
            return []
        values = await self.client.mget([self._k(key) for key in keys])
        return [None if v is None else _str(v) for v in values]

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        await self.client.set(self._k(key), value, px=None if ttl is None else _px(ttl))

    async def set_many(self, items: Mapping[str, str], ttl: float | None = None) -> None:
        if not items:
            return
        px = None if ttl is None else _px(ttl)
        async with self.client.pipeline(transaction=False) as pipe:
            for key, value in items.items():
                pipe.set(self._k(key), value, px=px)
            await pipe.execute()

    async def put_unmarked(self, items: Sequence[tuple[str, str, str]], ttl: float | None = None,
                           *, delete: Sequence[str] = ()) -> int:
        if not items and not delete:
            return 0
        px = "" if ttl is None else str(_px(ttl))
        keys = [self._k(k) for mark, key, _ in items for k in (mark, key)]
        keys.extend(self._k(key) for key in dict.fromkeys(delete))
        return int(await self._put_unmarked(
            keys=keys, args=[px, len(items), *(value for _, _, value in items)]))

    async def add(self, key: str, value: str, ttl: float | None = None) -> bool:
        px = None if ttl is None else _px(ttl)
        return bool(await self.client.set(self._k(key), value, nx=True, px=px))

    async def pop(self, key: str) -> str | None:
        v = await self.client.getdel(self._k(key))
        return None if v is None else _str(v)

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        return int(await self.client.delete(*(self._k(k) for k in dict.fromkeys(keys))))

    async def incr(self, key: str, ttl: float | None = None) -> int:
        k = self._k(key)
        try:
            if ttl is None:
                return int(await self.client.incr(k))
            # MULTI: create at 0 with the TTL only if absent, then INCR (which
            # keeps an existing TTL) - so the TTL is set on creation only.
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.set(k, 0, nx=True, px=_px(ttl))
                pipe.incr(k)
                _, value = await pipe.execute()
            return int(value)
        except ResponseError as exc:
            raise ValueError(f"value of {key!r} is not an integer: {exc}") from None

    async def ttl(self, key: str) -> float | None:
        ms = int(await self.client.pttl(self._k(key)))
        return None if ms < 0 else ms / 1000

    async def scan(self, prefix: str) -> AsyncIterator[str]:
        # SCAN may return a key twice (rehashing); callers get each once.
        seen: set[str] = set()
        cut = len(self._kp)
        pattern = _glob_escape(self._kp + prefix) + "*"
        async for raw in self.client.scan_iter(match=pattern, count=1000):
            key = _str(raw)[cut:]
            if key not in seen:
                seen.add(key)
                yield key

    # -- locks ----------------------------------------------------------------
    def lock(
        self, name: str, *, timeout: float = 60.0, wait: float = 30.0, renew: bool = False
    ) -> AbstractAsyncContextManager[None]:
        return self._locks.hold(name, timeout, wait, renew=renew)

    async def _lock_acquire(
        self, name: str, timeout: float, wait: float
    ) -> tuple[Lock, str] | None:
        lock = Lock(
            self.client,
            f"{self._ns}lock:{name}",
            timeout=timeout,
            sleep=self.LOCK_POLL,
            blocking=True,
            thread_local=False,  # one Lock object per acquisition, used by one task
        )
        token = secrets.token_hex(16)
        try:
            ok = await lock.acquire(blocking_timeout=wait, token=token)
        except BaseException:
            # Cancelled while the SET was in flight: it may have succeeded.
            with contextlib.suppress(Exception):  # not taken: nothing to undo
                await asyncio.shield(lock.do_release(token.encode()))
            raise
        return (lock, name) if ok else None

    async def _lock_renew(self, handle: tuple[Lock, str], timeout: float) -> bool:
        """Reset the lease to ``timeout`` from now, if the lock is still ours."""
        lock, _ = handle
        try:
            return bool(await lock.extend(timeout, replace_ttl=True))
        except LockError:
            return False

    async def _lock_release(self, handle: tuple[Lock, str]) -> None:
        lock, name = handle
        try:
            await lock.release()
        except LockError:
            # Our lease ran out inside the critical section (and maybe someone
            # else holds it now): nothing to release, but it deserves a trace.
            log.warning("lock %r expired before it was released", name)

    async def enter(
        self, mark: str, mark_ttl: float, lock: str, lease: float, keys: Sequence[str]
    ) -> Entry:
        check_lock_args(lease, 0.0)
        token = secrets.token_hex(16)
        lock_key = f"{self._ns}lock:{lock}"
        try:
            reply = await self._enter(
                keys=[self._k(mark), lock_key, *(self._k(key) for key in keys)],
                args=[_px(mark_ttl), token, _px(lease)])
        except BaseException:
            # Cancelled while the script was in flight: it may have taken the lock.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._release(keys=[lock_key], args=[token]))
            raise
        outcome = int(reply[0])
        if outcome == 0:
            return Entry(fresh=False)
        if outcome == 1:
            return Entry(fresh=True)
        return Entry(True, Lease(lock, token),
                     tuple(None if v is None else _str(v) for v in reply[1]))

    async def renew(self, lease: Lease, seconds: float) -> bool:
        return bool(await self._renew(keys=[f"{self._ns}lock:{lease.name}"],
                                      args=[lease.token, _px(seconds)]))

    async def release(self, lease: Lease, *, delete: Sequence[str] = (),
                      raise_to: Sequence[tuple[str, int, float]] = ()) -> bool:
        lock_key = f"{self._ns}lock:{lease.name}"
        args: list[str | int] = [lease.token, len(delete)]
        for _, number, ttl in raise_to:
            args += [number, _px(ttl)]
        if await self._release(keys=[lock_key, *(self._k(key) for key in delete),
                                     *(self._k(key) for key, _, _ in raise_to)], args=args):
            return True
        log.warning("lock %r expired before it was released", lease.name)
        return False

    # -- queues ---------------------------------------------------------------
    async def enqueue(self, queue: str, item_id: str, payload: str, due: float) -> bool:
        return bool(await self._enqueue(keys=self._q(queue), args=[item_id, payload, repr(due)]))

    async def claim(
        self, queue: str, *, now: float, lease: float, limit: int = 10
    ) -> list[QueueItem]:
        if limit <= 0:
            return []
        flat = await self._claim(keys=self._q(queue), args=[repr(now), repr(now + lease), limit])
        return [
            QueueItem(item_id=_str(flat[i]), payload=_str(flat[i + 1]), attempts=int(flat[i + 2]))
            for i in range(0, len(flat), 3)
        ]

    async def ack(self, queue: str, item: QueueItem) -> bool:
        return bool(await self._ack(keys=self._q(queue), args=[item.item_id, item.claim]))

    async def retry(self, queue: str, item: QueueItem, due: float) -> bool:
        due_key, _, attempts = self._q(queue)
        return bool(await self._retry(keys=[due_key, attempts],
                                      args=[item.item_id, item.claim, repr(due)]))

    async def queue_size(self, queue: str) -> int:
        return int(await self.client.hlen(self._q(queue)[1]))

    # -- lifecycle ------------------------------------------------------------
    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except Exception:
            return False

    async def close(self) -> None:
        """Close the client if this store created it (``connect``)."""
        if self._owns_client:
            await self.client.aclose()
