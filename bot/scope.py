"""The chat scope: the one way to work on a chat — take its lock, load its session.

Every piece of work that reads or changes a chat's state goes through it: an
update (``bot/pipeline.py``), the SSO callback (``bot/sso.py``), and background
jobs (a transcription finished, a digest, a missing-report nudge)::

    async with scopes.scope(chat_id, user_id) as session:
        await sessions.goto(session, steps.SOME_STEP)   # written now, before the reply
        await outbound.send(bot, chat_id, reply)

The lock is the store's (cross-process on Redis), so a job and an update of the
same chat never interleave. The scope does not defer writes to its exit: the
repositories write as they go, before the reply is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from bot import keys
from bot.services.sessions import ChatSession, SessionRepo
from bot.storage import Store

# The session of the chat being worked on, for the handlers (``BotContext.session``)
# and the error handler.
CURRENT_SESSION: ContextVar[ChatSession | None] = ContextVar("current_session", default=None)

# The chat lock's lease, renewed by its holder every third of it while it works: a
# holder that died (kill -9, a lost host) frees the chat within this many seconds.
CHAT_LOCK_LEASE = 15.0
CHAT_LOCK_WAIT = 90.0  # an update waits this long for the chat before "still working"


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
