"""What the bot knows about one chat between two messages.

The session is read from the store at each update (``bot/pipeline.py``) and
every change is written back *before* the reply goes out, so a multi-step flow
survives a restart and two bot processes sharing Redis continue each other's
steps (the aiogram FSM model, not PTB's in-process ConversationHandler).

The artis.net session token is sealed (Fernet, ``bot/services/vault.py``) when a
link is written and opened when it is read, here and nowhere else: the store
never holds it in clear, and the rest of the bot sees ``ArtisLink.artis_token``,
in memory. A token past ``token_expires_at``, or one no key opens, reads as None:
the rep is asked for the password and the pairing stays.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, PrivateAttr

from bot import keys
from bot.i18n import L10n, pick_locale
from bot.services.vault import TokenVault
from bot.steps import Step, lookup
from bot.storage import Store

log = logging.getLogger(__name__)

FLOW_TTL = 24 * 3600  # an abandoned multi-step flow is forgotten after a day


class Flow(BaseModel):
    """The step of a multi-step conversation the chat is in (its declared name), with the
    step's small data. Larger work in progress (a compte rendu) lives in a draft."""

    step: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class ArtisLink(BaseModel):
    """The pairing of a Telegram account with an artis.net user (never a password)."""

    login: str
    display_name: str
    # The artis.net session token as stored: sealed by SessionRepo, never in clear.
    artis_token_enc: str | None = None
    token_expires_at: float | None = None  # epoch seconds; past it the rep gives the password
    locked: bool = False  # idle lock: a password (or the rep's PIN) is needed to go on
    linked_at: float = Field(default_factory=time.time)
    last_seen: float = Field(default_factory=time.time)
    pin_hash: str | None = None
    is_manager: bool = False
    timezone: str | None = None  # artis.net's ``User.timezone``; None: BOT_TIMEZONE
    _token: str | None = PrivateAttr(default=None)  # the clear token, in memory only

    @property
    def artis_token(self) -> str | None:
        """The artis.net session token while it is valid; None: ask for the password."""
        if self._token is None or self.token_expires_at is None:
            return None
        return self._token if time.time() < self.token_expires_at else None

    def with_token(self, token: str, expires_at: float) -> ArtisLink:
        """A copy holding a fresh artis.net session token (sealed when saved)."""
        link = self.model_copy(update={"artis_token_enc": None, "token_expires_at": expires_at})
        link._token = token
        return link

    def without_token(self) -> ArtisLink:
        """A copy without the token: only the password unlocks (the pairing stays)."""
        link = self.model_copy(update={"artis_token_enc": None, "token_expires_at": None})
        link._token = None
        return link


@dataclass
class ChatSession:
    """One chat's state, language and artis.net link, as loaded for this update."""

    chat_id: int
    user_id: int
    lang: str
    tz: ZoneInfo
    flow: Flow = field(default_factory=Flow)
    link: ArtisLink | None = None

    @property
    def l10n(self) -> L10n:
        return L10n(self.lang, self.tz)

    @property
    def step(self) -> Step | None:
        """The declared step the chat is in (None: no flow, or a step no longer declared)."""
        return lookup(self.flow.step)


class SessionRepo:
    """Reads and writes chat sessions in the store."""

    def __init__(self, store: Store, *, default_lang: str, tz: ZoneInfo, vault: TokenVault,
                 token_ttl: float = 12 * 3600) -> None:
        self.store = store
        self.default_lang = default_lang
        self.tz = tz
        self.vault = vault
        self.token_ttl = token_ttl  # ARTIS_SESSION_TTL

    def token_deadline(self, artis_expires_at: datetime | None = None) -> float:
        """When a token artis.net just issued stops being used: ``ARTIS_SESSION_TTL`` from
        now, or earlier if artis.net says its session ends sooner."""
        deadline = time.time() + self.token_ttl
        if artis_expires_at is not None:
            deadline = min(deadline, artis_expires_at.timestamp())
        return deadline

    def _sealed(self, link: ArtisLink) -> str:
        """The link as stored: the token sealed (or gone, once expired)."""
        token = link.artis_token
        return link.model_copy(update={
            "artis_token_enc": self.vault.seal(token) if token else None,
            "token_expires_at": link.token_expires_at if token else None,
        }).model_dump_json()

    def _opened(self, raw: str) -> ArtisLink:
        link = ArtisLink.model_validate_json(raw)
        if link.artis_token_enc is not None and link.token_expires_at is not None \
                and time.time() < link.token_expires_at:
            link._token = self.vault.open(link.artis_token_enc)
            if link._token is None:
                log.warning("the artis.net token of %s does not open with STORE_ENCRYPTION_KEY "
                            "(key changed?); the rep will be asked for the password", link.login)
        return link

    async def load(self, chat_id: int, user_id: int, telegram_lang: str | None) -> ChatSession:
        values = await self.store.get_many(*self.keys_of(chat_id, user_id))
        return self.from_values(chat_id, user_id, telegram_lang, values)

    @staticmethod
    def keys_of(chat_id: int, user_id: int) -> tuple[str, str, str]:
        """The keys a session is read from, in the order ``from_values`` takes them."""
        return keys.flow(chat_id), keys.lang(user_id), keys.link(user_id)

    def from_values(self, chat_id: int, user_id: int, telegram_lang: str | None,
                    values: Sequence[str | None]) -> ChatSession:
        """The session from the values of ``keys_of`` (read in one round trip by the caller)."""
        flow_raw, lang, link_raw = values
        link = self._opened(link_raw) if link_raw else None
        return ChatSession(
            chat_id=chat_id,
            user_id=user_id,
            lang=pick_locale(lang, telegram_lang, self.default_lang),
            tz=self.zone_of(link),
            flow=Flow.model_validate_json(flow_raw) if flow_raw else Flow(),
            link=link,
        )

    def zone_of(self, link: ArtisLink | None) -> ZoneInfo:
        """The rep's time zone as artis.net gives it, else ``BOT_TIMEZONE``."""
        if link is not None and link.timezone:
            try:
                return ZoneInfo(link.timezone)
            except (ValueError, ZoneInfoNotFoundError):
                log.warning("unknown time zone %r for %s; using BOT_TIMEZONE",
                            link.timezone, link.login)
        return self.tz

    async def l10n_of(self, user_id: int) -> L10n:
        """Formatting for another user (e.g. a manager being notified)."""
        lang = await self.store.get(keys.lang(user_id))
        return L10n(pick_locale(lang, None, self.default_lang), self.tz)

    async def goto(self, session: ChatSession, step: Step, **data: Any) -> None:
        """Enter ``step`` of a flow (data replaces the previous step's data). Written now,
        before any reply, so the next message finds it even in another process."""
        session.flow = Flow(step=step.name, data=data)
        await self.store.set(keys.flow(session.chat_id), session.flow.model_dump_json(),
                             FLOW_TTL)

    async def end_flow(self, session: ChatSession) -> None:
        """Leave the flow; the chat's drafts stay (``Drafts``)."""
        session.flow = Flow()
        await self.store.delete(keys.flow(session.chat_id))

    async def set_lang(self, session: ChatSession, lang: str) -> None:
        session.lang = lang
        await self.store.set(keys.lang(session.user_id), lang)  # kept for good

    async def save_link(self, session: ChatSession, link: ArtisLink) -> None:
        previous, session.link = session.link, link
        session.tz = self.zone_of(link)
        await self.store.set(keys.link(session.user_id), self._sealed(link))
        if previous is None or previous.login != link.login:
            # The reverse index (artis login -> Telegram user) changes only on (re)pairing.
            await self.store.set(keys.linked_login(link.login), str(session.user_id))
            if previous is not None:
                await self.store.delete(keys.linked_login(previous.login))

    async def holder_of(self, login: str) -> tuple[int, ArtisLink | None] | None:
        """The Telegram user paired with artis.net ``login`` and their link, if any."""
        user_id = await self.store.get(keys.linked_login(login))
        if user_id is None:
            return None
        raw = await self.store.get(keys.link(int(user_id)))
        return int(user_id), self._opened(raw) if raw else None

    async def unlink_login(self, login: str, user_id: int) -> None:
        """Forget a pairing from the artis.net side (admin revoke, re-pairing elsewhere),
        with the rep's flow and drafts: the rep's private chat has the rep's user id."""
        chat_id = user_id
        await self.store.delete(keys.link(user_id), keys.linked_login(login), keys.flow(chat_id))
        await self._drop_drafts(chat_id)

    async def drop_link(self, session: ChatSession) -> None:
        """The rep unpairs this chat (/logout): link, reverse index and drafts go."""
        if session.link is not None:
            await self.store.delete(keys.linked_login(session.link.login))
        session.link = None
        await self.store.delete(keys.link(session.user_id))
        await self._drop_drafts(session.chat_id)

    async def _drop_drafts(self, chat_id: int) -> None:
        stale = [key async for key in self.store.scan(keys.drafts_of(chat_id))]
        if stale:
            await self.store.delete(*stale)
