"""Comptes rendus: typed or dictated, reviewed on a confirmation card, then handed to the outbox.

The rep's text (typed, or a voice note transcribed here) and the proposed *suite à donner*
live in a draft (``REPORT``, keyed by action id, ``bot/services/drafts.py``) until ✅: it
survives the rep opening the planning and a restart, and ✍️ on the same action brings it
back. The draft also carries the report id (uuid4 hex), made when the draft is made, so a
second ✅ on the same card is the same order for the outbox (``AlreadySubmitted``) and the
same ``Idempotency-Key`` for artis.net. Nothing goes to artis.net before ✅.

The follow-up is found in the text (``bot.services.dates.find``, purpose FOLLOW_UP) and
proposed as a new action: its day, a time (the one said, the start of the part of the day
said, else 09:00), a type guessed from the verb (rappeler → call, repasser → appointment,
envoyer → email, relance → follow-up) and a subject (the clause that says it).

No Telegram type: the handler downloads a voice note and passes a ``fetch`` coroutine.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from pydantic import AwareDatetime, BaseModel

from bot import steps
from bot.services import dates
from bot.services.drafts import Drafts, DraftSlot
from bot.services.outbox import ReportOrder, ReportOutbox, SubmitOutcome
from bot.services.planning import Card, NotYours, PlanningService, Rep, View
from bot.services.sessions import ChatSession, SessionRepo
from integrations.artis.errors import ArtisUnavailable
from integrations.artis.models import (
    Action,
    ActionStatus,
    ActionType,
    FollowUpIn,
    FollowUpKind,
)
from integrations.speech import SpeechUnavailable, TooLong, Transcriber, Unreadable
from integrations.speech.base import MAX_SECONDS
from integrations.speech.context import SpeechContext, speech_context

DEFAULT_TIME = time(9, 0)  # a follow-up said without a time
MAX_TEXT = 10_000  # characters of a report (a 5-minute dictated note is about 4 500)
MAX_SUBJECT = 100
MAX_CANDIDATES = 8  # actions proposed for a voice note sent on its own

# The verb before a follow-up date says what kind of action it is (first match wins).
_TYPE_CUES: tuple[tuple[re.Pattern[str], ActionType], ...] = (
    (re.compile(r"rendez|\brdv\b|repasser|\bpasser\b|visite|d[ée]mo|sur place|rencontr",
                re.IGNORECASE), ActionType.RDV),
    (re.compile(r"rappel|appel|t[ée]l[ée]phon|recontact|reparle|\bcall", re.IGNORECASE),
     ActionType.APPEL),
    (re.compile(r"envoy|e-?mail|\bmail|courriel|\bsend", re.IGNORECASE), ActionType.EMAIL),
    (re.compile(r"courrier|lettre", re.IGNORECASE), ActionType.COURRIER),
    (re.compile(r"relanc|follow", re.IGNORECASE), ActionType.RELANCE),
)
_CLAUSE = re.compile(r"[.;:!?\n]|,\s")


class ReportDraft(BaseModel):
    """A compte rendu being written, and its proposed suite à donner."""

    action_id: str
    order_id: str  # uuid4 hex: the outbox id and artis.net's Idempotency-Key
    action_type: ActionType
    company: str
    subject: str
    planned_start: AwareDatetime
    back: str  # the packed button of the action card, to come back to it
    text: str = ""
    voice_file_id: str | None = None  # a voice note not transcribed (speech not installed)
    follow: FollowUpKind = FollowUpKind.AUCUNE
    next_type: ActionType | None = None
    next_start: AwareDatetime | None = None
    next_subject: str | None = None
    found: str | None = None  # the follow-up phrase found in the text, as written
    submitted: bool = False  # handed to the outbox (a second ✅ finds the same order)

    def follow_up(self) -> FollowUpIn | None:
        if self.follow is FollowUpKind.NOUVELLE_ACTION and self.next_start is not None:
            return FollowUpIn(kind=self.follow, planned_start=self.next_start,
                              subject=self.next_subject, action_type=self.next_type)
        if self.follow is FollowUpKind.NOUVELLE_AFFAIRE:
            return FollowUpIn(kind=self.follow)
        return FollowUpIn(kind=FollowUpKind.AUCUNE)


REPORT = DraftSlot("report", ReportDraft)


class PendingVoice(BaseModel):
    """A voice note sent outside the report flow, until the rep says which action it is for."""

    file_id: str
    duration: int = 0


PENDING_VOICE = DraftSlot("voice", PendingVoice)
PENDING_REF = "pending"


# -- outcomes -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Asking:
    """The report step: the rep types the text or sends a voice note."""

    draft: ReportDraft


@dataclass(frozen=True)
class Review:
    """The confirmation card."""

    draft: ReportDraft


@dataclass(frozen=True)
class AlreadyReported:
    card: Card


@dataclass(frozen=True)
class Cancelled:
    """The action was cancelled in artis.net: there is nothing to report."""

    card: Card


@dataclass(frozen=True)
class NoDraft:
    """Nothing to confirm or change any more (saved or abandoned)."""


@dataclass(frozen=True)
class BadDate:
    """The typed date phrase could not be read."""

    draft: ReportDraft


@dataclass(frozen=True)
class VoiceTooLong:
    seconds: int


@dataclass(frozen=True)
class VoiceUnreadable:
    """The audio could not be decoded (corrupted or not audio)."""


@dataclass(frozen=True)
class SpeechOff:
    """Transcription is not available here; the audio reference is kept in the draft."""

    draft: ReportDraft | None


@dataclass(frozen=True)
class WhichAction:
    """A voice note on its own: the rep's recent actions without a report, to choose from."""

    candidates: list[Action]


@dataclass(frozen=True)
class NoCandidate:
    """No action of today or yesterday lacks a report."""


StartOutcome = Asking | Review | AlreadyReported | Cancelled | NotYours
TextOutcome = Review | NoDraft
VoiceOutcome = Review | VoiceTooLong | VoiceUnreadable | SpeechOff | NoDraft | NotYours
ChangeOutcome = Review | NoDraft
DateOutcome = Review | BadDate | NoDraft
ConfirmOutcome = SubmitOutcome | NoDraft
Fetch = Callable[[], Awaitable[bytes]]


# -- the follow-up found in a report ----------------------------------------------------------
@dataclass(frozen=True)
class Proposal:
    start: datetime
    kind: ActionType
    subject: str
    phrase: str


def moment_of(when: dates.When, tz: ZoneInfo, now: datetime) -> datetime:
    """The date-time to propose for a date phrase: the time said, else the start of the part
    of the day said, else 09:00; never in the past (then: the next hour)."""
    at = when.time or (when.window[0] if when.window else DEFAULT_TIME)
    moment = datetime.combine(when.start, at, tzinfo=tz)
    if moment <= now:
        moment = (now + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    return moment


def guess_type(text: str, default: ActionType = ActionType.APPEL) -> ActionType:
    for cue, kind in _TYPE_CUES:
        if cue.search(text):
            return kind
    return default


def clause_around(text: str, start: int, end: int) -> str:
    """The clause of ``text`` holding ``text[start:end]`` (between punctuation marks)."""
    before = [m.end() for m in _CLAUSE.finditer(text, 0, start)]
    after = _CLAUSE.search(text, end)
    clause = text[before[-1] if before else 0:after.start() if after else len(text)]
    clause = " ".join(clause.split()).strip(" ,-")
    clause = clause[:1].upper() + clause[1:]
    return clause if len(clause) <= MAX_SUBJECT else clause[:MAX_SUBJECT - 1].rstrip() + "…"


def propose(text: str, *, now: datetime, tz: ZoneInfo, lang: str = "fr") -> Proposal | None:
    """The follow-up action a report's text asks for, or None."""
    found = dates.find(text, now=now, tz=tz, lang=lang, purpose=dates.Purpose.FOLLOW_UP)
    if found is None or found.when.last < now.astimezone(tz).date():
        return None
    clause = clause_around(text, found.start, found.end)
    # The verb is in the clause, before the date (« rappeler jeudi prochain »).
    lead = text[max(0, found.start - 60):found.start]
    kind = guess_type(clause.split(found.text)[0] or lead, guess_type(lead))
    return Proposal(moment_of(found.when, tz, now), kind, clause, found.text)


def action_label(action_type: ActionType, company: str, start: datetime, lang: str,
                 tz: ZoneInfo) -> str:
    """``RDV · Imprimerie Carpentier · 3 déc. 09:30`` (outbox messages, /envois)."""
    locale = "fr_FR" if lang == "fr" else "en_GB"
    when = format_datetime(start.astimezone(tz), "d MMM HH:mm", locale=locale)
    return f"{action_type.value} · {company} · {when}"


class ReportDesk:
    """The rep's side of a compte rendu, up to handing it to the outbox."""

    def __init__(self, planning: PlanningService, sessions: SessionRepo, drafts: Drafts,
                 outbox: ReportOutbox, transcriber: Callable[[], Transcriber]) -> None:
        self.planning = planning
        self.sessions = sessions
        self.drafts = drafts
        self.outbox = outbox
        self.transcriber = transcriber  # may raise SpeechUnavailable

    # -- starting and writing -----------------------------------------------------------------
    async def start(self, session: ChatSession, rep: Rep, action_id: str,
                    back: str) -> StartOutcome:
        """✍️ on an action: its draft (confirmation card) if there is one, else the step."""
        card = await self.planning.card(rep, action_id)
        if isinstance(card, NotYours):
            return card
        action = card.detail.action
        draft = await self.drafts.get(session, REPORT, action_id)
        if draft is not None and draft.submitted:
            await self.drafts.drop(session, REPORT, action_id)
            draft = None
        if action.report is not None:
            return AlreadyReported(card)
        if action.status is ActionStatus.ANNULEE:
            return Cancelled(card)
        if draft is not None and draft.text:
            draft.back = back
            await self.drafts.put(session, REPORT, action_id, draft)
            await self.sessions.end_flow(session)
            return Review(draft)
        draft = draft or self._new_draft(action, back)
        await self.drafts.put(session, REPORT, action_id, draft)
        await self.sessions.goto(session, steps.REPORT_TEXT, action=action_id)
        return Asking(draft)

    @staticmethod
    def _new_draft(action: Action, back: str) -> ReportDraft:
        return ReportDraft(action_id=action.id, order_id=uuid.uuid4().hex,
                           action_type=action.type, company=action.company_name,
                           subject=action.subject, planned_start=action.planned_start,
                           back=back)

    async def correct(self, session: ChatSession, action_id: str) -> Asking | NoDraft:
        """✏️ Corriger: the step again; the next text or voice note replaces the text."""
        draft = await self._open_draft(session, action_id)
        if draft is None:
            return NoDraft()
        await self.sessions.goto(session, steps.REPORT_TEXT, action=action_id)
        return Asking(draft)

    def _flow_action(self, session: ChatSession) -> str:
        return str(session.flow.data.get("action", ""))

    async def _open_draft(self, session: ChatSession, action_id: str) -> ReportDraft | None:
        draft = await self.drafts.get(session, REPORT, action_id)
        return None if draft is None or draft.submitted else draft

    async def take_text(self, session: ChatSession, rep: Rep, text: str) -> TextOutcome:
        """The typed report (or its correction): the confirmation card."""
        draft = await self._open_draft(session, self._flow_action(session))
        await self.sessions.end_flow(session)
        if draft is None:
            return NoDraft()
        return await self._with_text(session, rep, draft, text)

    async def _with_text(self, session: ChatSession, rep: Rep, draft: ReportDraft,
                         text: str) -> Review:
        draft.text = text.strip()[:MAX_TEXT]
        draft.voice_file_id = None
        proposal = propose(draft.text, now=self.planning.now(rep), tz=self._tz(rep),
                           lang=session.lang)
        if proposal is not None:
            draft.follow, draft.found = FollowUpKind.NOUVELLE_ACTION, proposal.phrase
            draft.next_start, draft.next_type = proposal.start, proposal.kind
            draft.next_subject = proposal.subject
        elif draft.found is not None:  # the old text's phrase is gone with it
            draft.follow, draft.found = FollowUpKind.AUCUNE, None
            draft.next_start = draft.next_type = draft.next_subject = None
        await self.drafts.put(session, REPORT, draft.action_id, draft)
        return Review(draft)

    def _tz(self, rep: Rep) -> ZoneInfo:
        tz = rep.tz if rep.tz is not None else self.planning.tz
        return tz if isinstance(tz, ZoneInfo) else ZoneInfo("Europe/Paris")

    # -- voice ------------------------------------------------------------------------------
    async def take_voice(self, session: ChatSession, rep: Rep, file_id: str, duration: int,
                         fetch: Fetch) -> VoiceOutcome:
        """A voice note at the report step (or its correction): transcribed, then the card."""
        draft = await self._open_draft(session, self._flow_action(session))
        if draft is None:
            await self.sessions.end_flow(session)
            return NoDraft()
        return await self._transcribe_into(session, rep, draft, file_id, duration, fetch)

    async def _transcribe_into(self, session: ChatSession, rep: Rep, draft: ReportDraft,
                               file_id: str, duration: int, fetch: Fetch) -> VoiceOutcome:
        if duration > MAX_SECONDS:
            return VoiceTooLong(duration)
        try:
            transcriber = self.transcriber()
            audio = await fetch()
            context = await self._speech_context(rep, draft, session.lang)
            transcript = await transcriber.transcribe(audio, language=session.lang,
                                                      prompt=context.prompt,
                                                      hotwords=context.hotwords)
        except SpeechUnavailable:
            draft.voice_file_id = file_id
            await self.drafts.put(session, REPORT, draft.action_id, draft)
            await self.sessions.goto(session, steps.REPORT_TEXT, action=draft.action_id)
            return SpeechOff(draft)
        except TooLong as exc:
            return VoiceTooLong(int(exc.duration))
        except Unreadable:
            return VoiceUnreadable()
        if not transcript.text.strip():
            return VoiceUnreadable()
        await self.sessions.end_flow(session)
        return await self._with_text(session, rep, draft, transcript.text)

    async def _speech_context(self, rep: Rep, draft: ReportDraft,
                              lang: str) -> SpeechContext:
        """Names and subjects from the rep's own artis.net data: this action's client, site,
        contacts and subject first, then those of the rep's week, nearest to now first."""
        companies, contacts, places, topics = [draft.company], [], [], []
        try:
            card = await self.planning.card(rep, draft.action_id)
            if isinstance(card, Card):
                site = card.detail.site
                companies.append(site.name or site.company_name)
                places.append(site.city)
                contacts += [c.last_name for c in card.detail.contacts]
                topics.append(card.detail.action.subject)
            week = await self.planning.planning(rep, View.WEEK, None)
            now = datetime.now(UTC)
            nearest = sorted((item.action for item in week.items),
                             key=lambda action: abs(action.planned_start - now))
            companies += [action.company_name for action in nearest]
            topics += [action.subject for action in nearest]
        except ArtisUnavailable:
            pass  # artis.net is slow: transcribe with the client's name alone
        return speech_context(companies=companies, contacts=contacts, places=places,
                              topics=topics, lang=lang)

    async def _days(self, rep: Rep, *days: date) -> list[Action]:
        found: list[Action] = []
        for day in days:
            found += [item.action for item in
                      (await self.planning.planning(rep, View.DAY, day)).items]
        return found

    async def voice_alone(self, session: ChatSession, rep: Rep, file_id: str,
                          duration: int) -> WhichAction | NoCandidate | VoiceTooLong:
        """A voice note outside the report flow: kept, and the actions it may be for."""
        if duration > MAX_SECONDS:
            return VoiceTooLong(duration)
        await self.drafts.put(session, PENDING_VOICE, PENDING_REF,
                              PendingVoice(file_id=file_id, duration=duration))
        now = self.planning.now(rep)
        today = now.date()
        actions = [a for a in await self._days(rep, today, today - timedelta(days=1))
                   if a.report is None and a.status is not ActionStatus.ANNULEE]
        if not actions:
            return NoCandidate()
        started = sorted((a for a in actions if a.planned_start <= now),
                         key=lambda a: a.planned_start, reverse=True)
        coming = sorted((a for a in actions if a.planned_start > now),
                        key=lambda a: a.planned_start)
        return WhichAction([*started, *coming][:MAX_CANDIDATES])

    async def pending_voice(self, session: ChatSession) -> PendingVoice | None:
        return await self.drafts.get(session, PENDING_VOICE, PENDING_REF)

    async def pick(self, session: ChatSession, rep: Rep, action_id: str, back: str,
                   fetch: Callable[[str], Awaitable[bytes]]) -> VoiceOutcome | StartOutcome:
        """The rep said which action the voice note is for: transcribed into its draft."""
        pending = await self.pending_voice(session)
        if pending is None:
            return NoDraft()
        started = await self.start(session, rep, action_id, back)
        if not isinstance(started, Asking | Review):
            return started
        await self.drafts.drop(session, PENDING_VOICE, PENDING_REF)
        return await self._transcribe_into(session, rep, started.draft, pending.file_id,
                                           pending.duration, lambda: fetch(pending.file_id))

    # -- the suite à donner -------------------------------------------------------------------
    async def set_follow(self, session: ChatSession, rep: Rep, action_id: str,
                         kind: FollowUpKind) -> ChangeOutcome:
        draft = await self._open_draft(session, action_id)
        if draft is None:
            return NoDraft()
        draft.follow = kind
        if kind is FollowUpKind.NOUVELLE_ACTION and draft.next_start is None:
            tomorrow = self.planning.now(rep).date() + timedelta(days=1)
            draft.next_start = datetime.combine(tomorrow, DEFAULT_TIME, tzinfo=self._tz(rep))
        if kind is FollowUpKind.NOUVELLE_ACTION:
            draft.next_type = draft.next_type or guess_type(draft.text, draft.action_type)
            draft.next_subject = draft.next_subject or f"Suite : {draft.subject}"[:MAX_SUBJECT]
        await self.drafts.put(session, REPORT, action_id, draft)
        return Review(draft)

    async def next_type(self, session: ChatSession, action_id: str) -> ChangeOutcome:
        """🔁 The follow-up action's type, in turn."""
        draft = await self._open_draft(session, action_id)
        if draft is None or draft.follow is not FollowUpKind.NOUVELLE_ACTION:
            return NoDraft()
        order = list(ActionType)
        current = draft.next_type or draft.action_type
        draft.next_type = order[(order.index(current) + 1) % len(order)]
        await self.drafts.put(session, REPORT, action_id, draft)
        return Review(draft)

    async def ask_date(self, session: ChatSession, action_id: str) -> Asking | NoDraft:
        draft = await self._open_draft(session, action_id)
        if draft is None:
            return NoDraft()
        await self.sessions.goto(session, steps.REPORT_DATE, action=action_id)
        return Asking(draft)

    async def ask_subject(self, session: ChatSession, action_id: str) -> Asking | NoDraft:
        draft = await self._open_draft(session, action_id)
        if draft is None:
            return NoDraft()
        await self.sessions.goto(session, steps.REPORT_SUBJECT, action=action_id)
        return Asking(draft)

    async def take_date(self, session: ChatSession, rep: Rep, phrase: str) -> DateOutcome:
        """A typed date phrase for the follow-up action (« mardi 14h », « dans 15 jours »)."""
        draft = await self._open_draft(session, self._flow_action(session))
        if draft is None:
            await self.sessions.end_flow(session)
            return NoDraft()
        tz, now = self._tz(rep), self.planning.now(rep)
        when = dates.resolve(phrase, now=now, tz=tz, lang=session.lang,
                             purpose=dates.Purpose.FOLLOW_UP)
        if when is None or when.last < now.date():
            return BadDate(draft)
        await self.sessions.end_flow(session)
        draft.follow, draft.next_start = FollowUpKind.NOUVELLE_ACTION, moment_of(when, tz, now)
        draft.next_type = draft.next_type or guess_type(draft.text, draft.action_type)
        draft.next_subject = draft.next_subject or f"Suite : {draft.subject}"[:MAX_SUBJECT]
        await self.drafts.put(session, REPORT, draft.action_id, draft)
        return Review(draft)

    async def take_subject(self, session: ChatSession, subject: str) -> ChangeOutcome:
        draft = await self._open_draft(session, self._flow_action(session))
        await self.sessions.end_flow(session)
        if draft is None or not subject.strip():
            return NoDraft()
        draft.next_subject = " ".join(subject.split())[:MAX_SUBJECT]
        await self.drafts.put(session, REPORT, draft.action_id, draft)
        return Review(draft)

    async def review(self, session: ChatSession, action_id: str) -> ChangeOutcome:
        draft = await self._open_draft(session, action_id)
        return NoDraft() if draft is None or not draft.text else Review(draft)

    # -- ❌ and ✅ ------------------------------------------------------------------------------
    async def drop(self, session: ChatSession, action_id: str) -> bool:
        """❌: the draft is forgotten; nothing was written anywhere else. False: there was
        no draft to drop."""
        draft = await self._open_draft(session, action_id)
        if draft is None:
            return False
        await self.drafts.drop(session, REPORT, action_id)
        if self._flow_action(session) == action_id:
            await self.sessions.end_flow(session)
        return True

    async def confirm(self, session: ChatSession, action_id: str) -> ConfirmOutcome:
        """✅: the order goes to the outbox (stored first), with the rep's own session."""
        draft = await self.drafts.get(session, REPORT, action_id)
        link = session.link
        if draft is None or not draft.text or link is None:
            return NoDraft()
        tz = session.tz
        now = datetime.now(tz)
        order = ReportOrder(
            id=draft.order_id, chat_id=session.chat_id, user_id=session.user_id,
            login=link.login, action_id=draft.action_id,
            action_label=action_label(draft.action_type, draft.company, draft.planned_start,
                                      session.lang, tz),
            text=draft.text, executed_at=min(now, draft.planned_start),
            follow_up=draft.follow_up(), lang=session.lang)
        if not draft.submitted:
            draft.submitted = True
            await self.drafts.put(session, REPORT, action_id, draft)
        outcome = await self.outbox.submit(order, link.artis_token)
        await self.planning.cache.forget(link.login)  # the card and home show it done
        return outcome

