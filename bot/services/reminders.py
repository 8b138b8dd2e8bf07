"""What a rep's reminders say: the pre-visit briefing (company, address, contacts, linked
affaire, the last compte rendu on that site) and the missing-report nudge.

Read with the service account, like the digest: a reminder goes out when the rep is not
chatting and their own session may have expired. No Telegram type here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from integrations.artis.client import ArtisClient
from integrations.artis.models import Action, ActionDetail, Report

#: How far back the briefing looks for the last compte rendu on the site.
LAST_REPORT_LOOKBACK = timedelta(days=90)


@dataclass(frozen=True)
class Briefing:
    detail: ActionDetail
    last_report: Report | None  # the latest compte rendu on the same site, if any
    last_report_action: Action | None


@dataclass(frozen=True)
class Nudge:
    action: Action


class ReminderService:
    def __init__(self, artis: ArtisClient) -> None:
        self.artis = artis

    async def current(self, action_id: str) -> ActionDetail:
        """The action as artis.net shows it now, with its site, contacts and affaire."""
        return await self.artis.team_action(action_id)

    async def briefing(self, action: Action, now: datetime,
                       detail: ActionDetail | None = None) -> Briefing:
        """The briefing of ``action``; ``detail``: its ``current`` detail, if read already."""
        if detail is None:
            detail = await self.current(action.id)
        past = await self.artis.team_actions(action.assignee_login,
                                             now - LAST_REPORT_LOOKBACK, now)
        reported = [a for a in past if a.site_id == action.site_id and a.report is not None
                    and a.id != action.id]
        last = max(reported, key=lambda a: a.planned_start, default=None)
        return Briefing(detail, last.report if last else None, last)

    @staticmethod
    def nudge(action: Action) -> Nudge:
        return Nudge(action)
