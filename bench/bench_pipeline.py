"""End-to-end throughput/latency of the bot's update path, against a bare PTB echo bot.

    python bench/bench_pipeline.py [--updates N] [--chats C] [--concurrency K]
                                   [--redis-url URL] [--artis-url URL] [--profile]

What is measured
----------------
*Ours*: the real ``Application`` built by ``open_runtime`` (our ``ChatPipeline``:
per-chat FIFO, ``update_id`` de-duplication, the store's chat lock, session load;
then the access guard and the handlers), state in a real Redis, the embedded
demo artis.net over loopback HTTP, and the fake Bot API (``FakeBotApi``) plugged
under PTB's real ``HTTPXRequest``. The C chats are paired reps beforehand (not
timed). N synthetic updates spread over the C chats (seeded random) in a
realistic mix: ~50 % ``/aide``, ~25 % free text ("merci", answered "not
understood"), ~25 % the ``help:reload`` button (a GET /me round trip to
artis.net plus a session write). At most K updates are in flight at once, as
PTB's fetcher does with concurrent tasks. Each update is handed over with
``bot.inbound.deliver`` (exactly the fetcher's path: update processor, then
handler dispatch); its latency runs from hand-over to completion.

*Echo*: the floor of what PTB itself costs on this machine - a bare
``Application`` with one ``MessageHandler`` sending the text back, PTB's default
processor with ``concurrent_updates(K)``, the same fake Bot API transport, no
store, no artis.net. It gets the same update sequence (same chats, same order,
same texts); the button slots become a text message "help:reload" so that every
update gets exactly one answer in both runs (a bare echo bot has no callback
handler).

Why: the ratio ours/echo tells how much the pipeline (Redis round trips, lock,
session JSON, i18n, rendering) and artis.net cost on top of PTB itself, and
p99 shows whether per-chat ordering or the store lock create queueing.

Besides updates/s and p50/p99 the table shows the process CPU time per update
(all threads of this process, so with the embedded demo it includes artis.net's
own work): on a shared machine it is steadier than wall-clock throughput. The
latencies of ours are also split by kind of update. ``--profile`` runs cProfile
on the measured run of ours and prints the top costs.

Correctness is checked at the end of each run: every update must have produced
exactly one sendMessage/editMessageText in its chat (and, for ours, the right
kind of answer); anything else is printed. Warnings/errors logged during the
runs are counted and printed.

Caveats: the demo artis.net (uvicorn) runs in a thread of this same process,
so it competes with the bot for the GIL; real artis.net latency is not
modelled (loopback). ``--artis-url`` points the bot at an artis.net in another
process instead, to take that thread out of the picture. Wall-clock figures
move by +-30 % with the machine's load (printed in the header). Redis keys live
in a throwaway ``bench-pipeline:<uuid>`` namespace deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import io
import logging
import os
import platform
import pstats
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import redis.asyncio as aioredis
from cryptography.fernet import Fernet
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

import bot.runtime as runtime
from bot.container import Services
from bot.i18n import L10n
from bot.inbound import deliver
from bot.services.sessions import ArtisLink
from bot.settings import Settings
from bot.storage import Store
from bot.views import common
from integrations.artis.demo.seed_data import DEMO_PASSWORD, DemoLogins
from integrations.fake_bot_api import FakeBotApi, SimUser

FIRST_USER_ID = 910_000_000  # synthetic Telegram ids of the benchmark chats
WARMUP_UPDATES = 60
RUN_TIMEOUT = 180.0  # hard stop of one measured run (seconds)
# Reps with licences, a mission and a unit: /me and "reload" succeed for them.
REPS = (DemoLogins.COMMERCIAL, DemoLogins.TDUBOIS, DemoLogins.SBENALI,
        DemoLogins.PFAURE, DemoLogins.AROBERT)
ANSWER_METHODS = ("sendMessage", "editMessageText")


@dataclass(frozen=True)
class Planned:
    """One synthetic update: who sends it and what."""

    kind: str  # "help" | "text" | "button"
    user: SimUser


@dataclass
class Result:
    name: str
    updates: int
    elapsed: float
    latencies: list[float]
    cpu: float = 0.0  # process CPU seconds (all threads) spent during the run
    checked: str = "every update got exactly one answer"
    problems: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.updates / self.elapsed

    def quantile_ms(self, q: int) -> float:
        return quantile_ms(self.latencies, q)


def quantile_ms(latencies: Sequence[float], q: int) -> float:
    """The ``q``-th percentile of ``latencies`` (seconds), in milliseconds."""
    if len(latencies) < 2:
        return latencies[0] * 1000 if latencies else float("nan")
    return statistics.quantiles(latencies, n=100, method="inclusive")[q - 1] * 1000


class _LogCounter(logging.Handler):
    """Counts WARNING+ records (and keeps the first few) while the benchmark runs."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 5:
            self.first.append(f"{record.levelname} {record.name}: {record.getMessage()}")


# -- the update mix -------------------------------------------------------------------------
def plan(n: int, users: Sequence[SimUser], seed: int) -> list[Planned]:
    rng = random.Random(seed)
    kinds = rng.choices(("help", "text", "button"), weights=(50, 25, 25), k=n)
    return [Planned(kind, rng.choice(users)) for kind in kinds]


def _ours_json(fake: FakeBotApi, item: Planned) -> dict[str, Any]:
    if item.kind == "help":
        return fake.text_update(item.user, "/aide")
    if item.kind == "text":
        return fake.text_update(item.user, "merci")
    # The pressed message: a bot message of the chat (the help card with its button).
    message = {"message_id": 1, "date": int(time.time()), "chat": item.user.chat_json(),
               "from": {"id": 777000111, "is_bot": True, "first_name": "artis CRM"},
               "text": "help"}
    return fake.callback_update(item.user, "help:reload", message)


def _echo_json(fake: FakeBotApi, item: Planned) -> dict[str, Any]:
    text = {"help": "/aide", "text": "merci", "button": "help:reload"}[item.kind]
    return fake.text_update(item.user, text)


# -- driving an Application -------------------------------------------------------------------
async def drive(app: Application, updates: Sequence[Update], concurrency: int) -> Result:
    """Deliver ``updates`` keeping at most ``concurrency`` in flight; time each one."""
    slots = asyncio.Semaphore(concurrency)
    latencies = [0.0] * len(updates)  # in the order of ``updates``
    failures: list[str] = []

    async def one(index: int, update: Update, handed_over: float) -> None:
        try:
            await deliver(app, update)
        except Exception as exc:  # reported, not raised
            failures.append(f"update {update.update_id}: {exc!r}")
        finally:
            latencies[index] = time.perf_counter() - handed_over
            slots.release()

    tasks: set[asyncio.Task[None]] = set()
    cpu_start = time.process_time()
    start = time.perf_counter()
    async with asyncio.timeout(RUN_TIMEOUT):
        for index, update in enumerate(updates):
            await slots.acquire()
            task = asyncio.create_task(one(index, update, time.perf_counter()))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    return Result("", len(updates), elapsed, latencies, cpu=cpu, problems=failures)


def answers_after(fake: FakeBotApi, start: int) -> Counter[int]:
    return Counter(int(c.params["chat_id"]) for c in fake.calls[start:]
                   if c.method in ANSWER_METHODS)


def check_one_answer_each(fake: FakeBotApi, start: int, planned: Sequence[Planned],
                          result: Result) -> None:
    expected = Counter(item.user.id for item in planned)
    got = answers_after(fake, start)
    wrong = {chat: (expected[chat], got[chat]) for chat in expected.keys() | got.keys()
             if expected[chat] != got[chat]}
    for chat, (want, have) in sorted(wrong.items())[:10]:
        result.problems.append(f"chat {chat}: {want} updates but {have} answers")
    if len(wrong) > 10:
        result.problems.append(f"... {len(wrong) - 10} more chats with a wrong answer count")


# -- ours -----------------------------------------------------------------------------------
@asynccontextmanager
async def namespaced_store(namespace: str) -> AsyncIterator[None]:
    """Make ``open_runtime`` open its store under ``namespace``.

    Through ``Settings.store_namespace`` when the settings have it; for a version
    without it, by wrapping ``bot.runtime.open_store`` for the duration.
    """
    if "store_namespace" in Settings.model_fields:
        yield
        return
    original = runtime.open_store

    async def open_store(redis_url: str | None, data_dir: Path, **_: Any) -> Store:
        return await original(redis_url, data_dir, namespace=namespace)

    runtime.open_store = open_store  # type: ignore[assignment]
    try:
        yield
    finally:
        runtime.open_store = original  # type: ignore[assignment]


async def pair(services: Services, users: Sequence[SimUser]) -> None:
    """Log each chat's rep in on artis.net and link it, as a QR pairing would."""
    for index, user in enumerate(users):
        login = REPS[index % len(REPS)]
        result = await services.artis.login(login, DEMO_PASSWORD)
        session = await services.sessions.load(user.id, user.id, "fr")
        await services.sessions.save_link(session, ArtisLink(
            login=result.user.login, display_name=result.user.display_name,
            is_manager=bool(result.user.heads_org_units),
        ).with_token(result.token, services.sessions.token_deadline(result.expires_at)))


async def bench_ours(args: argparse.Namespace, planned: Sequence[Planned],
                     users: Sequence[SimUser], warm_user: SimUser, namespace: str,
                     data_dir: Path) -> Result:
    options: dict[str, Any] = {"redis_url": args.redis_url, "data_dir": data_dir,
                               "artis_url": args.artis_url}
    if "store_namespace" in Settings.model_fields:
        options["store_namespace"] = namespace
    if args.redis_url and "store_encryption_key" in Settings.model_fields:
        options["store_encryption_key"] = Fernet.generate_key().decode()  # required on Redis
    settings = Settings(_env_file=None, **options)  # type: ignore[call-arg]
    fake = FakeBotApi()
    async with namespaced_store(namespace), runtime.open_runtime(
            settings, transport=fake.transport(), token=fake.token, rate_limit=False) as rt:
        app, services = rt.application, rt.services
        await pair(services, [*users, warm_user])

        warm = [Update.de_json(_ours_json(fake, Planned(k, warm_user)), app.bot)
                for k in ("help", "text", "button") * (WARMUP_UPDATES // 3)]
        await drive(app, warm, args.concurrency)

        updates = [Update.de_json(_ours_json(fake, item), app.bot) for item in planned]
        start = len(fake.calls)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        result = await drive(app, updates, args.concurrency)
        if profiler:
            profiler.disable()
            print_profile(profiler)
        result.name = "ours (pipeline+redis+artis)"
        result.checked += ", of the right kind, in per-chat order"
        check_one_answer_each(fake, start, planned, result)
        check_kinds(fake, start, planned, settings, result)
        return result


def check_kinds(fake: FakeBotApi, start: int, planned: Sequence[Planned], settings: Settings,
                result: Result) -> None:
    """The right kind of answer (paired help card, "not understood", reloaded
    configuration), and in each chat in the order the updates were sent (the
    pipeline promises per-chat FIFO)."""
    t = L10n("fr", settings.tz)
    help_text = common.help_text(t, paired=True, support_contact=settings.support_contact).text
    not_understood = common.not_understood(t).text

    def kind_of(params: dict[str, Any]) -> str:
        text = params.get("text", "")
        if text == help_text and "help:reload" in str(params.get("reply_markup")):
            return "help"  # the paired help card, with its reload button
        if text == not_understood:
            return "text"
        return "button" if "artis.net" in text and "Licences" in text else "other"

    got: dict[int, list[str]] = {}
    for call in fake.calls[start:]:
        if call.method in ANSWER_METHODS:
            got.setdefault(int(call.params["chat_id"]), []).append(kind_of(call.params))
    expected: dict[int, list[str]] = {}
    for item in planned:
        expected.setdefault(item.user.id, []).append(item.kind)
    got_total = Counter(kind for kinds in got.values() for kind in kinds)
    expected_total = Counter(item.kind for item in planned)
    if got_total != expected_total:
        result.problems.append(f"answer kinds {dict(got_total)} != expected "
                               f"{dict(expected_total)}")
    elif out_of_order := [chat for chat, kinds in expected.items() if got.get(chat) != kinds]:
        result.problems.append(f"{len(out_of_order)} chats answered out of order "
                               f"(e.g. chat {out_of_order[0]})")


# -- the echo baseline ----------------------------------------------------------------------
async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text and update.effective_chat is not None:
        await update.effective_chat.send_message(message.text)


async def bench_echo(args: argparse.Namespace, planned: Sequence[Planned],
                     warm_user: SimUser) -> Result:
    fake = FakeBotApi()

    def request() -> HTTPXRequest:  # the same HTTP stack settings as ours
        return HTTPXRequest(connection_pool_size=128, read_timeout=15.0,
                            httpx_kwargs={"transport": fake.transport()})

    app = (Application.builder().token(fake.token).request(request())
           .get_updates_request(request()).concurrent_updates(args.concurrency)
           .job_queue(None).build())
    app.add_handler(MessageHandler(filters.TEXT, echo))
    async with app:
        warm = [Update.de_json(_echo_json(fake, Planned(k, warm_user)), app.bot)
                for k in ("help", "text", "button") * (WARMUP_UPDATES // 3)]
        await drive(app, warm, args.concurrency)
        updates = [Update.de_json(_echo_json(fake, item), app.bot) for item in planned]
        start = len(fake.calls)
        result = await drive(app, updates, args.concurrency)
        result.name = "echo (bare PTB)"
        check_one_answer_each(fake, start, planned, result)
        return result


# -- reporting ------------------------------------------------------------------------------
def print_profile(profiler: cProfile.Profile, top: int = 12) -> None:
    """Top functions by own time, then own time summed per package (where the CPU goes).

    The profiler sees the main thread only (not the embedded artis.net thread);
    for coroutines ``ncalls`` counts resumptions, not calls.
    """
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    print("\n--- cProfile of the measured 'ours' run: functions by own time ---")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))
    per_package: Counter[str] = Counter()
    raw: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, _, name), (_, _, own, _, _) in raw.items():
        per_package[_package_of(filename, name)] += own
    total = sum(per_package.values()) or 1.0
    print("--- own time per package ---")
    for package, own in per_package.most_common(top):
        print(f"{own:8.2f} s {own / total:6.1%}  {package}")


def _package_of(filename: str, function: str) -> str:
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0]
    root = str(Path(__file__).resolve().parents[1]) + "/"
    if filename.startswith(root):
        return "/".join(filename[len(root):].split("/")[:2])
    if filename.startswith("<frozen importlib"):
        return "importlib (module lookups)"
    if filename == "~":
        return "C: " + function.strip("<>{}").split(" of ")[0]
    stdlib = f"python{sys.version_info.major}.{sys.version_info.minor}/"
    if stdlib in filename:
        return "stdlib: " + filename.split(stdlib, 1)[1].split("/", 1)[0]
    return filename


def print_table(results: Sequence[Result], baseline: Result) -> None:
    print(f"\n{'name':<30} {'updates':>7} {'updates/s':>10} {'p50 ms':>8} {'p99 ms':>8}"
          f" {'ratio':>6} {'cpu ms/upd':>10}")
    for r in results:
        print(f"{r.name:<30} {r.updates:>7} {r.rate:>10,.0f} {r.quantile_ms(50):>8.2f}"
              f" {r.quantile_ms(99):>8.2f} {r.rate / baseline.rate:>6.2f}"
              f" {r.cpu / r.updates * 1000:>10.2f}")
    print("(ratio = updates/s divided by the echo baseline's updates/s; cpu ms/upd = process CPU"
          " time, all threads, per update: steadier than wall time on a shared machine)")
    for r in results:
        for problem in r.problems:
            print(f"!! {r.name}: {problem}")
        if not r.problems:
            print(f"ok {r.name}: {r.checked}")


async def cleanup(redis_url: str, namespace: str) -> int:
    client = aioredis.from_url(redis_url)
    try:
        keys = [k async for k in client.scan_iter(match=f"{namespace}:*", count=1000)]
        for i in range(0, len(keys), 500):
            await client.unlink(*keys[i:i + 500])
        return len(keys)
    finally:
        await client.aclose()


async def main(args: argparse.Namespace) -> None:
    print(f"python {platform.python_version()} ({platform.python_implementation()}), "
          f"{os.cpu_count()} CPUs, {platform.platform()}, "
          f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"N={args.updates} updates over C={args.chats} paired chats, K={args.concurrency} "
          f"in flight, redis {args.redis_url}")
    users = [SimUser(id=FIRST_USER_ID + i, language_code="fr") for i in range(args.chats)]
    warm_user = SimUser(id=FIRST_USER_ID - 1, language_code="fr")
    planned = plan(args.updates, users, seed=args.seed)
    print("mix:", dict(Counter(item.kind for item in planned)))

    namespace = f"bench-pipeline:{uuid.uuid4().hex}"
    logs = _LogCounter()
    logging.getLogger().addHandler(logs)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            ours = await bench_ours(args, planned, users, warm_user, namespace, Path(tmp))
        baseline = await bench_echo(args, planned, warm_user)
    finally:
        logging.getLogger().removeHandler(logs)
        removed = await cleanup(args.redis_url, namespace)
    print_table([ours, baseline], baseline)
    by_kind = ", ".join(
        f"{kind} p50 {quantile_ms(lat, 50):.1f} / p99 {quantile_ms(lat, 99):.1f} ms"
        for kind in ("help", "text", "button")
        if (lat := [x for x, item in zip(ours.latencies, planned, strict=True)
                    if item.kind == kind]))
    print(f"ours by kind: {by_kind}")
    if logs.count:
        print(f"!! {logs.count} warnings/errors logged, first: {logs.first}")
    print(f"redis: deleted {removed} keys of namespace {namespace}")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=2000, help="N updates per run")
    parser.add_argument("--chats", type=int, default=100, help="C paired chats")
    parser.add_argument("--concurrency", type=int, default=64, help="K updates in flight")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--artis-url", default=None,
                        help="an artis.net already running elsewhere (e.g. `python -m "
                             "integrations.artis.demo` in another process) instead of the "
                             "embedded demo thread")
    parser.add_argument("--seed", type=int, default=1, help="seed of the update mix")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the measured run of ours and print the top costs")
    args = parser.parse_args(argv)
    if args.updates < 2 or args.chats < 1 or args.concurrency < 1:
        parser.error("need --updates >= 2, --chats >= 1, --concurrency >= 1")
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
