"""``Services``: what handlers and background jobs depend on, and nothing that builds it.

``bot/runtime.py`` (the composition root) creates one; handlers reach it through
``context.services``, a worker receives it directly. Importing this module pulls in
no handler and no Telegram ``Application``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from functools import cached_property

from bot.commands import CommandMenu
from bot.inbox import Inbox
from bot.scope import ChatScopes
from bot.services.artis_cache import ReadCache
from bot.services.contacts import ContactEditor
from bot.services.digests import DigestService
from bot.services.drafts import Drafts
from bot.services.outbox import ReportOutbox
from bot.services.pairing import PairingService
from bot.services.planning import PlanningService
from bot.services.preferences import Preferences
from bot.services.reminders import ReminderService
from bot.services.schedule import Rules, Schedule
from bot.services.sessions import SessionRepo
from bot.services.sso import SsoSignIn
from bot.services.workdays import WorkingHours
from bot.settings import Settings
from bot.storage import Store
from integrations.artis.client import ArtisClient


@dataclass
class Services:
    settings: Settings
    store: Store
    artis: ArtisClient
    sessions: SessionRepo
    drafts: Drafts
    scopes: ChatScopes
    inbox: Inbox
    pairing: PairingService
    sso: SsoSignIn
    commands: CommandMenu

    @cached_property
    def planning(self) -> PlanningService:
        """The rep's day (home, planning, action cards), on the shared artis.net client."""
        return PlanningService(self.artis, self.settings.tz,
                               ReadCache(self.store, self.settings.artis_cache_ttl))

    @cached_property
    def contacts(self) -> ContactEditor:
        """Contact edits from an action card, confirmed before artis.net."""
        return ContactEditor(self.artis, self.planning, self.sessions, self.drafts)

    @cached_property
    def outbox(self) -> ReportOutbox:
        """Confirmed comptes rendus, stored first, then delivered to artis.net."""
        return ReportOutbox(self.store, self.artis)

    @cached_property
    def digests(self) -> DigestService:
        """Managers' digests, read with the service account."""
        return DigestService(self.artis)

    @cached_property
    def reminders(self) -> ReminderService:
        """What the reps' reminders say (service account reads)."""
        return ReminderService(self.artis)

    @cached_property
    def preferences(self) -> Preferences:
        """Digest times and pauses, reminders on or off."""
        return Preferences(self.store, time.fromisoformat(self.settings.digest_default_time))

    @cached_property
    def schedule(self) -> Schedule:
        """What is due when, claimed once across processes (``bot/scheduled.py`` sends)."""
        settings = self.settings
        start, _, end = settings.working_hours.partition("-")
        rules = Rules(hours=WorkingHours(time.fromisoformat(start), time.fromisoformat(end)),
                      briefing_lead=timedelta(minutes=settings.briefing_lead_minutes),
                      nudge_delay=timedelta(minutes=settings.report_nudge_minutes))
        return Schedule(self.store, self.artis, self.sessions, self.preferences, rules)
