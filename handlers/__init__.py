"""One module per thing a user does; ``register`` wires them in reading order.

Group -1 is the access guard; group 0 holds the intents, first match wins: the
message a flow step awaits, commands, buttons, then polite fallbacks.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application

from handlers import (
    access,
    action,
    contact,
    digest,
    errors,
    fallback,
    help,
    home,
    language,
    outbox,
    pairing,
    planning,
    report,
    start,
    steps,
)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handlers(access.HANDLERS, group=-1)
    app.add_handlers([
        *steps.HANDLERS,
        *start.HANDLERS,
        *help.HANDLERS,
        *language.HANDLERS,
        *pairing.HANDLERS,
        *home.HANDLERS,
        *planning.HANDLERS,
        *action.HANDLERS,
        *contact.HANDLERS,
        *report.HANDLERS,
        *outbox.HANDLERS,
        *digest.HANDLERS,
        *fallback.HANDLERS,
    ])
    app.add_error_handler(errors.on_error)
