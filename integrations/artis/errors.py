"""Domain exceptions of the artis integration.

The bot catches these by type and localizes them; the messages are short English text for logs.
"""

from __future__ import annotations


class ArtisError(Exception):
    """Base of every artis failure; carries the HTTP status and error code when known."""

    default_message = "artis.net request failed"

    def __init__(
        self, message: str | None = None, *, status_code: int | None = None, code: str | None = None
    ) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.status_code = status_code
        self.code = code


class ArtisUnavailable(ArtisError):
    """artis.net is down, too slow or answering 5xx, even after retries."""

    default_message = "artis.net is unavailable"


class InvalidCredentials(ArtisError):
    """Wrong login or password."""

    default_message = "invalid login or password"


class AccountLocked(ArtisError):
    """The access account is locked on the artis side."""

    default_message = "account locked"


class SessionExpired(ArtisError):
    """The user's session token is no longer valid: ask the rep to log in again."""

    default_message = "session expired"


class NotFound(ArtisError):
    """The object does not exist or is not visible to the caller."""

    default_message = "not found"


class AccessDenied(ArtisError):
    """The caller is authenticated but not allowed to do this."""

    default_message = "access denied"


class Conflict(ArtisError):
    """Duplicate or state conflict; `existing_id` names the clashing object when known."""

    default_message = "conflict"

    def __init__(
        self,
        message: str | None = None,
        *,
        status_code: int | None = 409,
        code: str | None = None,
        existing_id: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, code=code)
        self.existing_id = existing_id


class InvalidData(ArtisError):
    """artis.net rejected the data sent (validation error)."""

    default_message = "invalid data"
