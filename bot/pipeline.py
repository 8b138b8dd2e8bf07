"""The one step every update goes through before its handler.

PTB's default processor runs one update at a time for *all* chats. This one
runs chats concurrently and each chat strictly in order:

1. queue behind earlier updates of the same chat (in this process, FIFO);
2. drop a duplicate ``update_id`` (webhook retries, a second process);
3. open the chat's scope (``bot/scope.py``): take the chat's lock in the store
   (shared by every bot process on Redis) and load the chat session (flow step,
   language, artis.net link), which the handlers read as ``context.session``.
   Steps 2 and 3 are one store round trip (``ChatScopes.update_scope``);
4. run PTB's normal dispatch (handler groups) for the update.

An update with neither chat nor user (a poll's state, say) has nothing to answer
and no chat to work on: it is dropped quietly.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Container, Sequence
from contextlib import asynccontextmanager
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot import keys
from bot.inbox import Inbox
from bot.scope import ChatScopes
from bot.storage import LockTimeout

log = logging.getLogger(__name__)


class ChatPipeline(BaseUpdateProcessor):
    """Per-chat ordering, de-duplication, cross-process chat lock and session loading."""

    def __init__(
        self,
        scopes: ChatScopes,
        inbox: Inbox,
        *,
        max_concurrent_updates: int = 512,
        on_refused: Callable[[Update, str, str | None], Awaitable[None]] | None = None,
        peek: Callable[[int], Sequence[str]] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.scopes = scopes
        self.inbox = inbox
        # Keys of a chat read when its update's scope opens (``bot.scope.PEEKED``): the
        # send limiter's, so the answer's send check costs no round trip of its own.
        self.peek = peek
        self._recovering: set[int] = set()
        # Answers an update we could not process: reason "busy" (the chat's lock did not
        # come) or "unavailable" (the store failed).
        self.on_refused = on_refused
        self._chat_queues: dict[int, asyncio.Lock] = {}
        self._waiters: dict[int, int] = {}
        self._expected: dict[int, int] = {}  # update_id -> chat, queued and not done yet
        self._busy: dict[int, int] = {}  # chat -> how many of those
        self._idle = asyncio.Event()  # set while nothing is expected
        self._idle.set()

    def expect(self, update: Update) -> None:
        """``update`` is being queued for this processor: its chat is busy (``busy``) until
        it has been handled."""
        chat_id = _chat_id(update)
        if chat_id is None or update.update_id in self._expected:
            return
        self._expected[update.update_id] = chat_id
        self._busy[chat_id] = self._busy.get(chat_id, 0) + 1
        self._idle.clear()

    def busy(self) -> Container[int]:
        """Chats with an update queued or being handled here: the step an update of theirs
        will be read at is not known yet (``Inbox.record``'s ``busy``)."""
        return self._busy.keys()

    async def idle(self) -> None:
        """Return once every update announced by ``expect`` has been handled."""
        await self._idle.wait()

    def _settle(self, update_id: int) -> None:
        chat_id = self._expected.pop(update_id, None)
        if chat_id is None:
            return
        self._busy[chat_id] -= 1
        if self._busy[chat_id] == 0:
            del self._busy[chat_id]
        if not self._expected:
            self._idle.set()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat_id = _chat_id(update)
        if chat_id is None or not isinstance(update, Update):
            log.debug("update without chat or user ignored")
            _discard(coroutine)
            return
        recovering = update.update_id in self._recovering
        try:
            await self._process(update, coroutine, chat_id, recovering)
        finally:
            self._settle(update.update_id)
            if recovering:
                self._recovering.discard(update.update_id)

    async def _process(self, update: Update, coroutine: Awaitable[Any], chat_id: int,
                       recovering: bool) -> None:
        user = update.effective_user
        user_id = user.id if user else chat_id
        telegram_lang = user.language_code if user else None
        async with self._in_order(chat_id):
            try:
                if recovering:
                    async with self.scopes.scope(chat_id, user_id, telegram_lang):
                        if not await self.inbox.is_open(update.update_id):
                            _discard(coroutine)  # its first handler was alive after all
                            return
                        try:
                            await coroutine
                        finally:
                            await self.inbox.finish(update.update_id)
                    return
                # Dedupe + chat lock + session in one store round trip; the inbox record
                # is crossed out with the release, in one more.
                async with self.scopes.update_scope(
                        update.update_id, chat_id, user_id, telegram_lang,
                        finish=(keys.inbox(update.update_id),),
                        peek=self.peek(chat_id) if self.peek else ()) as session:
                    if session is None:
                        log.info("duplicate update %s dropped", update.update_id)
                        _discard(coroutine)
                        return
                    await coroutine
            except LockTimeout:
                _discard(coroutine)
                if recovering:
                    return  # the chat is busy: the next sweep tries again
                log.warning("chat %s busy for %.0fs; update %s answered as busy",
                            chat_id, self.scopes.wait, update.update_id)
                await self.inbox.finish(update.update_id)
                await self._refuse(update, "busy", telegram_lang)
            except Exception:
                # Handlers' errors never get here (PTB hands them to the error handler):
                # this is the store failing. The user still gets an answer.
                log.exception("store unavailable; update %s answered as unavailable",
                              update.update_id)
                _discard(coroutine)
                await self._refuse(update, "unavailable", telegram_lang)

    def will_recover(self, update_id: int) -> bool:
        """The next processing of ``update_id`` finishes an update a dead process left
        unfinished (``bot/recovery.py``): it skips de-duplication and, under the chat lock,
        runs only if the update is still unfinished. False if that is already under way."""
        if update_id in self._recovering:
            return False
        self._recovering.add(update_id)
        return True

    async def _refuse(self, update: Update, reason: str, telegram_lang: str | None) -> None:
        if self.on_refused is None:
            return
        try:
            await self.on_refused(update, reason, telegram_lang)
        except Exception:
            log.exception("could not tell chat about %s", reason)

    @asynccontextmanager
    async def _in_order(self, chat_id: int) -> AsyncIterator[None]:
        """FIFO per chat inside this process; the entry is dropped when idle."""
        lock = self._chat_queues.setdefault(chat_id, asyncio.Lock())
        self._waiters[chat_id] = self._waiters.get(chat_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._waiters[chat_id] -= 1
            if self._waiters[chat_id] == 0:
                del self._waiters[chat_id], self._chat_queues[chat_id]

    async def initialize(self) -> None:
        """Nothing to set up: the store is opened by the runtime."""

    async def shutdown(self) -> None:
        """Nothing to tear down: the store is closed by the runtime."""


def _chat_id(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


def _discard(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
