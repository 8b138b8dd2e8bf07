"""The typed context handlers receive: session, translations and services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from telegram.ext import Application, CallbackContext, ExtBot

from bot.i18n import L10n
from bot.scope import CURRENT_SESSION
from bot.services.sessions import ChatSession

if TYPE_CHECKING:
    from bot.container import Services


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's context plus what the pipeline loaded for this chat."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any],
                 chat_id: int | None = None,
                 user_id: int | None = None) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def session(self) -> ChatSession:
        session = CURRENT_SESSION.get()
        if session is None:
            raise RuntimeError("no chat session: update did not go through ChatPipeline")
        return session

    @property
    def l10n(self) -> L10n:
        return self.session.l10n

    @property
    def services(self) -> Services:
        return cast("Services", self.application.bot_data["services"])
