"""The manager's daily digest as messages: one block per rep, grouped by unit.

Pure renderer. Telegram takes at most 4096 characters a message, so the digest is cut
*between* reps, never inside one: a rep's day is read in one place, and a unit continued in
the next message repeats its title.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from enum import StrEnum

from telegram.constants import MessageLimit

from bot.callbacks import CallbackData
from bot.i18n import L10n
from bot.services.digests import Digest, Line, RepDigest, UnitDigest, Week
from bot.services.preferences import DigestPrefs
from bot.views import Reply, button, esc, keyboard
from bot.views.planning import type_name

#: The times offered as buttons by /digest (any other: ``/digest 6h45``).
OFFERED_TIMES = (time(7), time(7, 30), time(8), time(8, 30))


class DigestOp(StrEnum):
    AT = "at"
    PAUSE = "pause"
    RESUME = "resume"
    NOW = "now"


@dataclass(frozen=True)
class DigestCb(CallbackData, prefix="dg"):
    """/digest: move it to ``hhmm``, pause, resume, or send one now."""

    op: DigestOp
    hhmm: str | None = None


def _cut(text: str, limit: int) -> list[str]:
    """Parts of at most ``limit`` characters, cut at line breaks (a rep longer than a
    message, which a real day never is)."""
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > 0 else limit
        parts.append(text[:cut])
        text = text[cut:].lstrip("\n")
    return [*parts, text]


def line(t: L10n, item: Line) -> str:
    """``• 09:30 · Rendez-vous — <b>Boulangerie Martin</b>, Paris``."""
    where = f"<b>{esc(item.company)}</b>"
    if item.town:
        where += f", {esc(item.town)}"
    return f"• {t.time(item.start)} · {type_name(t, item.type)} — {where}"


def week_line(t: L10n, week: Week) -> str:
    return t._("Appointments: {planned} planned, {done} done · reports missing: {missing}",
               planned=week.rdv_planned, done=week.rdv_done, missing=week.reports_missing)


def rep_block(t: L10n, rep: RepDigest, previous_day: str) -> str:
    lines = [f"👤 <b>{esc(rep.name)}</b>"]
    if rep.today:
        lines.append(t.ngettext("Today, {n} action:", "Today, {n} actions:", len(rep.today)))
        lines += [line(t, item) for item in rep.today]
    else:
        lines.append(t._("Nothing planned today."))
    if rep.unreported:
        lines.append(t._("✍️ Still without a report from {day}:", day=previous_day))
        lines += [line(t, item) for item in rep.unreported]
    lines.append("📊 " + week_line(t, rep.week))
    return "\n".join(lines)


def unit_title(t: L10n, unit: UnitDigest, *, continued: bool = False) -> str:
    title = f"🏢 <b>{esc(unit.name)}</b>"
    if unit.parent_name:
        title += " " + t._("(part of {unit})", unit=esc(unit.parent_name))
    if continued:
        title += " " + t._("(continued)")
    return title


def unit_header(t: L10n, unit: UnitDigest) -> str:
    won = t.ngettext("{n} affaire won", "{n} affaires won", unit.affaires_won)
    if unit.affaires_won:
        won += f" ({t.money(unit.won_amount)})"
    lines = [unit_title(t, unit), t._("This week: {week} · {won}",
                                      week=week_line(t, unit.week), won=won)]
    if not unit.reps:
        lines.append(t._("No rep in this unit."))
    return "\n".join(lines)


def digest(t: L10n, data: Digest, limit: int = MessageLimit.MAX_TEXT_LENGTH) -> list[Reply]:
    """The digest in as few messages as fit, each cut between two reps."""
    previous = t.date(data.previous_day, "EEEE d MMMM")
    head = "\n".join([
        t._("📋 <b>Your team's day</b> — {day}", day=esc(t.date(data.day))),
        t._("Week of {monday}.", monday=t.date(data.week_start, "d MMMM")),
    ])
    if not data.units:
        return [Reply(head + "\n\n" + t._("No Commerce unit to report on."))]
    parts: list[str] = []
    current = head
    for unit in data.units:
        blocks = [unit_header(t, unit)] + [rep_block(t, rep, previous) for rep in unit.reps]
        joined = "\n\n".join(blocks)
        if len(current) + 2 + len(joined) <= limit:
            current += "\n\n" + joined
            continue
        # The unit does not fit whole: its header with as many reps as fit, then on.
        title = unit_title(t, unit, continued=True)
        for index, block in enumerate(blocks):
            if len(current) + 2 + len(block) <= limit:
                current += "\n\n" + block
                continue
            parts.append(current)
            current = block if index == 0 else title + "\n\n" + block
            if len(current) > limit:  # one rep longer than a message: cut at line breaks
                *whole, current = _cut(current, limit)
                parts += whole
    parts.append(current)
    return [Reply(part) for part in parts]


# -- /digest ----------------------------------------------------------------------------------


def schedule(t: L10n, prefs: DigestPrefs, zone: str) -> Reply:
    """When the digest comes, with buttons to change the time, pause, resume, get one now."""
    if prefs.paused:
        state = t._("⏸ Paused. Resume it to get it again every working day at <b>{time}</b>.",
                    time=t.time(prefs.at))
    else:
        state = t._("Every working day at <b>{time}</b> ({zone}).", time=t.time(prefs.at),
                    zone=esc(zone))
    lines = [t._("📋 <b>Your team's daily digest</b>"), state, "",
             t._("Another time: send for example <code>/digest 6h45</code>.")]
    times = [button(("✅ " if t.time(at) == t.time(prefs.at) else "") + t.time(at),
                    DigestCb(DigestOp.AT, at.strftime("%H%M")).pack()) for at in OFFERED_TIMES]
    toggle = (button(t._("▶️ Resume"), DigestCb(DigestOp.RESUME).pack()) if prefs.paused
              else button(t._("⏸ Pause"), DigestCb(DigestOp.PAUSE).pack()))
    return Reply("\n".join(lines), keyboard(
        times, [toggle, button(t._("📨 Send one now"), DigestCb(DigestOp.NOW).pack())]))


def managers_only(t: L10n) -> Reply:
    return Reply(t._("The daily digest is for managers who head a sales unit in artis.net."))


def unreadable_time(t: L10n) -> Reply:
    return Reply(t._("I could not read that time. Send for example <code>/digest 7h30</code>, "
                     "<code>/digest pause</code> or <code>/digest maintenant</code>."))
