"""In-process fast path shared by both ``Store.lock`` implementations.

Tasks of one process that want the same lock queue up on an ``asyncio.Lock``
(FIFO, no polling, no backend round trips while they wait); only the task at
the head of the local queue contends for the backend lock, which is what gives
mutual exclusion across processes.

The local gate honours the lock ``timeout`` as well: if the local holder is
past its expiry (a hung or leaked holder), waiters stop queueing behind it and
go straight to the backend, where the expired lock can be taken over. So a
wedged task cannot block its own process longer than another process.

With ``renew``, a living holder renews its lease every ``timeout / 3`` (for at most
``MAX_HOLD``), so ``timeout`` can be short: it is how soon a *dead* holder's lock frees itself
(``kill -9``, a lost host), not how long work under the lock may take.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.storage.base import LockTimeout

H = TypeVar("H")

log = logging.getLogger(__name__)

# Backend hooks: acquire(name, timeout, wait) -> handle or None on wait expiry;
# renew(handle, timeout) -> False once the lease was lost.
Acquire = Callable[[str, float, float], Awaitable[H | None]]
Release = Callable[[H], Awaitable[None]]
Renew = Callable[[H, float], Awaitable[bool]]

MAX_HOLD = 300.0  # a holder stops renewing after this: a hung task cannot hold forever


@dataclass(slots=True)
class _Gate:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holder_expires: float = 0.0  # loop time at which the local holder's lease ends
    users: int = 0  # tasks holding or waiting; the gate is dropped at 0


def check_lock_args(timeout: float, wait: float) -> None:
    """Reject values both backends cannot honour identically."""
    if timeout < 0.001:
        raise ValueError("lock timeout must be at least 1 ms")
    if wait < 0:
        raise ValueError("lock wait must be >= 0")


class LockGates(Generic[H]):
    """Per-name local gates in front of a backend lock."""

    def __init__(self, acquire: Acquire[H], release: Release[H], renew: Renew[H]) -> None:
        self._gates: dict[str, _Gate] = {}
        self._acquire = acquire
        self._release = release
        self._renew = renew

    @asynccontextmanager
    async def hold(self, name: str, timeout: float, wait: float, *,
                   renew: bool = False) -> AsyncIterator[None]:
        check_lock_args(timeout, wait)
        loop = asyncio.get_running_loop()
        give_up_at = loop.time() + wait
        gate = self._gates.get(name)
        if gate is None:
            gate = self._gates[name] = _Gate()
        gate.users += 1
        local = False
        try:
            local = await self._enter_gate(gate, loop, give_up_at)
            if local:
                gate.holder_expires = loop.time() + timeout
            handle = await self._acquire(name, timeout, max(0.0, give_up_at - loop.time()))
            if handle is None:
                raise LockTimeout(f"lock {name!r} not acquired within {wait:g}s")
            keeper = (asyncio.create_task(self._keep(name, handle, timeout,
                                                     gate if local else None, loop))
                      if renew else None)
            try:
                yield
            finally:
                if keeper is not None:
                    keeper.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await keeper
                await self._release(handle)
        finally:
            if local:
                gate.lock.release()
            gate.users -= 1
            if gate.users == 0 and self._gates.get(name) is gate:
                del self._gates[name]

    async def _keep(self, name: str, handle: H, timeout: float, gate: _Gate | None,
                    loop: asyncio.AbstractEventLoop) -> None:
        def held_on() -> None:
            if gate is not None:
                gate.holder_expires = loop.time() + timeout

        await keep_renewed(name, lambda: self._renew(handle, timeout), timeout,
                           on_renewed=held_on)

    @staticmethod
    async def _enter_gate(gate: _Gate, loop: asyncio.AbstractEventLoop, give_up_at: float) -> bool:
        """True once the local gate is held; False to bypass an expired holder."""
        while True:
            now = loop.time()
            remaining = give_up_at - now
            budget = remaining
            if gate.lock.locked():
                holder_left = gate.holder_expires - now
                if holder_left <= 0:
                    return False  # local holder is past its timeout: contend at the backend
                if remaining <= 0:
                    raise LockTimeout("lock not acquired within the allowed wait")
                budget = min(remaining, holder_left)
            try:
                # A free lock with no queued waiters is taken without suspending,
                # so even a zero budget succeeds then.
                async with asyncio.timeout(max(budget, 0.0)):
                    await gate.lock.acquire()
                return True
            except TimeoutError:
                if loop.time() >= give_up_at:
                    raise LockTimeout("lock not acquired within the allowed wait") from None
                # else the holder's lease ran out: re-evaluate


async def keep_renewed(name: str, renew: Callable[[], Awaitable[bool]], lease: float, *,
                       on_renewed: Callable[[], None] | None = None) -> None:
    """Renew a held lease every third of it while its holder works, up to MAX_HOLD; run it
    as a task and cancel it before the release. Returns when the lease was lost."""
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + MAX_HOLD
    while loop.time() + lease / 3 < stop_at:
        await asyncio.sleep(lease / 3)
        try:
            renewed = await renew()
        except Exception:
            log.warning("lock %r: could not renew its lease", name, exc_info=True)
            continue
        if not renewed:
            log.warning("lock %r: lease lost while held (renewal came too late)", name)
            return
        if on_renewed is not None:
            on_renewed()
    log.warning("lock %r held longer than %.0f s: no longer renewed", name, MAX_HOLD)
