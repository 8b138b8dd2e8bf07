"""The command menu, per language, set at start-up and per chat on language change."""

from __future__ import annotations

import functools
import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.i18n import N_, L10n
from bot.services.sessions import ChatSession
from bot.settings import SUPPORTED_LOCALES

log = logging.getLogger(__name__)

# Reachable without a paired, unlocked artis.net session (the access guard lets them by);
# at a secret step, any other "/..." text is taken as the password or PIN it awaits.
PUBLIC_COMMANDS = frozenset({"start", "help", "aide", "lang", "langue", "language", "cancel",
                             "annuler", "logout", "deconnexion", "password", "motdepasse"})

# (command, description) — the French command names are the ones reps see first.
MENU = [
    ("menu", N_("Your day: indicators and next action")),
    ("planning", N_("Your planning (today, or a date: /planning demain)")),
    ("envois", N_("Comptes rendus not yet sent to artis.net")),
    ("aide", N_("What I can do")),
    ("lang", N_("Choose the language")),
    ("reglages", N_("Reminders before a visit and for missing reports")),
    ("pin", N_("Choose a PIN code to unlock")),
    ("annuler", N_("Cancel the current step")),
    ("logout", N_("Unpair this Telegram account")),
]


@functools.cache
def commands_for(lang: str) -> tuple[BotCommand, ...]:
    """The menu in ``lang``; built once per language (BotCommands are immutable): a
    language button press sets the chat's menu, on the hot path."""
    t = L10n(lang)
    return tuple(BotCommand(name, t._(description)) for name, description in MENU)


class CommandMenu:
    def __init__(self, default_lang: str) -> None:
        self.default_lang = default_lang

    async def publish(self, bot: Bot) -> None:
        """Set the menu for every language; a refusal is logged, never fatal."""
        try:
            await bot.set_my_commands(commands_for(self.default_lang))
            for lang in SUPPORTED_LOCALES:
                await bot.set_my_commands(commands_for(lang), language_code=lang)
        except TelegramError as exc:
            log.warning("the Bot API refused the command menu (%s); going on without it", exc)

    async def apply_to_chat(self, bot: Bot, session: ChatSession) -> None:
        """After /lang: the menu of that chat follows the chosen language."""
        try:
            await bot.set_my_commands(commands_for(session.lang),
                                      scope=BotCommandScopeChat(session.chat_id))
        except TelegramError as exc:
            log.warning("could not set the chat's command menu: %s", exc)
