"""The SSO sign-in button: where it points, and the one-time state behind it.

The browser's side (the callback the identity provider sends the rep back to) is in
``bot/sso.py``; the protocol, assumed since artis.net's is not public, is described there.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from bot.services.pairing import PairingService
from bot.services.sessions import ChatSession
from bot.settings import Settings

log = logging.getLogger(__name__)

CALLBACK_PATH = "/sso/callback"


class SsoLinks:
    def __init__(self, settings: Settings, pairing: PairingService, artis_base_url: str) -> None:
        self.settings = settings
        self.pairing = pairing
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

    async def sign_in_url(self, session: ChatSession, login: str) -> str | None:
        """The SSO button's URL for ``login`` (a fresh one-time state), or None when SSO is
        off (then SSO reps get the password prompt alone)."""
        idp = self.identity_provider_url()
        if idp is None:
            self._explain_once("SSO_URL is not set (it is required with a real ARTIS_URL)")
            return None
        public_base = self.settings.webhook_url
        if public_base is None:
            self._explain_once("WEBHOOK_URL (the bot's public https base, where the identity "
                               f"provider sends reps back to {CALLBACK_PATH}) is not set")
            return None
        state = await self.pairing.begin_sso(session, login)
        query = urlencode({"redirect_uri": public_base + CALLBACK_PATH, "state": state})
        return f"{idp}{'&' if '?' in idp else '?'}{query}"

    def _explain_once(self, reason: str) -> None:
        if reason not in self._explained:
            self._explained.add(reason)
            log.warning("SSO sign-in is off: %s; SSO reps are asked for their password", reason)
