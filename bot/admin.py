"""The admin page: pair reps with a QR code, see who is paired, revoke a pairing.

Served under ``/admin`` by the webhook server (``bot/web.py``) or, for polling
deployments, by ``crmbot admin``. It is off (404) unless ``ADMIN_SECRET`` is
set; then HTTP Basic auth guards it (any user name, the password is the
secret). Wrong passwords are logged with the client address and slow that
address down (``AuthBackoff``). It works without JavaScript: plain forms, pages
rendered on the server from ``bot/templates/``. POSTs carry a CSRF token
(hidden field or ``X-CSRF-Token`` header), an HMAC of the secret and the hour,
so another site cannot make an admin's browser, which replays Basic
credentials on its own, mint links or revoke pairings.

``POST /admin/pair/{login}`` answers JSON ``{link, png_base64, expires_at}``
to clients asking for ``application/json`` (scripts, curl), else the page
with the QR code shown.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.i18n import L10n
from bot.pages import BodyRefused, Page, read_body
from bot.pairing_cli import (
    ONBOARDING_PAGE,
    Team,
    commerce_units,
    expiry_fr,
    onboarding_html,
    unit_reps,
    validity_fr,
)
from bot.qr import qr_data_url, qr_png
from bot.services.pairing import Invite
from bot.settings import Settings
from bot.storage import STORE_ERRORS
from integrations.artis.errors import ArtisError, NotFound
from integrations.artis.models import OrgUnit

if TYPE_CHECKING:
    from bot.container import Services

log = logging.getLogger(__name__)

REALM = "crmbot admin"
CSRF_HEADER = "x-csrf-token"
CSRF_WINDOW = 3600  # seconds; a page's token is accepted for one to two windows
MAX_FORM_BYTES = 4096
STATE_LABELS = {"not_paired": "non appairé", "paired": "appairé", "locked": "verrouillé"}
ADMIN_PAGE = Page("admin.html", style="admin.css", script="admin.js", form_action="'self'",
                  images=True)
ERROR_PAGE = Page("admin_error.html", style="admin.css", form_action="'self'")

Handler = Callable[[Request], Awaitable[Response]]
Clock = Callable[[], float]


def csrf_token(secret: str, now: float) -> str:
    """HMAC(secret, window of ``now``): only someone knowing ADMIN_SECRET can compute it, it
    expires, and it needs no server state (HTTP Basic gives no session to bind it to)."""
    return _csrf_for_window(secret, int(now // CSRF_WINDOW))


def csrf_valid(secret: str, given: str, now: float) -> bool:
    """The token of the current window or the previous one (a page loaded just before the
    turn of the hour still works)."""
    window = int(now // CSRF_WINDOW)
    return any(hmac.compare_digest(given.encode(), _csrf_for_window(secret, w).encode())
               for w in (window, window - 1))


def _csrf_for_window(secret: str, window: int) -> str:
    message = f"crmbot-admin-csrf-v2:{window}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


@dataclass
class _Failures:
    times: deque[float] = field(default_factory=deque)
    strikes: int = 0  # lockouts so far; each doubles the next
    blocked_until: float = 0.0
    last: float = 0.0


class AuthBackoff:
    """Slows password guessing on the admin page, per client address.

    After ``max_failures`` wrong passwords within ``window`` seconds, the address gets 429
    with ``Retry-After`` on every request, even with the right password, for ``delay``
    seconds; each further lockout doubles it, up to ``max_delay``. A right password (outside
    a lockout) forgets the address; so do ``max_delay`` seconds without a failure.

    In memory, per process: N processes give an attacker N times the tries, and a restart
    forgets. That is acceptable for a page that belongs behind a reverse proxy or an
    allow-list anyway (README › Hostile operator). The address is the one the ASGI server
    reports; behind a proxy, uvicorn takes it from ``X-Forwarded-For`` only when the proxy
    is in ``FORWARDED_ALLOW_IPS`` (default 127.0.0.1).
    """

    def __init__(self, *, clock: Clock = time.monotonic, max_failures: int = 10,
                 window: float = 300.0, delay: float = 60.0, max_delay: float = 3600.0,
                 max_tracked: int = 10_000) -> None:
        self.clock = clock
        self.max_failures = max_failures
        self.window = window
        self.delay = delay
        self.max_delay = max_delay
        self.max_tracked = max_tracked
        self._by_address: dict[str, _Failures] = {}

    def retry_after(self, address: str) -> float:
        """Seconds ``address`` must still wait; 0 when it may try."""
        record = self._by_address.get(address)
        return max(0.0, record.blocked_until - self.clock()) if record else 0.0

    def failed(self, address: str) -> float:
        """Count a wrong password; the lockout it starts, in seconds (0 for none yet)."""
        now = self.clock()
        record = self._by_address.get(address)
        if record is None or now - record.last > self.max_delay:
            self._forget_idle(now)
            record = self._by_address[address] = _Failures()
        record.last = now
        record.times.append(now)
        while record.times and now - record.times[0] > self.window:
            record.times.popleft()
        if len(record.times) < self.max_failures:
            return 0.0
        record.times.clear()
        record.strikes += 1
        lockout = min(self.delay * (1 << (record.strikes - 1)), self.max_delay)
        record.blocked_until = now + lockout
        return lockout

    def succeeded(self, address: str) -> None:
        self._by_address.pop(address, None)

    def _forget_idle(self, now: float) -> None:
        """Bound the memory an attacker with many addresses can make us hold."""
        if len(self._by_address) < self.max_tracked:
            return
        for address, record in list(self._by_address.items()):
            if record.blocked_until <= now and now - record.last > self.window:
                del self._by_address[address]
        while len(self._by_address) >= self.max_tracked:  # all busy: drop the oldest
            del self._by_address[next(iter(self._by_address))]


def build_admin_routes(services: Services, *, clock: Clock = time.time,
                       backoff: AuthBackoff | None = None) -> list[Route]:
    """The ``/admin`` routes; they answer 404 while ADMIN_SECRET is unset.

    ``clock`` (wall time, shared by every process) dates the CSRF tokens; tests pass
    their own clock, and their own ``backoff``.
    """
    settings: Settings = services.settings
    pairing = services.pairing
    artis = services.artis
    l10n = L10n("fr", settings.tz)
    backoff = backoff or AuthBackoff()

    def guarded(handler: Handler, *, post: bool = False) -> Handler:
        """404 when the page is off, 429 while the address is backed off, 401 without the
        password, 413 for a big body, 403 without the CSRF token. The web app's
        ``SecurityHeaders`` middleware adds the security headers."""

        async def wrapper(request: Request) -> Response:
            secret = settings.admin_secret.get_secret_value() if settings.admin_secret else ""
            if not secret:
                return Response("Not Found", status_code=404, media_type="text/plain")
            address = request.client.host if request.client else "unknown"
            if (wait := backoff.retry_after(address)) > 0:
                return Response("Trop de tentatives : réessayez plus tard.\n", status_code=429,
                                media_type="text/plain",
                                headers={"Retry-After": str(math.ceil(wait))})
            password = _password(request)
            if password is None or not hmac.compare_digest(password.encode(), secret.encode()):
                if password is not None:  # a browser's first, credential-less request is no try
                    _note_failure(backoff, address)
                return Response(
                    "Authentification requise.\n", status_code=401, media_type="text/plain",
                    headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"'})
            backoff.succeeded(address)
            if post:
                try:
                    request.state.form = _parse_form(request, await read_body(request,
                                                                              MAX_FORM_BYTES))
                except BodyRefused as refused:
                    return Response(f"{refused.reason}\n", status_code=refused.status_code,
                                    media_type="text/plain")
                given = request.headers.get(CSRF_HEADER) or _form(request).get("csrf", "")
                if not csrf_valid(secret, given, clock()):
                    return Response("Jeton CSRF absent ou expiré : rechargez la page.\n",
                                    status_code=403, media_type="text/plain")
            try:
                return await handler(request)
            except ArtisError as exc:
                log.warning("admin page: artis.net error: %s", exc.message)
                return ERROR_PAGE.response(
                    status_code=502, units=[], unit=None,
                    message="artis.net ne répond pas correctement. Réessayez dans un instant.")
            except STORE_ERRORS as exc:
                log.warning("admin page: the bot's store failed: %s: %s",
                            type(exc).__name__, exc)
                return ERROR_PAGE.response(
                    status_code=503, units=[], unit=None,
                    message="Le stockage de l'assistant (Redis) ne répond pas. "
                            "Réessayez dans un instant.")

        return wrapper

    async def render(request: Request, unit_code: str | None, *, invite: Invite | None = None,
                     notice: str | None = None, status_code: int = 200) -> Response:
        units = await commerce_units(artis)
        unit: OrgUnit | None
        if unit_code:
            unit = next((u for u in units if u.code == unit_code), None)
            if unit is None:
                return ERROR_PAGE.response(status_code=404, units=units, unit=None,
                                           message=f"Aucune unité commerciale « {unit_code} ».")
        else:
            unit = units[0] if units else None
        reps = await unit_reps(artis, unit) if unit else []
        states = await asyncio.gather(*(pairing.status_of(rep.login) for rep in reps))
        secret = settings.admin_secret.get_secret_value() if settings.admin_secret else ""
        return ADMIN_PAGE.response(
            status_code=status_code, units=units, unit=unit,
            rows=list(zip(reps, states, strict=True)), state_labels=STATE_LABELS,
            csrf=csrf_token(secret, clock()), notice=notice, invite=invite,
            qr_src=qr_data_url(invite.link) if invite else None,
            expiry=expiry_fr(l10n, invite.expires_at) if invite else None,
            validity=validity_fr(settings.pairing_token_ttl))

    async def index(request: Request) -> Response:
        notice = None
        if revoked := request.query_params.get("revoked"):
            notice = f"L'appairage de {revoked} est révoqué."
        elif nothing := request.query_params.get("not_paired"):
            notice = f"{nothing} n'était pas appairé : rien à révoquer."
        return await render(request, request.query_params.get("unit"), notice=notice)

    async def pair(request: Request) -> Response:
        login = request.path_params["login"]
        unit_code = _form(request).get("unit") or None
        wants_json = "application/json" in request.headers.get("accept", "")
        try:
            invite = await pairing.invite(login)
        except NotFound:
            if wants_json:
                return JSONResponse({"error": "unknown_login", "login": login}, status_code=404)
            return await render(request, unit_code, status_code=404,
                                notice=f"Aucun utilisateur artis.net « {login} ».")
        log.info("admin page: pairing link issued for %s", invite.login)
        if wants_json:
            return JSONResponse({
                "login": invite.login,
                "display_name": invite.display_name,
                "link": invite.link,
                "png_base64": base64.b64encode(qr_png(invite.link)).decode("ascii"),
                "expires_at": datetime.fromtimestamp(invite.expires_at, tz=UTC).isoformat(),
            })
        return await render(request, unit_code, invite=invite)

    async def revoke(request: Request) -> Response:
        login = request.path_params["login"]
        unit_code = _form(request).get("unit", "")
        done = await pairing.revoke(login)
        log.info("admin page: pairing of %s %s", login, "revoked" if done else "not found")
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse({"login": login, "revoked": done})
        query = {"unit": unit_code} if unit_code else {}
        query["revoked" if done else "not_paired"] = login
        return RedirectResponse(f"/admin?{urlencode(query)}", status_code=303)

    async def sheet(request: Request) -> Response:
        """The printable onboarding sheet of one unit (fresh links for every rep)."""
        code = request.path_params["code"]
        try:
            unit = await artis.get_org_unit(code)
        except NotFound:
            return ERROR_PAGE.response(status_code=404, units=[], unit=None,
                                       message=f"Aucune unité « {code} ».")
        invites = [await pairing.invite(rep.login) for rep in await unit_reps(artis, unit)]
        log.info("admin page: onboarding sheet of %s (%d links)", code, len(invites))
        return HTMLResponse(onboarding_html([Team(unit, invites)], l10n,
                                            ttl=settings.pairing_token_ttl,
                                            bot_username=settings.telegram_bot_username),
                            headers={"Content-Security-Policy": ONBOARDING_PAGE.policy()})

    return [
        Route("/admin", guarded(index), methods=["GET"]),
        Route("/admin/pair/{login}", guarded(pair, post=True), methods=["POST"]),
        Route("/admin/revoke/{login}", guarded(revoke, post=True), methods=["POST"]),
        Route("/admin/sheet/{code}", guarded(sheet, post=True), methods=["POST"]),
    ]


async def serve_admin(settings: Settings) -> int:
    """``crmbot admin``: the admin page alone, for bots that poll Telegram (no web server)."""
    import signal
    import sys

    from starlette.applications import Starlette
    from starlette.middleware import Middleware

    from bot.pages import SecurityHeaders
    from bot.runtime import open_services
    from bot.web import server_for

    if not settings.admin_secret or not settings.admin_secret.get_secret_value():
        print("configuration error: ADMIN_SECRET is required for the admin page", file=sys.stderr)
        return 2
    async with open_services(settings) as services:
        app = Starlette(routes=[
            Route("/", lambda request: RedirectResponse("/admin"), methods=["GET"]),
            *build_admin_routes(services),
        ], middleware=[Middleware(SecurityHeaders)])
        server = server_for(app, settings.webhook_listen, settings.webhook_port)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
        print(f"admin page on http://{settings.webhook_listen}:{settings.webhook_port}/admin "
              "(HTTP Basic auth, password = ADMIN_SECRET)")
        await server.serve()
    return 0


# -- checks -------------------------------------------------------------------------------
def _password(request: Request) -> str | None:
    """The password of the Basic credentials; None without any, "" when malformed."""
    authorization = request.headers.get("authorization")
    if authorization is None:
        return None
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    _, sep, password = decoded.partition(":")
    return password if sep else ""


def _note_failure(backoff: AuthBackoff, address: str) -> None:
    """Log a wrong password with the client address (never what was tried) and count it."""
    lockout = backoff.failed(address)
    # The path is not logged: percent-decoded, it could forge log lines.
    log.warning("admin page: wrong password from %s", address)
    if lockout:
        log.warning("admin page: %d wrong passwords from %s; refusing it for %d s",
                    backoff.max_failures, address, lockout)


def _parse_form(request: Request, body: bytes) -> dict[str, str]:
    """The fields of a small url-encoded form (our forms only carry ``csrf`` and ``unit``).

    Parsed here rather than with ``request.form()``, which would need python-multipart
    for nothing.
    """
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return {}
    return {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}


def _form(request: Request) -> dict[str, str]:
    """The form ``guarded`` read (bounded) before the handler; empty for a GET."""
    form: dict[str, str] = getattr(request.state, "form", {})
    return form
