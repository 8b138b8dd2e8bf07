"""Fault injection and request counting, so tests can exercise the client's resilience.

Rules and counters are shared between the server thread and the test thread, hence the locks.
Only requests under the API prefix are affected, and never the `/_demo` control routes.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass
class FaultRule:
    """The next `count` matching requests answer `status`, or are delayed when status is None."""

    status: int | None = 503
    count: int = 1
    path_prefix: str = ""
    login: str | None = None
    method: str | None = None
    delay: float = 0.0

    def matches(self, method: str, path: str, login: str | None) -> bool:
        """Whether a request (path relative to the API prefix) is targeted by this rule."""
        return (
            self.count > 0
            and path.startswith(self.path_prefix)
            and (self.method is None or self.method.upper() == method)
            and (self.login is None or self.login == login)
        )


class FaultBoard:
    """Pending fault rules, consumed one request at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> None:
        """Queue a rule."""
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        """Drop every pending rule."""
        with self._lock:
            self._rules.clear()

    def active(self) -> bool:
        """True while some rule still has requests to spoil."""
        with self._lock:
            return any(rule.count > 0 for rule in self._rules)

    def needs_login(self) -> bool:
        """True when a pending rule filters on the caller, so the token must be resolved."""
        with self._lock:
            return any(rule.count > 0 and rule.login for rule in self._rules)

    def take(self, method: str, path: str, login: str | None) -> FaultRule | None:
        """Consume one use of the first matching rule."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path, login):
                    rule.count -= 1
                    return rule
        return None


class RequestLog:
    """Counts of received API requests, to assert how many attempts a client made."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[tuple[str, str]] = []

    def record(self, method: str, path: str) -> None:
        """Remember one request."""
        with self._lock:
            self._entries.append((method, path))

    def count(self, path_prefix: str = "", method: str | None = None) -> int:
        """Requests whose path starts with `path_prefix` (and with `method`, if given)."""
        with self._lock:
            return sum(
                1
                for verb, path in self._entries
                if path.startswith(path_prefix) and (method is None or verb == method.upper())
            )

    def clear(self) -> None:
        """Forget every request."""
        with self._lock:
            self._entries.clear()


class FaultMiddleware:
    """ASGI middleware that logs API requests and applies pending fault rules."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        api_prefix: str,
        faults: FaultBoard,
        requests: RequestLog,
        resolve_login: Callable[[str], Awaitable[str | None]],
    ) -> None:
        self.app = app
        self.api_prefix = api_prefix
        self.faults = faults
        self.requests = requests
        self.resolve_login = resolve_login

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(self.api_prefix + "/"):
            await self.app(scope, receive, send)
            return
        relative = path[len(self.api_prefix) :]
        if relative.startswith("/_demo"):
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        self.requests.record(method, relative)
        rule = None
        if self.faults.active():
            login = await self._login(scope) if self.faults.needs_login() else None
            rule = self.faults.take(method, relative, login)
        if rule is not None:
            if rule.delay > 0:
                await asyncio.sleep(rule.delay)
            if rule.status is not None:
                await _send_json(
                    send,
                    rule.status,
                    {
                        "error": "injected_fault",
                        "message": f"demo fault injection answered {rule.status}",
                    },
                )
                return
        await self.app(scope, receive, send)

    async def _login(self, scope: Scope) -> str | None:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                scheme, _, token = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer" and token:
                    return await self.resolve_login(token.strip())
        return None


async def _send_json(send: Send, status: int, body: dict[str, str]) -> None:
    payload = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})
