"""Logging that never carries a password, a message's content or the bot token.

python-telegram-bot logs whole updates and Bot API answers at DEBUG level
(``Processing update …``, ``Call to Bot API endpoint … finished with return
value …``): a password typed to log in would be written out. httpx logs every
request URL at INFO, and Bot API URLs contain the token. Both are capped here,
whatever ``LOG_LEVEL`` says; our own loggers log ids, never contents.
"""

from __future__ import annotations

import logging

_CAPS = {
    "telegram": logging.INFO,  # INFO and above carry no message contents
    "httpx": logging.WARNING,  # INFO lines carry the URL, hence the bot token
    "httpcore": logging.WARNING,
}


def keep_secrets_out_of_logs() -> None:
    for name, floor in _CAPS.items():
        logger = logging.getLogger(name)
        # Set on the logger itself, not left to the root's level: raising the root to DEBUG
        # later must not reopen the leak.
        if logger.level == logging.NOTSET or logger.level < floor:
            logger.setLevel(floor)


def configure_logging(level: str, *, quiet: bool = False) -> None:
    """Process-wide logging for the command line (quiet: warnings only, for the demo)."""
    logging.basicConfig(level=logging.WARNING if quiet else getattr(logging, level),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    keep_secrets_out_of_logs()
