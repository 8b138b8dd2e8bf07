"""Embedded demo artis.net server: the REST contract on SQLite with seeded French data."""

from integrations.artis.demo.seed_data import DEMO_PASSWORD, DemoLogins
from integrations.artis.demo.server import DemoArtisServer, serve_forever

__all__ = ["DEMO_PASSWORD", "DemoArtisServer", "DemoLogins", "serve_forever"]
