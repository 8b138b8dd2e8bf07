"""What the rep hears about reports after ✅: the job's news, and ``/envois``."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.i18n import L10n
from bot.services.outbox import OutboxRecord, ReportState
from bot.views import Reply, esc


def _label(t: L10n, record: OutboxRecord) -> str:
    return esc(record.order.action_label) or t._("your action")


def delivered_later(t: L10n, record: OutboxRecord) -> Reply:
    """artis.net took a report the rep was told would be sent later."""
    return Reply(t._("✅ Your compte rendu for <b>{action}</b> is now recorded in artis.net.",
                     action=_label(t, record)))


def refused_later(t: L10n, record: OutboxRecord) -> Reply:
    """artis.net refused a stored report for good; it stays kept in the bot."""
    return Reply(t._("⚠️ artis.net refused your compte rendu for <b>{action}</b>: {why}\n"
                     "Your text is kept; your manager or the artis.net administrator can "
                     "help.", action=_label(t, record), why=refusal_reason(t, record)))


def refusal_reason(t: L10n, record: OutboxRecord) -> str:
    match record.last_error:
        case "forbidden":
            return t._("only the rep the action is assigned to can report on it.")
        case "already_reported":
            return t._("this action already has a compte rendu.")
        case "not_found":
            return t._("the action no longer exists.")
        case _:
            return t._("it did not accept the content.")


def unlock_needed(t: L10n, record: OutboxRecord) -> Reply:
    """The rep's artis.net session expired: their reports wait for the unlock."""
    return Reply(t._("🔒 Your compte rendu for <b>{action}</b> is saved, but your artis.net "
                     "session has ended. Send /start (or your PIN) to unlock: it will be sent "
                     "right after.", action=_label(t, record)))


def waiting_list(t: L10n, records: list[OutboxRecord]) -> Reply:
    """``/envois``: the rep's reports not yet in artis.net."""
    if not records:
        return Reply(t._("📤 Nothing waiting: every compte rendu you confirmed is in "
                         "artis.net."))
    lines = [t.ngettext("📤 <b>{n} compte rendu waiting to be sent</b>",
                        "📤 <b>{n} comptes rendus waiting to be sent</b>",
                        len(records)), ""]
    for record in records:
        since = t.datetime(datetime.fromtimestamp(record.created_at, UTC))
        why = (t._("unlock needed: send /start or your PIN")
               if record.state is ReportState.WAITING_UNLOCK
               else t._("artis.net unavailable, retrying"))
        lines.append(t._("• <b>{action}</b> — since {since} — {why}",
                         action=_label(t, record), since=esc(since), why=why))
    return Reply("\n".join(lines))
