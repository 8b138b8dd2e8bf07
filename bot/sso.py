"""The browser's side of single sign-on: ``/sso/start`` and ``/sso/callback``.

The protocol and its checks are described in ``bot/services/sso.py``. Here:
``/sso/start`` sets the browser's ``__Host-`` cookie and redirects to the identity
provider; ``/sso/callback`` finishes the sign-in in the chat's scope (like an update:
the session changes), tells the rep's chat, and shows a short French page that names
the Telegram account that was paired.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from telegram import Bot
from telegram.error import TelegramError

from bot import outbound, steps
from bot.pages import Page
from bot.services.pairing import LoggedIn
from bot.services.sso import CALLBACK_PATH, SSO_STATE_TTL, START_PATH, SsoState
from bot.storage import LockTimeout
from bot.views import pairing as views
from integrations.artis.errors import ArtisError

if TYPE_CHECKING:
    from bot.container import Services

log = logging.getLogger(__name__)

__all__ = ["CALLBACK_PATH", "COOKIE", "START_PATH", "Done", "Result", "build_sso_routes",
           "complete", "page"]

# The browser that opened the sign-in link; ``__Host-``: https only, this host only, path /.
COOKIE = "__Host-crmbot-sso"

# A browser should not wait as long as a queued update for a busy chat.
SSO_LOCK_WAIT = 30.0


class Result(Enum):
    """What the browser is told; a refused sign-in never says why."""

    PAIRED = "paired"
    NOT_ALLOWED = "not_allowed"  # signed in, but a prerequisite is missing: the chat explains
    REFUSED = "refused"  # unknown, expired or used state; refused ticket; another user
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True)
class Done:
    """What the browser is told, and which Telegram account was paired."""

    result: Result
    telegram_account: str = ""


async def complete(services: Services, bot: Bot, state: str, ticket: str,
                   browser_nonce: str | None) -> Done:
    """Step 3 of the flow: state (with its browser), ticket, link, message to the chat.

    The chat's session changes, so this runs in the chat's scope, like an update."""
    bound = await services.sso.take(state, browser_nonce)
    if bound is None:
        return Done(Result.REFUSED)
    return Done(await _finish(services, bot, bound, ticket), bound.telegram_account)


async def _finish(services: Services, bot: Bot, bound: SsoState, ticket: str) -> Result:
    try:
        async with services.scopes.scope(bound.chat_id, bound.user_id, bound.lang,
                                         wait=SSO_LOCK_WAIT) as session:
            outcome = await services.pairing.log_in_with_sso(session, bound.login, ticket)
            if outcome is None:
                return Result.REFUSED
            if (session.step is steps.LOGIN_PASSWORD
                    and session.flow.data.get("login") == bound.login):
                await services.sessions.end_flow(session)
            t = session.l10n
            if isinstance(outcome, LoggedIn):
                log.info("chat %s paired with %s through SSO", bound.chat_id, bound.login)
                reply = views.home(t, outcome.user)
            else:
                reply = views.missing_prerequisites(t, outcome.user, outcome.missing)
            try:
                await outbound.send(bot, bound.chat_id, reply)
            except TelegramError as exc:
                log.warning("could not tell chat %s about its SSO sign-in: %s",
                            bound.chat_id, exc)
            if isinstance(outcome, LoggedIn):
                await services.commands.apply_to_chat(bot, session)
                await services.outbox.resume_login(bound.login)  # reports that waited
                return Result.PAIRED
            return Result.NOT_ALLOWED
    except ArtisError as exc:
        log.warning("SSO sign-in of %s failed: artis.net: %s", bound.login, exc.message)
        return Result.UNAVAILABLE
    except LockTimeout:
        log.warning("SSO sign-in of %s: chat %s stayed busy", bound.login, bound.chat_id)
        return Result.UNAVAILABLE


# -- the browser's side ----------------------------------------------------------------------
_STATUS = {Result.PAIRED: 200, Result.NOT_ALLOWED: 200, Result.REFUSED: 400,
           Result.UNAVAILABLE: 503}
SSO_PAGE = Page("sso.html", style="sso.css")  # headers: bot.pages.SecurityHeaders


def page(result: Result, telegram_account: str = "") -> Response:
    """The browser's page for ``result``; its French text is in ``bot/templates/sso.html``."""
    return SSO_PAGE.response(status_code=_STATUS[result], result=result.value,
                             telegram_account=telegram_account)


def build_sso_routes(services: Services, bot: Bot) -> list[Route]:
    """``GET /sso/start`` (the button) and ``GET /sso/callback`` (back from the provider)."""

    async def start(request: Request) -> Response:
        bound = await services.sso.bind_browser(request.query_params.get("state", ""))
        if bound is None:
            return page(Result.REFUSED)
        provider_url, nonce = bound
        response = RedirectResponse(provider_url, status_code=302)
        response.set_cookie(COOKIE, nonce, max_age=SSO_STATE_TTL, path="/", secure=True,
                            httponly=True, samesite="lax")
        return response

    async def callback(request: Request) -> Response:
        params = request.query_params
        done = await complete(services, bot, params.get("state", ""),
                              params.get("ticket", ""), request.cookies.get(COOKIE))
        response = page(done.result, done.telegram_account)
        if done.result in (Result.PAIRED, Result.NOT_ALLOWED):
            # Signed in: the nonce has served. (A refused callback leaves it: a stray or
            # forged one must not break the real sign-in still under way in this browser.)
            response.delete_cookie(COOKIE, path="/", secure=True, httponly=True,
                                   samesite="lax")
        return response

    return [Route(START_PATH, start, methods=["GET"]),
            Route(CALLBACK_PATH, callback, methods=["GET"])]
