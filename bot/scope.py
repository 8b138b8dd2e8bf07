"""The chat scope: the one way to work on a chat — take its lock, load its session.

Every piece of work that reads or changes a chat's state goes through it: an
update (``bot/pipeline.py``), the SSO callback (``bot/sso.py``), and background
jobs (a transcription finished, a digest, a missing-report nudge)::

    async with scopes.scope(chat_id, user_id) as session:
        await sessions.goto(session, steps.SOME_STEP)   # written now, before the reply
        await outbound.send(bot, chat_id, reply)

The lock is the store's (cross-process on Redis), so a job and an update of the
same chat never interleave. The scope does not defer the chat's state to its exit:
the repositories write as they go, before the reply is sent. Only the send limiter's
pace of the chat (when it was read with the session) goes with the lock's release.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from bot import keys
from bot.services.sessions import ChatSession, SessionRepo
from bot.storage import Store, keep_renewed

# The session of the chat being worked on, for the handlers (``BotContext.session``)
# and the error handler.
CURRENT_SESSION: ContextVar[ChatSession | None] = ContextVar("current_session", default=None)


@dataclass
class Peeked:
    """Other keys read with the session when an update's scope opened (``update_scope``'s
    ``peek``): ``values`` by key, which their user may pop (the send limiter's check of
    the chat), and ``raises`` made with the release, under the same lock
    (``Store.release``'s ``raise_to``: the chat's pace)."""

    values: dict[str, str | None]
    raises: list[tuple[str, int, float]] = field(default_factory=list)


PEEKED: ContextVar[Peeked | None] = ContextVar("peeked", default=None)

# The chat lock's lease, renewed by its holder every third of it while it works: a
# holder that died (kill -9, a lost host) frees the chat within this many seconds.
CHAT_LOCK_LEASE = 15.0
CHAT_LOCK_WAIT = 90.0  # an update waits this long for the chat before "still working"
DEDUP_TTL = 48 * 3600  # Telegram keeps undelivered updates 24 h


class ChatScopes:
    """Opens chat scopes on one store."""

    def __init__(self, store: Store, sessions: SessionRepo, *,
                 lease: float = CHAT_LOCK_LEASE, wait: float = CHAT_LOCK_WAIT) -> None:
        self.store = store
        self.sessions = sessions
        self.lease = lease
        self.wait = wait

    @asynccontextmanager
    async def scope(self, chat_id: int, user_id: int, telegram_lang: str | None = None, *,
                    wait: float | None = None) -> AsyncIterator[ChatSession]:
        """Hold the chat's lock and yield its freshly loaded session.

        Raises ``LockTimeout`` when the chat stays busy for ``wait`` seconds.
        """
        async with self.store.lock(keys.chat_lock(chat_id), timeout=self.lease,
                                   wait=self.wait if wait is None else wait, renew=True):
            session = await self.sessions.load(chat_id, user_id, telegram_lang)
            token = CURRENT_SESSION.set(session)
            try:
                yield session
            finally:
                CURRENT_SESSION.reset(token)

    @asynccontextmanager
    async def update_scope(self, update_id: int, chat_id: int, user_id: int,
                           telegram_lang: str | None = None, *,
                           finish: Sequence[str] = (),
                           peek: Sequence[str] = ()) -> AsyncIterator[ChatSession | None]:
        """``scope`` for an update, with its de-duplication: yields None for an update seen
        before (a webhook retry, another process), else holds the chat and its session.
        ``finish``: keys deleted under the lock when the scope closes (the inbox record).
        ``peek``: keys read in the same round trip, left in ``PEEKED`` for the handlers'
        sends (on the one-round-trip path only); its ``raises`` go with the release.

        The hot path is one store round trip (``Store.enter``: mark the update, take the
        chat's lock, read the session) and one to delete ``finish`` and release. When
        another holder has the chat, it waits in ``scope`` like any other work on it.
        """
        session_keys = self.sessions.keys_of(chat_id, user_id)
        entry = await self.store.enter(keys.seen(update_id), DEDUP_TTL,
                                       keys.chat_lock(chat_id), self.lease,
                                       (*session_keys, *peek))
        if not entry.fresh:
            yield None
            return
        if entry.lease is None:
            async with self.scope(chat_id, user_id, telegram_lang) as session:
                try:
                    yield session
                finally:
                    if finish:
                        await self.store.delete(*finish)
            return
        lease = entry.lease
        keeper = asyncio.create_task(keep_renewed(  # the lock outlives a slow artis.net
            lease.name, lambda: self.store.renew(lease, self.lease), self.lease))
        peeked: Peeked | None = None
        try:
            n = len(session_keys)
            session = self.sessions.from_values(chat_id, user_id, telegram_lang,
                                                entry.values[:n])
            token = CURRENT_SESSION.set(session)
            peeked = Peeked(dict(zip(peek, entry.values[n:], strict=True))) if peek else None
            peeked_token = PEEKED.set(peeked)
            try:
                yield session
            finally:
                PEEKED.reset(peeked_token)
                CURRENT_SESSION.reset(token)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await self.store.release(entry.lease, delete=finish,
                                     raise_to=peeked.raises if peeked else ())
