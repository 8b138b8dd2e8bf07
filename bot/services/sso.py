"""Single sign-on: the button's link, the one-time ``state`` and the browser bound to it.

The protocol is assumed (artis.net's is not public; see ``integrations/artis/openapi.yaml``):

1. ``/start <token>`` of an SSO rep shows a button to ``{WEBHOOK_URL}/sso/start?state=…``.
   The state is 192 random bits, one-time, 10 minutes, stored by SHA-256 only, bound to
   the chat, the Telegram user (and how that account is named) and the expected login.
2. ``/sso/start`` binds the *first browser* that opens it to the state — a random nonce
   in a ``__Host-`` cookie, its hash in the store, bound once — and redirects that
   browser to the identity provider (``SSO_URL``, or the embedded demo's).
3. The provider sends the browser back to ``/sso/callback?state=…&ticket=…``. The state
   is accepted only with the cookie of the browser that started it: a sign-in URL passed
   to someone else (login CSRF: pairing *your* Telegram with *their* artis.net account)
   arrives without it and is refused. The page then names the Telegram account that was
   paired, so a rep tricked into finishing someone else's flow sees whose it is.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import asdict, dataclass
from urllib.parse import urlencode

from bot import keys
from bot.services.sessions import ChatSession
from bot.settings import Settings
from bot.storage import Store

log = logging.getLogger(__name__)

START_PATH = "/sso/start"
CALLBACK_PATH = "/sso/callback"
SSO_STATE_BYTES = 24  # 192 bits, like pairing tokens
SSO_STATE_TTL = 10 * 60


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class SsoState:
    """What an SSO ``state`` is bound to: the chat that asked, and who must sign in."""

    chat_id: int
    user_id: int
    login: str
    lang: str
    telegram_account: str = ""  # "Camille Martin (@camille)", shown on the return page


class SsoSignIn:
    def __init__(self, settings: Settings, store: Store, artis_base_url: str) -> None:
        self.settings = settings
        self.store = store
        self.artis_base_url = artis_base_url
        self._explained: set[str] = set()

    def identity_provider_url(self) -> str | None:
        """``SSO_URL``; with the embedded demo artis.net, its identity provider by default."""
        if self.settings.sso_url:
            return self.settings.sso_url
        if self.settings.embedded_artis:
            from integrations.artis.demo.idp import idp_url

            return idp_url(self.artis_base_url)
        return None

    async def sign_in_url(self, session: ChatSession, login: str,
                          telegram_account: str) -> str | None:
        """The SSO button's URL for ``login`` (a fresh one-time state), or None when SSO is
        off (then SSO reps get the password prompt alone)."""
        if self.identity_provider_url() is None:
            self._explain_once("SSO_URL is not set (it is required with a real ARTIS_URL)")
            return None
        public_base = self.settings.webhook_url
        if public_base is None:
            self._explain_once("WEBHOOK_URL (the bot's public https base, where the identity "
                               f"provider sends reps back to {CALLBACK_PATH}) is not set")
            return None
        state = secrets.token_urlsafe(SSO_STATE_BYTES)
        bound = SsoState(chat_id=session.chat_id, user_id=session.user_id, login=login,
                         lang=session.lang, telegram_account=telegram_account)
        await self.store.set(keys.sso_state(_sha256(state)), json.dumps(asdict(bound)),
                             SSO_STATE_TTL)
        return f"{public_base}{START_PATH}?{urlencode({'state': state})}"

    async def bind_browser(self, state: str) -> tuple[str, str] | None:
        """Step 2: the provider's URL and the browser's nonce (its cookie), or None for an
        unknown, expired or used state, or one another browser already opened."""
        idp = self.identity_provider_url()
        if idp is None or not _plausible(state):
            return None
        if await self.store.get(keys.sso_state(_sha256(state))) is None:
            return None
        nonce = secrets.token_urlsafe(SSO_STATE_BYTES)
        left = await self.store.ttl(keys.sso_state(_sha256(state))) or SSO_STATE_TTL
        if not await self.store.add(keys.sso_browser(_sha256(state)), _sha256(nonce), left):
            log.warning("SSO start refused: another browser already opened this sign-in link")
            return None
        query = urlencode({"redirect_uri": f"{self.settings.webhook_url}{CALLBACK_PATH}",
                           "state": state})
        return f"{idp}{'&' if '?' in idp else '?'}{query}", nonce

    async def take(self, state: str, browser_nonce: str | None) -> SsoState | None:
        """Step 3: consume the state, if this is the browser that started it. None for
        unknown, expired, used or foreign — deliberately alike for the browser."""
        if not _plausible(state):
            return None
        raw = await self.store.pop(keys.sso_state(_sha256(state)))
        bound_browser = await self.store.pop(keys.sso_browser(_sha256(state)))
        if raw is None:
            return None
        if (bound_browser is None or not browser_nonce
                or not hmac.compare_digest(bound_browser, _sha256(browser_nonce))):
            log.warning("SSO callback refused: not the browser that started the sign-in")
            return None
        return SsoState(**json.loads(raw))

    def _explain_once(self, reason: str) -> None:
        if reason not in self._explained:
            self._explained.add(reason)
            log.warning("SSO sign-in is off: %s; SSO reps are asked for their password", reason)


def _plausible(state: str) -> bool:
    return bool(state) and len(state) <= 64
