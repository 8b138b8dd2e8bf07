"""The jobs of one process: the broker, the tasks bound to this process's services, the
consumer (taskiq's ``Receiver`` on Redis) and the outbox sweep.

``crmbot worker`` always consumes. ``crmbot run`` consumes too when ``JOBS_IN_BOT`` is on
(the default, so one process with Redis still delivers) and always on the embedded store,
where taskiq's in-process broker runs each job as it is kicked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from taskiq import AsyncBroker, InMemoryBroker, TaskiqScheduler
from taskiq.api import run_scheduler_task
from taskiq.receiver import Receiver
from telegram import Bot

from bot.container import Services
from bot.jobs.broker import (
    DELIVER_REPORT,
    MAX_CONCURRENT,
    TRANSCRIBE,
    build_broker,
    is_distributed,
)
from bot.jobs.delivery import ReportDelivery
from bot.jobs.scheduling import (
    TICK,
    Clock,
    publish,
    schedule_source,
    tick_interval,
    tick_labels,
    tick_once_per_slot,
    utc_now,
)
from bot.jobs.transcribe import JobTranscriber, TranscribeTask

log = logging.getLogger(__name__)


class Jobs:
    """What a process uses to kick jobs (and, when it consumes, runs them)."""

    def __init__(self, services: Services, bot: Bot, broker: AsyncBroker, *,
                 consume: bool, clock: Clock = utc_now) -> None:
        self.services = services
        self.broker = broker
        self.consume = consume
        self.delivery = ReportDelivery(services, bot)
        self.transcription = TranscribeTask(services.settings)
        delivery, transcription = self.delivery, self.transcription

        # Plain functions (taskiq renames what it registers: not bound methods), one pair
        # per broker, bound to this process's services.
        async def deliver_report(report_id: str, claim: int = 0, payload: str = "") -> str:
            return await delivery.deliver(report_id, claim, payload)

        async def transcribe(audio_b64: str, language: str, prompt: str | None = None,
                             hotwords: list[str] | None = None) -> dict[str, Any]:
            return await transcription.run(audio_b64, language, prompt, hotwords)

        async def scheduled_tick() -> int:
            return await tick_once_per_slot(services, bot, clock())

        self._deliver = broker.register_task(deliver_report, task_name=DELIVER_REPORT)
        broker.register_task(transcribe, task_name=TRANSCRIBE)
        broker.register_task(scheduled_tick, task_name=TICK, **tick_labels(services.settings))
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._executor = ThreadPoolExecutor(1)  # taskiq's, for sync tasks (we have none)

    async def kick_delivery(self, report_id: str, claim: int = 0, payload: str = "") -> None:
        await self._deliver.kiq(report_id, claim, payload)

    async def kick_report(self, report_id: str) -> None:
        """``ReportOutbox.kick``: deliver this report now, wherever a consumer is."""
        await self.kick_delivery(report_id)

    def transcriber(self) -> JobTranscriber | None:
        """Transcription on the workers when jobs go through Redis; None on the embedded
        store (the bot's own process pool does it: ``bot.speech.build_transcriber``)."""
        if not is_distributed(self.services.settings):
            return None
        return JobTranscriber(self.broker)

    async def sweep_forever(self) -> None:
        interval = self.services.settings.outbox_sweep_interval
        while not self._stop.is_set():
            try:
                await self.delivery.sweep(self.kick_delivery)
            except Exception:
                log.exception("outbox sweep failed; next tick in %.0f s", interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), interval)

    async def start(self) -> None:
        distributed = is_distributed(self.services.settings)
        self.broker.is_worker_process = self.consume
        await self.broker.startup()
        self.services.outbox.kick = self.kick_report
        self.services.remote_transcriber = self.transcriber()
        if not self.consume:
            return
        if distributed:
            receiver = Receiver(self.broker, executor=self._executor,
                                max_async_tasks=MAX_CONCURRENT, run_startup=False)
            self._tasks.append(asyncio.create_task(receiver.listen(self._stop)))
        self._tasks.append(asyncio.create_task(self.sweep_forever()))
        if tick_interval(self.services.settings):
            self._tasks.append(asyncio.create_task(self.schedule_forever()))

    async def schedule_forever(self) -> None:
        """taskiq's scheduler loop over the tick's schedule, until ``stop``."""
        source = schedule_source(self.services.settings, self.broker)
        try:
            await publish(self.services, source)
            loop = asyncio.create_task(run_scheduler_task(
                TaskiqScheduler(self.broker, [source]), interval=timedelta(seconds=30)))
            await self._stop.wait()
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        except Exception:
            log.exception("the scheduler stopped: no digests nor reminders from this process")
        finally:
            with contextlib.suppress(Exception):
                await source.shutdown()

    async def stop(self) -> None:
        self.services.outbox.kick = None
        self.services.remote_transcriber = None
        self._stop.set()
        for task in self._tasks:
            try:
                await asyncio.wait_for(task, 10)
            except TimeoutError:
                log.warning("a job consumer did not stop within 10 s")
            except Exception:
                log.exception("a job consumer failed")
        if isinstance(self.broker, InMemoryBroker):  # jobs running on this loop finish first
            try:
                await asyncio.wait_for(self.broker.wait_all(), 10)
            except TimeoutError:
                log.warning("background jobs still running at shutdown")
        await self.transcription.aclose()
        await self.broker.shutdown()
        self._executor.shutdown(wait=False)


@asynccontextmanager
async def open_jobs(services: Services, bot: Bot, *, consume: bool,
                    clock: Clock = utc_now) -> AsyncIterator[Jobs]:
    """Kick jobs from this process (and run them, scheduled ticks included, when
    ``consume``) until the block ends. ``clock``: the time the ticks see (tests)."""
    distributed = is_distributed(services.settings)
    jobs = Jobs(services, bot, build_broker(services.settings),
                consume=consume or not distributed, clock=clock)
    await jobs.start()
    try:
        yield jobs
    finally:
        await jobs.stop()
