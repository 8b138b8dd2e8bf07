"""Drafts: work in progress that outlives the step that started it.

A compte rendu being written, a contact being edited: the rep may open their
planning in between, or the bot may restart; the draft stays in its own key
(``keys.draft``), per chat and per slot, until it is sent or abandoned. Going
back (✍️ on the same action) finds it again. The flow step only says *where*
the chat is; the draft holds *what* the rep has written so far.

A slot is declared once with the pydantic model of its content::

    CONTACT_EDIT = DraftSlot("contact", ContactDraft)
    draft = await drafts.get(session, CONTACT_EDIT, contact_id)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from bot import keys
from bot.services.sessions import ChatSession
from bot.storage import Store

M = TypeVar("M", bound=BaseModel)

DRAFT_TTL = 14 * 24 * 3600  # a draft untouched for two weeks is forgotten


@dataclass(frozen=True)
class DraftSlot(Generic[M]):
    """A kind of draft: its key segment and the model of its content."""

    name: str
    model: type[M]


class Drafts:
    def __init__(self, store: Store, *, ttl: float = DRAFT_TTL) -> None:
        self.store = store
        self.ttl = ttl

    async def get(self, session: ChatSession, slot: DraftSlot[M], ref: str) -> M | None:
        """The chat's draft in ``slot`` for ``ref`` (an action id, a contact id, "new").
        A draft written by an older, incompatible version reads as none."""
        raw = await self.store.get(keys.draft(session.chat_id, slot.name, ref))
        if raw is None:
            return None
        try:
            return slot.model.model_validate_json(raw)
        except ValidationError:
            return None

    async def put(self, session: ChatSession, slot: DraftSlot[M], ref: str, value: M) -> None:
        await self.store.set(keys.draft(session.chat_id, slot.name, ref),
                             value.model_dump_json(), self.ttl)

    async def drop(self, session: ChatSession, slot: DraftSlot[M], ref: str) -> None:
        await self.store.delete(keys.draft(session.chat_id, slot.name, ref))
