"""Run the demo artis.net in-process: a uvicorn server on its own thread and event loop.

The bot (or a test) keeps its own loop; the demo server never shares it, exactly like a remote
artis.net would. The socket is bound before uvicorn starts, so port 0 yields a known free port.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Self

import uvicorn

from integrations.artis.demo.app import API_PREFIX, create_app
from integrations.artis.demo.faults import FaultBoard, FaultRule, RequestLog
from integrations.artis.demo.idp import SSO_AUTHORIZE_PATH, idp_url
from integrations.artis.demo.seed import paris_today
from integrations.artis.demo.service import DemoService
from integrations.artis.demo.store import DemoStore

log = logging.getLogger(__name__)

_START_TIMEOUT = 10.0


def _open_store(db_path: Path, today: date | None) -> tuple[DemoStore, DemoService]:
    """Open (and seed if stale) the database; `today=None` follows the Paris calendar."""
    path = db_path
    path.parent.mkdir(parents=True, exist_ok=True)
    store = DemoStore(path)
    service = DemoService(store, (lambda: today) if today else paris_today)
    service.ensure_current()
    return store, service


def _listening_socket(host: str, port: int) -> socket.socket:
    """Bind ourselves so port 0 gives a known port before uvicorn runs.

    TCP_NODELAY is inherited by accepted connections; without it, keep-alive requests hit the
    Nagle / delayed-ACK interplay and every call on loopback takes ~40 ms instead of ~1 ms.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


class DemoArtisServer:
    """The embedded demo artis.net, started and stopped from synchronous code.

    Use as a context manager or call start()/stop(). `url` is the API base URL (…/api/v1).
    With `faults_enabled`, the /_demo control routes and the helpers below are available.
    """

    def __init__(
        self,
        db_path: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        faults_enabled: bool = False,
        today: date | None = None,
    ) -> None:
        self.db_path = db_path
        self.host = host
        self.port = port
        self.faults_enabled = faults_enabled
        self.today = today
        self.faults = FaultBoard()
        self.requests = RequestLog()
        self._store: DemoStore | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._bound_port: int | None = None
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = None

    # -- lifecycle ----------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL of the API, e.g. http://127.0.0.1:54321/api/v1."""
        if self._bound_port is None:
            raise RuntimeError("the demo server is not started")
        return f"http://{self.host}:{self._bound_port}{API_PREFIX}"

    @property
    def sso_url(self) -> str:
        """The demo identity provider's sign-in page (SSO_URL), e.g. …/sso/authorize."""
        return idp_url(self.url)

    @property
    def store(self) -> DemoStore:
        """Direct access to the data, for tests and tooling."""
        if self._store is None:
            raise RuntimeError("the demo server is not started")
        return self._store

    def start(self) -> None:
        """Seed if needed, bind the socket and serve on a daemon thread; returns when ready."""
        if self._thread is not None:
            raise RuntimeError("the demo server is already started")
        path = self.db_path
        if path is None:
            self._temp_dir = tempfile.TemporaryDirectory(prefix="artis-demo-")
            path = Path(self._temp_dir.name) / "artis-demo.sqlite3"
        self._store, service = _open_store(path, self.today)
        app = create_app(
            service,
            faults=self.faults if self.faults_enabled else None,
            requests=self.requests,
        )
        sock = _listening_socket(self.host, self.port)
        self._bound_port = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._run, args=(self._server, sock), name="artis-demo", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the demo artis server failed to start")
            time.sleep(0.005)
        log.info("demo artis.net listening on %s", self.url)

    @staticmethod
    def _run(server: uvicorn.Server, sock: socket.socket) -> None:
        asyncio.run(server.serve(sockets=[sock]))

    def stop(self) -> None:
        """Stop serving and close the database; safe to call twice."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._store is not None:
            self._store.close()
        if self._temp_dir is not None:
            self._temp_dir.cleanup()
        self._server = self._thread = self._store = self._temp_dir = None
        self._bound_port = None

    # -- test helpers (the same as the /_demo routes, without HTTP) -----------

    def inject_fault(
        self,
        status: int | None = 503,
        count: int = 1,
        path_prefix: str = "",
        login: str | None = None,
        delay: float = 0.0,
        method: str | None = None,
    ) -> None:
        """Spoil the next `count` matching requests (see FaultRule)."""
        self._require_faults()
        self.faults.add(FaultRule(status, count, path_prefix, login, method, delay))

    def clear_faults(self) -> None:
        """Drop pending faults and forget counted requests."""
        self.faults.clear()
        self.requests.clear()

    def expire_tokens(self) -> None:
        """Invalidate every session, as after an artis restart."""
        self.store.delete_all_sessions()

    def request_count(self, path_prefix: str = "", method: str | None = None) -> int:
        """How many API requests reached the server under `path_prefix` (relative to /api/v1)."""
        self._require_faults()
        return self.requests.count(path_prefix, method)

    def _require_faults(self) -> None:
        if not self.faults_enabled:
            raise RuntimeError("start DemoArtisServer with faults_enabled=True")


def serve_forever(host: str, port: int, db_path: Path | None) -> None:
    """Serve the demo artis.net in the foreground until Ctrl-C (for `crmbot artis-demo`)."""
    with tempfile.TemporaryDirectory(prefix="artis-demo-") as temp_dir:
        store, service = _open_store(db_path or Path(temp_dir) / "artis-demo.sqlite3", None)
        sock = _listening_socket(host, port)
        bound = sock.getsockname()[1]
        print(f"demo artis.net: http://{host}:{bound}{API_PREFIX} (all passwords: demo)")
        print(f"demo SSO sign-in page (SSO_URL): http://{host}:{bound}{SSO_AUTHORIZE_PATH}")
        try:
            uvicorn.Server(uvicorn.Config(create_app(service), log_level="info")).run([sock])
        finally:
            store.close()
