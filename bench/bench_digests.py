"""The managers' digest to 5 000 synthetic managers within Telegram's limits, two processes.

    python bench/bench_digests.py [--managers N] [--workers W] [--rate R]
                                  [--redis-url URL] [--only ours|naive]

Reuses ``bench_send_limits.py``'s fake Bot API (its own process; at most 30 accepted
messages in any sliding second, one per chat per second, HTTP 429 beyond) and its run
harness. The digest is a pre-rendered synthetic one (``bot.views.digest`` on six reps with
three actions each, about 1 500 characters: one message), the same for every manager; the
chart is left out (the fake Bot API limits only ``sendMessage``).

* *ours*: W worker processes **each walk all N managers**, as several schedulers firing at
  07:30 would. Per manager and day each takes the chat's lock, claims the digest with
  ``store.add`` (Redis ``SET NX``, the marker of ``bot/services/schedule.py``) and only the
  claimer sends, through ``bot.outbound.send`` on an ``ExtBot`` with ``SendLimiter`` shared
  on Redis (what ``bot/scheduled.py`` does, minus building the digest);
* *naive*: each worker sends its half of the managers with PTB's ``AIORateLimiter`` per
  process (no shared limiter, no claim).

Printed per sender: digests delivered, distinct managers served (so duplicates show),
sustained messages/s, 429s, messages given up.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_send_limits as limits  # noqa: E402  (the enforcing fake Bot API and helpers)

FIRST_CHAT = 950_000_000
DAY = date(2026, 12, 9)


def synthetic_digest_text() -> list[str]:
    """A digest as a manager of six reps gets it, rendered by the real view."""
    from bot.i18n import L10n
    from bot.services.digests import Digest, Line, RepDigest, UnitDigest, Week
    from bot.views.digest import digest
    from integrations.artis.models import ActionType

    paris = ZoneInfo("Europe/Paris")
    start = datetime(2026, 12, 9, 9, 0, tzinfo=paris)

    def rep(n: int) -> RepDigest:
        lines = [Line(f"A{n}{k}", start + timedelta(hours=2 * k), ActionType.RDV,
                      f"Société synthétique {n}-{k}", "Nanterre") for k in range(3)]
        return RepDigest(f"rep{n}", f"Commercial Synthétique {n}", lines, lines[:1],
                         Week(6, 4, 1))

    data = Digest("Manager", DAY, DAY - timedelta(days=1), DAY - timedelta(days=2),
                  [UnitDigest("U", "Équipe synthétique", None, [rep(n) for n in range(6)],
                              2, 18_500.0)])
    return [reply.text for reply in digest(L10n("fr", paris), data)]


async def work(args: argparse.Namespace) -> dict[str, Any]:
    from telegram.error import RetryAfter, TelegramError
    from telegram.ext import AIORateLimiter, ExtBot
    from telegram.request import HTTPXRequest

    from bot import keys
    from bot.outbound import send
    from bot.ratelimit import SendLimiter
    from bot.storage import RedisStore
    from bot.views import Reply

    managers = json.loads(Path(args.plan).read_text())
    texts = synthetic_digest_text()
    store = await RedisStore.connect(args.redis_url, namespace=args.namespace)
    limiter: Any
    if args.sender == "ours":
        limiter = SendLimiter.for_store(store, rate=args.rate, max_retries=2)
    else:
        limiter = AIORateLimiter(overall_max_rate=limits.OVERALL, overall_time_period=1,
                                 max_retries=2)
        logging.getLogger("telegram.ext").setLevel(logging.CRITICAL)
    bot: ExtBot[Any] = ExtBot(limits.TOKEN, base_url=f"{args.url}/bot", rate_limiter=limiter,
                              request=HTTPXRequest(connection_pool_size=limits.INFLIGHT + 8,
                                                   read_timeout=60, pool_timeout=60))
    await bot.initialize()
    outcome: collections.Counter[str] = collections.Counter()
    gate = asyncio.Semaphore(limits.INFLIGHT)

    async def deliver(chat_id: int) -> None:
        try:
            for text in texts:
                await send(bot, chat_id, Reply(text))
            outcome["sent"] += 1
        except RetryAfter:
            outcome["gave_up_429"] += 1
        except TelegramError as exc:
            outcome[f"error {type(exc).__name__}"] += 1

    async def one(chat_id: int) -> None:
        async with gate:
            if args.sender == "naive":
                await deliver(chat_id)
                return
            # As bot/scheduled.py does: the chat's lock, the claim, the sends, "sent".
            marker = keys.digest_sent(chat_id, DAY.isoformat())
            async with store.lock(keys.chat_lock(chat_id), timeout=60, wait=60, renew=True):
                if not await store.add(marker, "sending", ttl=3600):
                    outcome["claimed_elsewhere"] += 1
                    return
                await deliver(chat_id)
            await store.set(marker, "sent", ttl=3600)

    await asyncio.sleep(max(0.0, args.start_at - time.time()))
    started = time.monotonic()
    await asyncio.gather(*map(one, managers))
    elapsed = time.monotonic() - started
    await bot.shutdown()
    await store.close()
    return {"elapsed": elapsed, **outcome}


def run(sender: str, args: argparse.Namespace, url: str, plans: Sequence[Path]) -> dict[str, Any]:
    results, stats = limits.run_workers(__file__, "bench-digests", sender, args, url, plans)
    return {**limits.summary(sender, results, stats), "managers": stats["chats"]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--managers", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=30)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--only", choices=("ours", "naive"))
    for hidden in ("--worker",):
        parser.add_argument(hidden, action="store_true", help=argparse.SUPPRESS)
    for hidden in ("--sender", "--url", "--plan", "--namespace"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        limits.serve(args.serve)
        return 0
    if args.worker:
        print(json.dumps(asyncio.run(work(args))))
        return 0

    managers = [FIRST_CHAT + k for k in range(args.managers)]
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    everyone = results_dir / "digests-plan-all.json"
    everyone.write_text(json.dumps(managers))
    halves = []
    for w in range(args.workers):
        half = results_dir / f"digests-plan-{w}.json"
        half.write_text(json.dumps(managers[w::args.workers]))
        halves.append(half)
    port = limits.free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    url = f"http://127.0.0.1:{port}"
    print(f"the digest ({len(synthetic_digest_text()[0])} characters) to {args.managers} "
          f"managers from {args.workers} worker processes; the fake Bot API allows "
          f"{limits.OVERALL}/s overall and 1/s per chat")
    try:
        limits.wait_listening(port)
        rows = []
        if args.only in (None, "ours"):  # every worker walks every manager: claims decide
            rows.append(run("ours", args, url, [everyone] * args.workers))
        if args.only in (None, "naive"):
            rows.append(run("naive", args, url, halves))
    finally:
        server.terminate()
        server.wait(10)
    print(f"{'sender':<40} {'delivered':>9} {'managers':>8} {'msg/s':>7} {'429s':>6} "
          f"{'gave up':>8} {'wall s':>7}")
    names = {"ours": f"ours (claim + SendLimiter, {args.rate:g}/s)",
             "naive": "naive (AIORateLimiter per process)"}
    for row in rows:
        print(f"{names[row['sender']]:<40} {row['delivered']:>9} {row['managers']:>8} "
              f"{row['rate']:>7.1f} {row['too_many']:>6} {row['gave_up']:>8} "
              f"{row['elapsed']:>7.1f}")
        if row["errors"]:
            print(f"  other errors: {row['errors']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
