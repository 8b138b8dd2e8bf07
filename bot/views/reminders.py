"""A rep's reminders: the pre-visit briefing, the missing-report nudge, and /reglages.

The briefing reuses the action card's pieces (site lines, route links, contact names); the
nudge's ✍️ button *is* the action card's report button (``OpCb(Op.REPORT)``), so pressing it
opens the report flow exactly as from the card. Pure renderers.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.callbacks import CallbackData
from bot.i18n import L10n
from bot.services.preferences import ReminderPrefs
from bot.services.reminders import Briefing, Nudge
from bot.services.schedule import ReminderKind
from bot.views import Reply, button, esc, keyboard, url_button
from bot.views.action import map_links, people_and_affaire, site_lines
from bot.views.planning import CardCb, Op, OpCb, clip, type_name

REPORT_EXCERPT = 300


@dataclass(frozen=True)
class ReminderCb(CallbackData, prefix="rmd"):
    """/reglages: turn one reminder on or off."""

    kind: ReminderKind


def briefing(t: L10n, data: Briefing) -> Reply:
    detail = data.detail
    action, site = detail.action, detail.site
    lead = t._("⏰ <b>In a moment:</b> {type} at {time}",
               type=esc(type_name(t, action.type)), time=t.time(action.planned_start))
    lines = [lead, f"<b>{esc(action.subject)}</b>", "", *site_lines(t, site)]
    lines += people_and_affaire(t, detail)
    if data.last_report is not None and data.last_report_action is not None:
        lines += ["", t._("📝 <b>Last report here</b> ({day}):",
                          day=t.date(data.last_report_action.planned_start, "d MMMM yyyy")),
                  f"<i>{esc(clip(data.last_report.text, REPORT_EXCERPT))}</i>"]
    else:
        lines += ["", t._("📝 No earlier report on this site.")]
    card = CardCb(action.id, home=True)
    links = map_links(site)
    return Reply("\n".join(lines), keyboard(
        [url_button(f"🗺 {name}", url) for name, url in links[:2]],
        [url_button(f"🚗 {name}", url) for name, url in links[2:]],
        [button(t._("➡️ Open the action"), card.pack())]))


def nudge(t: L10n, data: Nudge) -> Reply:
    action = data.action
    card = CardCb(action.id, home=True)
    text = t._("✍️ No report yet for your {type} at {time} — <b>{company}</b>.\n"
               "A few words now, while you remember?",
               type=esc(type_name(t, action.type)).lower(), time=t.time(action.planned_start),
               company=esc(action.company_name))
    return Reply(text, keyboard(
        [button(t._("✍️ Report"), OpCb.of(card, Op.REPORT).pack())],
        [button(t._("➡️ Open the action"), card.pack())]))


def settings(t: L10n, prefs: ReminderPrefs, *, lead: int, delay: int) -> Reply:
    """/reglages: each reminder, what it does, and a button to turn it off or on."""
    def state(on: bool) -> str:
        return t._("on") if on else t._("off")

    lines = [t._("⚙️ <b>Reminders</b>"), "",
             t._("⏰ Briefing {n} minutes before an appointment: <b>{state}</b>",
                 n=lead, state=state(prefs.briefing)),
             t._("✍️ Missing report, {n} minutes after an action: <b>{state}</b>",
                 n=delay, state=state(prefs.nudge)),
             "", t._("Reminders come on working days, during working hours only.")]
    rows = [[button(t._("Turn the briefing off") if prefs.briefing
                    else t._("Turn the briefing on"),
                    ReminderCb(ReminderKind.BRIEFING).pack())],
            [button(t._("Turn the report nudge off") if prefs.nudge
                    else t._("Turn the report nudge on"),
                    ReminderCb(ReminderKind.NUDGE).pack())]]
    return Reply("\n".join(lines), keyboard(*rows))
