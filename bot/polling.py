"""Long polling that records each batch before Telegram forgets it.

``getUpdates`` acknowledges every update below its ``offset``. PTB's ``Updater`` asks
for the next batch right after queuing one, so a crash in between lost the batch. This
loop writes the batch to the inbox (``bot/inbox.py``) first, then queues it, then asks
for the next one with the new offset. Errors are retried with a growing pause; a
``RetryAfter`` is honoured.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application

from bot.inbox import Inbox
from bot.pipeline import ChatPipeline
from bot.settings import StartupError

log = logging.getLogger(__name__)

#: What the bot asks Telegram for (polling and webhook): messages, button presses, and the
#: bot's own membership (added to a group; a user blocking the bot or coming back).
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
POLL_TIMEOUT = 30  # seconds Telegram holds a getUpdates open when there is nothing
MAX_PAUSE = 30.0
READ_MARGIN = 10.0  # seconds granted past the long poll's own timeout before TimedOut


class PollingRefused(StartupError):
    """Telegram will not hand this process updates; ``str()`` is one operator line."""


class Poller:
    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any], inbox: Inbox, *,
                 timeout: int = POLL_TIMEOUT) -> None:
        self.app = app
        self.inbox = inbox
        self.timeout = timeout
        processor = app.update_processor
        self._pipeline = processor if isinstance(processor, ChatPipeline) else None
        self._polled = asyncio.Event()  # the first getUpdates came back, its updates queued

    async def first_batch_answered(self) -> None:
        """Return once the first ``getUpdates`` has come back and what it brought has been
        handled (at once if it brought nothing)."""
        await self._polled.wait()
        if self._pipeline is not None:
            await self._pipeline.idle()

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set (a pending long poll is cancelled, not awaited)."""
        offset: int | None = None
        pause = 0.5
        while not stop.is_set():
            fetch = asyncio.ensure_future(self._fetch(offset))
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({fetch, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await fetch
                break
            try:
                raw = fetch.result()
                updates = [self._parse(item) for item in raw]
                if raw:
                    # Written before the next getUpdates acknowledges them, from the JSON
                    # Telegram sent (no round trip through PTB's objects).
                    await self.inbox.record(raw, busy=self._pipeline.busy() if self._pipeline
                                            else ())
            except RetryAfter as exc:
                await _sleep(stop, _seconds(exc.retry_after))
                continue
            except TimedOut:
                continue
            except (InvalidToken, Conflict) as exc:
                # Another process polls with this token, or a webhook is set: no retry.
                raise PollingRefused(f"startup error: Telegram refused getUpdates: {exc}") \
                    from None
            except NetworkError as exc:
                log.warning("getUpdates failed (%s); retrying in %.1f s", exc, pause)
                await _sleep(stop, pause)
                pause = min(pause * 2, MAX_PAUSE)
                continue
            except Exception:
                log.exception("could not record updates; retrying in %.1f s", pause)
                await _sleep(stop, pause)
                pause = min(pause * 2, MAX_PAUSE)
                continue
            pause = 0.5
            for update in updates:
                if self._pipeline is not None:
                    self._pipeline.expect(update)
                await self.app.update_queue.put(update)
            if updates:
                offset = updates[-1].update_id + 1
            self._polled.set()


    async def _fetch(self, offset: int | None) -> list[dict[str, Any]]:
        """``getUpdates`` as the Bot API's JSON: PTB's ``get_updates`` minus the objects.

        Its errors are PTB's (``RetryAfter``, ``TimedOut``, ``Conflict``...)."""
        result = await self.app.bot._post(
            "getUpdates",
            {"offset": offset, "timeout": self.timeout, "allowed_updates": ALLOWED_UPDATES},
            read_timeout=self.timeout + READ_MARGIN)
        if not isinstance(result, list):
            raise NetworkError(f"getUpdates answered {type(result).__name__}, not a list")
        return result

    def _parse(self, raw: dict[str, Any]) -> Update:
        bot = self.app.bot
        update = Update.de_json(raw, bot)
        if bot.callback_data_cache is not None:
            bot.insert_callback_data(update)
        return update


def _seconds(value: object) -> float:
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]


async def _sleep(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
