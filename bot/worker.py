"""``crmbot worker``: background jobs without Telegram updates.

The services (``bot/composition.py``) and a **send-only** Bot — PTB's ``ExtBot`` with our
``SendLimiter`` (the rate shared with every process on Redis) and no ``Application``, so no
handler is loaded — consume the taskiq jobs (report delivery, transcription) and run the
outbox sweep, until SIGTERM or SIGINT. Any number of workers share one Redis.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import Defaults, ExtBot

from bot.composition import open_services
from bot.jobs import open_jobs
from bot.logs import keep_secrets_out_of_logs
from bot.ratelimit import SendLimiter
from bot.settings import Settings
from integrations.telegram_http import bot_api_requests

log = logging.getLogger(__name__)


def send_only_bot(settings: Settings, limiter: SendLimiter) -> ExtBot[Any]:
    """A Bot that only sends (through the shared limiter): jobs answer nobody's update."""
    assert settings.telegram_bot_token is not None
    token = settings.telegram_bot_token.get_secret_value()
    send, _ = bot_api_requests()
    return ExtBot(token, base_url=f"{settings.telegram_api_url}/bot",
                  base_file_url=f"{settings.telegram_api_url}/file/bot", request=send,
                  defaults=Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz,
                                    link_preview_options=LinkPreviewOptions(is_disabled=True)),
                  rate_limiter=limiter)


async def run_worker(settings: Settings) -> int:
    keep_secrets_out_of_logs()
    if settings.redis_url is None:
        log.warning("REDIS_URL is not set: the jobs `crmbot run` kicks run in its own "
                    "process; this worker only delivers what the outbox sweep finds")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with open_services(settings) as services:
        limiter = SendLimiter.for_store(services.store, rate=settings.telegram_send_rate,
                                        max_retries=2)
        bot = send_only_bot(settings, limiter)
        await bot.initialize()
        try:
            async with open_jobs(services, bot, consume=True):
                log.info("worker consuming jobs")
                await stop.wait()
        finally:
            await bot.shutdown()
    return 0
