"""One module per thing a user does; ``register`` wires them in reading order.

Group -1 is the access guard; group 0 holds the intents, first match wins: the
message a flow step awaits, commands, buttons, then polite fallbacks.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from handlers import (
    access,
    errors,
    fallback,
    help,
    language,
    pairing,
    start,
    steps,
)
from handlers.later import Later

#: Imported when the first update gets past the commands above (handlers/later.py).
LATER = ("handlers.home", "handlers.planning", "handlers.action", "handlers.contact",
         "handlers.report", "handlers.outbox", "handlers.digest")


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handlers(access.HANDLERS, group=-1)
    later = Later(LATER)
    steps.bind_later(later.load)
    app.add_handlers([
        *steps.HANDLERS,
        *start.HANDLERS,
        *help.HANDLERS,
        *language.HANDLERS,
        *pairing.HANDLERS,
        later,  # home, planning, action, contact, report, outbox, digest
        *fallback.HANDLERS,
    ])
    app.add_error_handler(errors.on_error)
