"""The admin page: pair reps with a QR code, see who is paired, revoke a pairing.

Served under ``/admin`` by the webhook server (``bot/web.py``) or, for polling
deployments, by ``crmbot admin``. It is off (404) unless ``ADMIN_SECRET`` is
set; then HTTP Basic auth guards it (any user name, the password is the
secret). It works without JavaScript: plain forms, pages rendered on the
server. POSTs carry a CSRF token derived from the secret (hidden field or
``X-CSRF-Token`` header), so another site cannot make an admin's browser,
which replays Basic credentials on its own, mint links or revoke pairings.

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
import html
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.i18n import L10n
from bot.pairing_cli import (
    Team,
    commerce_units,
    expiry_fr,
    onboarding_html,
    unit_reps,
    validity_fr,
)
from bot.qr import qr_png
from bot.services.pairing import Invite
from bot.settings import Settings
from integrations.artis.errors import ArtisError, NotFound
from integrations.artis.models import OrgUnit, User

if TYPE_CHECKING:
    from bot.container import Services

log = logging.getLogger(__name__)

REALM = "crmbot admin"
CSRF_HEADER = "x-csrf-token"
MAX_FORM_BYTES = 4096
STATE_LABELS = {"not_paired": "non appairé", "paired": "appairé", "locked": "verrouillé"}

Handler = Callable[[Request], Awaitable[Response]]


def csrf_token(secret: str) -> str:
    """A stable token only someone knowing ADMIN_SECRET can compute (no server state)."""
    return hmac.new(secret.encode(), b"crmbot-admin-csrf-v1", hashlib.sha256).hexdigest()


def build_admin_routes(services: Services) -> list[Route]:
    """The ``/admin`` routes; they answer 404 while ADMIN_SECRET is unset."""
    settings: Settings = services.settings
    pairing = services.pairing
    artis = services.artis
    l10n = L10n("fr", settings.tz)

    def guarded(handler: Handler, *, post: bool = False) -> Handler:
        """404 when the page is off, 401 without the password, 403 without the CSRF token."""

        async def wrapper(request: Request) -> Response:
            secret = settings.admin_secret.get_secret_value() if settings.admin_secret else ""
            if not secret:
                return Response("Not Found", status_code=404, media_type="text/plain")
            if not _password_ok(request, secret):
                return Response(
                    "Authentification requise.\n", status_code=401, media_type="text/plain",
                    headers={"WWW-Authenticate": f'Basic realm="{REALM}", charset="UTF-8"',
                             "Cache-Control": "no-store"})
            if post and not await _csrf_ok(request, csrf_token(secret)):
                return Response("Jeton CSRF absent ou invalide.\n", status_code=403,
                                media_type="text/plain")
            try:
                response = await handler(request)
            except ArtisError as exc:
                log.warning("admin page: artis.net error: %s", exc.message)
                response = _page_response(_error_page(
                    "artis.net ne répond pas correctement. Réessayez dans un instant."),
                    status_code=502)
            response.headers["Cache-Control"] = "no-store"  # pages hold live pairing links
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Referrer-Policy"] = "no-referrer"
            response.headers["X-Content-Type-Options"] = "nosniff"
            return response

        return wrapper

    async def render(request: Request, unit_code: str | None, *, invite: Invite | None = None,
                     notice: str | None = None, status_code: int = 200) -> Response:
        units = await commerce_units(artis)
        unit: OrgUnit | None
        if unit_code:
            unit = next((u for u in units if u.code == unit_code), None)
            if unit is None:
                return _page_response(_error_page(
                    f"Aucune unité commerciale « {unit_code} ».", units), status_code=404)
        else:
            unit = units[0] if units else None
        reps = await unit_reps(artis, unit) if unit else []
        states = await asyncio.gather(*(pairing.status_of(rep.login) for rep in reps))
        secret = settings.admin_secret.get_secret_value() if settings.admin_secret else ""
        nonce = secrets.token_urlsafe(16)
        body = _page(units, unit, list(zip(reps, states, strict=True)), csrf=csrf_token(secret),
                     nonce=nonce, invite=invite, notice=notice, l10n=l10n,
                     ttl=settings.pairing_token_ttl)
        return _page_response(body, status_code=status_code, nonce=nonce)

    async def index(request: Request) -> Response:
        notice = None
        if revoked := request.query_params.get("revoked"):
            notice = f"L'appairage de {revoked} est révoqué."
        elif nothing := request.query_params.get("not_paired"):
            notice = f"{nothing} n'était pas appairé : rien à révoquer."
        return await render(request, request.query_params.get("unit"), notice=notice)

    async def pair(request: Request) -> Response:
        login = request.path_params["login"]
        form = await _form(request)
        unit_code = form.get("unit") or None
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
        form = await _form(request)
        unit_code = form.get("unit", "")
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
            return _page_response(_error_page(f"Aucune unité « {code} »."), status_code=404)
        invites = [await pairing.invite(rep.login) for rep in await unit_reps(artis, unit)]
        log.info("admin page: onboarding sheet of %s (%d links)", code, len(invites))
        return HTMLResponse(onboarding_html([Team(unit, invites)], l10n,
                                            ttl=settings.pairing_token_ttl,
                                            bot_username=settings.telegram_bot_username))

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

    from bot.runtime import open_services
    from bot.web import server_for

    if not settings.admin_secret or not settings.admin_secret.get_secret_value():
        print("configuration error: ADMIN_SECRET is required for the admin page", file=sys.stderr)
        return 2
    async with open_services(settings) as services:
        app = Starlette(routes=[
            Route("/", lambda request: RedirectResponse("/admin"), methods=["GET"]),
            *build_admin_routes(services),
        ])
        server = server_for(app, settings.webhook_listen, settings.webhook_port)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: setattr(server, "should_exit", True))
        print(f"admin page on http://{settings.webhook_listen}:{settings.webhook_port}/admin "
              "(HTTP Basic auth, password = ADMIN_SECRET)")
        await server.serve()
    return 0


# -- checks -------------------------------------------------------------------------------
def _password_ok(request: Request, secret: str) -> bool:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    _, sep, password = decoded.partition(":")
    return bool(sep) and hmac.compare_digest(password.encode(), secret.encode())


async def _form(request: Request) -> dict[str, str]:
    """The fields of a small url-encoded form (our forms only carry ``csrf`` and ``unit``).

    Parsed here rather than with ``request.form()``, which would need python-multipart
    for nothing; the body is cached by Starlette, so reading it twice is free.
    """
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return {}
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}


async def _csrf_ok(request: Request, expected: str) -> bool:
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        given = (await _form(request)).get("csrf", "")
    return hmac.compare_digest(given.encode(), expected.encode())


# -- HTML ---------------------------------------------------------------------------------
_CSS = """
:root { --blue: #1f4e79; --ink: #1b1b1b; --muted: #5a5a5a; --line: #d6d6d6; }
* { box-sizing: border-box; }
body { font-family: system-ui, "DejaVu Sans", Arial, sans-serif; color: var(--ink); margin: 0;
       background: #f5f6f8; line-height: 1.45; }
header.top { background: var(--blue); color: #fff; padding: 14px 24px; }
header.top h1 { margin: 0; font-size: 1.3rem; font-weight: 600; }
main { max-width: 1000px; margin: 0 auto; padding: 20px 24px 40px; }
nav ul { list-style: none; padding: 0; margin: 0 0 18px; display: flex; flex-wrap: wrap; gap: 8px; }
nav a { display: inline-block; padding: 6px 14px; border-radius: 999px;
        border: 1px solid var(--blue); color: var(--blue); text-decoration: none;
        background: #fff; }
nav a[aria-current="page"] { background: var(--blue); color: #fff; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px;
        margin-bottom: 18px; }
.card h2 { margin: 0 0 10px; font-size: 1.1rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 9px 8px; border-bottom: 1px solid var(--line);
         vertical-align: middle; }
th { font-size: .85rem; color: var(--muted); font-weight: 600; }
td.login { font-family: "DejaVu Sans Mono", monospace; font-size: .9rem; }
td.actions { white-space: nowrap; }
td.actions form { display: inline; }
.state { display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: .85rem; }
.state-not_paired { background: #eceff3; color: #3d4650; }
.state-paired { background: #dcf3e3; color: #135d2c; }
.state-locked { background: #fff0cc; color: #6b4a00; }
button { font: inherit; padding: 6px 12px; border-radius: 6px; cursor: pointer;
         border: 1px solid var(--blue); background: var(--blue); color: #fff; }
button.secondary { background: #fff; color: #9b1c1c; border-color: #9b1c1c; }
button:focus-visible, a:focus-visible { outline: 3px solid #f2a900; outline-offset: 2px; }
.qr { display: flex; gap: 20px; align-items: center; flex-wrap: wrap; }
.qr > div { flex: 1 1 320px; min-width: 0; }
.qr img { width: 220px; height: 220px; image-rendering: pixelated; border: 1px solid var(--line); }
.qr .link { font-family: "DejaVu Sans Mono", monospace; word-break: break-all; }
.notice { background: #e8f1fb; border-left: 4px solid var(--blue); padding: 10px 14px;
          margin-bottom: 18px; }
.muted { color: var(--muted); font-size: .9rem; }
.head { font-size: .8rem; color: var(--muted); }
"""

_SCRIPT = """
document.querySelectorAll("form.revoke").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });
});
"""


def _page_response(body: str, *, status_code: int = 200, nonce: str | None = None) -> Response:
    source = f"'nonce-{nonce}'" if nonce else "'none'"
    csp = (f"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src {source}; "
           "form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    return HTMLResponse(body, status_code=status_code, headers={"Content-Security-Policy": csp})


def _layout(title: str, content: str, *, nonce: str | None = None) -> str:
    script = f'<script nonce="{nonce}">{_SCRIPT}</script>' if nonce else ""
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header class="top"><h1>Assistant CRM — appairage Telegram</h1></header>
<main>
{content}
</main>
{script}
</body>
</html>
"""


def _nav(units: list[OrgUnit], selected: OrgUnit | None) -> str:
    e = html.escape
    items = []
    for unit in units:
        current = ' aria-current="page"' if selected and unit.code == selected.code else ""
        href = f"/admin?unit={quote(unit.code)}"
        items.append(f'<li><a href="{href}"{current}>{e(unit.name)}</a></li>')
    return f'<nav aria-label="Unités commerciales"><ul>{"".join(items)}</ul></nav>'


def _error_page(message: str, units: list[OrgUnit] | None = None) -> str:
    nav = _nav(units, None) if units else ""
    return _layout("Administration — erreur", f"""{nav}
<div class="notice" role="alert">{html.escape(message)}</div>
<p><a href="/admin">Retour à la liste</a></p>""")


def _page(units: list[OrgUnit], unit: OrgUnit | None, rows: list[tuple[User, str]], *,
          csrf: str, nonce: str, invite: Invite | None, notice: str | None, l10n: L10n,
          ttl: int) -> str:
    e = html.escape
    parts = [_nav(units, unit)]
    if notice:
        parts.append(f'<div class="notice" role="status">{e(notice)}</div>')
    if invite is not None:
        parts.append(_qr_panel(invite, l10n, ttl))
    if unit is None:
        parts.append('<div class="card"><p>Aucune unité de type Commerce dans artis.net.</p></div>')
        return _layout("Administration des appairages", "\n".join(parts), nonce=nonce)
    hidden = (f'<input type="hidden" name="csrf" value="{e(csrf)}">'
              f'<input type="hidden" name="unit" value="{e(unit.code)}">')
    body_rows = []
    for user, state in rows:
        login = e(user.login)
        name = e(user.display_name)
        head = ' <span class="head">(responsable)</span>' if user.login == unit.head_login else ""
        actions = (f'<form method="post" action="/admin/pair/{quote(user.login)}">{hidden}'
                   f'<button type="submit" aria-label="Générer un QR code pour {name}">'
                   "Générer un QR code</button></form>")
        if state != "not_paired":
            actions += (f' <form class="revoke" method="post" '
                        f'action="/admin/revoke/{quote(user.login)}" '
                        f'data-confirm="Révoquer l\'appairage de {name} ?">{hidden}'
                        f'<button type="submit" class="secondary" '
                        f'aria-label="Révoquer l\'appairage de {name}">Révoquer</button></form>')
        body_rows.append(
            f'<tr data-login="{login}"><td class="name">{name}{head}</td>'
            f'<td class="login">{login}</td>'
            f'<td><span class="state state-{e(state)}">'
            f"{e(STATE_LABELS.get(state, state))}</span></td>"
            f'<td class="actions">{actions}</td></tr>')
    table = "\n".join(body_rows) or '<tr><td colspan="4">Aucun membre actif.</td></tr>'
    parts.append(f"""<div class="card">
<h2>{e(unit.name)} <span class="muted">({e(unit.code)})</span></h2>
<table>
<caption class="muted" style="text-align:left;caption-side:bottom;padding-top:8px">
Un QR code est personnel et à usage unique ; il reste valable {e(validity_fr(ttl))}.</caption>
<thead><tr><th scope="col">Nom</th><th scope="col">Identifiant</th><th scope="col">État</th>
<th scope="col">Actions</th></tr></thead>
<tbody>
{table}
</tbody>
</table>
</div>
<div class="card">
<h2>Feuille d'accueil imprimable</h2>
<form method="post" action="/admin/sheet/{quote(unit.code)}" target="_blank">
<input type="hidden" name="csrf" value="{e(csrf)}">
<p class="muted">Un QR code par membre de l'unité, quatre par page A4 ; les liens expirent
{e(validity_fr(ttl))} après la génération.</p>
<button type="submit">Générer la feuille de l'unité</button>
</form>
</div>""")
    return _layout(f"Administration des appairages — {unit.name}", "\n".join(parts), nonce=nonce)


def _qr_panel(invite: Invite, l10n: L10n, ttl: int) -> str:
    e = html.escape
    data = base64.b64encode(qr_png(invite.link)).decode("ascii")
    return f"""<section class="card" id="qr-panel" aria-labelledby="qr-title">
<h2 id="qr-title">QR code d'appairage de {e(invite.display_name)}</h2>
<div class="qr">
<img id="qr-image" src="data:image/png;base64,{data}"
     alt="QR code d'appairage de {e(invite.display_name)} ({e(invite.login)})">
<div>
<p>À scanner avec l'appareil photo du téléphone de <strong>{e(invite.display_name)}</strong>,
puis appuyer sur DÉMARRER et saisir le mot de passe artis.net.</p>
<p>Lien : <a class="link" id="qr-link" href="{e(invite.link)}">{e(invite.link)}</a></p>
<p><strong>Valable {e(validity_fr(ttl))}</strong>, jusqu'au
{e(expiry_fr(l10n, invite.expires_at))}, pour une seule utilisation.</p>
</div>
</div>
</section>"""
