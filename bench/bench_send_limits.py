"""Sending within Telegram's limits with two processes: our limiter vs a naive sender.

    python bench/bench_send_limits.py [--messages N] [--chats C] [--workers W]
                                      [--rate R] [--redis-url URL] [--only ours|naive]

What runs (every piece its own process, all on 127.0.0.1):

* a fake Bot API (this file, ``--serve PORT``, aiohttp) that **enforces** Telegram's
  limits: at most 30 accepted messages in any sliding second for the whole bot, and one
  per chat per second; a message over either gets HTTP 429 ``retry after 1`` (and is
  not delivered). It counts accepted messages, 429s and the time of each acceptance.
* W worker processes (``--worker``, default 2), each sending its share of N messages
  (default 2 × 2 500) to C synthetic chats (default 5 000) through PTB's ``ExtBot`` with
  up to 200 sends in flight:
  - *ours*: ``bot.ratelimit.SendLimiter`` on the real Redis (``TELEGRAM_SEND_RATE`` = R,
    default 30), shared by the workers;
  - *naive*: no shared limiter: PTB's ``AIORateLimiter`` in each process (30/s each,
    2 retries after a 429), which is what the bot had before.

The chats' messages are shuffled (seeded) and dealt to the workers alternately, so with
C < N one chat gets messages from both workers. Printed per sender: messages delivered,
sustained messages/s (delivered over first-to-last acceptance at the fake), the 429s,
and messages given up (a 429 after the retries). Redis keys live in a throwaway
namespace, deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import logging
import random
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "123456:BENCH-limits-not-a-real-bot-abcdef"
FIRST_CHAT = 940_000_000
OVERALL = 30  # Telegram: about 30 messages a second for the whole bot
PER_CHAT = 1.0  # Telegram: about one message a second in one chat
INFLIGHT = 200


# -- the enforcing fake Bot API -----------------------------------------------------------

def serve(port: int) -> None:
    from aiohttp import web

    accepted: collections.deque[float] = collections.deque()  # the last second's
    last_in_chat: dict[int, float] = {}
    stats: dict[str, Any] = {}

    def reset() -> None:
        accepted.clear()
        last_in_chat.clear()
        stats.update(delivered=0, too_many=0, overall_429=0, chat_429=0, first=0.0, last=0.0,
                     chats=0)

    reset()
    next_id = [1]

    def too_many() -> web.Response:
        stats["too_many"] += 1
        body = {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1}}
        return web.json_response(body, status=429)

    async def api(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "getMe":
            return web.json_response({"ok": True, "result": {
                "id": 777000222, "is_bot": True, "first_name": "bench", "username": "bench_bot",
                "can_join_groups": False, "can_read_all_group_messages": False,
                "supports_inline_queries": False}})
        if method != "sendMessage":
            return web.json_response({"ok": True, "result": True})
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = dict(await request.post())
        chat_id = int(params["chat_id"])
        now = time.monotonic()
        while accepted and accepted[0] <= now - 1.0:
            accepted.popleft()
        if len(accepted) >= OVERALL:
            stats["overall_429"] += 1
            return too_many()
        if now - last_in_chat.get(chat_id, -10.0) < PER_CHAT:
            stats["chat_429"] += 1
            return too_many()
        accepted.append(now)
        last_in_chat[chat_id] = now
        stats["chats"] = len(last_in_chat)  # distinct chats served (bench_digests: duplicates)
        stats["delivered"] += 1
        stats["first"] = stats["first"] or now
        stats["last"] = now
        next_id[0] += 1
        return web.json_response({"ok": True, "result": {
            "message_id": next_id[0], "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Rep"},
            "text": params.get("text", "")}})

    async def control(request: web.Request) -> web.Response:
        if request.match_info["what"] == "reset":
            reset()
        return web.json_response(stats)

    app = web.Application()
    app.router.add_route("*", "/_bench/{what}", control)
    app.router.add_route("*", "/bot{token}/{method}", api)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# -- a worker -----------------------------------------------------------------------------

async def work(args: argparse.Namespace) -> dict[str, Any]:
    from telegram.error import RetryAfter, TelegramError
    from telegram.ext import AIORateLimiter, ExtBot
    from telegram.request import HTTPXRequest

    from bot.ratelimit import SendLimiter
    from bot.storage import RedisStore

    chats = json.loads(Path(args.plan).read_text())
    store = None
    limiter: Any
    if args.sender == "ours":
        store = await RedisStore.connect(args.redis_url, namespace=args.namespace)
        limiter = SendLimiter.for_store(store, rate=args.rate, max_retries=2)
    else:
        limiter = AIORateLimiter(overall_max_rate=OVERALL, overall_time_period=1, max_retries=2)
        # It logs a traceback for each message it gives up on; they are counted instead.
        logging.getLogger("telegram.ext").setLevel(logging.CRITICAL)
    bot: ExtBot[Any] = ExtBot(TOKEN, base_url=f"{args.url}/bot", rate_limiter=limiter,
                              request=HTTPXRequest(connection_pool_size=INFLIGHT + 8,
                                                   read_timeout=60, pool_timeout=60))
    await bot.initialize()
    outcome: collections.Counter[str] = collections.Counter()
    gate = asyncio.Semaphore(INFLIGHT)

    async def one(chat_id: int, n: int) -> None:
        async with gate:
            try:
                await bot.send_message(chat_id, f"Digest {n}")
                outcome["sent"] += 1
            except RetryAfter:
                outcome["gave_up_429"] += 1
            except TelegramError as exc:
                outcome[f"error {type(exc).__name__}"] += 1

    await asyncio.sleep(max(0.0, args.start_at - time.time()))
    started = time.monotonic()
    await asyncio.gather(*(one(chat, n) for n, chat in enumerate(chats)))
    elapsed = time.monotonic() - started
    await bot.shutdown()
    if store is not None:
        await store.close()
    return {"elapsed": elapsed, **outcome}


# -- the run ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def control(url: str, what: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/_bench/{what}", timeout=10) as response:
        return dict(json.loads(response.read()))


def wait_listening(port: int, deadline: float = 20.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"the fake Bot API is not listening on {port}")


def run_workers(script: str, prefix: str, sender: str, args: argparse.Namespace, url: str,
                plans: Sequence[Path]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One worker process of ``script`` per plan, all starting together against the reset
    fake; returns their results and the fake's stats, the run's Redis keys deleted."""
    control(url, "reset")
    namespace = f"{prefix}:{uuid.uuid4().hex[:12]}"
    start_at = time.time() + 3.0  # every worker imported and connected by then
    procs = [subprocess.Popen(
        [sys.executable, script, "--worker", "--sender", sender, "--url", url,
         "--plan", str(plan), "--redis-url", args.redis_url, "--namespace", namespace,
         "--rate", str(args.rate), "--start-at", str(start_at)],
        stdout=subprocess.PIPE, text=True) for plan in plans]
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=3600)
        results.append(json.loads(out.strip().splitlines()[-1]))
    stats = control(url, "stats")
    import redis

    client = redis.Redis.from_url(args.redis_url)
    for key in client.scan_iter(match=f"{namespace}:*", count=1000):
        client.delete(key)
    client.close()
    return results, stats


def summary(sender: str, results: list[dict[str, Any]], stats: dict[str, Any]) -> dict[str, Any]:
    """What a run printed: delivered, sustained rate, 429s, give-ups, errors, wall time."""
    span = stats["last"] - stats["first"]
    totals: collections.Counter[str] = collections.Counter()
    for result in results:
        totals.update({k: v for k, v in result.items() if k != "elapsed"})
    return {"sender": sender, "delivered": stats["delivered"],
            "rate": (stats["delivered"] - 1) / span if span > 0 else 0.0,
            "too_many": stats["too_many"], "gave_up": totals.get("gave_up_429", 0),
            "errors": {k: v for k, v in totals.items() if k.startswith("error")},
            "elapsed": max(r["elapsed"] for r in results)}


def run(sender: str, args: argparse.Namespace, url: str, plans: Sequence[Path]) -> dict[str, Any]:
    results, stats = run_workers(__file__, "bench-limits", sender, args, url, plans)
    return {**summary(sender, results, stats), "overall_429": stats["overall_429"],
            "chat_429": stats["chat_429"]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--chats", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=30)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--only", choices=("ours", "naive"))
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--sender", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--namespace", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve)
        return 0
    if args.worker:
        print(json.dumps(asyncio.run(work(args))))
        return 0

    chats = [FIRST_CHAT + k % args.chats for k in range(args.messages)]
    random.Random(11).shuffle(chats)
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    plans = []
    for w in range(args.workers):
        plan = results_dir / f"send-limits-plan-{w}.json"
        plan.write_text(json.dumps(chats[w::args.workers]))
        plans.append(plan)
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    url = f"http://127.0.0.1:{port}"
    print(f"{args.messages} messages to {args.chats} chats from {args.workers} worker "
          f"processes; the fake Bot API allows {OVERALL}/s overall and 1/s per chat")
    try:
        wait_listening(port)
        rows = [run(sender, args, url, plans) for sender in ("ours", "naive")
                if args.only in (None, sender)]
    finally:
        server.terminate()
        server.wait(10)
    print(f"{'sender':<34} {'delivered':>9} {'msg/s':>7} {'429s':>6} "
          f"{'(overall/chat)':>14} {'gave up':>8} {'wall s':>7}")
    names = {"ours": f"ours (SendLimiter, Redis, {args.rate:g}/s)",
             "naive": "naive (AIORateLimiter per process)"}
    for row in rows:
        split = f"({row['overall_429']}/{row['chat_429']})"
        print(f"{names[row['sender']]:<34} {row['delivered']:>9} {row['rate']:>7.1f} "
              f"{row['too_many']:>6} {split:>14} {row['gave_up']:>8} {row['elapsed']:>7.1f}")
        if row["errors"]:
            print(f"  other errors: {row['errors']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
