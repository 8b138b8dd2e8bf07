"""Opening and closing everything the bot needs, in one place.

``open_runtime`` starts (in order) the embedded demo artis.net when no
``ARTIS_URL`` is set, the store (Redis or embedded SQLite), the artis.net
client, the services and the Telegram Application; it closes them in reverse.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import httpx
from telegram.error import InvalidToken, NetworkError

from bot.app import Runtime, build_application, on_startup
from bot.composition import (  # re-exported: callers import them from here
    DEMO_SERVICE_LOGIN,
    DEMO_SERVICE_PASSWORD,
    DEMO_TOKEN,
    open_services,
    redact_url,
)
from bot.logs import keep_secrets_out_of_logs
from bot.settings import Settings, StartupError
from integrations.telegram_http import bot_api_requests

__all__ = ["DEMO_SERVICE_LOGIN", "DEMO_SERVICE_PASSWORD", "DEMO_TOKEN", "open_runtime",
           "open_services", "redact_url"]

log = logging.getLogger(__name__)


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    token: str | None = None,
    rate_limit: bool | None = None,
    defer: bool = False,
) -> AsyncIterator[Runtime]:
    """Services plus an initialized (not yet started) Telegram Application.

    With ``defer``, the command menu and the background jobs wait for
    ``runtime.start_rest()``: ``crmbot run`` calls it once the first updates are
    answered, so a freshly started bot answers first (cold start, issue #7). Until then a
    confirmed report is delivered inline (``ReportOutbox.kick`` is None), nothing is lost.
    """
    keep_secrets_out_of_logs()
    async with AsyncExitStack() as stack, open_services(settings) as services:
        if token is None:
            token = (settings.telegram_bot_token.get_secret_value()
                     if settings.telegram_bot_token else DEMO_TOKEN)
        if rate_limit is None:
            rate_limit = transport is None
        requests = None
        if transport is None:
            # PTB's network layer on aiohttp (integrations/http.py), closed here even if
            # initialize() fails (PTB then leaves its requests open).
            requests = bot_api_requests()
            for request in requests:
                stack.push_async_callback(request.shutdown)
        app = build_application(services, token=token, transport=transport,
                                requests=requests, rate_limit=rate_limit)
        try:
            await app.initialize()
        except InvalidToken:
            raise StartupError("startup error: the Bot API refused TELEGRAM_BOT_TOKEN "
                               "(check the token given by @BotFather)") from None
        except NetworkError as exc:
            raise StartupError(f"startup error: cannot reach the Bot API at TELEGRAM_API_URL="
                               f"{settings.telegram_api_url}: {exc}") from None
        later = AsyncExitStack()
        started = False

        async def start_rest() -> None:
            nonlocal started
            if started:
                return
            started = True
            # Imported here: taskiq and the outbox are not needed for a first answer.
            from bot.jobs import open_jobs

            await services.commands.publish(app.bot)
            # Background jobs (report delivery, its sweep): consumed here too unless
            # JOBS_IN_BOT is off and `crmbot worker` processes do it.
            await later.enter_async_context(
                open_jobs(services, app.bot, consume=settings.jobs_in_bot))

        try:
            await on_startup(app)
            async with later:
                if not defer:
                    await start_rest()
                yield Runtime(services, app, start_rest)
        finally:
            await app.shutdown()
