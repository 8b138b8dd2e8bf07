"""The rep's day under load: "open the planning" and "open an action card".

    python bench/bench_day.py [--updates N] [--chats C] [--concurrency K ...]
                              [--redis-url URL | --sqlite]

The demo artis.net runs in a **separate process** (``crmbot artis-demo`` on a free
port), so this process's CPU is the bot's own: the real ``Application`` from
``open_runtime``, the store, the handlers and views, PTB's HTTP stack on the fake Bot
API. C paired reps (not timed) press, in turn, the planning button of their day
(``PlanCb``) and the button of one of today's actions (``CardCb``), on a planning
message of their chat, so every press edits a message in place.

Each workload runs twice: ``ARTIS_CACHE_TTL=0`` (every press calls artis.net) and the
default 60 s cache (after one warm-up press per chat, the answers come from the store),
at each concurrency. Printed: updates/s, p50/p99 latency, and this process's CPU time per
update. Every press must produce exactly one editMessageText; anything else is printed.

Not here: the aiogram baseline of the speed issue (its own branch); compare with its
figure for the same artis.net call.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.fernet import Fernet

from bot.inbound import deliver
from bot.runtime import open_runtime
from bot.services.planning import View
from bot.services.sessions import ArtisLink
from bot.settings import Settings
from bot.views.planning import CardCb, PlanCb
from integrations.artis.demo.seed_data import DEMO_PASSWORD, DemoLogins
from integrations.fake_bot_api import FakeBotApi, SimUser

REPS = (DemoLogins.COMMERCIAL, DemoLogins.TDUBOIS, DemoLogins.SBENALI,
        DemoLogins.PFAURE, DemoLogins.AROBERT)
FIRST_USER_ID = 920_000_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_artis(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "artis-demo", "--host", "127.0.0.1", "--port",
         str(port), "--db", str(data_dir / "artis.sqlite3")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}/api/v1"
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the demo artis.net did not start")


def quantile_ms(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] * 1000 if values else 0.0
    return statistics.quantiles(values, n=100)[q - 1] * 1000


async def run(args: argparse.Namespace, artis_url: str, data_dir: Path, cache_ttl: float,
              workload: str, concurrency: int) -> str:
    namespace = f"bench-day:{uuid.uuid4().hex[:8]}"
    settings = Settings(_env_file=None, data_dir=data_dir / namespace.replace(":", "-"),
                        artis_url=artis_url, redis_url=None if args.sqlite else args.redis_url,
                        store_namespace=namespace, artis_service_login="bot.service",
                        artis_service_password="demo", artis_cache_ttl=cache_ttl,
                        store_encryption_key=Fernet.generate_key().decode(),
                        log_level="WARNING")
    api = FakeBotApi()
    async with open_runtime(settings, transport=api.transport(), token=api.token) as runtime:
        services, app = runtime.services, runtime.application
        users = [SimUser(id=FIRST_USER_ID + n) for n in range(args.chats)]
        presses: dict[int, tuple[dict[str, Any], str]] = {}
        for index, user in enumerate(users):
            result = await services.artis.login(REPS[index % len(REPS)], DEMO_PASSWORD)
            session = await services.sessions.load(user.id, user.id, "fr")
            await services.sessions.save_link(session, ArtisLink(
                login=result.user.login, display_name=result.user.display_name,
            ).with_token(result.token, services.sessions.token_deadline(result.expires_at)))
            await deliver(app, api.text_update(user, "/planning"))
            message = api.last_bot_message(user.id)
            assert message is not None
            await deliver(app, api.callback_update(user, PlanCb(View.MONTH).pack(), message))
            message = api.messages[(user.id, message["message_id"])]
            if workload == "planning":
                data = PlanCb(View.DAY).pack()
            else:
                ids = re.findall(r"act:([A-Z]+-\d+):", str(api.buttons(message)))
                if not ids:
                    raise SystemExit(f"{result.user.login} has no action this month")
                data = CardCb(ids[0]).pack()
            presses[user.id] = (message, data)
            # one warm-up press per chat (fills the cache when it is on), then back
            await deliver(app, api.callback_update(user, data, message))
        plan = [users[n % len(users)] for n in range(args.updates)]
        slots = asyncio.Semaphore(concurrency)
        latencies: list[float] = []
        before = len(api.calls)

        async def one(user: SimUser) -> None:
            message, data = presses[user.id]
            started = time.perf_counter()
            try:
                await deliver(app, api.callback_update(user, data, message))
            finally:
                latencies.append(time.perf_counter() - started)
                slots.release()

        tasks = []
        cpu, wall = time.process_time(), time.perf_counter()
        for user in plan:
            await slots.acquire()
            tasks.append(asyncio.create_task(one(user)))
        await asyncio.gather(*tasks)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        answers = [c for c in api.calls[before:] if c.method in ("sendMessage",
                                                                 "editMessageText")]
        problem = "" if len(answers) == len(plan) else (
            f"  !! {len(answers)} answers for {len(plan)} presses")
        if not args.sqlite:
            import redis.asyncio as aioredis

            client = aioredis.from_url(args.redis_url)
            keys = [key async for key in client.scan_iter(match=f"{namespace}:*")]
            if keys:
                await client.delete(*keys)
            await client.aclose()
    cache = f"cache {cache_ttl:g} s" if cache_ttl else "cache off"
    return (f"| {workload:8} | {cache:12} | {concurrency:3} | {len(plan) / wall:8.0f} | "
            f"{quantile_ms(latencies, 50):7.1f} | {quantile_ms(latencies, 99):7.1f} | "
            f"{cpu / len(plan) * 1000:6.2f} |{problem}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=400)
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL",
                                                              "redis://127.0.0.1:6379/0"))
    parser.add_argument("--sqlite", action="store_true", help="the embedded store, not Redis")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-day-") as tmp:
        data_dir = Path(tmp)
        artis, url = start_artis(data_dir)
        try:
            print(f"{args.updates} presses from {args.chats} chats; artis.net demo in pid "
                  f"{artis.pid}; store: {'SQLite' if args.sqlite else args.redis_url}")
            print("| workload | cache        |  in | upd/s    | p50 ms  | p99 ms  | CPU ms |")
            print("|---|---|---|---|---|---|---|")
            for workload in ("planning", "card"):
                for ttl in (0.0, 60.0):
                    for concurrency in args.concurrency:
                        print(asyncio.run(run(args, url, data_dir, ttl, workload,
                                              concurrency)), flush=True)
        finally:
            artis.terminate()
            artis.wait(timeout=10)


if __name__ == "__main__":
    main()
