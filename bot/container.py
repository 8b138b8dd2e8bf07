"""``Services``: what handlers and background jobs depend on, and nothing that builds it.

``bot/runtime.py`` (the composition root) creates one; handlers reach it through
``context.services``, a worker receives it directly. Importing this module pulls in
no handler and no Telegram ``Application``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from bot.commands import CommandMenu
from bot.inbox import Inbox
from bot.scope import ChatScopes
from bot.services.drafts import Drafts
from bot.services.membership import Membership
from bot.services.pairing import PairingService
from bot.services.sessions import SessionRepo
from bot.services.sso import SsoSignIn
from bot.settings import Settings
from bot.storage import Store
from integrations.artis.client import ArtisClient

if TYPE_CHECKING:
    # Built on first use, and imported then: the first answer after a start (an access
    # check, a pairing prompt) needs none of them (cold start, issue #7).
    from bot.services.contacts import ContactEditor
    from bot.services.digests import DigestService
    from bot.services.outbox import ReportOutbox
    from bot.services.planning import PlanningService
    from bot.services.preferences import Preferences
    from bot.services.reminders import ReminderService
    from bot.services.reports import ReportDesk
    from bot.services.schedule import Schedule
    from integrations.speech.base import Transcriber


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
    #: Set by ``bot/jobs`` when jobs go through Redis: transcription on the workers.
    #: None: transcribe here (``bot.speech.build_transcriber``, a process pool).
    remote_transcriber: Transcriber | None = None

    @cached_property
    def membership(self) -> Membership:
        """Users who blocked the bot, or came back (``my_chat_member``)."""
        return Membership(self.store)

    @cached_property
    def planning(self) -> PlanningService:
        """The rep's day (home, planning, action cards), on the shared artis.net client."""
        from bot.services.artis_cache import ReadCache
        from bot.services.planning import PlanningService

        return PlanningService(self.artis, self.settings.tz,
                               ReadCache(self.store, self.settings.artis_cache_ttl))

    @cached_property
    def contacts(self) -> ContactEditor:
        """Contact edits from an action card, confirmed before artis.net."""
        from bot.services.contacts import ContactEditor

        return ContactEditor(self.artis, self.planning, self.sessions, self.drafts)

    @cached_property
    def outbox(self) -> ReportOutbox:
        """Confirmed comptes rendus, stored first, then delivered to artis.net by the jobs
        (``bot/jobs``), with the rep's own session."""
        from bot.services.outbox import OutboxTiming, ReportOutbox

        s = self.settings
        timing = OutboxTiming(submit_wait=s.outbox_submit_wait, retry_base=s.outbox_retry_base,
                              retry_max=s.outbox_retry_max, lease=s.outbox_lease)
        return ReportOutbox(self.store, self.artis, self.sessions, timing)

    @cached_property
    def transcriber(self) -> Transcriber:
        """Speech to text: on the workers when jobs go through Redis, else here (a process
        pool) per the settings; raises ``SpeechUnavailable`` (not cached) where it cannot
        run (the ``voice`` extra missing)."""
        from bot.speech import build_transcriber

        return self.remote_transcriber or build_transcriber(self.settings)

    @cached_property
    def reports(self) -> ReportDesk:
        """Comptes rendus, typed or dictated, up to the outbox."""
        from bot.services.reports import ReportDesk

        return ReportDesk(self.planning, self.sessions, self.drafts, self.outbox,
                          lambda: self.transcriber)

    async def aclose(self) -> None:
        """Stop what was started on demand (the local transcription worker)."""
        transcriber = self.__dict__.pop("transcriber", None)
        if transcriber is not None and transcriber is not self.remote_transcriber:
            await transcriber.aclose()

    @cached_property
    def digests(self) -> DigestService:
        """Managers' digests, read with the service account."""
        from bot.services.digests import DigestService

        return DigestService(self.artis)

    @cached_property
    def reminders(self) -> ReminderService:
        """What the reps' reminders say (service account reads)."""
        from bot.services.reminders import ReminderService

        return ReminderService(self.artis)

    @cached_property
    def preferences(self) -> Preferences:
        """Digest times and pauses, reminders on or off."""
        from bot.services.preferences import Preferences

        return Preferences(self.store, time.fromisoformat(self.settings.digest_default_time))

    @cached_property
    def schedule(self) -> Schedule:
        """What is due when, claimed once across processes (``bot/scheduled.py`` sends)."""
        from bot.services.schedule import Rules, Schedule
        from bot.services.workdays import WorkingHours

        settings = self.settings
        start, _, end = settings.working_hours.partition("-")
        rules = Rules(hours=WorkingHours(time.fromisoformat(start), time.fromisoformat(end)),
                      briefing_lead=timedelta(minutes=settings.briefing_lead_minutes),
                      nudge_delay=timedelta(minutes=settings.report_nudge_minutes))
        return Schedule(self.store, self.artis, self.sessions, self.preferences, rules,
                        refresh=timedelta(minutes=settings.reminder_refresh_minutes))
