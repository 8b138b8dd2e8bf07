"""Finishing the updates a dead bot process left unfinished.

Every few seconds (and at start-up) the sweeper looks in the inbox for updates recorded
a while ago and still not crossed out: their process died mid-update (``kill -9``, an
out-of-memory kill, a host lost). An update recorded in full is handed to the pipeline
again, which waits for the chat's lock (the dead holder's lease runs out) and runs it
only if it is still unfinished. An update withheld because it answered a secret step
(a password, a PIN) cannot be replayed: the rep is asked, in the chat's scope, to send
it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot import outbound
from bot.container import Services
from bot.inbox import Recorded
from bot.pipeline import ChatPipeline
from bot.storage import LockTimeout
from bot.views import common

log = logging.getLogger(__name__)

SWEEP_EVERY = 5.0  # seconds between two looks at the inbox
UNFINISHED_AFTER = 10.0  # a record this old, not crossed out, is presumed orphaned


class Sweeper:
    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any], services: Services, *,
                 every: float = SWEEP_EVERY, after: float = UNFINISHED_AFTER) -> None:
        self.app = app
        self.services = services
        self.every = every
        self.after = after

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception:
                log.exception("inbox sweep failed; trying again later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.every)

    async def sweep(self) -> int:
        """Hand back every orphaned update; how many were found."""
        orphans = await self.services.inbox.unfinished(older_than=self.after)
        for orphan in orphans:
            log.warning("update %s of chat %s was left unfinished; finishing it",
                        orphan.update_id, orphan.chat_id)
            if orphan.update is None:
                await self._ask_again(orphan)
                continue
            pipeline = self.app.update_processor
            assert isinstance(pipeline, ChatPipeline)
            if not pipeline.will_recover(orphan.update_id):
                continue  # handed back by an earlier sweep, still waiting for its chat
            await self.app.update_queue.put(Update.de_json(orphan.update, self.app.bot))
        return len(orphans)

    async def _ask_again(self, orphan: Recorded) -> None:
        services = self.services
        try:
            async with services.scopes.scope(orphan.chat_id, orphan.user_id,
                                             wait=1.0) as session:
                if not await services.inbox.is_open(orphan.update_id):
                    return
                await services.inbox.finish(orphan.update_id)
                await outbound.send(self.app.bot, orphan.chat_id,
                                    common.send_again(session.l10n))
        except LockTimeout:
            return  # still busy: the next sweep
