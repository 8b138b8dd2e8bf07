"""What each user chose about what the bot sends on its own: a manager's digest time and
pause, a rep's reminders on or off. Kept in the store (``bot/keys.py``), never expiring."""

from __future__ import annotations

import re
from datetime import time

from pydantic import BaseModel, ValidationError

from bot import keys
from bot.storage import Store

_TIME = re.compile(r"^\s*([01]?\d|2[0-3])\s*(?:[:hH.]\s*([0-5]\d)?)?\s*$")


class DigestPrefs(BaseModel):
    """A manager's digest: at ``at`` (local wall clock) on working days, unless paused."""

    at: time
    paused: bool = False


class ReminderPrefs(BaseModel):
    """A rep's reminders, each on unless turned off in /reglages."""

    briefing: bool = True
    nudge: bool = True


def parse_time(text: str) -> time | None:
    """``7:30``, ``07h30``, ``7h``, ``18`` → a time; anything else → None."""
    found = _TIME.match(text)
    if found is None:
        return None
    return time(int(found.group(1)), int(found.group(2) or 0))


class Preferences:
    """Reads and writes the preferences; unreadable data reads as the defaults."""

    def __init__(self, store: Store, default_time: time) -> None:
        self.store = store
        self.default_time = default_time

    def digest_default(self) -> DigestPrefs:
        return DigestPrefs(at=self.default_time)

    def read_digest(self, raw: str | None) -> DigestPrefs:
        """Parse what the store holds (the scheduler reads many at once)."""
        if raw:
            try:
                return DigestPrefs.model_validate_json(raw)
            except ValidationError:
                pass
        return self.digest_default()

    @staticmethod
    def read_reminders(raw: str | None) -> ReminderPrefs:
        if raw:
            try:
                return ReminderPrefs.model_validate_json(raw)
            except ValidationError:
                pass
        return ReminderPrefs()

    async def digest(self, user_id: int) -> DigestPrefs:
        return self.read_digest(await self.store.get(keys.digest_prefs(user_id)))

    async def set_digest(self, user_id: int, prefs: DigestPrefs) -> DigestPrefs:
        await self.store.set(keys.digest_prefs(user_id), prefs.model_dump_json())
        return prefs

    async def digest_at(self, user_id: int, at: time) -> DigestPrefs:
        """Move the digest to ``at`` (and resume it: choosing a time means wanting it)."""
        return await self.set_digest(user_id, DigestPrefs(at=at, paused=False))

    async def pause_digest(self, user_id: int, paused: bool) -> DigestPrefs:
        current = await self.digest(user_id)
        return await self.set_digest(user_id, current.model_copy(update={"paused": paused}))

    async def reminders(self, user_id: int) -> ReminderPrefs:
        return self.read_reminders(await self.store.get(keys.reminder_prefs(user_id)))

    async def toggle_reminder(self, user_id: int, kind: str) -> ReminderPrefs:
        """Turn one reminder (``briefing`` or ``nudge``) off when on, on when off."""
        current = await self.reminders(user_id)
        if kind not in ReminderPrefs.model_fields:
            return current
        changed = current.model_copy(update={kind: not getattr(current, kind)})
        await self.store.set(keys.reminder_prefs(user_id), changed.model_dump_json())
        return changed
