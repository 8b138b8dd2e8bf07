# ruff: noqa: F811  (pytest fixtures are imported, then named as parameters)
"""One contract suite for every ``Store`` backend, run against real SQLite and
real Redis (the ``store`` fixture is parametrized over both)."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bot.storage import Entry, LockTimeout, QueueItem, RedisStore, SQLiteStore, Store, open_store
from tests.store_fixtures import (  # noqa: F401  (fixtures; a conftest may provide them too)
    REDIS_URL,
    MakeStore,
    make_store,
    store,
    store_kind,
    store_namespace,
)

ROOT = Path(__file__).resolve().parents[1]


# -- plain keys -----------------------------------------------------------------
async def test_get_set_overwrite(store: Store) -> None:
    assert await store.get("missing") is None
    await store.set("a", "1")
    assert await store.get("a") == "1"
    await store.set("a", "2")
    assert await store.get("a") == "2"
    assert await store.ttl("a") is None


async def test_get_many_keeps_the_order_and_skips_expired(store: Store) -> None:
    await store.set("m1", "un")
    await store.set("m3", "trois")
    await store.set("gone", "x", ttl=0.1)
    await asyncio.sleep(0.2)
    assert await store.get_many("m3", "absent", "m1", "gone") == ["trois", None, "un", None]
    assert await store.get_many() == []


async def test_ttl_expiry(store: Store) -> None:
    await store.set("short", "v", ttl=0.2)
    await store.set("long", "v", ttl=60)
    left = await store.ttl("short")
    assert left is not None and 0 < left <= 0.2
    assert 59 < (await store.ttl("long") or 0) <= 60
    assert await store.ttl("absent") is None
    await asyncio.sleep(0.3)
    assert await store.get("short") is None
    assert await store.ttl("short") is None
    assert await store.get("long") == "v"
    # A plain set drops a previous TTL (Redis SET semantics).
    await store.set("long", "w")
    assert await store.ttl("long") is None


async def test_ttl_must_be_positive(store: Store) -> None:
    for bad in (0, -1.0):
        with pytest.raises(ValueError):
            await store.set("k", "v", ttl=bad)


async def test_add_only_if_absent(store: Store) -> None:
    assert await store.add("k", "first", ttl=0.2) is True
    assert await store.add("k", "second") is False
    assert await store.get("k") == "first"
    await asyncio.sleep(0.3)
    assert await store.add("k", "third") is True  # an expired key counts as absent
    assert await store.get("k") == "third"
    assert await store.ttl("k") is None


async def test_add_concurrent_single_winner(store: Store) -> None:
    results = await asyncio.gather(*(store.add("once", str(i)) for i in range(30)))
    assert sum(results) == 1


async def test_pop_single_use_under_concurrency(store: Store, make_store: MakeStore) -> None:
    other = await make_store(type_kind(store))
    await store.set("token", "secret")
    results = await asyncio.gather(*((store if i % 2 else other).pop("token") for i in range(50)))
    assert [r for r in results if r is not None] == ["secret"]
    assert await store.get("token") is None
    assert await store.pop("token") is None
    await store.set("expiring", "v", ttl=0.1)
    await asyncio.sleep(0.2)
    assert await store.pop("expiring") is None


async def test_incr_atomic_under_concurrency(store: Store, make_store: MakeStore) -> None:
    other = await make_store(type_kind(store))
    results = await asyncio.gather(*((store if i % 2 else other).incr("n") for i in range(100)))
    assert sorted(results) == list(range(1, 101))
    assert await store.get("n") == "100"


async def test_incr_ttl_only_on_creation(store: Store) -> None:
    assert await store.incr("rate", ttl=0.4) == 1
    assert await store.incr("rate", ttl=30) == 2  # TTL not reset
    assert await store.incr("rate") == 3  # nor dropped
    left = await store.ttl("rate")
    assert left is not None and left <= 0.4
    await asyncio.sleep(0.5)
    assert await store.get("rate") is None
    assert await store.incr("rate", ttl=30) == 1  # expired: starts over with the new TTL
    assert (await store.ttl("rate") or 0) > 29
    assert await store.incr("forever") == 1
    assert await store.ttl("forever") is None


async def test_incr_existing_and_non_integer(store: Store) -> None:
    await store.set("n", "41")
    assert await store.incr("n") == 42
    await store.set("text", "abc")
    with pytest.raises(ValueError):
        await store.incr("text")
    assert await store.get("text") == "abc"


async def test_delete_counts_existing(store: Store) -> None:
    await store.set("a", "1")
    await store.set("b", "2")
    await store.set("gone", "3", ttl=0.1)
    await asyncio.sleep(0.15)
    assert await store.delete("a", "b", "missing", "gone") == 2
    assert await store.get("a") is None
    assert await store.delete() == 0
    await store.set("c", "1")
    assert await store.delete("c", "c") == 1


async def test_scan_by_prefix_and_namespace(store: Store, make_store: MakeStore) -> None:
    foreign = await make_store(type_kind(store), namespace="other")
    for key in ("user:1", "user:2", "user:*[x]?", "usex", "chat:1"):
        await store.set(key, "v")
    await store.set("user:expired", "v", ttl=0.1)
    await foreign.set("user:9", "v")
    await store.enqueue("jobs", "j1", "p", due=0)  # internal keys stay invisible
    async with store.lock("user:lock"):
        await asyncio.sleep(0.15)
        assert sorted([k async for k in store.scan("user:")]) == [
            "user:*[x]?",
            "user:1",
            "user:2",
        ]
        assert sorted([k async for k in store.scan("user:*")]) == ["user:*[x]?"]
        assert sorted([k async for k in store.scan("")]) == [
            "chat:1",
            "user:*[x]?",
            "user:1",
            "user:2",
            "usex",
        ]
    assert [k async for k in foreign.scan("")] == ["user:9"]
    assert await foreign.get("user:1") is None


async def test_scan_many_keys(store: Store) -> None:
    await asyncio.gather(*(store.set(f"k:{i:04d}", "v") for i in range(1200)))
    keys = [k async for k in store.scan("k:")]
    assert len(keys) == 1200 and len(set(keys)) == 1200


async def test_values_roundtrip_unicode_and_large(store: Store) -> None:
    values = {
        "uni": "Привет, мир! 你好 🚀 \u0000 tab\tnl\n 'quote\" \\",
        "big": "x" * 100_000 + "ü",
        "empty": "",
        "json": '{"a": [1, 2, {"b": null}]}',
    }
    for k, v in values.items():
        await store.set(k, v)
    for k, v in values.items():
        assert await store.get(k) == v
    await store.set("ключ 🔑", "значение")
    assert await store.pop("ключ 🔑") == "значение"


async def test_ping(store: Store) -> None:
    assert await store.ping() is True


# -- locks ----------------------------------------------------------------------
async def test_lock_mutual_exclusion_across_processes(store: Store, make_store: MakeStore) -> None:
    """Two store objects on the same data stand in for two bot processes."""
    other = await make_store(type_kind(store))
    inside = 0
    overlaps = 0

    async def critical(s: Store) -> None:
        nonlocal inside, overlaps
        async with s.lock("chat:1", timeout=10, wait=10):
            inside += 1
            overlaps += inside > 1
            value = int(await s.get("counter") or 0)
            await asyncio.sleep(0.005)
            await s.set("counter", str(value + 1))
            inside -= 1

    await asyncio.gather(*(critical(store if i % 2 else other) for i in range(20)))
    assert await store.get("counter") == "20"
    assert overlaps == 0


async def test_lock_names_are_independent(store: Store) -> None:
    async with store.lock("a", wait=0), store.lock("b", wait=0):
        pass


async def test_lock_auto_expires_when_holder_dies(store: Store, make_store: MakeStore) -> None:
    other = await make_store(type_kind(store))
    dead = store.lock("chat:9", timeout=0.3)
    await dead.__aenter__()  # the holder "dies": it never releases
    t0 = time.monotonic()
    async with other.lock("chat:9", timeout=10, wait=5):
        waited = time.monotonic() - t0
        assert 0.2 <= waited < 2
        # The dead holder coming back must not release the new holder's lock.
        await dead.__aexit__(None, None, None)
        with pytest.raises(LockTimeout):
            async with store.lock("chat:9", wait=0):
                pass


async def test_a_renewed_lock_outlives_its_short_lease_while_held(
        store: Store, make_store: MakeStore) -> None:
    """A living holder keeps a short lease (the chat lock: a dead one frees it fast)."""
    other = await make_store(type_kind(store))
    async with store.lock("chat:11", timeout=0.3, renew=True):
        await asyncio.sleep(1.0)  # three leases long
        with pytest.raises(LockTimeout):
            async with other.lock("chat:11", wait=0):
                pass
    async with other.lock("chat:11", wait=0):
        pass


async def test_a_renewing_holder_that_dies_frees_the_lock_within_its_lease(
        store: Store, make_store: MakeStore) -> None:
    other = await make_store(type_kind(store))
    entered = asyncio.Event()

    async def holder() -> None:
        async with store.lock("chat:12", timeout=0.4, renew=True):
            entered.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(holder())
    await entered.wait()
    await asyncio.sleep(0.5)  # renewed at least once
    # The process "dies": its renewals stop, its release never comes.
    keepers = [t for t in asyncio.all_tasks() if t.get_coro().__qualname__.endswith("_keep")]
    for keeper in keepers:
        keeper.cancel()
    t0 = time.monotonic()
    async with other.lock("chat:12", timeout=5, wait=5):
        assert time.monotonic() - t0 < 1.5
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_lock_expires_for_same_process_waiters(store: Store) -> None:
    """A leaked holder must not wedge its own process past ``timeout`` either."""
    leaked = store.lock("chat:7", timeout=0.3)
    await leaked.__aenter__()
    t0 = time.monotonic()
    async with store.lock("chat:7", timeout=5, wait=5):
        assert 0.2 <= time.monotonic() - t0 < 2
    await leaked.__aexit__(None, None, None)


async def test_lock_released_when_holder_task_is_cancelled(store: Store) -> None:
    entered = asyncio.Event()

    async def holder() -> None:
        async with store.lock("chat:3", timeout=30):
            entered.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(holder())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with store.lock("chat:3", wait=0.5):
        pass


async def test_lock_timeout_when_wait_elapses(store: Store, make_store: MakeStore) -> None:
    other = await make_store(type_kind(store))
    async with store.lock("busy", timeout=10):
        for contender in (other, store):  # another process, and this one
            t0 = time.monotonic()
            with pytest.raises(LockTimeout):
                async with contender.lock("busy", wait=0.2):
                    pass
            assert 0.15 <= time.monotonic() - t0 < 1.5
        with pytest.raises(LockTimeout):
            async with other.lock("busy", wait=0):
                pass
    async with other.lock("busy", wait=0):  # free again
        pass


async def test_cancelled_lock_waiter_does_not_wedge(store: Store) -> None:
    async with store.lock("w", timeout=10):
        waiter = asyncio.create_task(store.lock("w", wait=10).__aenter__())
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
    async with store.lock("w", wait=0.5):
        pass


async def test_lock_rejects_bad_arguments(store: Store) -> None:
    with pytest.raises(ValueError):
        async with store.lock("x", timeout=0):
            pass
    with pytest.raises(ValueError):
        async with store.lock("x", wait=-1):
            pass


# -- enter: mark + lock + read in one step ----------------------------------------
async def test_enter_marks_locks_and_reads_once(store: Store) -> None:
    await store.set("flow:1", "step")
    await store.set("lang:1", "fr")
    entry = await store.enter("seen:10", 60, "chat:1", 10, ["flow:1", "lang:1", "link:1"])
    assert entry.fresh and entry.lease is not None
    assert entry.values == ("step", "fr", None)
    # The same mark again: a duplicate, and nothing else is done (no lock, no read).
    assert await store.enter("seen:10", 60, "chat:2", 10, ["flow:1"]) == Entry(fresh=False)
    async with store.lock("chat:2", wait=0):
        pass
    assert await store.release(entry.lease) is True
    assert await store.release(entry.lease) is False  # once


async def test_set_many_writes_every_key_with_its_ttl(store: Store) -> None:
    await store.set("b", "old")
    await store.set_many({"a": "1", "b": "2", "c": "é" * 1000}, ttl=30)
    assert await store.get_many("a", "b", "c") == ["1", "2", "é" * 1000]
    assert 29 < (await store.ttl("b") or 0) <= 30
    await store.set_many({"short": "x"}, ttl=0.2)
    await asyncio.sleep(0.35)
    assert await store.get("short") is None
    await store.set_many({})  # nothing to do
    with pytest.raises(ValueError):
        await store.set_many({"a": "1"}, ttl=0)


async def test_put_unmarked_writes_only_what_is_not_marked_and_deletes(store: Store) -> None:
    await store.set("seen:2", "1")  # update 2 is taken already
    await store.set("inbox:3", "old")
    await store.set("blocked:7", "1")
    written = await store.put_unmarked(
        [("seen:1", "inbox:1", "one"), ("seen:2", "inbox:2", "two"),
         ("seen:3", "inbox:3", "é" * 1000)], ttl=30, delete=["blocked:7", "blocked:8"])
    assert written == 2
    assert await store.get_many("inbox:1", "inbox:2", "inbox:3", "blocked:7") == [
        "one", None, "é" * 1000, None]
    assert 29 < (await store.ttl("inbox:1") or 0) <= 30
    # An expired mark no longer holds the write back; no ttl: kept for good.
    await store.set("seen:4", "1", ttl=0.2)
    await asyncio.sleep(0.35)
    assert await store.put_unmarked([("seen:4", "inbox:4", "four")]) == 1
    assert await store.get("inbox:4") == "four" and await store.ttl("inbox:4") is None
    assert await store.put_unmarked([]) == 0  # nothing to do
    with pytest.raises(ValueError):
        await store.put_unmarked([("seen:5", "inbox:5", "x")], ttl=0)


async def test_put_unmarked_never_writes_after_enter_marked_it(
        store: Store, make_store: MakeStore) -> None:
    """Racing ``enter`` from another process: the record exists only if it came first."""
    other = await make_store(type_kind(store))
    for n in range(20):
        recorded, entry = await asyncio.gather(
            store.put_unmarked([(f"seen:{n}", f"inbox:{n}", "record")], ttl=30),
            other.enter(f"seen:{n}", 60, f"chat:{n}", 10, []))
        assert entry.lease is not None
        await other.release(entry.lease, delete=[f"inbox:{n}"])
        # Written before the mark (then crossed out with the release) or not at all.
        assert await store.get(f"inbox:{n}") is None, (n, recorded)


async def test_release_deletes_the_work_record_with_the_lock(store: Store) -> None:
    await store.set("inbox:10", "record")
    await store.set("inbox:11", "kept")
    entry = await store.enter("seen:10", 60, "chat:1", 10, [])
    assert entry.lease is not None
    assert await store.release(entry.lease, delete=["inbox:10"]) is True
    assert await store.get_many("inbox:10", "inbox:11") == [None, "kept"]
    async with store.lock("chat:1", wait=0):
        pass


async def test_release_raises_a_time_with_the_lock_never_lowers_it(store: Store) -> None:
    """The chat's pace goes with the release of its lock, with its time to live, and only
    ever later: a later time set meanwhile stays."""
    await store.set("inbox:12", "record")
    await store.set("pace:3", "900")
    entry = await store.enter("seen:12", 60, "chat:2", 10, [])
    assert entry.lease is not None
    assert await store.release(entry.lease, delete=["inbox:12"],
                               raise_to=[("pace:2", 1_800_000_000_000_000, 0.3),
                                         ("pace:3", 500, 60)]) is True
    assert await store.get_many("inbox:12", "pace:2", "pace:3") == [
        None, "1800000000000000", "900"]
    await asyncio.sleep(0.5)
    assert await store.get("pace:2") is None  # its ttl ran out
    async with store.lock("chat:2", wait=0):
        pass


async def test_enter_reads_nothing_when_asked_nothing(store: Store) -> None:
    entry = await store.enter("seen:1", 60, "chat:1", 10, [])
    assert entry.fresh and entry.lease is not None and entry.values == ()
    await store.release(entry.lease)


async def test_enter_and_lock_exclude_each_other_across_processes(
        store: Store, make_store: MakeStore) -> None:
    other = await make_store(type_kind(store))
    async with other.lock("chat:5", timeout=10):
        busy = await store.enter("seen:1", 60, "chat:5", 10, ["flow:5"])
        assert busy.fresh and busy.lease is None and busy.values == ()
        # The mark is set all the same: a retry of that update is a duplicate.
        assert (await store.enter("seen:1", 60, "chat:5", 10, [])).fresh is False
    entry = await store.enter("seen:2", 60, "chat:5", 10, [])
    assert entry.lease is not None
    for contender in (other, store):  # another process, and this one
        with pytest.raises(LockTimeout):
            async with contender.lock("chat:5", wait=0.05):
                pass
    assert await store.release(entry.lease)
    async with other.lock("chat:5", wait=0):
        pass


async def test_enter_concurrent_single_winner(store: Store, make_store: MakeStore) -> None:
    other = await make_store(type_kind(store))
    entries = await asyncio.gather(*(
        (store if i % 2 else other).enter(f"seen:{i % 3}", 60, "chat:1", 10, [])
        for i in range(12)))
    assert sum(e.fresh for e in entries) == 3  # one per mark
    assert sum(e.lease is not None for e in entries) == 1  # one holder of the lock


async def test_an_entered_lease_expires_renews_and_fences(
        store: Store, make_store: MakeStore) -> None:
    other = await make_store(type_kind(store))
    entry = await store.enter("seen:1", 60, "chat:8", 0.4, [])
    assert entry.lease is not None
    await asyncio.sleep(0.2)
    assert await store.renew(entry.lease, 0.6) is True  # renewed before it ran out
    await asyncio.sleep(0.3)
    with pytest.raises(LockTimeout):  # still held past the first lease
        async with other.lock("chat:8", wait=0):
            pass
    # A holder that stops renewing loses the lock; it can neither renew nor release it then.
    async with other.lock("chat:8", timeout=10, wait=3):
        assert await store.renew(entry.lease, 10) is False
        assert await store.release(entry.lease) is False
        with pytest.raises(LockTimeout):
            async with store.lock("chat:8", wait=0):
                pass
    assert (await store.get("seen:1")) == "1"


async def test_enter_rejects_bad_arguments(store: Store) -> None:
    with pytest.raises(ValueError):
        await store.enter("seen:1", 60, "chat:1", 0, [])
    with pytest.raises(ValueError):
        await store.enter("seen:1", 0, "chat:1", 10, [])


# -- queues ---------------------------------------------------------------------
async def test_enqueue_is_idempotent(store: Store) -> None:
    assert await store.enqueue("q", "a", "p1", due=100) is True
    assert await store.enqueue("q", "a", "p2", due=0) is False
    assert await store.queue_size("q") == 1
    [item] = await store.claim("q", now=100, lease=10)
    assert (item.item_id, item.payload, item.attempts) == ("a", "p1", 0)


async def test_claim_only_due_items_and_respects_limit(store: Store) -> None:
    for i in range(5):
        await store.enqueue("q", f"due{i}", f"p{i}", due=100 + i)
    await store.enqueue("q", "future", "pf", due=1000)
    assert await store.claim("q", now=99, lease=10) == []
    first = await store.claim("q", now=200, lease=10, limit=3)
    assert len(first) == 3
    rest = await store.claim("q", now=200, lease=10, limit=10)
    assert {i.item_id for i in first + rest} == {f"due{i}" for i in range(5)}
    assert await store.claim("q", now=200, lease=10, limit=0) == []
    assert await store.queue_size("q") == 6
    assert await store.queue_size("other") == 0


async def test_claim_lease_hides_item_until_expiry(store: Store, make_store: MakeStore) -> None:
    other = await make_store(type_kind(store))
    await store.enqueue("q", "a", "p", due=100)
    [item] = await store.claim("q", now=100, lease=30)
    assert item.attempts == 0
    assert await other.claim("q", now=129, lease=30) == []  # leased
    [again] = await other.claim("q", now=130, lease=30)  # holder presumed dead
    assert (again.item_id, again.payload, again.attempts) == ("a", "p", 1)
    [third] = await store.claim("q", now=160, lease=30)
    assert third.attempts == 2


async def test_ack_removes(store: Store) -> None:
    await store.enqueue("q", "a", "p", due=0)
    await store.enqueue("q", "b", "p", due=0)
    claimed = {item.item_id: item for item in await store.claim("q", now=1, lease=5)}
    assert await store.ack("q", claimed["a"]) is True
    assert await store.ack("q", QueueItem("missing", "p", 0)) is False  # no-op
    assert await store.queue_size("q") == 1
    [b] = await store.claim("q", now=100, lease=5)
    assert b.item_id == "b"
    assert await store.ack("q", b) is True
    assert await store.enqueue("q", "a", "again", due=0) is True  # acked id can be reused
    [item] = await store.claim("q", now=200, lease=5)
    assert (item.item_id, item.payload, item.attempts) == ("a", "again", 0)


async def test_a_stale_claim_can_neither_ack_nor_retry(store: Store) -> None:
    """A consumer whose lease ran out must not finish or reschedule the next one's work."""
    await store.enqueue("q", "report-42", "p", due=0)
    [slow] = await store.claim("q", now=10, lease=5)      # this consumer stalls...
    [fresh] = await store.claim("q", now=20, lease=5)     # ...the item is re-claimed
    assert await store.ack("q", slow) is False            # the late ack changes nothing
    assert await store.retry("q", slow, due=0) is False
    assert await store.queue_size("q") == 1
    assert await store.claim("q", now=21, lease=5) == []  # still leased to the fresh claim
    assert await store.ack("q", fresh) is True
    assert await store.queue_size("q") == 0


async def test_retry_reschedules(store: Store) -> None:
    await store.enqueue("q", "a", "p", due=0)
    [first] = await store.claim("q", now=10, lease=1000)
    assert await store.retry("q", first, due=50) is True  # released before the lease ends
    assert await store.claim("q", now=49, lease=5) == []
    [item] = await store.claim("q", now=50, lease=5)
    assert item.attempts == 1
    assert await store.ack("q", item) is True
    assert await store.retry("q", item, due=0) is False  # retry after ack: no resurrection
    assert await store.queue_size("q") == 0
    assert await store.claim("q", now=1000, lease=5) == []


async def test_concurrent_consumers_never_share_an_item(
    store: Store, make_store: MakeStore
) -> None:
    other = await make_store(type_kind(store))
    ids = [f"job{i:03d}" for i in range(150)]
    for i, item_id in enumerate(ids):
        await store.enqueue("out", item_id, f"payload {i}", due=i % 7)
    claimed: list[str] = []

    async def consumer(s: Store) -> None:
        while batch := await s.claim("out", now=10, lease=60, limit=7):
            claimed.extend(i.item_id for i in batch)

    await asyncio.gather(*(consumer(store if n % 2 else other) for n in range(6)))
    assert sorted(claimed) == ids  # every item once, none twice


# -- real processes -------------------------------------------------------------
_WORKER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from bot.storage import RedisStore, SQLiteStore

    async def main(kind, where, ns, n):
        if kind == "sqlite":
            s = await SQLiteStore.open(Path(where), namespace=ns)
        else:
            s = await RedisStore.connect(where, namespace=ns)

        async def task():
            for _ in range(n):
                async with s.lock("mp", timeout=10, wait=30):
                    v = int(await s.get("counter") or 0)
                    await asyncio.sleep(0.001)
                    await s.set("counter", str(v + 1))

        await asyncio.gather(task(), task(), task())
        await s.close()

    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
    """
)


async def test_lock_across_os_processes(
    store_kind: str, make_store: MakeStore, store_namespace: str, tmp_path: Path
) -> None:
    s = await make_store(store_kind)  # creates the file / namespace
    where = str(tmp_path / "store.sqlite3") if store_kind == "sqlite" else REDIS_URL
    n = 15
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _WORKER,
            store_kind,
            where,
            store_namespace,
            str(n),
            cwd=ROOT,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for p in procs:
        _, err = await asyncio.wait_for(p.communicate(), timeout=60)
        assert p.returncode == 0, err.decode()
    assert await s.get("counter") == str(2 * 3 * n)


# -- factory --------------------------------------------------------------------
async def test_open_store_picks_backend(tmp_path: Path, store_namespace: str) -> None:
    data_dir = tmp_path / "data" / "nested"
    s = await open_store(None, data_dir, namespace=store_namespace)
    try:
        assert isinstance(s, SQLiteStore)
        assert (data_dir / "crmbot.sqlite3").exists()
        assert await s.ping()
    finally:
        await s.close()
    r = await open_store(REDIS_URL, data_dir, namespace=store_namespace)
    try:
        assert isinstance(r, RedisStore)
        assert await r.ping()
    finally:
        await r.close()


def type_kind(s: Store) -> str:
    """The fixture kind of a store object (to open a sibling of the same kind)."""
    return "sqlite" if isinstance(s, SQLiteStore) else "redis"
