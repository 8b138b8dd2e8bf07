"""The taskiq broker the settings ask for, built at run time (no module-level broker).

``REDIS_URL`` set: taskiq-redis's ``ListQueueBroker`` on a list under the store's namespace
(any number of ``crmbot worker`` processes, on any machine, share it) with results (a
transcript) in Redis as JSON, kept ``RESULT_TTL`` seconds. Unset: taskiq's
``InMemoryBroker``, which runs a kicked task at once on this process's event loop.

The broker may lose a job (a worker killed after taking it from the list): that is why the
report outbox is the source of truth and its sweep re-queues what was not finished.
"""

from __future__ import annotations

import uuid

from taskiq import AsyncBroker, InMemoryBroker
from taskiq.serializers import JSONSerializer

from bot import keys
from bot.settings import Settings

#: Task names, the same in every process (the bot kicks, a worker runs).
DELIVER_REPORT = "crmbot.deliver_report"
TRANSCRIBE = "crmbot.transcribe"
#: Seconds a task result (a transcript) stays in Redis.
RESULT_TTL = 600
#: Jobs one process runs at once.
MAX_CONCURRENT = 16


def is_distributed(settings: Settings) -> bool:
    """True when jobs go through Redis to whichever process takes them."""
    return settings.redis_url is not None


def build_broker(settings: Settings) -> AsyncBroker:
    if settings.redis_url is None:
        return InMemoryBroker(max_async_tasks=MAX_CONCURRENT, propagate_exceptions=False)
    from taskiq_redis import ListQueueBroker, RedisAsyncResultBackend

    namespace = settings.store_namespace
    results: RedisAsyncResultBackend[object] = RedisAsyncResultBackend(
        settings.redis_url, result_ex_time=RESULT_TTL, keep_results=False,
        serializer=JSONSerializer(), prefix_str=f"{namespace}:{keys.job_results()}")
    # socket_timeout=None: a consumer waits on an empty queue with a BRPOP that blocks until
    # a job comes. redis-py 8.2 made reads time out after 5 s by default, and taskiq-redis
    # lets that TimeoutError end the consumer: a worker stopped taking jobs 5 s after the
    # queue went quiet (tests/test_outbox.py).
    broker = ListQueueBroker(settings.redis_url, queue_name=f"{namespace}:{keys.jobs_queue()}",
                             socket_timeout=None)
    return broker.with_result_backend(results).with_id_generator(lambda: uuid.uuid4().hex)
