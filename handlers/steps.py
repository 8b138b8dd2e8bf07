"""Free text goes to the step of the flow the chat is in (e.g. "waiting for a password").

Modules register their step handlers with ``@on_step("name")``; a chat with no
step (or an unknown one) gets the free-text answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update
from telegram.ext import MessageHandler, filters

from bot.context import BotContext

StepHandler = Callable[[Update, BotContext], Awaitable[None]]
_STEPS: dict[str, StepHandler] = {}
_SECRET_STEPS: set[str] = set()


def on_step(name: str, *, secret: bool = False) -> Callable[[StepHandler], StepHandler]:
    """Register the handler of step ``name``; ``secret``: the text it awaits is a password or
    PIN, so such a message is deleted and never kept, whatever happens to the flow."""
    def register(handler: StepHandler) -> StepHandler:
        _STEPS[name] = handler
        if secret:
            _SECRET_STEPS.add(name)
        return handler
    return register


def takes_secret(name: str | None) -> bool:
    return name in _SECRET_STEPS


async def route_text(update: Update, context: BotContext) -> None:
    from handlers import fallback  # late: fallback is the last resort, not a dependency

    handler = _STEPS.get(context.session.step or "")
    await (handler or fallback.free_text)(update, context)


HANDLERS = [MessageHandler(filters.TEXT & ~filters.COMMAND, route_text)]
