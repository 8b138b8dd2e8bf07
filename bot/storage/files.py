"""Files the bot keeps on disk (``DATA_DIR``) are its own: folder 0700, files 0600.

The embedded store holds the artis.net links (their tokens sealed, see
``bot/services/vault.py``) and ``DATA_DIR`` holds the key that opens them, so
neither may be readable by other users of the host.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if needed and make it 0700."""
    path = Path(path)
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    _restrict(path, PRIVATE_DIR)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if it is missing, and make it 0600 (an existing file keeps
    its content). SQLite gives the ``-wal`` and ``-shm`` files the mode of the database
    file, so making the database 0600 before opening it covers them too."""
    path = Path(path)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, PRIVATE_FILE))
    _restrict(path, PRIVATE_FILE)
    return path


def _restrict(path: Path, mode: int) -> None:
    if stat.S_IMODE(path.stat().st_mode) == mode:
        return
    try:
        os.chmod(path, mode)
    except PermissionError:
        log.warning("cannot restrict %s to mode %o (not its owner); fix it by hand", path, mode)
