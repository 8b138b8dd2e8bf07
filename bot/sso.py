"""Single sign-on for reps whose artis.net account uses it (assumed protocol, OAuth-like).

artis.net's real SSO protocol is not publicly documented; ``integrations/artis/openapi.yaml``
states the one we assume:

1. ``/start <token>`` of an SSO rep shows a button to
   ``{SSO_URL}?redirect_uri={WEBHOOK_URL}/sso/callback&state={state}``; the state is
   one-time, 10 minutes, bound to the chat, the Telegram user and the expected login
   (``PairingService.begin_sso``; ``bot/services/sso.py`` builds the URL).
2. The identity provider signs the rep in and sends the browser to
   ``/sso/callback?state=...&ticket=...``.
3. ``callback`` consumes the state, exchanges the ticket with artis.net, checks it is the
   expected user, then links exactly as after a right password; the rep's chat gets the
   same message as on the password path and the browser a short French page.

SSO needs two URLs: the sign-in page (``SSO_URL``, or the embedded demo's identity
provider when no ``ARTIS_URL`` is set) and the bot's public base (``WEBHOOK_URL``, served by
``crmbot run --webhook``). Without either, SSO reps get the password prompt alone.
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Bot
from telegram.error import TelegramError

from bot import outbound, steps
from bot.pages import Page
from bot.services.pairing import LoggedIn
from bot.services.sso import CALLBACK_PATH
from bot.storage import LockTimeout
from bot.views import pairing as views
from integrations.artis.errors import ArtisError

if TYPE_CHECKING:
    from bot.container import Services

log = logging.getLogger(__name__)

__all__ = ["CALLBACK_PATH", "Result", "build_sso_routes", "complete", "page"]

# A browser should not wait as long as a queued update for a busy chat.
SSO_LOCK_WAIT = 30.0


class Result(Enum):
    """What the browser is told; a refused sign-in never says why."""

    PAIRED = "paired"
    NOT_ALLOWED = "not_allowed"  # signed in, but a prerequisite is missing: the chat explains
    REFUSED = "refused"  # unknown, expired or used state; refused ticket; another user
    UNAVAILABLE = "unavailable"


async def complete(services: Services, bot: Bot, state: str, ticket: str) -> Result:
    """Step 3 of the flow: state, ticket, link, message to the rep's chat.

    The chat's session changes, so this runs in the chat's scope, like an update."""
    bound = await services.pairing.take_sso_state(state)
    if bound is None:
        return Result.REFUSED
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


def page(result: Result) -> Response:
    """The browser's page for ``result``; its French text is in ``bot/templates/sso.html``."""
    return SSO_PAGE.response(status_code=_STATUS[result], result=result.value)


def build_sso_routes(services: Services, bot: Bot) -> list[Route]:
    """``GET /sso/callback``, where the identity provider sends the rep's browser back."""

    async def callback(request: Request) -> Response:
        params = request.query_params
        result = await complete(services, bot, params.get("state", ""),
                                params.get("ticket", ""))
        return page(result)

    return [Route(CALLBACK_PATH, callback, methods=["GET"])]
