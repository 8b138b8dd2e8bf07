"""Hand one update to the Application exactly as its update fetcher does."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application


async def deliver(app: Application[Any, Any, Any, Any, Any, Any],
                  update: Update | dict[str, Any]) -> None:
    """Process ``update`` through the update processor (pipeline) and the handlers.

    This is the path PTB's own fetcher takes for polling and webhooks; the
    terminal demo, the tests and the benchmark use it to wait for the answer.
    """
    if isinstance(update, dict):
        update = Update.de_json(update, app.bot)
    await app.update_processor.process_update(update, app.process_update(update))
