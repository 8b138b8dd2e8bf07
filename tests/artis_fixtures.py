"""Pytest fixtures running the real demo artis.net on loopback (no mocks).

``from tests.artis_fixtures import *`` in a conftest exposes:

* ``demo_artis``   - session-wide ``DemoArtisServer(faults_enabled=True)`` on a temp database
* ``artis``        - the same server, with faults and request counts cleared around each test
* ``artis_client`` - an ``ArtisClient`` on it, service account ``bot.service`` / ``demo``,
  short timeout and backoff so fault tests stay fast
* ``artis_login``  - ``await artis_login("demo.commercial")`` returns a fresh session token

The database is shared by the whole session: tests that write (reports, contacts) should pick
their own objects rather than rely on a pristine seed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from integrations.artis.client import ArtisClient
from integrations.artis.demo import DEMO_PASSWORD, DemoArtisServer, DemoLogins

__all__ = ["artis", "artis_client", "artis_login", "demo_artis"]


@pytest.fixture(scope="session")
def demo_artis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoArtisServer]:
    """One demo server for the whole test session (starting one takes ~0.1 s)."""
    db_path = tmp_path_factory.mktemp("artis-demo") / "artis.sqlite3"
    with DemoArtisServer(db_path=db_path, faults_enabled=True) as server:
        yield server


@pytest.fixture
def artis(demo_artis: DemoArtisServer) -> Iterator[DemoArtisServer]:
    """The demo server with no pending fault and an empty request log."""
    demo_artis.clear_faults()
    yield demo_artis
    demo_artis.clear_faults()


@pytest.fixture
async def artis_client(artis: DemoArtisServer) -> AsyncIterator[ArtisClient]:
    """A client on the demo server, configured with the bot's service account."""
    async with ArtisClient(
        artis.url,
        service_login=DemoLogins.SERVICE,
        service_password=DEMO_PASSWORD,
        timeout=2.0,
        max_retries=2,
        backoff=0.01,
    ) as client:
        yield client


@pytest.fixture
def artis_login(artis_client: ArtisClient) -> Callable[[str], Awaitable[str]]:
    """Factory opening a session for a demo login (password "demo") and returning its token."""

    async def login(login: str = DemoLogins.COMMERCIAL) -> str:
        return (await artis_client.login(login, DEMO_PASSWORD)).token

    return login
