"""No update lost to a crash: an update is written to the store before Telegram is told
it arrived, and crossed out once it has been handled.

Telegram forgets an update as soon as the bot acknowledges it — with the next
``getUpdates`` offset when polling, with the HTTP 200 of a webhook. PTB's own poller
acknowledges a batch right after queuing it, so a process killed mid-update lost that
update (a password already deleted from the chat, and nothing answered). Here:

1. ``record`` writes each update of a batch (``keys.inbox``) *before* the batch is
   acknowledged: ``bot/polling.py`` records before fetching the next batch, the webhook
   records before answering 200;
2. the pipeline handles it as usual and ``finish`` crosses it out, under the chat's
   lock, before the lock is released;
3. ``unfinished`` lists the records whose handling started long enough ago that its
   process must be dead (its chat lock lease ran out); ``bot/polling.py``'s sweeper hands
   them to the pipeline again, which re-checks under the chat lock that the record is
   still there (so a slow but living process is never doubled). On Redis it reads an
   index of the records by time (``keys.inbox_index``), never the whole keyspace.

An update addressed to a secret step (a password, a PIN) is recorded by its *kind*
only, never its text: after a crash that rep is asked to send it again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Container, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from redis.commands.core import AsyncScript

from bot import keys
from bot.services.sessions import ArtisLink, Flow
from bot.steps import lookup, secret_names
from bot.storage import RedisStore, Store

INBOX_TTL = 24 * 3600  # Telegram itself keeps an unacknowledged update 24 h


@dataclass(frozen=True)
class Recorded:
    """An update found unfinished in the inbox."""

    update_id: int
    chat_id: int
    user_id: int
    update: dict[str, Any] | None  # None: withheld (a secret); only its kind is known
    recorded_at: float


_KEEP, _WITHHOLD, _CHECK = "k", "w", "c"  # a record in full, by kind only, as the text's step says

# Inbox.record on Redis, one round trip. KEYS: the index, then per update: its mark, its
# record, its chat's flow, its user's link; then the blocked marks to delete. ARGV: px, n,
# now, idle lock (s), the secret steps' names ("\n"-separated), then per update: its id,
# mode, full record, withheld record. Each record written is indexed by its time. A mode
# "c" (a text) is withheld at a secret step or for a locked or idle rep, as
# ``_at_secret_step`` and ``Inbox._locked`` decide, and whenever the link is not exactly
# the shape ``ArtisLink`` writes (never kept in doubt).
_LUA_RECORD = """
local px, n, now, idle = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local secret = {}
for name in string.gmatch(ARGV[5], '[^\\n]+') do secret[name] = true end
local null = cjson.null
local function absent(v) return v == nil or v == null end
local function at_secret_step(raw)
  if not raw then return false end
  local ok, flow = pcall(cjson.decode, raw)
  return ok and type(flow) == 'table' and type(flow.step) == 'string' and secret[flow.step] == true
end
local function locked(raw)
  if not raw then return false end
  local ok, link = pcall(cjson.decode, raw)
  if not ok or type(link) ~= 'table' then return true end
  if type(link.login) ~= 'string' or type(link.display_name) ~= 'string' then return true end
  for _, f in ipairs({'artis_token_enc', 'pin_hash', 'timezone'}) do
    if not absent(link[f]) and type(link[f]) ~= 'string' then return true end
  end
  for _, f in ipairs({'token_expires_at', 'linked_at'}) do
    if not absent(link[f]) and type(link[f]) ~= 'number' then return true end
  end
  if link.is_manager ~= nil and type(link.is_manager) ~= 'boolean' then return true end
  if link.locked ~= nil and link.locked ~= false then return true end
  if link.last_seen == nil then return false end
  if type(link.last_seen) ~= 'number' then return true end
  return now - link.last_seen > idle
end
local written = 0
for i = 1, n do
  local base, arg = 1 + 4 * (i - 1), 5 + 4 * (i - 1)
  if redis.call('EXISTS', KEYS[base + 1]) == 0 then
    local mode, value = ARGV[arg + 2], ARGV[arg + 3]
    if mode == 'w' or (mode == 'c' and (at_secret_step(redis.call('GET', KEYS[base + 3]))
                                       or locked(redis.call('GET', KEYS[base + 4])))) then
      value = ARGV[arg + 4]
    end
    redis.call('SET', KEYS[base + 2], value, 'PX', px)
    redis.call('ZADD', KEYS[1], now, ARGV[arg + 1])
    written = written + 1
  end
end
if #KEYS > 1 + 4 * n then redis.call('DEL', unpack(KEYS, 4 * n + 2)) end
return written
"""

# Inbox.unfinished on Redis: the records indexed before a cutoff, a page at a time, found
# through the index rather than by walking the keyspace (which holds two days of
# de-duplication marks). An id whose record is gone (finished, or expired) leaves the
# index here, so the index holds about one sweep's worth of updates. The records' keys
# are built here from their prefix (one Redis, no cluster). KEYS: the index. ARGV: cutoff,
# offset, page size, the records' key prefix. Returns {full page?, id, record, ...}.
_LUA_UNFINISHED = """
local page = tonumber(ARGV[3])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', ARGV[2], page)
local out = {#ids == page and 1 or 0}
for _, id in ipairs(ids) do
  local record = redis.call('GET', ARGV[4] .. id)
  if record then
    out[#out + 1] = id
    out[#out + 1] = record
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
"""
SWEEP_PAGE = 1000  # index entries one call of _LUA_UNFINISHED looks at (Redis is busy meanwhile)


@dataclass(frozen=True, slots=True)
class _Plan:
    update_id: int
    chat_id: int
    user_id: int
    mode: str
    full: str
    withheld: str


class Inbox:
    def __init__(self, store: Store, *, idle_lock: float) -> None:
        self.store = store
        self.idle_lock = idle_lock
        # On Redis, its two scripts (registering one only hashes it: no I/O).
        self._record_script: AsyncScript | None = None
        self._sweep_script: AsyncScript | None = None
        if isinstance(store, RedisStore):
            self._record_script = store.client.register_script(_LUA_RECORD)
            self._sweep_script = store.client.register_script(_LUA_UNFINISHED)

    async def record(self, updates: Iterable[dict[str, Any]], *,
                     busy: Container[int] = ()) -> None:
        """Write a batch of raw updates (the Bot API's JSON, as ``getUpdates`` returned
        it) before acknowledging it, in one store round trip on Redis.

        An update already taken by the pipeline (its de-duplication mark is set) is not
        written again: it is either being handled (and recorded already) or finished (a
        redelivery, which the pipeline drops). That check and each write are one step.

        A text is kept by kind only (withheld) when it may be a password or a PIN: the
        chat is at a secret step, the rep is locked (or idle past the lock), or the chat
        has an earlier update in this batch or ``busy`` — chats with one still queued or
        being handled in this process (``ChatPipeline.busy``), which may open a secret
        step ("/pin", then "4821"). On Redis one script reads the step and the link and
        writes (``_LUA_RECORD``); elsewhere they are read first (``_decide``)."""
        batch = [(update, ids) for update in updates
                 if (ids := _chat_and_user(update)) is not None]
        if not batch:
            return
        now = time.time()
        plans: list[_Plan] = []
        earlier: set[int] = set()  # chats with an earlier update in this batch
        for update, (chat_id, user_id) in batch:
            follows = chat_id in earlier or chat_id in busy
            earlier.add(chat_id)
            text = "message" in update
            record = {"chat_id": chat_id, "user_id": user_id, "at": now, "update": update}
            withheld = {**record, "update": None}
            mode = _CHECK if text and not follows else _WITHHOLD if text else _KEEP
            plans.append(_Plan(int(update["update_id"]), chat_id, user_id, mode,
                               json.dumps(record), json.dumps(withheld)))
        # A chat that had blocked the bot writes again: it may be sent to again
        # (bot/ratelimit.py); its mark goes in the same step.
        unblock = [keys.blocked(chat_id) for chat_id in sorted({p.chat_id for p in plans})]
        if isinstance(self.store, RedisStore):
            await self._record_redis(plans, unblock, now)
            return
        records = await self._decide(plans, now)
        await self.store.put_unmarked(records, INBOX_TTL, delete=unblock)

    async def _decide(self, plans: list[_Plan], now: float) -> list[tuple[str, str, str]]:
        """Each plan's (mark, key, record), the step and link of the texts read first."""
        check = [p for p in plans if p.mode == _CHECK]
        chats = sorted({p.chat_id for p in check})
        users = sorted({p.user_id for p in check})
        flows: dict[int, str | None] = {}
        links: dict[int, str | None] = {}
        if check:
            values = await self.store.get_many(*(keys.flow(chat_id) for chat_id in chats),
                                               *(keys.link(user_id) for user_id in users))
            flows = dict(zip(chats, values[:len(chats)], strict=True))
            links = dict(zip(users, values[len(chats):], strict=True))
        records = []
        for p in plans:
            withheld = p.mode == _WITHHOLD or (p.mode == _CHECK and (
                _at_secret_step(flows[p.chat_id]) or self._locked(links[p.user_id], now)))
            records.append((keys.seen(p.update_id), keys.inbox(p.update_id),
                            p.withheld if withheld else p.full))
        return records

    async def _record_redis(self, plans: list[_Plan], unblock: list[str], now: float) -> None:
        store, script = self.store, self._record_script
        assert isinstance(store, RedisStore) and script is not None
        k = store.full_key
        record_keys = [k(key) for p in plans for key in (
            keys.seen(p.update_id), keys.inbox(p.update_id), keys.flow(p.chat_id),
            keys.link(p.user_id))]
        await script(keys=[k(keys.inbox_index()), *record_keys, *(k(key) for key in unblock)],
                     args=[INBOX_TTL * 1000, len(plans), repr(now), repr(self.idle_lock),
                           "\n".join(sorted(secret_names())),
                           *(value for p in plans
                             for value in (p.update_id, p.mode, p.full, p.withheld))])

    async def is_open(self, update_id: int) -> bool:
        return await self.store.get(keys.inbox(update_id)) is not None

    async def finish(self, update_id: int) -> None:
        await self.store.delete(keys.inbox(update_id))

    async def unfinished(self, *, older_than: float) -> list[Recorded]:
        """Records written more than ``older_than`` seconds ago, oldest first.

        On Redis they are read through the records' index (``_LUA_UNFINISHED``), at a
        cost that follows the updates of the last few seconds, not the database's size;
        elsewhere the records' keys are listed."""
        limit = time.time() - older_than
        if isinstance(self.store, RedisStore):
            raws = await self._unfinished_redis(limit)
        else:
            raws = []
            async for key in self.store.scan(keys.inbox_prefix()):
                raw = await self.store.get(key)
                if raw is not None:
                    raws.append((int(key.rsplit(":", 1)[1]), raw))
        found: list[Recorded] = []
        for update_id, raw in raws:
            record = json.loads(raw)
            if record["at"] <= limit:
                found.append(Recorded(update_id, record["chat_id"], record["user_id"],
                                      record["update"], record["at"]))
        return sorted(found, key=lambda item: item.update_id)

    async def _unfinished_redis(self, limit: float) -> list[tuple[int, str]]:
        store, script = self.store, self._sweep_script
        assert isinstance(store, RedisStore) and script is not None
        found: list[tuple[int, str]] = []
        while True:
            # Entries that stay (unfinished) are skipped by the next page's offset; the
            # ones dropped meanwhile do not count.
            reply = await script(keys=[store.full_key(keys.inbox_index())],
                                 args=[repr(limit), len(found), SWEEP_PAGE,
                                       store.full_key(keys.inbox_prefix())])
            found += [(int(reply[i]), str(reply[i + 1])) for i in range(1, len(reply), 2)]
            if not int(reply[0]):
                return found


    def _locked(self, link_raw: str | None, now: float) -> bool:
        if link_raw is None:
            return False
        try:
            link = ArtisLink.model_validate_json(link_raw)
        except ValidationError:
            return True  # unreadable: be safe
        return link.locked or now - link.last_seen > self.idle_lock


def _at_secret_step(flow_raw: str | None) -> bool:
    if flow_raw is None:
        return False
    try:
        step = lookup(Flow.model_validate_json(flow_raw).step)
    except ValidationError:
        return False
    return step is not None and step.secret


def _chat_and_user(update: dict[str, Any]) -> tuple[int, int] | None:
    """The private chat and user of a raw update (None: nothing to answer, not recorded)."""
    for kind in ("message", "edited_message", "callback_query"):
        body = update.get(kind)
        if not isinstance(body, dict):
            continue
        user = body.get("from") or {}
        chat = body.get("chat") or (body.get("message") or {}).get("chat") or {}
        user_id = user.get("id") or chat.get("id")
        chat_id = chat.get("id") or user_id
        if isinstance(chat_id, int) and isinstance(user_id, int):
            return chat_id, user_id
    return None
