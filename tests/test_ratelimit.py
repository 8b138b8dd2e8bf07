"""The send limiter (bot/ratelimit.py): overall rate shared by processes, 1 message a second
per chat, 429 and 403, and what is never delayed. Real stores (SQLite and Redis); a
controllable clock where timing matters, two limiter instances for two processes."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable, Coroutine
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from cryptography.fernet import Fernet
from telegram.error import Forbidden, RetryAfter

from bot import keys
from bot.inbox import Inbox
from bot.ratelimit import HEADROOM, SendLimiter
from bot.scope import ChatScopes
from bot.services.sessions import SessionRepo
from bot.services.vault import TokenVault
from bot.storage import Store
from tests.store_fixtures import MakeStore

redis_only = pytest.mark.parametrize("store_kind", ["redis"])


class FakeClock:
    """Time that moves only when the limiter sleeps (one task at a time)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []
        self.oversleep = 0.0  # a loaded machine: every sleep ends this much late

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds) + self.oversleep
        await asyncio.sleep(0)


class FakeApi:
    """The Bot API behind the limiter: records when each call went out."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.calls: list[tuple[float, str, Any]] = []
        self.errors: list[Exception] = []

    async def call(self, limiter: SendLimiter, endpoint: str, chat: Any = None,
                   retries: int | None = None) -> Any:
        data = {} if chat is None else {"chat_id": chat}

        def callback() -> Coroutine[Any, Any, Any]:
            async def run() -> Any:
                self.calls.append((self.clock(), endpoint, chat))
                if self.errors:
                    raise self.errors.pop(0)
                return {"ok": True}
            return run()

        return await limiter.process_request(callback, (), {}, endpoint, data, retries)


def limiter(store: Store, clock: FakeClock | None = None, *, rate: float = 30) -> SendLimiter:
    if clock is None:
        return SendLimiter.for_store(store, rate=rate)
    return SendLimiter.for_store(store, rate=rate, clock=clock, sleep=clock.sleep)


def most_in_one_second(times: list[float]) -> int:
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


# -- the overall rate ---------------------------------------------------------------------

@redis_only
async def test_two_processes_share_the_overall_rate(store: Store,
                                                    make_store: MakeStore) -> None:
    """Two limiters (two processes) on one Redis, each sending as fast as it may to
    distinct chats: together they stay within the rate."""
    rate, per_process = 20, 30
    a = limiter(store, rate=rate)
    b = limiter(await make_store("redis"), rate=rate)
    api = FakeApi(time.monotonic)
    started = time.monotonic()
    await asyncio.gather(
        *(api.call(a, "sendMessage", 1000 + i) for i in range(per_process)),
        *(api.call(b, "sendMessage", 2000 + i) for i in range(per_process)))
    elapsed = time.monotonic() - started
    times = [t for t, _, _ in api.calls]
    assert len(times) == 2 * per_process
    assert most_in_one_second(times) <= rate + 2  # loaded CI machine: a little jitter
    # Shared, not 20/s each: 60 messages at 20/s take about 3 s (2.5 if leases overlap).
    assert elapsed >= (2 * per_process - rate) / rate - 0.1


async def test_the_overall_rate_in_one_process(store: Store) -> None:
    clock = FakeClock()
    one = limiter(store, clock, rate=10)
    api = FakeApi(clock)
    for i in range(35):
        await api.call(one, "sendMessage", 5000 + i)
    times = [t for t, _, _ in api.calls]
    assert most_in_one_second(times) <= 10
    # 35 slots, 1/rate apart, with the schedule's headroom under the rate
    assert times[-1] - times[0] == pytest.approx(34 / (10 * HEADROOM), abs=0.01)


async def test_a_late_wake_up_never_crowds_a_second(store: Store) -> None:
    """On a loaded machine a sleep ends late: the late slot is dropped, not used, so no
    second gets more than the rate."""
    clock = FakeClock()
    clock.oversleep = 0.05
    one = limiter(store, clock, rate=10)
    api = FakeApi(clock)
    for i in range(40):
        await api.call(one, "sendMessage", 5000 + i)
    assert most_in_one_second([t for t, _, _ in api.calls]) <= 10


async def test_rate_zero_means_no_overall_limit(store: Store) -> None:
    clock = FakeClock()
    one = limiter(store, clock, rate=0)
    api = FakeApi(clock)
    for i in range(100):
        await api.call(one, "sendMessage", 5000 + i)
    assert clock.slept == []


# -- one chat -----------------------------------------------------------------------------

async def test_one_message_a_second_per_chat_and_other_chats_are_not_slowed(
        store: Store) -> None:
    clock = FakeClock()
    one = limiter(store, clock)
    api = FakeApi(clock)
    t0 = clock.now
    await api.call(one, "sendMessage", 42)
    await api.call(one, "sendMessage", 42)  # paced: a second after the first
    await api.call(one, "sendMessage", 43)  # another chat: no wait of its own
    await api.call(one, "sendMessage", 42)
    [(a, _, _), (b, _, _), (c, _, _), (d, _, _)] = api.calls
    assert a == pytest.approx(t0, abs=0.05)
    assert b - a == pytest.approx(1.0, abs=0.05)
    assert c - b < 0.1
    assert d - b == pytest.approx(1.0, abs=0.05)


async def test_a_busy_chat_does_not_hold_up_the_others(store: Store) -> None:
    """Concurrent sends (real time): chat 1 gets three messages a second apart in order,
    while forty other chats are served at once."""
    one = limiter(store, rate=0)
    api = FakeApi(time.monotonic)
    started = time.monotonic()
    await asyncio.gather(*(api.call(one, "sendMessage", 1) for _ in range(3)),
                         *(api.call(one, "sendMessage", 100 + i) for i in range(40)))
    mine = [t for t, _, chat in api.calls if chat == 1]
    others = [t for t, _, chat in api.calls if chat != 1]
    assert [round(t - mine[0]) for t in mine] == [0, 1, 2]
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(mine))  # store round trips
    assert max(others) - started < 0.5


@redis_only
async def test_pacing_of_a_chat_holds_across_processes(store: Store,
                                                       make_store: MakeStore) -> None:
    clock = FakeClock()
    a, b = limiter(store, clock), limiter(await make_store("redis"), clock)
    api = FakeApi(clock)
    await api.call(a, "sendMessage", 42)
    await api.call(b, "sendMessage", 42)  # the other process waits the chat's second
    await api.call(b, "sendMessage", 7)
    [(t1, _, _), (t2, _, _), (t3, _, _)] = api.calls
    assert t2 - t1 == pytest.approx(1.0, abs=0.05)
    assert t3 - t2 < 0.1


# -- what is never delayed ----------------------------------------------------------------

async def test_answering_a_button_is_never_delayed(store: Store) -> None:
    clock = FakeClock()
    one = limiter(store, clock, rate=1)
    api = FakeApi(clock)
    await api.call(one, "sendMessage", 42)
    # The overall slot and the chat's second are taken, and a 429 pauses everything:
    api.errors.append(RetryAfter(30))
    with pytest.raises(RetryAfter):
        await api.call(one, "sendMessage", 43, retries=0)
    slept = len(clock.slept)
    for endpoint in ("answerCallbackQuery", "getUpdates", "deleteMessage", "getMe",
                     "setMyCommands", "sendChatAction"):
        await api.call(one, endpoint, 42)
    assert clock.slept[slept:] == []
    assert [e for _, e, _ in api.calls[-6:]] == [
        "answerCallbackQuery", "getUpdates", "deleteMessage", "getMe", "setMyCommands",
        "sendChatAction"]


async def test_an_edit_after_a_message_is_not_paced_per_chat(store: Store) -> None:
    """A button press answered by an edit: counted in the overall rate, not held a second
    behind the chat's previous message."""
    clock = FakeClock()
    one = limiter(store, clock)
    api = FakeApi(clock)
    await api.call(one, "sendMessage", 42)
    await api.call(one, "editMessageText", 42)
    await api.call(one, "editMessageText", 42)
    times = [t for t, _, _ in api.calls]
    assert times[-1] - times[0] < 0.1


# -- 429 ----------------------------------------------------------------------------------

async def test_429_waits_retry_after_then_succeeds(store: Store) -> None:
    clock = FakeClock()
    one = limiter(store, clock)
    api = FakeApi(clock)
    api.errors.append(RetryAfter(3))
    assert await api.call(one, "sendMessage", 42) == {"ok": True}
    [(first, _, _), (second, _, _)] = api.calls
    assert second - first == pytest.approx(3.1, abs=0.05)


async def test_429_retries_are_bounded(store: Store) -> None:
    clock = FakeClock()
    one = limiter(store, clock)
    api = FakeApi(clock)
    api.errors.extend([RetryAfter(1), RetryAfter(1), RetryAfter(1)])
    with pytest.raises(RetryAfter):
        await api.call(one, "sendMessage", 42)
    assert len(api.calls) == 3  # the call and its two retries


async def test_a_long_retry_after_is_not_waited_for_but_pauses_everyone(store: Store) -> None:
    clock = FakeClock()
    one = limiter(store, clock)
    api = FakeApi(clock)
    api.errors.append(RetryAfter(600))
    with pytest.raises(RetryAfter):
        await api.call(one, "sendMessage", 42)
    assert len(api.calls) == 1 and clock.slept == []
    await api.call(one, "sendMessage", 43)
    assert api.calls[1][0] - api.calls[0][0] == pytest.approx(600.1, abs=0.05)


@redis_only
async def test_429_makes_every_process_back_off(store: Store, make_store: MakeStore) -> None:
    clock = FakeClock()
    a, b = limiter(store, clock), limiter(await make_store("redis"), clock)
    api = FakeApi(clock)
    api.errors.append(RetryAfter(5))
    with pytest.raises(RetryAfter):
        await api.call(a, "sendMessage", 42, retries=0)
    hit = api.calls[0][0]
    await api.call(b, "sendMessage", 43)  # another process, another chat: it waits too
    assert api.calls[1][0] - hit == pytest.approx(5.1, abs=0.05)


# -- 403 ----------------------------------------------------------------------------------

async def test_a_chat_that_blocked_the_bot_is_skipped_until_it_writes_again(
        store: Store, make_store: MakeStore, store_kind: str) -> None:
    clock = FakeClock()
    one = limiter(store, clock)
    api = FakeApi(clock)
    api.errors.append(Forbidden("Forbidden: bot was blocked by the user"))
    with pytest.raises(Forbidden):
        await api.call(one, "sendMessage", 42)
    assert await store.get(keys.blocked(42)) is not None
    clock.now += 5
    with pytest.raises(Forbidden, match="known; not sent"):
        await api.call(one, "sendMessage", 42)
    assert len(api.calls) == 1 and one.skipped == 1  # Telegram was not called again
    if store_kind == "redis":  # another process skips it too
        other = limiter(await make_store("redis"), clock)
        with pytest.raises(Forbidden, match="known; not sent"):
            await api.call(other, "sendMessage", 42)
    await api.call(one, "sendMessage", 43)  # other chats are unaffected
    # The user writes again: the update is recorded, the mark goes.
    await Inbox(store, idle_lock=3600).record([{
        "update_id": 9001, "message": {"message_id": 5, "date": 0, "text": "bonjour",
                                       "chat": {"id": 42, "type": "private"},
                                       "from": {"id": 42, "is_bot": False,
                                                "first_name": "Camille"}}}])
    assert await store.get(keys.blocked(42)) is None
    clock.now += 5
    assert await api.call(one, "sendMessage", 42) == {"ok": True}
    await store.delete(keys.inbox(9001))


# -- an update's answer: its chat's check read with its session ---------------------------

def scopes_on(store: Store) -> ChatScopes:
    sessions = SessionRepo(store, default_lang="fr", tz=ZoneInfo("Europe/Paris"),
                           vault=TokenVault([Fernet.generate_key()]))
    return ChatScopes(store, sessions)


class CountedChecks:
    """Counts the store round trips the limiter makes to check a chat."""

    def __init__(self, limiter: SendLimiter) -> None:
        self.count = 0
        check = limiter.gate.check_chat

        async def counted(*args: Any) -> Any:
            self.count += 1
            return await check(*args)

        limiter.gate.check_chat = counted  # type: ignore[method-assign]


@redis_only
async def test_an_answer_checks_its_chat_with_the_session_and_pacing_still_holds(
        store: Store, make_store: MakeStore) -> None:
    """The answer to an update goes without a round trip of its own to check its chat (the
    keys came with the session, its pace is written with the release), yet a second
    process still waits the chat's second, and a second message in the same update does
    too."""
    clock = FakeClock()
    a, b = limiter(store, clock, rate=0), limiter(await make_store("redis"), clock, rate=0)
    checks = CountedChecks(a)
    api = FakeApi(clock)
    scopes = scopes_on(store)
    async with scopes.update_scope(7001, 42, 42, peek=a.peek_keys(42)) as session:
        assert session is not None
        await api.call(a, "sendMessage", 42)
        assert checks.count == 0
        await api.call(a, "sendMessage", 42)  # same update, second message: paced
    # The chat's "next at" went to the store with the chat's lock: another process waits.
    await api.call(b, "sendMessage", 42)
    [(t1, _, _), (t2, _, _), (t3, _, _)] = api.calls
    assert t2 - t1 == pytest.approx(1.0, abs=0.05)
    assert t3 - t2 == pytest.approx(1.0, abs=0.05)


@redis_only
async def test_an_answer_read_ahead_still_waits_for_the_chat_and_skips_a_blocked_one(
        store: Store, make_store: MakeStore) -> None:
    clock = FakeClock()
    a, b = limiter(store, clock, rate=0), limiter(await make_store("redis"), clock, rate=0)
    api = FakeApi(clock)
    scopes = scopes_on(store)
    await api.call(b, "sendMessage", 42)  # another process answered the chat just now
    async with scopes.update_scope(7002, 42, 42, peek=a.peek_keys(42)):
        await api.call(a, "sendMessage", 42)
    [(t1, _, _), (t2, _, _)] = api.calls
    assert t2 - t1 == pytest.approx(1.0, abs=0.05)
    await store.set(keys.blocked(43), "1", 60)  # the user of chat 43 blocked the bot
    async with scopes.update_scope(7003, 43, 43, peek=a.peek_keys(43)):
        with pytest.raises(Forbidden, match="known; not sent"):
            await api.call(a, "sendMessage", 43)
    assert len(api.calls) == 2 and a.skipped == 1
