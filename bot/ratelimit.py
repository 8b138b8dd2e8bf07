"""Within Telegram's limits across processes: our PTB rate limiter (``BaseRateLimiter``).

PTB's ``AIORateLimiter`` lives in one process (two bot processes send twice the rate)
and does not pace private chats. ``SendLimiter`` does both, through the store:

- **Overall rate** ``TELEGRAM_SEND_RATE`` messages/s for the whole bot (0: none). On
  Redis it is one schedule shared by every process (GCRA: the key holds the next free
  slot); a process *leases* ``batch`` consecutive slots at once (one Lua script), so on
  average a send costs a tenth of a round trip for it. Each slot is used at its time, or
  dropped when it is ``STALE`` seconds late (an idle process never bursts old slots). On
  the embedded SQLite store (one process) the schedule is in memory.
- **One chat** gets at most one message per ``CHAT_INTERVAL`` (1 s; 3 s for a group,
  Telegram's 20 per minute): a per-chat "next allowed at" key, checked and moved in the
  same Lua script that reads the blocked mark and the global pause (one round trip per
  send to a chat). In-process, sends to one chat go out in FIFO order. An update's
  first send to its own chat skips that round trip: the three keys were read with the
  chat's session when its scope opened, under the chat's lock (``peek_keys``,
  ``bot.scope.PEEKED``), and the chat's "next at" is written with the lock's release.
- **429**: ``RetryAfter`` pauses *every* process (a global "paused until" key) and the
  request is retried after it, at most ``max_retries`` times (none when Telegram asks
  for more than ``MAX_RETRY_WAIT``: the caller gets the ``RetryAfter`` at once).
- **403**: a chat whose user blocked the bot is marked (``keys.blocked``); later sends
  to it raise ``Forbidden`` at once without calling Telegram (logged). The mark goes
  when that chat writes again (``Inbox.record``).

What is limited, by Bot API method:

- *sends to a chat* (``sendMessage``, ``sendVenue``, ``sendContact``, ``sendDocument``,
  the other ``send*`` except ``sendChatAction``, ``copyMessage``, ``forwardMessage``):
  the overall rate and the chat's pacing;
- *edits* (``editMessage*``): the overall rate only. A button press is answered by
  editing the pressed message; pacing it after the previous message would make every
  press after a reply wait up to a second, for little: a person presses a button at
  most every second or so, and the chat's updates are handled one at a time. Telegram
  tolerates such short bursts in a chat. An edit does not move the chat's "next at";
- everything else (``getUpdates``, ``answerCallbackQuery``, ``deleteMessage``,
  ``sendChatAction``, ``setMyCommands``, ``getMe``, ``getFile``…): not limited, never
  delayed.

Clocks: the schedule uses each process's wall clock (``time.time``), so hosts sharing
one Redis need synchronized clocks (NTP); tests pass a controllable ``clock``/``sleep``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

from telegram.error import Forbidden, RetryAfter
from telegram.ext import BaseRateLimiter

from bot import keys
from bot.scope import PEEKED
from bot.storage import RedisStore, Store

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]
Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: A private chat: one message a second. A group: 20 a minute.
CHAT_INTERVAL = 1.0
GROUP_INTERVAL = 3.0
#: A leased overall slot this late is dropped rather than used (no burst of old slots).
STALE = 0.03
#: The schedule runs this much under ``rate``: a message sent a few milliseconds late
#: (event loop, network) must not make some second hold more than ``rate`` at Telegram.
HEADROOM = 0.95
BLOCKED_TTL = keys.BLOCKED_TTL
#: Margin added to Telegram's retry_after.
RETRY_MARGIN = 0.1
#: A longer retry_after is not waited for here (a reply would hold its chat that long):
#: every process still pauses, and the caller gets the RetryAfter at once.
MAX_RETRY_WAIT = 30.0

_NOT_A_MESSAGE = frozenset({"sendChatAction"})
_CHAT_SENDS_EXTRA = frozenset({"copyMessage", "copyMessages", "forwardMessage",
                               "forwardMessages"})


def kind_of(endpoint: str) -> str:
    """``"chat"`` (a message to a chat), ``"overall"`` (an edit) or ``"free"``."""
    if (endpoint.startswith("send") and endpoint not in _NOT_A_MESSAGE) \
            or endpoint in _CHAT_SENDS_EXTRA:
        return "chat"
    if endpoint.startswith("editMessage") or endpoint == "stopMessageLiveLocation":
        return "overall"
    return "free"


@dataclass(frozen=True, slots=True)
class ChatCheck:
    """The store's answer before a send to a chat. ``until`` is an epoch time."""

    blocked: bool = False
    paused_until: float = 0.0  # every process waits until then (a 429)
    chat_until: float = 0.0  # the chat's next message is allowed then
    # all zero and not blocked: the send may go now (the chat's "next at" was moved)


class Gate(ABC):
    """Where the shared state lives: Redis (every process) or this process."""

    @abstractmethod
    async def lease(self, n: int, interval: float, now: float) -> float:
        """Reserve ``n`` overall slots ``interval`` apart; the first one's time."""

    @abstractmethod
    async def check_chat(self, chat: str, interval: float, now: float) -> ChatCheck:
        """Blocked? Paused? Too soon for the chat? Else take the chat's slot at ``now``."""

    @abstractmethod
    async def hold_chat(self, chat: str, until: float, now: float) -> None:
        """The chat's next message may not go before ``until`` (pushed later only)."""

    @abstractmethod
    async def pause(self, until: float, now: float) -> None:
        """Every process holds its requests until ``until`` (a 429)."""

    @abstractmethod
    async def paused_until(self) -> float:
        """The current global pause (0: none)."""

    @abstractmethod
    async def block(self, chat: str) -> None:
        """Mark the chat as having blocked the bot."""

    def peek_keys(self, chat: str) -> tuple[str, str, str] | None:
        """The store keys ``check_chat`` reads (blocked mark, pause, chat's next), when
        they can be read ahead with the chat's session; None: ask ``check_chat``."""
        return None

    @staticmethod
    def peeked_check(values: Sequence[str | None], now: float) -> ChatCheck | None:
        """``check_chat``'s answer from the ``peek_keys`` values; None: go."""
        blocked, pause, nxt = values
        if blocked is not None:
            return ChatCheck(blocked=True)
        if pause is not None and int(pause) / 1_000_000 > now:
            return ChatCheck(paused_until=int(pause) / 1_000_000)
        if nxt is not None and int(nxt) / 1_000_000 > now:
            return ChatCheck(chat_until=int(nxt) / 1_000_000)
        return None


class LocalGate(Gate):
    """One process (the embedded SQLite store): the schedule in memory, the blocked
    marks in the store (so an incoming message clears them as on Redis)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._next_slot = 0.0
        self._pause = 0.0
        self._chat_next: dict[str, float] = {}

    async def lease(self, n: int, interval: float, now: float) -> float:
        start = max(now, self._next_slot, self._pause)
        self._next_slot = start + n * interval
        return start

    async def check_chat(self, chat: str, interval: float, now: float) -> ChatCheck:
        if await self.store.get(keys.blocked(chat)) is not None:
            return ChatCheck(blocked=True)
        if self._pause > now:
            return ChatCheck(paused_until=self._pause)
        nxt = self._chat_next.get(chat, 0.0)
        if nxt > now:
            return ChatCheck(chat_until=nxt)
        if len(self._chat_next) > 10_000:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        self._chat_next[chat] = now + interval
        return ChatCheck()

    async def hold_chat(self, chat: str, until: float, now: float) -> None:
        self._chat_next[chat] = max(self._chat_next.get(chat, 0.0), until)

    async def pause(self, until: float, now: float) -> None:
        self._pause = max(self._pause, until)

    async def paused_until(self) -> float:
        return self._pause

    async def block(self, chat: str) -> None:
        await self.store.set(keys.blocked(chat), "1", BLOCKED_TTL)


# Times are integer microseconds (exact in Lua's doubles, returned as Redis integers).
# KEYS: schedule, pause. ARGV: now, interval, n, ttl (ms). Returns the first slot.
_LUA_LEASE = """
local now = tonumber(ARGV[1])
local start = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'),
                       tonumber(redis.call('GET', KEYS[2]) or '0'))
redis.call('SET', KEYS[1], start + tonumber(ARGV[3]) * tonumber(ARGV[2]), 'PX', ARGV[4])
return start
"""

# KEYS: blocked mark, pause, chat's next. ARGV: now, interval, ttl (ms).
# Returns {0, 0} (go: the chat's next is moved), {1, 0} blocked, {2, t} paused, {3, t} too soon.
_LUA_CHAT = """
if redis.call('EXISTS', KEYS[1]) == 1 then return {1, 0} end
local now = tonumber(ARGV[1])
local pause = tonumber(redis.call('GET', KEYS[2]) or '0')
if pause > now then return {2, pause} end
local nxt = tonumber(redis.call('GET', KEYS[3]) or '0')
if nxt > now then return {3, nxt} end
redis.call('SET', KEYS[3], now + tonumber(ARGV[2]), 'PX', ARGV[3])
return {0, 0}
"""

# KEYS: a time (the pause, a chat's next). ARGV: until, ttl (ms). Only ever pushed later.
_LUA_LATER = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1
"""


def _us(t: float) -> int:
    return int(t * 1_000_000)


def _ttl_ms(seconds: float) -> int:
    return max(1000, math.ceil(seconds * 1000) + 1000)


class RedisGate(Gate):
    """Every process on one Redis shares the schedule, the chats' pacing and the pause."""

    def __init__(self, store: RedisStore) -> None:
        self.store = store
        client = store.client
        self._lease = client.register_script(_LUA_LEASE)
        self._chat = client.register_script(_LUA_CHAT)
        self._later = client.register_script(_LUA_LATER)
        self._schedule_key = store.full_key(keys.send_schedule())
        self._pause_key = store.full_key(keys.send_pause())

    async def lease(self, n: int, interval: float, now: float) -> float:
        start = await self._lease(keys=[self._schedule_key, self._pause_key],
                                  args=[_us(now), _us(interval), n,
                                        _ttl_ms(n * interval + 60)])
        return int(start) / 1_000_000

    async def check_chat(self, chat: str, interval: float, now: float) -> ChatCheck:
        code, at = await self._chat(
            keys=[self.store.full_key(keys.blocked(chat)), self._pause_key,
                  self.store.full_key(keys.chat_pace(chat))],
            args=[_us(now), _us(interval), _ttl_ms(interval)])
        code, when = int(code), int(at) / 1_000_000
        if code == 1:
            return ChatCheck(blocked=True)
        if code == 2:
            return ChatCheck(paused_until=when)
        if code == 3:
            return ChatCheck(chat_until=when)
        return ChatCheck()

    async def hold_chat(self, chat: str, until: float, now: float) -> None:
        await self._later(keys=[self.store.full_key(keys.chat_pace(chat))],
                          args=[_us(until), _ttl_ms(until - now)])

    async def pause(self, until: float, now: float) -> None:
        await self._later(keys=[self._pause_key], args=[_us(until), _ttl_ms(until - now)])

    async def paused_until(self) -> float:
        raw = await self.store.client.get(self._pause_key)
        return 0.0 if raw is None else int(raw) / 1_000_000

    async def block(self, chat: str) -> None:
        await self.store.set(keys.blocked(chat), "1", BLOCKED_TTL)

    def peek_keys(self, chat: str) -> tuple[str, str, str]:
        return keys.blocked(chat), keys.send_pause(), keys.chat_pace(chat)


class SendLimiter(BaseRateLimiter[int]):
    """PTB's rate limiter for this bot: see the module's docstring.

    ``rate``: messages/s for the whole bot (0: no overall limit). ``batch``: overall
    slots leased per store round trip. ``max_retries``: retries after a 429.
    ``rate_limit_args`` (PTB's per-call argument) overrides ``max_retries``.
    """

    def __init__(self, gate: Gate, *, rate: float = 30, batch: int = 10,
                 max_retries: int = 2, clock: Clock = time.time,
                 sleep: Sleep = asyncio.sleep) -> None:
        self.gate = gate
        self.rate = rate
        self.interval = 1.0 / (rate * HEADROOM) if rate > 0 else 0.0
        self.batch = max(1, min(batch, int(rate) or 1))
        self.max_retries = max_retries
        self.clock = clock
        self.sleep = sleep
        self._slots: collections.deque[float] = collections.deque()
        self._leasing = asyncio.Lock()
        self._pause = 0.0  # what this process knows of the global pause
        self._chat_next: dict[str, float] = {}  # what this process knows of chats' pacing
        self._chat_locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self.skipped = 0  # sends not made to chats that blocked the bot

    def peek_keys(self, chat_id: int) -> Sequence[str]:
        """What the chat pipeline reads ahead for an update of ``chat_id``."""
        return self.gate.peek_keys(str(chat_id)) or ()

    @classmethod
    def for_store(cls, store: Store, *, rate: float, **kwargs: Any) -> SendLimiter:
        """Shared through Redis, or in this process on the embedded store."""
        gate: Gate = RedisGate(store) if isinstance(store, RedisStore) else LocalGate(store)
        return cls(gate, rate=rate, **kwargs)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        kind = kind_of(endpoint)
        if kind == "free":
            return await callback(*args, **kwargs)
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        chat_id = data.get("chat_id")
        chat = None if kind != "chat" or chat_id is None else str(chat_id)
        if chat is None:
            return await self._with_retries(callback, args, kwargs, endpoint, None, retries)
        async with self._chat_turn(chat):
            return await self._with_retries(callback, args, kwargs, endpoint, chat, retries)

    async def _with_retries(
        self, callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any, kwargs: dict[str, Any], endpoint: str, chat: str | None, retries: int,
    ) -> bool | JSONDict | list[JSONDict]:
        attempt = 0
        while True:
            if chat is None:
                await self._wait_pause()
                await self._take_slot()
            else:
                await self._clear_for_chat(chat, endpoint)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = exc._retry_after.total_seconds() + RETRY_MARGIN
                now = self.clock()
                self._pause = max(self._pause, now + wait)
                await self.gate.pause(now + wait, now)
                if attempt >= retries or wait > MAX_RETRY_WAIT:
                    log.warning("%s: 429, retry after %.0fs; giving up after %d retries",
                                endpoint, wait, attempt)
                    raise
                attempt += 1
                log.info("%s: 429, every process waits %.1fs (retry %d/%d)",
                         endpoint, wait, attempt, retries)
            except Forbidden:
                if chat is not None:
                    await self.gate.block(chat)
                    log.info("chat %s blocked the bot (403): marked; later sends are "
                             "skipped until it writes again", chat)
                raise

    async def _clear_for_chat(self, chat: str, endpoint: str) -> None:
        """Wait until this message may go to ``chat``: the pause, the chat's pacing, an
        overall slot; one store round trip (plus a lease every ``batch`` sends)."""
        while True:
            now = self.clock()
            wait = max(self._pause, self._chat_next.get(chat, 0.0)) - now
            if wait > 0:
                await self.sleep(wait)
                continue
            slot = await self._take_slot()
            now = self.clock()
            interval = self._chat_interval(chat)
            check = self._peeked(chat, interval, now)
            if check is None:
                check = await self.gate.check_chat(chat, interval, now)
            if check.blocked:
                self.skipped += 1
                log.info("chat %s blocked the bot: %s not sent", chat, endpoint)
                raise Forbidden("Forbidden: bot was blocked by the user (known; not sent)")
            if check.paused_until > now:
                self._pause = max(self._pause, check.paused_until)
                continue  # the slot is lost; every process waits
            if check.chat_until > now:
                self._chat_next[chat] = check.chat_until  # another process sent there
                continue
            if self.clock() - slot > STALE:
                # The round trip made the slot late (a loaded machine): sending now could
                # crowd the second after it. Take the next slot; the chat is held till then.
                await self._take_slot()
                now = self.clock()
                await self.gate.hold_chat(chat, now + interval, now)
            self._remember_chat(chat, now + interval, now)
            return

    def _peeked(self, chat: str, interval: float, now: float) -> ChatCheck | None:
        """The chat's check from the keys read when the update's scope opened, once per
        update (None: ask the store). On a go, the chat's "next at" is written with the
        scope's release: the chat's lock, held until then, keeps any other update of it
        from sending in between."""
        names = self.gate.peek_keys(chat)
        peeked = PEEKED.get()
        if names is None or peeked is None:
            return None
        _, _, pace = names  # the chat's next send time: read once, written at release
        if pace not in peeked.values:
            return None  # not this update's chat, or used already
        values = [peeked.values.get(name) for name in names]
        del peeked.values[pace]
        check = self.gate.peeked_check(values, now)
        if check is not None:
            return check
        peeked.raises.append((pace, _us(now + interval), _ttl_ms(interval) / 1000))
        return ChatCheck()

    @staticmethod
    def _chat_interval(chat: str) -> float:
        return GROUP_INTERVAL if chat.startswith(("-", "@")) else CHAT_INTERVAL

    def _remember_chat(self, chat: str, until: float, now: float) -> None:
        if len(self._chat_next) > 10_000:
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        self._chat_next[chat] = until

    async def _wait_pause(self) -> None:
        while (wait := self._pause - self.clock()) > 0:
            await self.sleep(wait)

    async def _take_slot(self) -> float:
        """Wait for one overall slot (leased from the store ``batch`` at a time); its time.
        A slot is used within ``STALE`` of its time or not at all, except after a second
        late wake-up in a row (a machine that overloaded must still send)."""
        if self.interval == 0:
            return math.inf
        late = 0
        while True:
            now = self.clock()
            while self._slots and self._slots[0] < now - STALE:
                self._slots.popleft()
            if self._slots:
                slot = self._slots.popleft()
                if slot > now:
                    await self.sleep(slot - now)
                    if self.clock() - slot > STALE and late == 0:
                        late += 1
                        continue  # woke up late: that slot is gone
                return slot
            async with self._leasing:
                if self._slots:
                    continue
                now = self.clock()
                start = await self.gate.lease(self.batch, self.interval, now)
                self._slots.extend(start + i * self.interval for i in range(self.batch))

    def _chat_turn(self, chat: str) -> _ChatTurn:
        return _ChatTurn(self._chat_locks, chat)


class _ChatTurn:
    """In-process FIFO per chat (so a long text's parts and cards keep their order);
    the entry goes when nobody waits."""

    def __init__(self, locks: dict[str, tuple[asyncio.Lock, int]], chat: str) -> None:
        self.locks = locks
        self.chat = chat

    async def __aenter__(self) -> None:
        lock, users = self.locks.get(self.chat, (asyncio.Lock(), 0))
        self.locks[self.chat] = (lock, users + 1)
        self.lock = lock
        try:
            await lock.acquire()
        except BaseException:
            self._leave()
            raise

    def _leave(self) -> None:
        lock, users = self.locks[self.chat]
        if users <= 1:
            del self.locks[self.chat]
        else:
            self.locks[self.chat] = (lock, users - 1)

    async def __aexit__(self, *exc: object) -> None:
        self.lock.release()
        self._leave()
