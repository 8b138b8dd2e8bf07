"""The bot's web server (ASGI, Starlette): Telegram webhook, health check, admin page,
and the SSO callback (``GET /sso/callback``, see ``bot/sso.py``).

``POST <WEBHOOK_PATH>`` accepts an update only with the right
``X-Telegram-Bot-Api-Secret-Token`` header, queues it and answers 200 at once
(the pipeline processes it; Telegram must not wait for artis.net).
"""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
from collections.abc import Iterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.app import Runtime
from bot.sso import build_sso_routes

log = logging.getLogger(__name__)

MAX_UPDATE_BYTES = 1_000_000


def build_web_app(runtime: Runtime, *, webhook_path: str, secret: str | None) -> Starlette:
    app = runtime.application

    async def webhook(request: Request) -> Response:
        given = request.headers.get("x-telegram-bot-api-secret-token", "")
        if not secret or not hmac.compare_digest(given.encode(), secret.encode()):
            return JSONResponse({"ok": False, "error": "forbidden"}, status_code=403)
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return JSONResponse({"ok": False, "error": "too large"}, status_code=413)
        try:
            update = Update.de_json(json.loads(body), app.bot)
        except (ValueError, TypeError, KeyError):
            return JSONResponse({"ok": False, "error": "not an update"}, status_code=400)
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
    return Starlette(routes=routes)


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
