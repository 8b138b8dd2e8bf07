"""Our bot against an aiogram 3 bot, both as real processes over real loopback HTTP.

    python bench/bench_vs_aiogram.py [--updates N] [--chats C] [--repeat R]
                                     [--redis-url URL] [--only ours|aiogram] [--py-spy DIR]
                                     [--workload message|button] [--inflight K]
                                     [--cold S] [--cold-only]

What runs (every piece its own process, all on 127.0.0.1):

* ``bench/fake_telegram_server.py``: a small aiohttp fake Bot API. It hands out the
  planned updates through ``getUpdates`` (long polling), keeps at most K of them in
  flight (delivered, not yet answered), and timestamps each update's delivery and its
  answer (the first ``sendMessage``/``editMessageText`` in that chat after delivery).
* ``crmbot artis-demo``: the demo artis.net (the workloads below do not call it; the
  bot is configured against it as in production).
* *ours*: ``crmbot run`` (long polling) with ``TELEGRAM_API_URL`` on the fake,
  ``REDIS_URL`` on the real Redis, ``ARTIS_URL`` on the demo, ``TELEGRAM_SEND_RATE=0``.
* *aiogram*: ``bench/aiogram_peer/bot.py`` in its own virtual environment
  (``bench/.venv-aiogram``, created on first use): ``RedisStorage`` +
  ``RedisEventIsolation``, aiogram's default aiohttp session, ``asyncio.run``.

Workloads, each from C chats that are not paired (chat k % C gets the k-th update, so
with C >= K no two updates of one chat are in flight together):

* ``message``: the text "bonjour". Ours answers "how to pair" (session load, access
  guard, one sendMessage); aiogram answers a fixed text.
* ``button``: a press of the language button ``lang:fr`` / ``lang:en`` (alternating)
  on a bot message. Both read the chat's state, write the choice, answer the query,
  set the chat's command menu and edit the message (the edit is the answer timed).

Each condition: K=64 updates in flight, and K=1 (for the latency floor). Printed:
updates/s (N over first delivery to last answer), p50/p99 of delivery-to-answer,
the bot process' CPU time per update (/proc, all its threads), and ours/aiogram.
Cold start: process start (Popen) to the answer of an update queued before it, S times
per bot (median and range), and the same for ``bench/bare_ptb/bot.py``, a one-handler
python-telegram-bot in our venv: the floor our start stands on, measured in the same run so
that a slow machine shows as a slow floor.

Bounded: N updates per run, every wait has a deadline, the processes are stopped at
the end (SIGTERM, then SIGKILL). Redis keys live under throwaway prefixes, deleted at
the end.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import itertools
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PEER_VENV = BENCH / ".venv-aiogram"
PEER_PY = PEER_VENV / "bin" / "python"
OUR_VENV_BIN = Path(sys.executable).parent
TOKEN = "123456:BENCH-token-not-a-real-bot-abcdef"
FIRST_CHAT = 930_000_000
_COLD_CHATS = itertools.count(1)  # chats below FIRST_CHAT, one per cold start
WARMUP = 300
RUN_DEADLINE = 180.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- processes ----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], deadline: float = 30.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port} after {deadline}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def ensure_peer_venv() -> None:
    if PEER_PY.exists():
        return
    print("creating the aiogram peer's virtual environment in bench/.venv-aiogram ...")
    subprocess.run(["python3", "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "--quiet", "-r",
                    str(BENCH / "aiogram_peer" / "requirements.txt")], check=True)


def compile_ours() -> None:
    """Byte-compile our packages, as ``pip install .`` does (the peer's are, by pip). A
    checkout run under ``PYTHONDONTWRITEBYTECODE=1`` (set here) would otherwise compile
    every module of ours from source at each start: +0.03-0.2 s on the cold start."""
    subprocess.run([str(OUR_VENV_BIN / "python"), "-m", "compileall", "-q",
                    *(str(ROOT / package) for package in ("bot", "handlers", "integrations"))],
                   check=True, stdout=subprocess.DEVNULL)


# -- the fake's control API -------------------------------------------------------------------
class Fake:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def _call(self, path: str, body: dict[str, Any] | None = None, timeout: float = 30) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())["result"]

    def load(self, updates: Sequence[dict[str, Any]], inflight: int) -> None:
        self._call("/_bench/load", {"updates": list(updates), "inflight": inflight,
                                    "answer": ["sendMessage", "editMessageText"]})

    def wait(self, timeout: float = RUN_DEADLINE) -> dict[str, Any]:
        return self._call(f"/_bench/wait?timeout={timeout}", timeout=timeout + 10)


# -- workloads --------------------------------------------------------------------------------
def user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Rep", "language_code": "fr"}


def chat(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "type": "private", "first_name": "Rep"}


def plan(workload: str, n: int, chats: int, first_chat: int) -> list[dict[str, Any]]:
    now = int(time.time())
    updates = []
    for k in range(n):
        chat_id = first_chat + k % chats
        if workload == "message":
            updates.append({"message": {"message_id": 10 + k, "date": now, "chat": chat(chat_id),
                                        "from": user(chat_id), "text": "bonjour"}})
        else:
            lang = "fr" if (k // chats) % 2 else "en"
            pressed = {"message_id": 1, "date": now, "chat": chat(chat_id),
                       "from": {"id": 777000111, "is_bot": True, "first_name": "bench bot"},
                       "text": "Choisissez votre langue :"}
            updates.append({"callback_query": {"id": f"q{k}", "from": user(chat_id),
                                               "chat_instance": "1", "message": pressed,
                                               "data": f"lang:{lang}"}})
    return updates


@dataclass
class Run:
    bot: str
    workload: str
    inflight: int
    n: int
    rate: float
    p50: float
    p99: float
    cpu_ms: float
    problems: list[str] = field(default_factory=list)


def quantile_ms(values: Sequence[float], q: int) -> float:
    if len(values) < 2:
        return values[0] * 1000 if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def measure(fake: Fake, pid: int, updates: Sequence[dict[str, Any]], inflight: int,
            bot: str, workload: str) -> Run:
    cpu0 = cpu_seconds(pid)
    fake.load(updates, inflight)
    result = fake.wait()
    cpu = cpu_seconds(pid) - cpu0
    delivered, answered = result["delivered"], result["answered"]
    done = [(d, a) for d, a in zip(delivered, answered, strict=True) if a]
    problems = []
    if len(done) < len(updates):
        problems.append(f"{len(updates) - len(done)} of {len(updates)} updates unanswered")
    if result["extra"]:
        problems.append(f"{result['extra']} answers matched no waiting update")
    if not done:
        return Run(bot, workload, inflight, 0, 0.0, float("nan"), float("nan"), float("nan"),
                   problems)
    span = max(a for _, a in done) - min(d for d, _ in done)
    latencies = [a - d for d, a in done]
    return Run(bot, workload, inflight, len(done), len(done) / span, quantile_ms(latencies, 50),
               quantile_ms(latencies, 99), cpu / len(done) * 1000, problems)


# -- the two bots -------------------------------------------------------------------------------
@dataclass
class BotSpec:
    name: str
    argv: list[str]
    env: dict[str, str]
    prefix: str  # its Redis keys


def our_bot(fake_url: str, artis_url: str, redis_url: str, data_dir: Path,
            extra_env: dict[str, str], cprofile: str | None = None) -> BotSpec:
    ns = f"bench-ours-{uuid.uuid4().hex[:12]}"
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": fake_url, "REDIS_URL": redis_url,
           "STORE_NAMESPACE": ns, "ARTIS_URL": artis_url, "ARTIS_SERVICE_LOGIN": "bot.service",
           "ARTIS_SERVICE_PASSWORD": "demo", "TELEGRAM_SEND_RATE": "0", "LOG_LEVEL": "WARNING",
           # A throwaway Fernet key (32 random bytes, urlsafe base64), as an operator sets one.
           "STORE_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
           "DATA_DIR": str(data_dir), **extra_env}
    argv = [str(OUR_VENV_BIN / "crmbot"), "run"]
    if cprofile:  # the whole life of the process, written when it stops
        argv = [str(OUR_VENV_BIN / "python"), "-m", "cProfile", "-o", cprofile, "-m", "bot.cli",
                "run"]
    return BotSpec("ours", argv, env, ns)


def bare_ptb_bot(fake_url: str) -> BotSpec:
    """The floor: python-telegram-bot alone, in our venv (cold start only)."""
    env = {"BOT_TOKEN": TOKEN, "BOT_API_URL": fake_url}
    return BotSpec("bare PTB", [str(OUR_VENV_BIN / "python"), str(BENCH / "bare_ptb" / "bot.py")],
                   env, "")


def aiogram_bot(fake_url: str, redis_url: str) -> BotSpec:
    prefix = f"bench-aiogram-{uuid.uuid4().hex[:12]}"
    env = {"BOT_TOKEN": TOKEN, "BOT_API_URL": fake_url, "REDIS_URL": redis_url,
           "FSM_PREFIX": prefix}
    return BotSpec("aiogram", [str(PEER_PY), str(BENCH / "aiogram_peer" / "bot.py")], env, prefix)


@contextlib.contextmanager
def running(spec: BotSpec, fake: Fake, log_dir: Path) -> Iterator[tuple[subprocess.Popen[bytes],
                                                                         float]]:
    """Start the bot with one update already queued; yield it and its cold start (s)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "REDIS_"))}
    env.update(spec.env)
    log = (log_dir / f"{spec.name}.log").open("wb")
    start = time.monotonic()
    proc = subprocess.Popen(spec.argv, env=env, cwd=log_dir, stdout=log, stderr=subprocess.STDOUT)
    try:
        # Queued while the interpreter starts: waiting when the bot first polls. A chat of
        # its own each time: the previous start's answer to a shared chat, under a second
        # ago, would make this one wait for Telegram's per-chat pace.
        fake.load(plan("message", 1, 1, FIRST_CHAT - next(_COLD_CHATS)), 1)
        deadline = time.monotonic() + 60
        while True:
            result = fake.wait(1)
            if result["answered"][0] or time.monotonic() > deadline:
                break
            if proc.poll() is not None:
                raise RuntimeError(f"{spec.name} exited with {proc.returncode}; see "
                                   f"{log_dir / (spec.name + '.log')}")
        cold = result["answered"][0] - start if result["answered"][0] else float("nan")
        if not result["answered"][0]:
            print(f"!! {spec.name}: no answer to the first update within 60 s: {result['calls']}")
        yield proc, cold
    finally:
        stop(proc)
        log.close()


def cleanup_redis(redis_url: str, prefixes: Sequence[str]) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    removed = 0
    try:
        for prefix in prefixes:
            keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
            for i in range(0, len(keys), 500):
                removed += client.unlink(*keys[i:i + 500])
    finally:
        client.close()
    return removed


def py_spy(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes] | None:
    exe = OUR_VENV_BIN / "py-spy"
    if not exe.exists():
        print("!! py-spy is not installed in this venv (pip install py-spy); no profile")
        return None
    return subprocess.Popen([str(exe), "record", "-p", str(pid), "-o", str(out), "-f", "raw",
                             "-d", str(int(seconds)), "-r", "250", "--nonblocking"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarize_py_spy(raw: Path, top: int = 15) -> None:
    """Own samples per function, from py-spy's collapsed stacks."""
    own: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        leaf = stack.rsplit(";", 1)[-1]
        own[leaf] = own.get(leaf, 0) + int(count)
        total += int(count)
    print(f"--- py-spy {raw.name}: own samples, top {top} of {total} ---")
    for leaf, count in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{count / total:6.1%}  {leaf}")


def bench_bot(spec: BotSpec, fake: Fake, args: argparse.Namespace,
              log_dir: Path) -> list[Run]:
    runs: list[Run] = []
    with running(spec, fake, log_dir) as (proc, _cold):
        for workload in args.workload or ("message", "button"):
            fake.load(plan(workload, WARMUP, WARMUP, FIRST_CHAT + 500_000), 64)
            fake.wait()
            for inflight in args.inflight or (64, 1):
                n = args.updates if inflight > 1 else max(2, args.updates // 3)
                best: Run | None = None
                for r in range(args.repeat):
                    spy = None
                    if args.py_spy and r == 0:
                        out = Path(args.py_spy) / f"{spec.name}-{workload}-k{inflight}.txt"
                        spy = py_spy(proc.pid, out, n / (300 if inflight > 1 else 150))
                    run = measure(fake, proc.pid, plan(workload, n, args.chats, FIRST_CHAT),
                                  inflight, spec.name, workload)
                    if spy is not None:
                        spy.wait(60)
                    if best is None or run.rate > best.rate:
                        best = run
                assert best is not None
                runs.append(best)
                print(f"  {spec.name:8} {workload:8} K={inflight:<3} {best.rate:8.0f}/s "
                      f"p50 {best.p50:6.2f} ms p99 {best.p99:6.2f} ms "
                      f"cpu {best.cpu_ms:5.2f} ms/update {'; '.join(best.problems)}", flush=True)
    return runs


def cold_starts(spec: BotSpec, fake: Fake, n: int, log_dir: Path) -> list[float]:
    """N starts of the bot, each to the answer of an update queued before it."""
    colds = []
    for _ in range(n):
        with running(spec, fake, log_dir) as (_proc, cold):
            colds.append(cold)
    return colds


def print_table(runs: Sequence[Run], colds: dict[str, list[float]]) -> None:
    peer = {(r.workload, r.inflight): r for r in runs if r.bot == "aiogram"}
    print("\n| bot | workload | in flight | updates/s | p50 ms | p99 ms | CPU ms/update "
          "| ours/aiogram |\n|---|---|---|---|---|---|---|---|")
    for r in sorted(runs, key=lambda r: (r.workload, -r.inflight, r.bot != "ours")):
        base = peer.get((r.workload, r.inflight))
        ratio = f"{r.rate / base.rate:.2f}" if r.bot == "ours" and base and base.rate else ""
        print(f"| {r.bot} | {r.workload} | {r.inflight} | {r.rate:,.0f} | {r.p50:.2f} "
              f"| {r.p99:.2f} | {r.cpu_ms:.2f} | {ratio} |")
    if colds:
        print("\ncold start (process start to first answer; median, range): " + ", ".join(
            f"{name} {statistics.median(c):.2f} s ({min(c):.2f}-{max(c):.2f})"
            for name, c in colds.items()))
        floor = colds.get("bare PTB")
        if floor and "ours" in colds:
            added = statistics.median(colds["ours"]) - statistics.median(floor)
            print(f"ours - bare PTB: {added:.2f} s (what our bot adds to PTB's own start)")
    for r in runs:
        for problem in r.problems:
            print(f"!! {r.bot} {r.workload} K={r.inflight}: {problem}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=3000, help="N updates per run (K=64); "
                        "N/3 at K=1")
    parser.add_argument("--chats", type=int, default=1000, help="C chats")
    parser.add_argument("--repeat", type=int, default=1, help="runs per condition (best kept)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--only", choices=("ours", "aiogram"), default=None)
    parser.add_argument("--workload", action="append", choices=("message", "button"),
                        help="only this workload (repeatable; default both)")
    parser.add_argument("--inflight", action="append", type=int, metavar="K",
                        help="only K updates in flight (repeatable; default 64 and 1)")
    parser.add_argument("--py-spy", metavar="DIR", default=None,
                        help="py-spy each bot during the first run of each condition")
    parser.add_argument("--cprofile", metavar="FILE", default=None,
                        help="run our bot under cProfile, stats written to FILE at its stop")
    parser.add_argument("--cold", type=int, default=3, metavar="S",
                        help="cold starts per bot, median printed (default 3; 0: none)")
    parser.add_argument("--cold-only", action="store_true",
                        help="only the cold starts (ours, bare PTB, aiogram)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                        help="extra environment for our bot (e.g. CRMBOT_UVLOOP=0)")
    args = parser.parse_args(argv)
    if args.updates < 2 or args.chats < 1 or args.repeat < 1:
        parser.error("need --updates >= 2, --chats >= 1, --repeat >= 1")
    extra_env = dict(item.split("=", 1) for item in args.env)

    ensure_peer_venv()
    compile_ours()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}; N={args.updates} (K=64), "
          f"{max(2, args.updates // 3)} (K=1), C={args.chats} chats; our env {extra_env}")
    results_dir = BENCH / "results"
    results_dir.mkdir(exist_ok=True)
    if args.py_spy:
        Path(args.py_spy).mkdir(parents=True, exist_ok=True)
    fake_port, artis_port = free_port(), free_port()
    procs: list[subprocess.Popen[bytes]] = []
    prefixes: list[str] = []
    runs: list[Run] = []
    colds: dict[str, list[float]] = {}
    try:
        fake_proc = subprocess.Popen(
            [str(PEER_PY), str(BENCH / "fake_telegram_server.py"), "--port", str(fake_port)])
        procs.append(fake_proc)
        artis_proc = subprocess.Popen(
            [str(OUR_VENV_BIN / "crmbot"), "artis-demo", "--port", str(artis_port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(artis_proc)
        wait_listening(fake_port, fake_proc)
        wait_listening(artis_port, artis_proc)
        fake = Fake(fake_port)
        fake_url = fake.url
        artis_url = f"http://127.0.0.1:{artis_port}/api/v1"
        specs = [our_bot(fake_url, artis_url, args.redis_url, results_dir / "data", extra_env,
                         args.cprofile),
                 aiogram_bot(fake_url, args.redis_url)]
        for spec in specs:
            if args.only and spec.name != args.only:
                continue
            prefixes.append(spec.prefix)
            if not args.cold_only:
                runs.extend(bench_bot(spec, fake, args, results_dir))
            if args.cold:
                colds[spec.name] = cold_starts(spec, fake, args.cold, results_dir)
                starts = " ".join(f"{c:.2f}" for c in colds[spec.name])
                print(f"  {spec.name:8} cold start {starts} s", flush=True)
        if args.cold and not args.only:
            bare = bare_ptb_bot(fake_url)
            colds[bare.name] = cold_starts(bare, fake, args.cold, results_dir)
    finally:
        for proc in reversed(procs):
            stop(proc)
        if prefixes:
            print(f"redis: deleted {cleanup_redis(args.redis_url, prefixes)} benchmark keys")
    print_table(runs, colds)
    if args.py_spy:
        for raw in sorted(Path(args.py_spy).glob("*.txt")):
            summarize_py_spy(raw)
    return 1 if any(r.problems for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
