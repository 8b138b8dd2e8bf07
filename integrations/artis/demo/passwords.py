"""Salted password hashes for the demo accounts (stdlib scrypt, tuned to stay fast)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# Deliberately light scrypt cost: the demo seeds a dozen accounts at start-up and must start in
# well under a second. A real deployment never stores passwords in this demo database.
_N, _R, _P = 2**11, 8, 1


def hash_password(password: str, *, salt: str | None = None) -> str:
    """Return "scrypt$<salt>$<hex digest>"; a fixed salt keeps seeds reproducible."""
    salt = salt or secrets.token_hex(8)
    digest = hashlib.scrypt(password.encode(), salt=salt.encode(), n=_N, r=_R, p=_P)
    return f"scrypt${salt}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Constant-time check of `password` against a stored hash."""
    try:
        scheme, salt, expected = stored.split("$", 2)
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(password.encode(), salt=salt.encode(), n=_N, r=_R, p=_P)
    return hmac.compare_digest(digest.hex(), expected)
