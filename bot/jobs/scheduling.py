"""Digests and reminders on taskiq's scheduler: one schedule, ``crmbot.tick`` every
``SCHEDULE_TICK_SECONDS``.

Every process that consumes jobs (``crmbot worker``; ``crmbot run`` unless
``JOBS_IN_BOT=false``) runs taskiq's scheduler loop over that one schedule. With
``REDIS_URL`` the schedule lives in Redis (taskiq-redis's ``ListRedisScheduleSource``,
under the store's namespace), so every process reads the same one; on the embedded store,
taskiq's ``LabelScheduleSource`` reads it from the task's label and the in-process broker
runs the tick at once.

Exactly once, with any number of schedulers and workers, in two layers:

1. several schedulers kick the tick in the same interval: the task first claims the
   interval's *slot* (``store.add`` NX on ``keys.tick_slot``) and only the first tick of a
   slot works; the others return at once;
2. inside a tick, each occurrence (a manager's digest of a day, a reminder of an action)
   is claimed once before it is sent (``bot/scheduled.py``), so a tick that overlaps a
   slower previous one, or a re-run after a crash, sends nothing twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from taskiq import AsyncBroker, ScheduledTask, ScheduleSource
from taskiq.schedule_sources import LabelScheduleSource
from taskiq.serializers import JSONSerializer
from telegram import Bot

from bot import keys
from bot.container import Services
from bot.settings import Settings

log = logging.getLogger(__name__)

TICK = "crmbot.tick"
SCHEDULE_ID = "crmbot-tick"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def tick_interval(settings: Settings) -> int:
    """Whole seconds between two ticks (taskiq's intervals are whole seconds); 0: none."""
    every = settings.schedule_tick_seconds
    return max(1, round(every)) if every else 0


def tick_labels(settings: Settings) -> dict[str, Any]:
    """The tick task's labels: its schedule, read by ``LabelScheduleSource``."""
    interval = tick_interval(settings)
    if not interval or settings.redis_url is not None:
        return {}
    return {"schedule": [{"interval": interval, "schedule_id": SCHEDULE_ID}]}


def the_schedule(settings: Settings) -> ScheduledTask:
    return ScheduledTask(task_name=TICK, labels={}, args=[], kwargs={},
                         schedule_id=SCHEDULE_ID, interval=tick_interval(settings))


def schedule_source(settings: Settings, broker: AsyncBroker) -> ScheduleSource:
    if settings.redis_url is None:
        return LabelScheduleSource(broker)
    from taskiq_redis import ListRedisScheduleSource

    return ListRedisScheduleSource(settings.redis_url,
                                   prefix=f"{settings.store_namespace}:{keys.schedules()}",
                                   serializer=JSONSerializer())


async def publish(services: Services, source: ScheduleSource) -> None:
    """Write the tick's schedule in Redis, replacing an older one (another interval), under
    a lock so two processes starting together leave one entry."""
    if services.settings.redis_url is None:
        return
    async with services.store.lock(keys.schedules_lock(), timeout=10, wait=10):
        await source.delete_schedule(SCHEDULE_ID)
        await source.add_schedule(the_schedule(services.settings))


async def tick_once_per_slot(services: Services, bot: Bot, now: datetime) -> int:
    """The scheduled task: the first tick of this interval sends what is due; the ticks other
    schedulers kicked in the same interval return 0 at once."""
    interval = tick_interval(services.settings) or 1
    slot = int(time.time() // interval)
    if not await services.store.add(keys.tick_slot(slot), "1", ttl=interval * 4):
        return 0
    # Imported at the first tick: the digests' and reminders' code (and the holiday
    # calendars) are no part of a start-up's first answer (cold start, issue #7).
    from bot.scheduled import tick

    sent = await tick(services, bot, now)
    if sent:
        log.info("scheduled sends: %d", sent)
    return sent
