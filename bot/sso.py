"""Single sign-on for reps whose artis.net account uses it (assumed protocol, OAuth-like).

artis.net's real SSO protocol is not publicly documented; ``integrations/artis/openapi.yaml``
states the one we assume:

1. ``/start <token>`` of an SSO rep shows a button to
   ``{SSO_URL}?redirect_uri={WEBHOOK_URL}/sso/callback&state={state}``; the state is
   one-time, 10 minutes, bound to the chat, the Telegram user and the expected login
   (``PairingService.begin_sso``).
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

import html
import logging
from enum import Enum
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from telegram.error import TelegramError

from bot.pipeline import CHAT_LOCK_TIMEOUT, chat_lock
from bot.services.pairing import LoggedIn
from bot.services.sessions import ChatSession
from bot.storage import LockTimeout
from bot.views import pairing as views
from integrations.artis.errors import ArtisError

if TYPE_CHECKING:
    from bot.runtime import Runtime, Services

log = logging.getLogger(__name__)

CALLBACK_PATH = "/sso/callback"
# The callback changes the chat's session too, so it takes the pipeline's chat lock; a
# browser should not wait as long as a queued update, hence a shorter wait.
SSO_LOCK_WAIT = 30.0

_explained: set[str] = set()


def _explain_once(reason: str) -> None:
    if reason not in _explained:
        _explained.add(reason)
        log.warning("SSO sign-in is off: %s; SSO reps are asked for their password", reason)


def identity_provider_url(services: Services) -> str | None:
    """``SSO_URL``; with the embedded demo artis.net, its identity provider by default."""
    settings = services.settings
    if settings.sso_url:
        return settings.sso_url
    if settings.embedded_artis:
        from integrations.artis.demo.idp import idp_url

        return idp_url(services.artis.base_url)
    return None


async def sign_in_url(services: Services, session: ChatSession, login: str) -> str | None:
    """The SSO button's URL for ``login`` (a fresh one-time state), or None when SSO is off."""
    idp = identity_provider_url(services)
    if idp is None:
        _explain_once("SSO_URL is not set (it is required with a real ARTIS_URL)")
        return None
    public_base = services.settings.webhook_url
    if public_base is None:
        _explain_once("WEBHOOK_URL (the bot's public https base, where the identity provider "
                      f"sends reps back to {CALLBACK_PATH}) is not set")
        return None
    state = await services.pairing.begin_sso(session, login)
    query = urlencode({"redirect_uri": public_base + CALLBACK_PATH, "state": state})
    return f"{idp}{'&' if '?' in idp else '?'}{query}"


class Result(Enum):
    """What the browser is told; a refused sign-in never says why."""

    PAIRED = "paired"
    NOT_ALLOWED = "not_allowed"  # signed in, but a prerequisite is missing: the chat explains
    REFUSED = "refused"  # unknown, expired or used state; refused ticket; another user
    UNAVAILABLE = "unavailable"


async def complete(runtime: Runtime, state: str, ticket: str) -> Result:
    """Step 3 of the flow: state, ticket, link, message to the rep's chat."""
    services = runtime.services
    bound = await services.pairing.take_sso_state(state)
    if bound is None:
        return Result.REFUSED
    try:
        async with services.store.lock(chat_lock(bound.chat_id), timeout=CHAT_LOCK_TIMEOUT,
                                       wait=SSO_LOCK_WAIT):
            session = await services.sessions.load(bound.chat_id, bound.user_id, bound.lang)
            outcome = await services.pairing.log_in_with_sso(session, bound.login, ticket)
            if outcome is None:
                return Result.REFUSED
            if (session.step == "login.password"
                    and session.flow.data.get("login") == bound.login):
                await services.sessions.end_flow(session)
            t = session.l10n
            if isinstance(outcome, LoggedIn):
                log.info("chat %s paired with %s through SSO", bound.chat_id, bound.login)
                reply = views.home(t, outcome.user)
            else:
                reply = views.missing_prerequisites(t, outcome.user, outcome.missing)
            bot = runtime.application.bot
            try:
                await bot.send_message(bound.chat_id, reply.text, reply_markup=reply.keyboard)
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
_PAGES = {
    Result.PAIRED: ("C'est fait", "C'est fait, vous pouvez revenir dans Telegram."),
    Result.NOT_ALLOWED: (
        "Connexion réussie",
        "Vous êtes bien connecté, mais votre compte artis.net ne peut pas encore utiliser "
        "l'assistant. Revenez dans Telegram : le message de l'assistant explique quoi faire."),
    Result.REFUSED: (
        "Connexion impossible",
        "Ce lien de connexion n'est pas valable, ou la connexion a été refusée. Revenez dans "
        "Telegram : vous pouvez envoyer votre mot de passe artis.net, ou demander un nouveau "
        "QR code à votre responsable."),
    Result.UNAVAILABLE: (
        "Service indisponible",
        "artis.net ne répond pas pour le moment. Revenez dans Telegram et envoyez votre mot de "
        "passe artis.net, ou demandez un nouveau QR code dans quelques minutes."),
}
_STATUS = {Result.PAIRED: 200, Result.NOT_ALLOWED: 200, Result.REFUSED: 400,
           Result.UNAVAILABLE: 503}
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "Referrer-Policy": "no-referrer",  # the callback URL carries the state and ticket
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def page(result: Result) -> Response:
    title, text = _PAGES[result]
    body = (
        '<!doctype html>\n<html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title, quote=False)} · Assistant CRM artis</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:30rem;margin:3rem auto;padding:0 1rem;"
        "line-height:1.5}</style></head><body>"
        f"<h1>{html.escape(title, quote=False)}</h1><p>{html.escape(text, quote=False)}</p>"
        "</body></html>\n"
    )
    return HTMLResponse(body, status_code=_STATUS[result], headers=_HEADERS)


def build_sso_routes(runtime: Runtime) -> list[Route]:
    """``GET /sso/callback``, where the identity provider sends the rep's browser back."""

    async def callback(request: Request) -> Response:
        params = request.query_params
        result = await complete(runtime, params.get("state", ""), params.get("ticket", ""))
        return page(result)

    return [Route(CALLBACK_PATH, callback, methods=["GET"])]
