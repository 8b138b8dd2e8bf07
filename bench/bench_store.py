"""Micro-benchmark of the two ``Store`` backends (a script, not a test).

    python bench/bench_store.py [--redis-url URL] [--n N] [--concurrency C]

For each backend it prints ops/s and p50/p99 latency of: get, set, an
uncontended lock acquire+release, and one enqueue+claim+ack cycle - first
sequentially (latency of one caller), then with C concurrent tasks on one
store object (throughput of one bot process). Loops are bounded by N;
everything stays on loopback / a temp file. Redis keys live in a throwaway
``bench:<uuid>`` namespace that is deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.storage import RedisStore, SQLiteStore, Store

Op = Callable[[int], Awaitable[object]]


def _ops(store: Store) -> dict[str, Op]:
    async def get(i: int) -> object:
        return await store.get(f"k{i % 100}")

    async def set_(i: int) -> object:
        return await store.set(f"k{i % 100}", "v" * 64)

    async def lock(i: int) -> object:
        async with store.lock(f"chat:{i}", timeout=10, wait=5):
            return None

    async def queue_cycle(i: int) -> object:
        item = f"job{i}"
        await store.enqueue("bench", item, "payload", due=0)
        for claimed in await store.claim("bench", now=time.time(), lease=60, limit=1):
            await store.ack("bench", claimed)
        return None

    return {"get": get, "set": set_, "lock acquire+release": lock, "enqueue+claim+ack": queue_cycle}


async def _measure(op: Op, n: int, concurrency: int) -> tuple[float, float, float]:
    """(ops/s, p50 ms, p99 ms) of ``n`` calls spread over ``concurrency`` tasks."""
    latencies: list[float] = []
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            t0 = time.perf_counter()
            await op(i)
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t0
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return n / elapsed, q[49] * 1000, q[98] * 1000


async def _bench(name: str, store: Store, n: int, concurrency: int) -> None:
    await store.set("k0", "warm")
    for label, op in _ops(store).items():
        for conc in (1, concurrency):
            await _measure(op, min(n, 50), conc)  # warm-up (connections, statements)
            ops, p50, p99 = await _measure(op, n, conc)
            print(
                f"{name:<7} {label:<22} c={conc:<3} {ops:>10,.0f} ops/s"
                f"   p50 {p50:7.3f} ms   p99 {p99:7.3f} ms",
                flush=True,
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--n", type=int, default=2000, help="calls per measurement")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--skip-redis", action="store_true")
    args = parser.parse_args()
    if args.n < 2:
        parser.error("--n must be >= 2")

    with tempfile.TemporaryDirectory() as tmp:
        sqlite = await SQLiteStore.open(Path(tmp) / "bench.sqlite3", namespace="bench")
        try:
            await _bench("sqlite", sqlite, args.n, args.concurrency)
        finally:
            await sqlite.close()

    if args.skip_redis:
        return
    namespace = f"bench:{uuid.uuid4().hex}"
    redis_store = await RedisStore.connect(args.redis_url, namespace=namespace)
    try:
        await _bench("redis", redis_store, args.n, args.concurrency)
    finally:
        client = redis_store.client
        keys = [k async for k in client.scan_iter(match=f"{namespace}:*", count=1000)]
        for i in range(0, len(keys), 500):
            await client.unlink(*keys[i : i + 500])
        await redis_store.close()


if __name__ == "__main__":
    asyncio.run(main())
