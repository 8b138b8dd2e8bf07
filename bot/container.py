"""``Services``: what handlers and background jobs depend on, and nothing that builds it.

``bot/runtime.py`` (the composition root) creates one; handlers reach it through
``context.services``, a worker receives it directly. Importing this module pulls in
no handler and no Telegram ``Application``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands import CommandMenu
from bot.inbox import Inbox
from bot.scope import ChatScopes
from bot.services.drafts import Drafts
from bot.services.pairing import PairingService
from bot.services.sessions import SessionRepo
from bot.services.sso import SsoSignIn
from bot.settings import Settings
from bot.storage import Store
from integrations.artis.client import ArtisClient


@dataclass
class Services:
    settings: Settings
    store: Store
    artis: ArtisClient
    sessions: SessionRepo
    drafts: Drafts
    scopes: ChatScopes
    inbox: Inbox
    pairing: PairingService
    sso: SsoSignIn
    commands: CommandMenu
