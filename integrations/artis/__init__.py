"""artis.net integration: REST contract (openapi.yaml), async client, models and demo server."""

from integrations.artis.client import ArtisClient
from integrations.artis.errors import (
    AccessDenied,
    AccountLocked,
    ArtisError,
    ArtisUnavailable,
    Conflict,
    InvalidCredentials,
    InvalidData,
    NotFound,
    SessionExpired,
)

__all__ = [
    "AccessDenied",
    "AccountLocked",
    "ArtisClient",
    "ArtisError",
    "ArtisUnavailable",
    "Conflict",
    "InvalidCredentials",
    "InvalidData",
    "NotFound",
    "SessionExpired",
]
