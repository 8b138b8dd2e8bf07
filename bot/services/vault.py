"""The key that seals artis.net session tokens in the store (Fernet, key rotation).

``STORE_ENCRYPTION_KEY`` holds one or more comma-separated Fernet keys: the first
seals, every one of them opens (``MultiFernet``), so a new key can be put first
while tokens sealed with the old one are still read. It is required on Redis
(processes on several hosts share the store, so they must share the key). The
embedded SQLite store without it uses ``DATA_DIR/store.key``, created on first
start with mode 0600.

Only ``SessionRepo`` (``bot/services/sessions.py``) uses the vault: everything
else sees the clear token in memory only.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import secrets
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import is_fernet_key
from bot.storage.files import PRIVATE_FILE, private_dir, private_file

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

log = logging.getLogger(__name__)

KEY_FILENAME = "store.key"


class VaultError(Exception):
    """The key cannot be read or made; ``str()`` is one operator line."""


class TokenVault:
    """Seals and opens short secrets with the first of several Fernet keys."""

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        if not all(is_fernet_key(key) for key in keys):
            raise ValueError("Fernet keys are 32 url-safe base64-encoded bytes")
        self._keys = list(keys)

    @cached_property
    def _fernet(self) -> MultiFernet:
        # cryptography is imported at the first token, not at start-up (cold start).
        from cryptography.fernet import Fernet, MultiFernet

        return MultiFernet([Fernet(key) for key in self._keys])

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, sealed: str) -> str | None:
        """The clear secret, or None when no key opens it (the key changed, or it was
        tampered with): the caller treats that like an expired secret."""
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            return None


def open_vault(keys: Sequence[str], data_dir: Path) -> TokenVault:
    """The vault for ``STORE_ENCRYPTION_KEY`` (``keys``), else for ``DATA_DIR/store.key``."""
    if keys:
        return TokenVault(keys)
    return TokenVault([key_file(Path(data_dir) / KEY_FILENAME)])


def key_file(path: Path) -> bytes:
    """The Fernet key in ``path``, made (mode 0600) if missing. Two processes starting
    at once agree: the key is written to a private temporary file, then hard-linked to
    ``path``, which fails for the second; it reads the first one's key."""
    private_dir(path.parent)
    if not path.exists():
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
            with os.fdopen(fd, "wb") as out:
                out.write(base64.urlsafe_b64encode(os.urandom(32)) + b"\n")  # a Fernet key
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
                log.info("made a new store encryption key in %s: back it up with the store",
                            path)
        except OSError as exc:
            raise VaultError(f"startup error: cannot write the store key {path}: {exc}") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
    private_file(path)
    key = path.read_bytes().strip()
    if not is_fernet_key(key):
        raise VaultError(f"startup error: {path} is not a Fernet key; restore it from a "
                         f"backup or delete it (reps will then be asked for their password)"
                         ) from None
    return key
