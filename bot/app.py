"""The composition root of the Telegram side: one function builds the Application.

Bot API → Application → ChatPipeline (dedupe, chat lock, session) → access
guard (group -1) → the intent's handler → a service → a renderer → Bot API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import Application, ContextTypes, Defaults
from telegram.request import BaseRequest, HTTPXRequest

import handlers
from bot import outbound
from bot.container import Services
from bot.context import BotContext
from bot.i18n import L10n, pick_locale
from bot.pipeline import ChatPipeline
from bot.ratelimit import SendLimiter
from bot.views import common
from integrations.telegram_http import bot_api_requests

TelegramApp = Application[Any, BotContext, Any, Any, Any, Any]


async def _nothing_deferred() -> None:
    return None


@dataclass
class Runtime:
    """The services and the Telegram Application built on them.

    ``start_rest`` starts what ``open_runtime(..., defer=True)`` left for later (the
    command menu, the background jobs); it does nothing when nothing was deferred."""

    services: Services
    application: TelegramApp
    start_rest: Callable[[], Awaitable[None]] = _nothing_deferred


def build_application(
    services: Services,
    *,
    token: str,
    transport: httpx.AsyncBaseTransport | None = None,
    requests: tuple[BaseRequest, BaseRequest] | None = None,
    rate_limit: bool = True,
) -> TelegramApp:
    """The python-telegram-bot Application with our pipeline, handlers and error handler.

    The Bot API is reached through ``requests`` (sends, getUpdates): by default PTB's
    network layer on aiohttp (``integrations/http.py``). ``transport`` instead puts an
    httpx transport under PTB's own ``HTTPXRequest`` (the fake Bot API of the terminal
    demo and the tests).
    """
    settings = services.settings
    if transport is not None:
        httpx_kwargs = {"transport": transport}
        send: BaseRequest = HTTPXRequest(connection_pool_size=128, read_timeout=15.0,
                                         httpx_kwargs=httpx_kwargs)
        poll: BaseRequest = HTTPXRequest(connection_pool_size=4, read_timeout=40.0,
                                         httpx_kwargs=httpx_kwargs)
    else:
        send, poll = requests or bot_api_requests()
    limiter = (SendLimiter.for_store(services.store, rate=settings.telegram_send_rate,
                                     max_retries=2) if rate_limit else None)
    pipeline = ChatPipeline(services.scopes, services.inbox,
                            peek=limiter.peek_keys if limiter else None)
    builder = (
        Application.builder()
        .token(token)
        .base_url(f"{settings.telegram_api_url}/bot")
        .base_file_url(f"{settings.telegram_api_url}/file/bot")
        .request(send)
        .get_updates_request(poll)
        .defaults(Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz,
                           link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .context_types(ContextTypes(context=BotContext))
        .concurrent_updates(pipeline)
        .job_queue(None)
    )
    if limiter is not None:
        # TELEGRAM_SEND_RATE messages/s for the whole bot, shared by every process on Redis
        # (0: no overall limit); one message a second per chat, 429 and 403 handled
        # (bot/ratelimit.py).
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    app = builder.build()
    app.bot_data["services"] = services

    async def refuse(update: Update, reason: str, telegram_lang: str | None) -> None:
        t = L10n(pick_locale(None, telegram_lang, settings.bot_default_locale), settings.tz)
        reply = common.busy(t) if reason == "busy" else common.something_went_wrong(t)
        if update.callback_query is not None:
            await update.callback_query.answer()
        if update.effective_chat is not None:
            await outbound.send(app.bot, update.effective_chat.id, reply)

    pipeline.on_refused = refuse
    handlers.register(app)
    return app


async def on_startup(app: TelegramApp) -> None:
    """After ``initialize``: learn the bot's username (pairing links need it)."""
    services: Services = app.bot_data["services"]
    if app.bot.username:
        services.pairing.bot_username = app.bot.username
