"""One module per thing a user does; ``register`` wires them in reading order.

Group -1 is the access guard; group 0 holds the intents, first match wins:
commands, buttons, free text routed by flow step, then polite fallbacks.
"""

from __future__ import annotations

from telegram.ext import Application

from handlers import access, errors, fallback, help, language, pairing, start, steps


def register(app: Application) -> None:
    app.add_handlers(access.HANDLERS, group=-1)
    app.add_handlers([
        *start.HANDLERS,
        *help.HANDLERS,
        *language.HANDLERS,
        *pairing.HANDLERS,
        *steps.HANDLERS,
        *fallback.HANDLERS,
    ])
    app.add_error_handler(errors.on_error)
