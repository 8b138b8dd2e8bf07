"""What the bot's web pages and endpoints share: templates, security headers, bounded bodies.

- **Templates.** The admin page, the SSO return page and the printable onboarding sheet
  are Jinja2 templates in ``bot/templates/`` (package data: the wheel carries them),
  rendered with autoescape, so a name from the ERP can never become markup.
- **Content-Security-Policy.** Each page's CSS (and the admin page's one script) is a
  static file of ``bot/templates/`` inlined at render; the page's policy allows exactly
  those bytes by their SHA-256. No ``'unsafe-inline'``, no per-request nonce, and a saved
  file (the onboarding sheet) carries the same policy in a ``<meta http-equiv>``.
- **Headers.** ``SecurityHeaders`` is the one ASGI middleware that gives every response of
  the web server its security headers; a page adds its own policy (``Page.response``).
- **Bodies.** ``read_body`` refuses an oversized body by its ``Content-Length`` before
  reading anything, else while streaming it, so a body is never held whole beyond its limit.
"""

from __future__ import annotations

import base64
import hashlib
import html
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _escaped(value: object) -> object:
    """Escape output with ``html.escape``'s entities (``&quot;``, ``&#x27;``), as the pages
    always have; autoescape stays on, and ``Markup`` (already safe) passes unchanged."""
    if hasattr(value, "__html__"):
        return value
    return Markup(html.escape(str(value), quote=True))


_ENV = Environment(loader=PackageLoader("bot", "templates"), autoescape=True,
                   finalize=_escaped, undefined=StrictUndefined, trim_blocks=True,
                   lstrip_blocks=True, keep_trailing_newline=True)


@cache
def _asset(name: str) -> tuple[Markup, str]:
    """A static file of ``bot/templates/`` to inline, and its CSP source ``'sha256-…'``."""
    assert _ENV.loader is not None
    text, _, _ = _ENV.loader.get_source(_ENV, name)
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return Markup(text), f"'sha256-{digest}'"


@dataclass(frozen=True)
class Page:
    """A template, the inline CSS (and script) it runs, and the policy allowing just those."""

    template: str
    style: str
    script: str | None = None
    form_action: str = "'none'"
    images: bool = False  # QR codes, inlined as data: URLs

    def policy(self, *, meta: bool = False) -> str:
        """The page's Content-Security-Policy; ``meta=True`` for a ``<meta http-equiv>``,
        where browsers ignore ``frame-ancestors`` (and warn about it)."""
        parts = ["default-src 'none'", f"style-src {_asset(self.style)[1]}"]
        if self.script:
            parts.append(f"script-src {_asset(self.script)[1]}")
        if self.images:
            parts.append("img-src data:")
        parts += [f"form-action {self.form_action}", "base-uri 'none'"]
        if not meta:
            parts.append("frame-ancestors 'none'")
        return "; ".join(parts)

    def render(self, **context: Any) -> str:
        """The whole document; templates get ``style``, ``script`` and ``csp`` (for a meta)."""
        return _ENV.get_template(self.template).render(
            style=_asset(self.style)[0], script=_asset(self.script)[0] if self.script else None,
            csp=self.policy(meta=True), **context)

    def response(self, *, status_code: int = 200, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.render(**context), status_code=status_code,
                            headers={"Content-Security-Policy": self.policy()})


# -- headers ---------------------------------------------------------------------------------
BASELINE_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_FIXED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",  # the SSO callback URL carries its state and ticket
}


class SecurityHeaders:
    """ASGI middleware: the security headers of every response of the bot's web server.

    Nothing of ours may be framed, sniffed or leak its URL as a referrer. Pages set their own
    Content-Security-Policy (``Page``); anything else (JSON, plain text) gets the baseline,
    which allows nothing. ``Cache-Control: no-store`` unless a response says otherwise (none
    of ours does): pages and JSON answers hold live pairing links.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _FIXED_HEADERS.items():
                    headers[name] = value
                headers.setdefault("Content-Security-Policy", BASELINE_CSP)
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


# -- bodies ----------------------------------------------------------------------------------
class BodyRefused(Exception):
    """A request body refused before it was read whole; answer ``status_code``."""

    def __init__(self, status_code: int, reason: str) -> None:
        super().__init__(reason)
        self.status_code = status_code
        self.reason = reason


async def read_body(request: Request, limit: int) -> bytes:
    """The body, at most ``limit`` bytes: 413 by ``Content-Length`` before reading anything,
    or as soon as the stream (chunked, or lying about its length) goes past the limit."""
    declared = request.headers.get("content-length")
    if declared is not None:
        declared = declared.strip()
        if not (declared.isascii() and declared.isdigit()):
            raise BodyRefused(400, "bad content-length")
        if len(declared) > 18 or int(declared) > limit:
            raise BodyRefused(413, "too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyRefused(413, "too large")
        chunks.append(chunk)
    return b"".join(chunks)
