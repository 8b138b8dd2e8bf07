"""The demo identity provider: a French sign-in page that issues one-time SSO tickets.

artis.net's real SSO protocol is not publicly documented, so the contract assumes an
OAuth-like one (see openapi.yaml): the bot sends the browser to
``/sso/authorize?redirect_uri=...&state=...``; after a good login and password (the demo
passwords), the browser goes back to ``redirect_uri?state=...&ticket=...``, and the bot
exchanges the ticket with ``POST /api/v1/auth/sso/exchange``.

A real identity provider only redirects to registered URIs. The demo accepts any http(s)
``redirect_uri``: it only ever runs on a developer's machine or in tests.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from integrations.artis.demo.service import ApiError, DemoService

SSO_AUTHORIZE_PATH = "/sso/authorize"
MAX_FORM_BYTES = 8192
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def idp_url(api_url: str) -> str:
    """The demo sign-in page next to a demo API base URL (``http://host:port/api/v1``)."""
    from integrations.artis.demo.app import API_PREFIX

    return api_url.rstrip("/").removesuffix(API_PREFIX) + SSO_AUTHORIZE_PATH


def _valid_redirect(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment


def _redirect_target(redirect_uri: str, state: str, ticket: str) -> str:
    glue = "&" if "?" in redirect_uri else "?"
    return f"{redirect_uri}{glue}{urlencode({'state': state, 'ticket': ticket})}"


class DemoIdentityProvider:
    """``GET`` shows the sign-in form, ``POST`` checks it and redirects with a ticket."""

    def __init__(self, service: DemoService) -> None:
        self.service = service

    async def form(self, request: Request) -> Response:
        redirect_uri = request.query_params.get("redirect_uri", "")
        state = request.query_params.get("state", "")
        if not _valid_redirect(redirect_uri) or not state:
            return _bad_request()
        return _page(_form_html(redirect_uri, state))

    async def submit(self, request: Request) -> Response:
        fields = await _form(request)
        redirect_uri = fields.get("redirect_uri", "")
        state = fields.get("state", "")
        login = fields.get("login", "").strip()
        if not _valid_redirect(redirect_uri) or not state:
            return _bad_request()
        try:
            await run_in_threadpool(self.service.ensure_current)
            ticket = await run_in_threadpool(
                self.service.sso_authorize, login, fields.get("password", "")
            )
        except ApiError as exc:
            problem = (
                "Ce compte est verrouillé."
                if exc.status == 423
                else "Identifiant ou mot de passe incorrect."
            )
            return _page(_form_html(redirect_uri, state, login=login, problem=problem), 401)
        response = RedirectResponse(_redirect_target(redirect_uri, state, ticket), 302)
        response.headers.update(_HEADERS)
        return response

    def routes(self) -> list[BaseRoute]:
        """The sign-in page, at the server's root (outside the API)."""
        return [
            Route(SSO_AUTHORIZE_PATH, self.form, methods=["GET"]),
            Route(SSO_AUTHORIZE_PATH, self.submit, methods=["POST"]),
        ]


async def _form(request: Request) -> dict[str, str]:
    """Fields of the url-encoded form (parsed here: no python-multipart needed)."""
    if "application/x-www-form-urlencoded" not in request.headers.get("content-type", ""):
        return {}
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return {}
    return {key: values[0] for key, values in parse_qs(body.decode("utf-8", "replace")).items()}


def _page(body: str, status_code: int = 200) -> Response:
    document = (
        '<!doctype html>\n<html lang="fr"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>SSO de démonstration</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}"
        "label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;"
        "box-sizing:border-box}button{margin-top:1rem;padding:.6rem 1.2rem}"
        ".problem{color:#a00}.hint{color:#555;font-size:.9rem}"
        f"</style></head><body>{body}</body></html>\n"
    )
    return HTMLResponse(document, status_code=status_code, headers=_HEADERS)


def _form_html(redirect_uri: str, state: str, *, login: str = "", problem: str = "") -> str:
    def esc(value: str) -> str:
        return html.escape(value, quote=True)

    warning = f'<p class="problem" role="alert">{esc(problem)}</p>' if problem else ""
    return (
        "<h1>SSO de démonstration</h1>"
        "<p>Connectez-vous avec votre compte artis.net pour continuer.</p>"
        f"{warning}"
        f'<form method="post" action="{SSO_AUTHORIZE_PATH}">'
        f'<input type="hidden" name="redirect_uri" value="{esc(redirect_uri)}">'
        f'<input type="hidden" name="state" value="{esc(state)}">'
        '<label for="login">Identifiant</label>'
        f'<input id="login" name="login" autocomplete="username" required value="{esc(login)}">'
        '<label for="password">Mot de passe</label>'
        '<input id="password" name="password" type="password" '
        'autocomplete="current-password" required>'
        '<button type="submit">Se connecter</button></form>'
        '<p class="hint">Fournisseur d\'identité simulé du serveur artis.net de démonstration : '
        "tous les mots de passe sont « demo ».</p>"
    )


def _bad_request() -> Response:
    return _page(
        "<h1>SSO de démonstration</h1><p>Demande de connexion invalide : il manque l'adresse "
        "de retour ou l'état. Revenez dans l'application qui vous a envoyé ici.</p>",
        400,
    )
