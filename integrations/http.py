"""The HTTP path under httpx clients (the artis.net client): aiohttp's connector.

httpx's own transport (httpcore) walks its whole connection pool for every request
(``AsyncConnectionPool._assign_requests_to_connections``, ``is_idle``, ``has_expired``),
so its cost grows with pool size × queued requests: at 64 updates in flight it was half
the bot's CPU. ``httpx-aiohttp``'s ``AiohttpTransport`` puts aiohttp's connector under
the same httpx API, whose cost does not grow with concurrency; the tests still pass their
own transport. The Bot API goes further, on aiohttp alone (``integrations/telegram_http.py``).
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx
from httpx_aiohttp import AiohttpTransport


class _AiohttpTransport(AiohttpTransport):
    """``AiohttpTransport`` that opens a new aiohttp session after ``aclose`` (PTB rebuilds
    its httpx client on ``initialize`` after a ``shutdown``)."""

    async def aclose(self) -> None:
        await super().aclose()
        self.client = None


@cache
def ssl_context() -> ssl.SSLContext:
    # One verified context for every transport (loading the CA bundle costs ~20 ms each).
    return httpx.create_ssl_context()


class _Lazy(httpx.AsyncBaseTransport):
    """Builds the aiohttp transport (and its TLS context, ~20 ms) at the first request,
    not at start-up: the first answers of a freshly started bot rarely need artis.net."""

    def __init__(self, max_connections: int, keepalive_expiry: float) -> None:
        self._limits = httpx.Limits(max_connections=max_connections,
                                    keepalive_expiry=keepalive_expiry)
        self._inner: _AiohttpTransport | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._inner is None:
            self._inner = _AiohttpTransport(verify=ssl_context(), limits=self._limits)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()


def fast_transport(
    max_connections: int, keepalive_expiry: float = 30.0
) -> httpx.AsyncBaseTransport:
    """An httpx transport on aiohttp, at most ``max_connections`` open connections."""
    return _Lazy(max_connections, keepalive_expiry)
