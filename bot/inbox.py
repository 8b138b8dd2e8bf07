"""No update lost to a crash: an update is written to the store before Telegram is told
it arrived, and crossed out once it has been handled.

Telegram forgets an update as soon as the bot acknowledges it — with the next
``getUpdates`` offset when polling, with the HTTP 200 of a webhook. PTB's own poller
acknowledges a batch right after queuing it, so a process killed mid-update lost that
update (a password already deleted from the chat, and nothing answered). Here:

1. ``record`` writes each update of a batch (``keys.inbox``) *before* the batch is
   acknowledged: ``bot/polling.py`` records before fetching the next batch, the webhook
   records before answering 200;
2. the pipeline handles it as usual and ``finish`` crosses it out, under the chat's
   lock, before the lock is released;
3. ``unfinished`` lists the records whose handling started long enough ago that its
   process must be dead (its chat lock lease ran out); ``bot/polling.py``'s sweeper hands
   them to the pipeline again, which re-checks under the chat lock that the record is
   still there (so a slow but living process is never doubled).

An update addressed to a secret step (a password, a PIN) is recorded by its *kind*
only, never its text: after a crash that rep is asked to send it again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Container, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from bot import keys
from bot.services.sessions import ArtisLink, Flow
from bot.steps import lookup
from bot.storage import Store

INBOX_TTL = 24 * 3600  # Telegram itself keeps an unacknowledged update 24 h


@dataclass(frozen=True)
class Recorded:
    """An update found unfinished in the inbox."""

    update_id: int
    chat_id: int
    user_id: int
    update: dict[str, Any] | None  # None: withheld (a secret); only its kind is known
    recorded_at: float


class Inbox:
    def __init__(self, store: Store, *, idle_lock: float) -> None:
        self.store = store
        self.idle_lock = idle_lock

    async def record(self, updates: Iterable[dict[str, Any]], *,
                     busy: Container[int] = ()) -> None:
        """Write a batch of raw updates (the Bot API's JSON, as ``getUpdates`` returned
        it) before acknowledging it.

        An update already taken by the pipeline (its de-duplication mark is set) is not
        written again: it is either being handled (and recorded already) or finished (a
        redelivery, which the pipeline drops). That check and each write are one step in
        the store (``Store.put_unmarked``), with the whole batch in one round trip; a
        batch carrying text messages first reads what decides whether a text may be
        kept (the chat's step, the rep's link), one more.

        ``busy``: chats with an earlier update still queued or being handled in this
        process (``ChatPipeline.busy``): that update may open a secret step ("/pin" in
        the previous batch, "4821" in this one), so their texts are kept by kind only,
        as for an earlier update of the same batch."""
        batch = [(update, ids) for update in updates
                 if (ids := _chat_and_user(update)) is not None]
        if not batch:
            return
        chats = sorted({chat_id for _, (chat_id, _) in batch})
        # Only a text message can carry a secret: only its chat and user are read.
        texts = [ids for update, ids in batch if "message" in update]
        text_chats = sorted({chat_id for chat_id, _ in texts})
        text_users = sorted({user_id for _, user_id in texts})
        flows: dict[int, str | None] = {}
        links: dict[int, str | None] = {}
        if texts:
            values = await self.store.get_many(*(keys.flow(chat_id) for chat_id in text_chats),
                                               *(keys.link(user_id) for user_id in text_users))
            flows = dict(zip(text_chats, values[:len(text_chats)], strict=True))
            links = dict(zip(text_users, values[len(text_chats):], strict=True))
        now = time.time()
        records: list[tuple[str, str, str]] = []
        earlier: set[int] = set()  # chats with an earlier update in this batch
        for update, (chat_id, user_id) in batch:
            follows = chat_id in earlier or chat_id in busy
            earlier.add(chat_id)
            # A password may come now: at a secret step, typed first by a locked rep, or
            # right after an earlier update of this batch that may open a secret step
            # ("/pin" then "4821"): the step it will be read at is not known yet.
            withheld = "message" in update and (
                follows or _at_secret_step(flows[chat_id])
                or self._locked(links[user_id], now))
            record = {"chat_id": chat_id, "user_id": user_id, "at": now,
                      "update": None if withheld else update}
            update_id = int(update["update_id"])
            records.append((keys.seen(update_id), keys.inbox(update_id), json.dumps(record)))
        # A chat that had blocked the bot writes again: it may be sent to again
        # (bot/ratelimit.py); its mark goes in the same step.
        await self.store.put_unmarked(records, INBOX_TTL,
                                      delete=[keys.blocked(chat_id) for chat_id in chats])

    async def is_open(self, update_id: int) -> bool:
        return await self.store.get(keys.inbox(update_id)) is not None

    async def finish(self, update_id: int) -> None:
        await self.store.delete(keys.inbox(update_id))

    async def unfinished(self, *, older_than: float) -> list[Recorded]:
        """Records written more than ``older_than`` seconds ago, oldest first."""
        found: list[Recorded] = []
        limit = time.time() - older_than
        async for key in self.store.scan(keys.inbox_prefix()):
            raw = await self.store.get(key)
            if raw is None:
                continue
            record = json.loads(raw)
            if record["at"] <= limit:
                found.append(Recorded(int(key.rsplit(":", 1)[1]), record["chat_id"],
                                      record["user_id"], record["update"], record["at"]))
        return sorted(found, key=lambda item: item.update_id)


    def _locked(self, link_raw: str | None, now: float) -> bool:
        if link_raw is None:
            return False
        try:
            link = ArtisLink.model_validate_json(link_raw)
        except ValidationError:
            return True  # unreadable: be safe
        return link.locked or now - link.last_seen > self.idle_lock


def _at_secret_step(flow_raw: str | None) -> bool:
    if flow_raw is None:
        return False
    try:
        step = lookup(Flow.model_validate_json(flow_raw).step)
    except ValidationError:
        return False
    return step is not None and step.secret


def _chat_and_user(update: dict[str, Any]) -> tuple[int, int] | None:
    """The private chat and user of a raw update (None: nothing to answer, not recorded)."""
    for kind in ("message", "edited_message", "callback_query"):
        body = update.get(kind)
        if not isinstance(body, dict):
            continue
        user = body.get("from") or {}
        chat = body.get("chat") or (body.get("message") or {}).get("chat") or {}
        user_id = user.get("id") or chat.get("id")
        chat_id = chat.get("id") or user_id
        if isinstance(chat_id, int) and isinstance(user_id, int):
            return chat_id, user_id
    return None
