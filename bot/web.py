"""The bot's web server (ASGI, Starlette): Telegram webhook, health check, admin page,
and the SSO callback (``GET /sso/callback``, see ``bot/sso.py``).

``POST <WEBHOOK_PATH>`` accepts an update only with the right
``X-Telegram-Bot-Api-Secret-Token`` header, queues it and answers 200 at once
(the pipeline processes it; Telegram must not wait for artis.net). A body over
``MAX_UPDATE_BYTES`` gets 413 without being read whole; a body that is not an
update object (an array, ``null``, a number, JSON nested deeper than any update)
gets 400. Every response carries the headers of ``bot.pages.SecurityHeaders``.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Bot, Update

from bot.app import Runtime
from bot.pages import BodyRefused, SecurityHeaders, read_body
from bot.pipeline import ChatPipeline
from bot.sso import build_sso_routes
from bot.storage import STORE_ERRORS

log = logging.getLogger(__name__)

MAX_UPDATE_BYTES = 1_000_000
MAX_UPDATE_DEPTH = 32  # Telegram's updates nest about 10 deep; anything deeper is not one


def build_web_app(runtime: Runtime, *, webhook_path: str, secret: str | None) -> Starlette:
    app = runtime.application
    processor = app.update_processor
    pipeline = processor if isinstance(processor, ChatPipeline) else None

    async def webhook(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return JSONResponse({"ok": False, "error": "forbidden"}, status_code=403)
        try:
            body = await read_body(request, MAX_UPDATE_BYTES)
        except BodyRefused as refused:
            return JSONResponse({"ok": False, "error": refused.reason},
                                status_code=refused.status_code)
        update = _parse_update(body, app.bot)
        if update is None:
            return JSONResponse({"ok": False, "error": "not an update"}, status_code=400)
        try:
            # Recorded before the 200 that makes Telegram forget it (bot/inbox.py).
            await runtime.services.inbox.record(
                [update.to_dict()], busy=pipeline.busy() if pipeline else ())
        except STORE_ERRORS as exc:
            log.warning("webhook: could not record update %s (%s); Telegram will retry",
                        update.update_id, exc)
            return JSONResponse({"ok": False, "error": "unavailable"}, status_code=503)
        if pipeline is not None:
            pipeline.expect(update)
        await app.update_queue.put(update)
        return JSONResponse({"ok": True})

    async def healthz(request: Request) -> Response:
        store_ok = await _safe(runtime.services.store.ping())
        return JSONResponse({"status": "ok" if store_ok else "degraded", "store": store_ok},
                            status_code=200 if store_ok else 503)

    routes = [
        Route(webhook_path, webhook, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        *build_sso_routes(runtime.services, runtime.application.bot),
    ]
    if runtime.services.settings.admin_secret:  # the admin page is off without ADMIN_SECRET
        from bot.admin import build_admin_routes

        routes += build_admin_routes(runtime.services)
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])


def _parse_update(body: bytes, bot: Bot) -> Update | None:
    """The update in ``body``, or None for anything that is not an update object.

    The body is hostile until parsed: PTB's ``de_json`` may raise anything on a well-formed
    object of the wrong shape, so every failure here is a 400, never a traceback.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: "[[[[..." deeper than Python goes
        return None
    if not (isinstance(data, dict) and type(data.get("update_id")) is int
            and _depth_within(data, MAX_UPDATE_DEPTH)):
        return None
    try:
        return Update.de_json(data, bot)
    except Exception:
        log.info("webhook: refused a JSON object that is not an update")
        return None


def _depth_within(value: object, limit: int) -> bool:
    """Whether JSON ``value`` nests at most ``limit`` levels (iterative: no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return False
        stack.extend((child, depth + 1) for child in children)
    return True


async def _safe(check: object) -> bool:
    try:
        return bool(await check)  # type: ignore[misc]
    except Exception:
        log.exception("health check failed")
        return False


class _Server(uvicorn.Server):
    """uvicorn without its own SIGINT/SIGTERM handlers: the command line owns the signals
    and stops the bot and the web server together."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def server_for(app: Starlette, host: str, port: int) -> uvicorn.Server:
    return _Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
