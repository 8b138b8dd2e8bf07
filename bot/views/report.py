"""Comptes rendus: the question, the confirmation card, the answers after ✅. Pure renderers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from telegram import InlineKeyboardButton

from bot.callbacks import CallbackData
from bot.i18n import L10n
from bot.services.outbox import (
    AlreadySubmitted,
    Delivered,
    OutboxRecord,
    Refused,
    ReportState,
    Stored,
    SubmitOutcome,
)
from bot.services.planning import Card, View
from bot.services.reports import ReportDraft
from bot.views import Reply, button, esc, keyboard
from bot.views.outbox import refusal_reason
from bot.views.planning import CardCb, MenuCb, MenuTarget, PlanCb, clip, type_name
from integrations.artis.models import Action, ActionType, FollowUpKind

SHOWN_TEXT = 3000  # characters of the report shown on the card (Telegram: 4 096 a message)


class RepOp(StrEnum):
    START = "w"  # ✍️ from the action card
    EDIT = "e"  # ✏️ Corriger
    SAVE = "ok"  # ✅ Enregistrer
    DROP = "x"  # ❌ Annuler
    NONE = "n"  # suite à donner: aucune
    ACTION = "a"  # suite à donner: nouvelle action
    AFFAIRE = "f"  # suite à donner: nouvelle affaire
    TYPE = "t"  # 🔁 the follow-up action's type
    DATE = "d"  # 📅 type a date phrase
    SUBJECT = "o"  # ✏️ the follow-up's subject
    PICK = "v"  # a voice note sent on its own is for this action


@dataclass(frozen=True)
class RepCb(CallbackData, prefix="cr"):
    """A compte rendu of an action, with the way back to its card."""

    op: RepOp
    action: str
    view: View = View.DAY
    day: date | None = None
    page: int = 0
    home: bool = False

    @classmethod
    def of(cls, card: CardCb, op: RepOp) -> RepCb:
        return cls(op, card.id, card.view, card.day, card.page, card.home)

    def card(self) -> CardCb:
        return CardCb(self.action, self.view, self.day, self.page, self.home)

    def to(self, op: RepOp) -> RepCb:
        return RepCb(op, self.action, self.view, self.day, self.page, self.home)


def back_of(draft: ReportDraft) -> RepCb:
    """The buttons of a draft's card, from the action card it was started on."""
    card = CardCb.unpack(draft.back) or CardCb(draft.action_id)
    return RepCb.of(card, RepOp.START)


TYPE_ICON = {ActionType.RDV: "🤝", ActionType.APPEL: "📞", ActionType.EMAIL: "📧",
             ActionType.COURRIER: "✉️", ActionType.RELANCE: "🔔", ActionType.AUTRE: "📌"}


def what(t: L10n, draft: ReportDraft) -> str:
    """``Rendez-vous · Imprimerie Carpentier · samedi 5 déc. 09:30``."""
    return (f"{type_name(t, draft.action_type)} · {draft.company} · "
            f"{t.day(draft.planned_start)} {t.time(draft.planned_start)}")


def ask(t: L10n, draft: ReportDraft, *, again: bool = False) -> Reply:
    lines = [t._("✍️ <b>Report</b> — {what}", what=esc(what(t, draft)))]
    if again:
        lines.append(t._("Send the corrected text, or a new voice note: it replaces the text."))
    else:
        lines.append(t._("Type the report, or send a voice note (5 minutes at most)."))
    lines.append(t._("/annuler to stop."))
    back = CardCb.unpack(draft.back) or CardCb(draft.action_id)
    return Reply("\n".join(lines), keyboard([button(t._("⬅ Back"), back.pack())]))


def follow_up_lines(t: L10n, draft: ReportDraft) -> list[str]:
    if draft.follow is FollowUpKind.NOUVELLE_AFFAIRE:
        return [t._("➡️ Next step: <b>a new affaire</b> at {company}",
                    company=esc(draft.company))]
    if draft.follow is FollowUpKind.NOUVELLE_ACTION and draft.next_start is not None:
        kind = draft.next_type or draft.action_type
        lines = [t._("➡️ Next step: <b>new action</b> — {icon} {type} on {day} at {time}",
                     icon=TYPE_ICON[kind], type=esc(type_name(t, kind)),
                     day=esc(t.date(draft.next_start)), time=t.time(draft.next_start)),
                 t._("Subject: {subject}", subject=esc(draft.next_subject or "—"))]
        if draft.found:
            lines.append(t._("<i>(« {phrase} » found in the report)</i>", phrase=esc(draft.found)))
        return lines
    return [t._("➡️ Next step: none")]


def review(t: L10n, draft: ReportDraft) -> Reply:
    data = back_of(draft)
    shown = draft.text if len(draft.text) <= SHOWN_TEXT else draft.text[:SHOWN_TEXT] + "…"
    lines = [t._("✍️ <b>Report</b> — {what}", what=esc(what(t, draft))),
             "", f"<blockquote>{esc(shown)}</blockquote>", "",
             *follow_up_lines(t, draft), "",
             t._("Nothing is written to artis.net before ✅.")]
    mark = {kind: "• " if draft.follow is kind else "" for kind in FollowUpKind}
    rows = [
        [button(t._("✅ Save"), data.to(RepOp.SAVE).pack()),
         button(t._("✏️ Correct"), data.to(RepOp.EDIT).pack()),
         button(t._("❌ Cancel"), data.to(RepOp.DROP).pack())],
        [button(mark[FollowUpKind.AUCUNE] + t._("No next step"), data.to(RepOp.NONE).pack()),
         button(mark[FollowUpKind.NOUVELLE_ACTION] + t._("New action"),
                data.to(RepOp.ACTION).pack()),
         button(mark[FollowUpKind.NOUVELLE_AFFAIRE] + t._("New affaire"),
                data.to(RepOp.AFFAIRE).pack())],
    ]
    if draft.follow is FollowUpKind.NOUVELLE_ACTION:
        kind = draft.next_type or draft.action_type
        rows.append([button(t._("🔁 Type: {type}", type=type_name(t, kind)),
                            data.to(RepOp.TYPE).pack()),
                     button(t._("📅 Date"), data.to(RepOp.DATE).pack()),
                     button(t._("✏️ Subject"), data.to(RepOp.SUBJECT).pack())])
    else:
        rows.append([button(t._("📅 Date"), data.to(RepOp.DATE).pack())])
    return Reply("\n".join(lines), keyboard(*rows))


def ask_date(t: L10n, draft: ReportDraft) -> Reply:
    return Reply(t._("📅 When is the follow-up action? For example <i>Thursday 2 pm</i>, "
                     "<i>in three weeks</i>, <i>15 January at 10</i>.\n/annuler to stop."))


def bad_date(t: L10n) -> Reply:
    return Reply(t._("I could not read that date (or it is past). Try for example "
                     "<i>tomorrow 9 am</i> or <i>next Tuesday</i>, or /annuler."))


def ask_subject(t: L10n, draft: ReportDraft) -> Reply:
    return Reply(t._("✏️ Send the subject of the follow-up action (now: {subject}).\n"
                     "/annuler to stop.", subject=esc(draft.next_subject or "—")))


def transcribing(t: L10n) -> Reply:
    return Reply(t._("🎙 Transcribing…"))


def too_long(t: L10n, seconds: int) -> Reply:
    return Reply(t._("🎙 This voice note lasts {minutes} min: I transcribe 5 minutes at most. "
                     "Send a shorter one, or type the report.",
                     minutes=t.number(round(seconds / 60, 1))))


def unreadable(t: L10n) -> Reply:
    return Reply(t._("🎙 I could not read this voice note (damaged or not audio). Send it "
                     "again, or type the report."))


def speech_off(t: L10n) -> Reply:
    return Reply(t._("🎙 Sorry, transcription is not installed on this bot. I kept your "
                     "voice note; please type the report here."))


def nothing_left(t: L10n) -> str:
    return t._("This report was already saved or cancelled.")


def already_reported(t: L10n, card: Card, data: CardCb) -> Reply:
    report = card.detail.action.report
    text = report.text if report is not None else ""
    return Reply(t._("✍️ This action already has a report:") + "\n"
                 + f"<blockquote>{esc(clip(text, SHOWN_TEXT))}</blockquote>",
                 keyboard([button(t._("⬅ Back"), data.pack())]))


def cancelled(t: L10n, data: CardCb) -> Reply:
    return Reply(t._("This action was cancelled in artis.net: there is nothing to report."),
                 keyboard([button(t._("⬅ Back"), data.pack())]))


def dropped(t: L10n, data: CardCb) -> Reply:
    return Reply(t._("❌ Report cancelled: nothing was written."),
                 keyboard([button(t._("⬅ Back to the action"), data.pack()),
                           button(t._("🏠 Menu"), MenuCb(MenuTarget.HOME).pack())]))


# -- after ✅ ---------------------------------------------------------------------------------
def _after(t: L10n, lines: list[str], data: CardCb) -> Reply:
    return Reply("\n".join(lines), keyboard(
        [button(t._("⬅ Back to the action"), data.pack()),
         button(t._("🏠 Menu"), MenuCb(MenuTarget.HOME).pack())]))


def created_lines(t: L10n, record: OutboxRecord) -> list[str]:
    """What the suite à donner created in artis.net, as the rep asked for it."""
    follow = record.order.follow_up
    if follow is None:
        return []
    if follow.kind is FollowUpKind.NOUVELLE_ACTION and follow.planned_start is not None:
        kind = follow.action_type or ActionType.AUTRE
        return [t._("📅 Follow-up created: {icon} {type} on {day} at {time} — {subject}",
                    icon=TYPE_ICON[kind], type=esc(type_name(t, kind)),
                    day=esc(t.date(follow.planned_start)), time=t.time(follow.planned_start),
                    subject=esc(follow.subject or ""))]
    if follow.kind is FollowUpKind.NOUVELLE_AFFAIRE:
        return [t._("💼 New affaire created: {label}", label=esc(follow.subject or ""))]
    return []


def waiting_line(t: L10n, record: OutboxRecord) -> str:
    if record.state is ReportState.WAITING_UNLOCK:
        return t._("💾 Report saved. It goes to artis.net as soon as you unlock the bot "
                   "(password or PIN).")
    return t._("💾 Report saved; it will be sent as soon as artis.net answers.")


def submitted(t: L10n, outcome: SubmitOutcome, data: CardCb) -> Reply:
    match outcome:
        case Delivered(record=record):
            return _after(t, [t._("✅ Report saved in artis.net."), *created_lines(t, record)],
                          data)
        case Stored(record=record):
            return _after(t, [waiting_line(t, record)], data)
        case Refused(record=record):
            return _after(t, [t._("⚠️ artis.net refused this report: {reason}",
                                  reason=esc(refusal_reason(t, record)))], data)
        case AlreadySubmitted(record=record):
            if record.state is ReportState.DELIVERED:
                return _after(t, [t._("✅ This report is already saved in artis.net.")], data)
            if record.state is ReportState.REFUSED:
                return _after(t, [t._("⚠️ artis.net refused this report: {reason}",
                                      reason=esc(refusal_reason(t, record)))], data)
            return _after(t, [waiting_line(t, record)], data)


# -- a voice note on its own ------------------------------------------------------------------
def which_action(t: L10n, actions: list[Action]) -> Reply:
    rows: list[list[InlineKeyboardButton]] = []
    for action in actions:
        label = (f"{t.date(action.planned_start, 'EEE d')} {t.time(action.planned_start)} "
                 f"{type_name(t, action.type)} · {action.company_name}")
        rows.append([button(clip(label), RepCb(RepOp.PICK, action.id, home=True).pack())])
    rows.append([button(t._("🏠 Menu"), MenuCb(MenuTarget.HOME).pack())])
    return Reply(t._("🎙 Which action is this voice note about? Your actions of today and "
                     "yesterday without a report:"), keyboard(*rows))


def no_candidate(t: L10n) -> Reply:
    return Reply(t._("🎙 None of your actions of today or yesterday is waiting for a report. "
                     "Open the action in your planning, then ✍️ Report."),
                 keyboard([button(t._("📅 Today"), PlanCb(View.DAY).pack()),
                           button(t._("🗓 Week"), PlanCb(View.WEEK).pack())]))
