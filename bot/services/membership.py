"""A private chat's user blocked the bot, or came back.

Telegram tells the bot with a ``my_chat_member`` update (status ``kicked``, then
``member``). The blocked mark (``keys.blocked``) is what every send checks
(``bot/ratelimit.py``): set at once, a digest or a reminder skips the chat without a
failed call; cleared at once, the user who unblocked gets tomorrow's digest even if they
have not written yet.
"""

from __future__ import annotations

from bot import keys
from bot.storage import Store


class Membership:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def changed(self, chat_id: int, *, blocked: bool) -> None:
        if blocked:
            await self.store.set(keys.blocked(chat_id), "1", keys.BLOCKED_TTL)
        else:
            await self.store.delete(keys.blocked(chat_id))

    async def is_blocked(self, chat_id: int) -> bool:
        return await self.store.get(keys.blocked(chat_id)) is not None
