"""A small, fast fake Bot API server for the benchmark, in its own process (aiohttp).

    python bench/fake_telegram_server.py --port P

Any bot (ours, the aiogram peer) long-polls it at ``http://127.0.0.1:P`` with any token.
It answers the few methods the benchmarked paths call (``getMe``, ``getUpdates``,
``sendMessage``, ``editMessageText``, ``answerCallbackQuery``, ``setMyCommands``…; any
other method gets ``true``) and does none of the checks of ``integrations/fake_bot_api.py``:
it exists to cost little, so that what is measured is the bot.

The benchmark drives it through a control API on the same port:

* ``POST /_bench/load`` ``{"updates": [...], "inflight": K, "answer": ["sendMessage"]}``:
  updates (without ``update_id``: it is assigned on delivery) to hand out through
  ``getUpdates``, keeping at most K delivered and not yet answered. An update counts as
  answered by the first call of an ``answer`` method in its chat after its delivery
  (both bots keep each chat in order).
* ``GET /_bench/wait?timeout=S``: waits until every loaded update is answered (or S
  seconds), then returns ``{"delivered": [...], "answered": [...], "extra": n, "calls": {...}}``
  with ``time.monotonic()`` timestamps (the same clock in every process on Linux) of
  each update's delivery (the getUpdates answer that carries it) and its answer, the
  number of answers that matched no waiting update, and the calls per method.

Loopback only; it stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import time
from typing import Any

from aiohttp import web

BOT_USER = {"id": 777000111, "is_bot": True, "first_name": "bench bot",
            "username": "bench_bot"}


class Feed:
    """The updates waiting for delivery and the ones waiting for their answer."""

    def __init__(self) -> None:
        self.reset([], 1, ("sendMessage",))
        self.next_update_id = 1
        self.next_message_id = 1000
        self.calls: collections.Counter[str] = collections.Counter()
        self.changed = asyncio.Event()

    def reset(self, updates: list[dict[str, Any]], inflight: int, answer: tuple[str, ...]) -> None:
        self.pending = collections.deque(enumerate(updates))
        self.inflight = max(1, inflight)
        self.answer_methods = frozenset(answer)
        self.delivered = [0.0] * len(updates)
        self.answered = [0.0] * len(updates)
        self.waiting: dict[int, collections.deque[int]] = {}  # chat -> indexes, oldest first
        self.outstanding = 0
        self.left = len(updates)
        self.extra = 0
        self.done = asyncio.Event()
        if not updates:
            self.done.set()

    def take(self, limit: int) -> list[dict[str, Any]]:
        room = min(limit, self.inflight - self.outstanding, len(self.pending))
        batch = []
        now = time.monotonic()
        for _ in range(max(0, room)):
            index, update = self.pending.popleft()
            update = {"update_id": self.next_update_id, **update}
            self.next_update_id += 1
            self.delivered[index] = now
            self.waiting.setdefault(_chat_of(update), collections.deque()).append(index)
            self.outstanding += 1
            batch.append(update)
        return batch

    def answered_in(self, chat_id: int) -> None:
        queue = self.waiting.get(chat_id)
        if not queue:
            self.extra += 1
            return
        index = queue.popleft()
        if not queue:
            del self.waiting[chat_id]
        self.answered[index] = time.monotonic()
        self.outstanding -= 1
        self.left -= 1
        if self.left == 0:
            self.done.set()
        self.changed.set()


def _chat_of(update: dict[str, Any]) -> int:
    if "message" in update:
        return int(update["message"]["chat"]["id"])
    return int(update["callback_query"]["message"]["chat"]["id"])


def build_app() -> web.Application:
    feed = Feed()
    true_body = b'{"ok":true,"result":true}'

    def ok(result: Any) -> web.Response:
        return web.Response(body=json.dumps({"ok": True, "result": result}).encode(),
                            content_type="application/json")

    async def get_updates(request: web.Request, params: dict[str, str]) -> web.Response:
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            if request.transport is None or request.transport.is_closing():
                raise web.HTTPServiceUnavailable  # a poller that went away takes nothing
            batch = feed.take(limit)
            left = deadline - time.monotonic()
            if batch or left <= 0:
                return ok(batch)
            feed.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(feed.changed.wait(), left)

    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        feed.calls[method] += 1
        if request.method == "POST" and request.content_type == "application/json":
            params = await request.json()
        else:
            params = dict(await request.post()) if request.can_read_body else {}
            params.update(request.query)
        if method == "getUpdates":
            return await get_updates(request, params)
        if method in ("sendMessage", "editMessageText"):
            chat_id = int(params["chat_id"])
            message_id = int(params.get("message_id") or 0)
            if not message_id:
                message_id = feed.next_message_id
                feed.next_message_id += 1
            result = {"message_id": message_id, "date": int(time.time()), "from": BOT_USER,
                      "chat": {"id": chat_id, "type": "private", "first_name": "Rep"},
                      "text": params.get("text", "")}
            if method in feed.answer_methods:
                feed.answered_in(chat_id)
            return ok(result)
        if method == "getMe":
            return ok({**BOT_USER, "can_join_groups": False,
                       "can_read_all_group_messages": False, "supports_inline_queries": False})
        if method == "getMyCommands":
            return ok([])
        return web.Response(body=true_body, content_type="application/json")

    async def load(request: web.Request) -> web.Response:
        body = await request.json()
        feed.reset(body["updates"], int(body.get("inflight", 1)),
                   tuple(body.get("answer", ("sendMessage", "editMessageText"))))
        feed.calls.clear()
        feed.changed.set()
        return ok(len(body["updates"]))

    async def wait(request: web.Request) -> web.Response:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(feed.done.wait(), float(request.query.get("timeout", 120)))
        return ok({"delivered": feed.delivered, "answered": feed.answered, "extra": feed.extra,
                   "calls": dict(feed.calls)})

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/_bench/load", load)
    app.router.add_get("/_bench/wait", wait)
    app.router.add_route("*", "/bot{token}/{method}", api)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="fast fake Bot API for the benchmark")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18081)
    args = parser.parse_args()
    web.run_app(build_app(), host=args.host, port=args.port, print=None, access_log=None,
                handler_cancellation=True)


if __name__ == "__main__":
    main()
