"""Handler modules imported when the first update needs them, not at start-up.

A start answers its first update sooner (cold start, issue #7) when it does not import
the rep's day, the action cards, the comptes rendus and the digests first: an access
check or a pairing prompt needs none of them. ``Later`` stands in their place in group 0
and imports them, in their order, the first time an update gets that far; the step
router asks for them (``handlers.steps.bind_later``) when a chat's step is bound in one.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler

from bot.context import BotContext

AnyHandler = BaseHandler[Any, Any, Any]


class Later(BaseHandler[Update, BotContext, None]):
    """The handlers of ``modules`` (each one's ``HANDLERS``), first match wins, as if they
    were registered here one by one."""

    def __init__(self, modules: Sequence[str]) -> None:
        super().__init__(self._unused)
        self.modules = tuple(modules)
        self._handlers: list[AnyHandler] | None = None

    @staticmethod
    async def _unused(update: Update, context: BotContext) -> None:
        raise AssertionError("Later dispatches in handle_update")

    def load(self) -> list[AnyHandler]:
        """Import the modules (once); their handlers in order."""
        if self._handlers is None:
            self._handlers = [handler for name in self.modules
                              for handler in importlib.import_module(name).HANDLERS]
        return self._handlers

    def check_update(self, update: object) -> tuple[AnyHandler, object] | None:
        for handler in self.load():
            check = handler.check_update(update)
            if check is not None and check is not False:
                return handler, check
        return None

    async def handle_update(self, update: Update,
                            application: Application[Any, Any, Any, Any, Any, Any],
                            check_result: object, context: BotContext) -> Any:
        assert isinstance(check_result, tuple)
        handler, check = check_result
        return await handler.handle_update(update, application, check, context)
