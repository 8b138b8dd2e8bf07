"""Opening the services without anything of Telegram's: the store, the artis.net client
(and the embedded demo artis.net when no ``ARTIS_URL`` is set), the vault and ``Services``.

``bot/runtime.py`` adds the Telegram Application on top; ``crmbot worker`` uses this alone,
so a worker loads no handler.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from bot.commands import CommandMenu
from bot.container import Services
from bot.inbox import Inbox
from bot.scope import ChatScopes
from bot.services.drafts import Drafts
from bot.services.pairing import PairingService
from bot.services.sessions import SessionRepo
from bot.services.sso import SsoSignIn
from bot.services.vault import VaultError, open_vault
from bot.settings import Settings, StartupError
from bot.storage import open_store
from bot.storage.files import private_dir
from integrations.artis.client import ArtisClient

log = logging.getLogger(__name__)


DEMO_SERVICE_LOGIN = "bot.service"
DEMO_SERVICE_PASSWORD = "demo"  # the embedded demo's documented password, not a secret
DEMO_TOKEN = "123456:DEMO-TOKEN-terminal-demo-not-a-real-bot"


@asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Store, artis.net client (and the embedded demo artis.net if needed), services."""
    async with AsyncExitStack() as stack:
        artis_url = settings.artis_url
        service_login = settings.artis_service_login
        service_password = (settings.artis_service_password.get_secret_value()
                            if settings.artis_service_password else None)
        if artis_url is None:
            from integrations.artis.demo import DemoArtisServer

            private_dir(settings.data_dir)
            demo = stack.enter_context(
                DemoArtisServer(db_path=settings.data_dir / "artis-demo.sqlite3"))
            artis_url = demo.url
            service_login = service_login or DEMO_SERVICE_LOGIN
            service_password = service_password or DEMO_SERVICE_PASSWORD
            log.info("embedded demo artis.net serving at %s", artis_url)
        try:
            store = await open_store(settings.redis_url, settings.data_dir,
                                     namespace=settings.store_namespace)
        except Exception as exc:
            where = (f"REDIS_URL={redact_url(settings.redis_url)}" if settings.redis_url
                     else f"DATA_DIR={settings.data_dir}")
            raise StartupError(f"startup error: cannot open the store at {where}: {exc}") from None
        stack.push_async_callback(store.close)
        try:
            vault = open_vault(settings.encryption_keys, settings.data_dir)
        except VaultError as exc:
            raise StartupError(str(exc)) from None
        artis = ArtisClient(artis_url, service_login=service_login,
                            service_password=service_password, timeout=settings.artis_timeout)
        stack.push_async_callback(artis.aclose)
        sessions = SessionRepo(store, default_lang=settings.bot_default_locale, tz=settings.tz,
                               vault=vault, token_ttl=settings.artis_session_ttl)
        pairing = PairingService(store, artis, sessions,
                                 bot_username=settings.telegram_bot_username,
                                 token_ttl=settings.pairing_token_ttl,
                                 idle_lock=settings.session_idle_lock)
        services = Services(
            settings=settings, store=store, artis=artis, sessions=sessions,
            drafts=Drafts(store), scopes=ChatScopes(store, sessions),
            inbox=Inbox(store, idle_lock=settings.session_idle_lock), pairing=pairing,
            sso=SsoSignIn(settings, store, artis.base_url),
            commands=CommandMenu(settings.bot_default_locale))
        stack.push_async_callback(services.aclose)
        yield services



def redact_url(url: str) -> str:
    """A URL without its password, for messages and logs."""
    return re.sub(r"//([^:/@]*):[^@/]*@", r"//\1:***@", url)
