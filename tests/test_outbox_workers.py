"""Report delivery across real processes on the real Redis: `crmbot worker`, `crmbot run`,
`kill -9` in the middle of a delivery, two workers sharing the load, and a transcription
run on a worker.

The workers and the restarted bot reach the fake Bot API over loopback HTTP (as a
self-hosted Bot API server) and the demo artis.net over loopback HTTP; the rep's chat is
read from the fake. A report counts as applied once per row of the demo's idempotency table.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.jobs.broker import build_broker
from bot.jobs.transcribe import JobTranscriber
from bot.services.outbox import ReportState, Stored
from bot.settings import Settings
from integrations.artis.demo import DemoArtisServer
from integrations.fake_bot_api import FakeBotApi
from tests.harness import TEST_STORE_KEY, BotHarness, make_settings, new_user, running_bot
from tests.speech_metrics import clips, wer
from tests.store_fixtures import REDIS_URL, new_namespace, wipe_redis_namespace
from tests.test_entrypoints import TOKEN, bot_api  # noqa: F401 - fixture
from tests.test_outbox import (  # noqa: F401 - demo_artis: this module's own demo artis.net
    LATER,
    applications,
    demo_artis,
    open_action,
    open_actions,
    order,
)

ROOT = Path(__file__).resolve().parent.parent  # `python -m tests.…` runs from here
#: Child processes get these; the test's own bot only kicks (JOBS_IN_BOT off).
TIMINGS = {"OUTBOX_SUBMIT_WAIT": "0.5", "OUTBOX_RETRY_BASE": "0.3", "OUTBOX_RETRY_MAX": "2",
           "OUTBOX_SWEEP_INTERVAL": "0.3", "OUTBOX_LEASE": "2"}


class Fleet:
    """The processes of one test on one Redis namespace, and how to start them."""

    def __init__(self, tmp_path: Path, artis: DemoArtisServer, api_url: str,
                 namespace: str) -> None:
        self.tmp_path, self.artis, self.api_url, self.namespace = (tmp_path, artis, api_url,
                                                                    namespace)
        self.processes: list[asyncio.subprocess.Process] = []

    def settings(self, **extra: Any) -> Settings:
        timings = {k.lower(): float(v) for k, v in TIMINGS.items()}
        return make_settings(self.tmp_path, self.artis.url, redis_url=REDIS_URL,
                             namespace=self.namespace, **{**timings, **extra})

    def env(self, **extra: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ARTIS_URL")}
        return {**base, "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": self.api_url,
                "ARTIS_URL": self.artis.url, "ARTIS_SERVICE_LOGIN": "bot.service",
                "ARTIS_SERVICE_PASSWORD": "demo", "DATA_DIR": str(self.tmp_path),
                "REDIS_URL": REDIS_URL, "STORE_NAMESPACE": self.namespace,
                "STORE_ENCRYPTION_KEY": TEST_STORE_KEY, "HF_HUB_OFFLINE": "1",
                "LOG_LEVEL": "INFO", **TIMINGS, **extra}

    async def start(self, *argv: str, **env: str) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *argv, cwd=ROOT, env=self.env(**env),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        self.processes.append(process)
        return process

    async def worker(self) -> asyncio.subprocess.Process:
        return await self.start("-m", "bot.cli", "worker")

    async def stop(self, process: asyncio.subprocess.Process) -> str:
        """SIGTERM, and the worker's log (it must exit cleanly)."""
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, err.decode()[-3000:]
        return err.decode()

    async def kill(self, process: asyncio.subprocess.Process) -> None:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()


@pytest.fixture
async def fleet(tmp_path: Path, artis: DemoArtisServer,
                bot_api) -> AsyncIterator[Fleet]:  # noqa: F811 - the fixture
    namespace = new_namespace()
    crew = Fleet(tmp_path, artis, bot_api[1], namespace)
    try:
        yield crew
    finally:
        for process in crew.processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
        await wipe_redis_namespace(namespace)


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def later(api: FakeBotApi, chat_id: int) -> list[str]:
    return [t for t in api.texts(chat_id) if LATER in t]


async def paired(bot: BotHarness, login: str = "demo.commercial"):
    rep = new_user()
    await bot.pair(rep, login)
    return rep


async def test_the_bot_killed_after_confirm_loses_nothing_and_sends_once(
        fleet: Fleet, artis: DemoArtisServer, bot_api) -> None:  # noqa: F811
    api = bot_api[0]
    async with running_bot(fleet.settings(jobs_in_bot=False)) as bot:
        rep = await paired(bot)
    action = open_action(artis, "demo.commercial")
    path = f"/actions/{action.id}/report"
    artis.inject_fault(status=None, delay=4.0, path_prefix=path)  # artis.net slow
    confirmed = order(rep, "demo.commercial", action)
    child_settings = fleet.settings().model_dump(mode="json", include={
        "data_dir", "artis_url", "redis_url", "store_namespace", "artis_service_login",
        "artis_timeout", "outbox_submit_wait", "outbox_retry_base", "outbox_retry_max",
        "outbox_sweep_interval", "outbox_lease"})
    child_settings.update(artis_service_password="demo", store_encryption_key=TEST_STORE_KEY)
    process = await fleet.start("-m", "tests.outbox_process", json.dumps(child_settings),
                                confirmed.model_dump_json())
    try:
        await until(lambda: artis.request_count(path) >= 1)  # its delivery is in flight
        await asyncio.sleep(0.2)
    finally:
        await fleet.kill(process)
        assert process.stdout and process.stderr
        said = (await process.stdout.read()).decode()
        assert "submitting" in said, (await process.stderr.read()).decode()[-3000:]
    artis.clear_faults()
    assert applications(artis, action.id) == 0

    restarted = time.monotonic()
    bot_process = await fleet.start("-m", "bot.cli", "run")
    await until(lambda: bool(later(api, rep.id)))
    print(f"\ndelivered {time.monotonic() - restarted:.1f} s after the restart")
    await asyncio.sleep(5)  # past the slow first request and a few sweeps
    assert len(later(api, rep.id)) == 1
    assert applications(artis, action.id) == 1
    await fleet.stop(bot_process)


async def test_a_worker_killed_mid_delivery_another_delivers_it_once(
        fleet: Fleet, artis: DemoArtisServer, bot_api) -> None:  # noqa: F811
    api = bot_api[0]
    first = await fleet.worker()
    async with running_bot(fleet.settings(jobs_in_bot=False)) as bot:
        rep = await paired(bot)
        action = open_action(artis, "demo.commercial")
        path = f"/actions/{action.id}/report"
        artis.inject_fault(status=None, delay=4.0, path_prefix=path)
        outcome = await bot.services.outbox.submit(order(rep, "demo.commercial", action))
        assert isinstance(outcome, Stored) and outcome.record.state is ReportState.PENDING
        await until(lambda: artis.request_count(path) >= 1)
        await asyncio.sleep(0.2)
        await fleet.kill(first)
        artis.clear_faults()
        second = await fleet.worker()
        await until(lambda: bool(later(api, rep.id)))
        await asyncio.sleep(5)
        assert len(later(api, rep.id)) == 1
        assert applications(artis, action.id) == 1
        record = await bot.services.outbox.get(outcome.record.order.id)
        assert record is not None and record.state is ReportState.DELIVERED
    log = await fleet.stop(second)
    assert "Finished" in log


async def test_two_workers_share_the_reports_and_deliver_each_once(
        fleet: Fleet, artis: DemoArtisServer, bot_api) -> None:  # noqa: F811
    api = bot_api[0]
    workers = [await fleet.worker(), await fleet.worker()]
    async with running_bot(fleet.settings(jobs_in_bot=False, outbox_submit_wait=0)) as bot:
        camille = await paired(bot)
        chosen = open_actions(artis, "demo.commercial", 6)
        for action in chosen:
            await bot.services.outbox.submit(order(camille, "demo.commercial", action))
        await until(lambda: len(later(api, camille.id)) >= len(chosen))
        await asyncio.sleep(4)  # the sweeps look at every one again, and tell nobody
        assert len(later(api, camille.id)) == len(chosen)
        for action in chosen:
            assert applications(artis, action.id) == 1
            assert sum(f"RDV {action.id}" in t for t in later(api, camille.id)) == 1
        assert await bot.services.outbox.waiting("demo.commercial") == []
    logs = [await fleet.stop(w) for w in workers]
    print("\nreports attempted per worker:", [log.count(": Finished") for log in logs])


async def test_a_voice_note_is_transcribed_on_a_worker(fleet: Fleet) -> None:
    worker = await fleet.worker()
    broker = build_broker(fleet.settings())
    await broker.startup()
    try:
        transcriber = JobTranscriber(broker)
        [clip] = [c for c in clips() if c.file == "fr_a01.ogg"]
        transcript = await transcriber.transcribe(clip.path.read_bytes(), language="fr")
    finally:
        await broker.shutdown()
    assert transcript.language == "fr" and transcript.duration > 1
    assert wer(clip.spoken_text, transcript.text) <= 0.3, transcript.text
    log = await fleet.stop(worker)
    assert "crmbot.transcribe" in log
