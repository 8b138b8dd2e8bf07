"""Home and planning screens, and the buttons that move between them.

Navigation travels in the buttons (view, anchor day, page; ``None`` for the day means
"today, when pressed"), so a planning message from last week still works. Pure renderers:
``(l10n, data) -> Reply``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from telegram import InlineKeyboardButton

from bot.callbacks import CallbackData
from bot.i18n import L10n
from bot.services.planning import Home, Item, Nearby, Planning, Status, View, shift
from bot.views import LocationRequest, Reply, button, esc, keyboard
from integrations.artis.models import ActionType

PAGE_SIZE = 8
LABEL_MAX = 48


# -- buttons --------------------------------------------------------------------------------
class MenuTarget(StrEnum):
    HOME = "home"
    NEARBY = "near"
    HELP = "help"


@dataclass(frozen=True)
class MenuCb(CallbackData, prefix="menu"):
    """The home screen and its entries that are not a planning."""

    target: MenuTarget


@dataclass(frozen=True)
class PlanCb(CallbackData, prefix="pl"):
    """A planning screen: its view, anchor day (None: today when pressed) and page."""

    view: View
    day: date | None = None
    page: int = 0


@dataclass(frozen=True)
class CardCb(CallbackData, prefix="act"):
    """An action card, with the way back: the planning it came from, or home."""

    id: str
    view: View = View.DAY
    day: date | None = None
    page: int = 0
    home: bool = False

    def back(self) -> CallbackData:
        return MenuCb(MenuTarget.HOME) if self.home else PlanCb(self.view, self.day, self.page)


class Op(StrEnum):
    CALL = "call"
    ROUTE = "route"
    CONTACTS = "ctc"
    FILES = "pj"
    AFFAIRE = "aff"
    REPORT = "cr"
    FILE = "file"


@dataclass(frozen=True)
class OpCb(CallbackData, prefix="op"):
    """Something done from an action card; ``ref`` names one contact to call."""

    op: Op
    id: str
    view: View = View.DAY
    day: date | None = None
    page: int = 0
    home: bool = False
    ref: str | None = None

    @classmethod
    def of(cls, card: CardCb, op: Op, ref: str | None = None) -> OpCb:
        return cls(op, card.id, card.view, card.day, card.page, card.home, ref)

    def card(self) -> CardCb:
        return CardCb(self.id, self.view, self.day, self.page, self.home)


# -- words ----------------------------------------------------------------------------------
def type_name(t: L10n, kind: ActionType) -> str:
    return {
        ActionType.RDV: t._("Appointment"),
        ActionType.APPEL: t._("Call"),
        ActionType.EMAIL: t._("Email"),
        ActionType.COURRIER: t._("Letter"),
        ActionType.RELANCE: t._("Follow-up"),
        ActionType.AUTRE: t._("Other"),
    }[kind]


STATUS_ICON = {Status.TODO: "⏳", Status.DONE: "✅", Status.OVERDUE: "⚠️",
               Status.CANCELLED: "✖️"}


def status_name(t: L10n, status: Status) -> str:
    return {
        Status.TODO: t._("to do"),
        Status.DONE: t._("done"),
        Status.OVERDUE: t._("overdue"),
        Status.CANCELLED: t._("cancelled"),
    }[status]


def clip(text: str, limit: int = LABEL_MAX) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def action_line(t: L10n, item: Item) -> str:
    """``⏳ 09:30 · Rendez-vous · à faire — <b>Boulangerie Martin</b>``."""
    action = item.action
    return (f"{STATUS_ICON[item.status]} {t.time(action.planned_start)} · "
            f"{type_name(t, action.type)} · {status_name(t, item.status)} — "
            f"<b>{esc(action.company_name)}</b>")


def action_label(t: L10n, item: Item, with_day: bool) -> str:
    action = item.action
    when = t.time(action.planned_start)
    if with_day:
        when = f"{t.date(action.planned_start, 'EEE d')} {when}"
    return clip(f"{STATUS_ICON[item.status]} {when} {type_name(t, action.type)} · "
                f"{action.company_name}")


# -- home -----------------------------------------------------------------------------------
def home(t: L10n, name: str, data: Home) -> Reply:
    lines = [t._("👋 Hello {name}!", name=esc(name)),
             f"<b>{esc(t.date(data.today))}</b>", "",
             t._("📅 Actions today: <b>{n}</b>", n=data.actions_today),
             t._("🤝 Appointments this week: <b>{n}</b>", n=data.rdv_this_week),
             t._("⚠️ Overdue actions: <b>{n}</b>", n=data.overdue),
             t._("✍️ Done without a report: <b>{n}</b>", n=data.done_without_report)]
    rows: list[list[InlineKeyboardButton]] = []
    nxt = data.next
    if nxt is not None:
        card = CardCb(nxt.item.action.id, home=True)
        lines += ["", t._("<b>Next:</b> {line}", line=action_line(t, nxt.item)),
                  f"📍 {esc(nxt.site.full_address)}"]
        if nxt.phone:
            lines.append(f"📞 {esc(nxt.phone)}")
        rows.append([button(t._("➡️ Open: {what}", what=clip(
            f"{t.time(nxt.item.action.planned_start)} {nxt.item.action.company_name}", 36)),
            card.pack())])
        quick = []
        if nxt.phone:
            quick.append(button(t._("📞 Call"), OpCb.of(card, Op.CALL).pack()))
        quick.append(button(t._("🗺 Route"), OpCb.of(card, Op.ROUTE).pack()))
        rows.append(quick)
    elif data.actions_today == 0:
        lines += ["", t._("Nothing planned today.")]
    else:
        lines += ["", t._("Everything planned today is done. Well done!")]
    rows.append([button(t._("📅 Today"), PlanCb(View.DAY).pack()),
                 button(t._("🗓 Week"), PlanCb(View.WEEK).pack())])
    rows.append([button(t._("📍 Nearby"), MenuCb(MenuTarget.NEARBY).pack()),
                 button(t._("❓ Help"), MenuCb(MenuTarget.HELP).pack())])
    return Reply("\n".join(lines), keyboard(*rows))


def help_screen(t: L10n, help_text: Reply) -> Reply:
    """/aide opened from home, in the same message, with the way back."""
    rows = [list(row) for row in help_text.keyboard.inline_keyboard] if help_text.keyboard else []
    rows.append([button(t._("🏠 Menu"), MenuCb(MenuTarget.HOME).pack())])
    return Reply(help_text.text, keyboard(*rows))


def ask_location(t: L10n) -> LocationRequest:
    return LocationRequest(
        t._("📍 Share your location with the button below (or send a location at any time) "
            "and I list your open actions nearby."),
        t._("📍 Share my location"))


def distance(t: L10n, metres: int) -> str:
    if metres < 1000:
        return t._("{n} m", n=t.number(round(metres, -1)))
    return t._("{n} km", n=t.number(round(metres / 1000, 1)))


def nearby(t: L10n, data: Nearby) -> Reply:
    radius = t.number(data.radius_km)
    rows: list[list[InlineKeyboardButton]] = []
    if not data.items:
        lines = [t._("📍 No open action within {radius} km of you.", radius=radius)]
    else:
        lines = [t._("📍 <b>Your open actions within {radius} km</b>, nearest first:",
                     radius=radius), ""]
    for found in data.items:
        action = found.item.action
        lines.append(f"{esc(distance(t, found.distance_m))} · {STATUS_ICON[found.item.status]} "
                     f"{esc(t.date(action.planned_start, 'EEE d MMM'))} "
                     f"{t.time(action.planned_start)} · {esc(type_name(t, action.type))} — "
                     f"<b>{esc(action.company_name)}</b>")
        card = CardCb(action.id, home=True)
        rows.append([button(clip(f"➡️ {distance(t, found.distance_m)} · {action.company_name}",
                                 40), card.pack()),
                     button("🗺", OpCb.of(card, Op.ROUTE).pack())])
    rows.append([button(t._("🏠 Menu"), MenuCb(MenuTarget.HOME).pack())])
    return Reply("\n".join(lines), keyboard(*rows))


# -- planning -------------------------------------------------------------------------------
def title(t: L10n, data: Planning) -> str:
    shown = data.span
    if shown.view is View.DAY:
        text = t._("📅 <b>{day}</b>", day=esc(t.date(shown.first)))
        if shown.first == data.today:
            text += " " + t._("(today)")
        return text
    if shown.view is View.WEEK:
        return t._("🗓 <b>Week of {first} to {last}</b>",
                   first=esc(t.date(shown.first, "EEEE d MMMM")),
                   last=esc(t.date(shown.days[-1])))
    return t._("🗓 <b>{month}</b>", month=esc(t.date(shown.first, "LLLL y")))


def empty(t: L10n, view: View) -> str:
    if view is View.DAY:
        return t._("Nothing planned that day ☕ A good time to call a prospect back.")
    if view is View.WEEK:
        return t._("Nothing planned this week.")
    return t._("Nothing planned this month.")


def planning(t: L10n, data: Planning, page: int) -> Reply:
    view, anchor = data.span.view, data.span.anchor
    pages = max(1, -(-len(data.items) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = data.items[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    lines = [title(t, data)]
    if not data.items:
        lines += ["", empty(t, view)]
    else:
        lines.append(t.ngettext("{n} action", "{n} actions", len(data.items)))
        current: date | None = None
        for item in shown:
            day = t.local(item.action.planned_start).date()
            if view is not View.DAY and day != current:
                current = day
                lines += ["", f"<b>{esc(t.day(day))}</b>"]
            elif current is None:
                current = day
                lines.append("")
            lines.append(action_line(t, item))
        if pages > 1:
            lines += ["", t._("Page {page}/{pages}", page=page + 1, pages=pages)]
    rows: list[list[InlineKeyboardButton]] = []
    for item in shown:
        card = CardCb(item.action.id, view, anchor, page)
        rows.append([button(action_label(t, item, view is not View.DAY), card.pack())])
    if pages > 1:
        paging = []
        if page > 0:
            paging.append(button(t._("‹ Previous page"), PlanCb(view, anchor, page - 1).pack()))
        if page < pages - 1:
            paging.append(button(t._("Next page ›"), PlanCb(view, anchor, page + 1).pack()))
        rows.append(paging)
    rows.append([button("◀", PlanCb(view, shift(view, anchor, -1)).pack()),
                 button(t._("Today"), PlanCb(view).pack()),
                 button("▶", PlanCb(view, shift(view, anchor, 1)).pack())])
    names = {View.DAY: t._("Day"), View.WEEK: t._("Week"), View.MONTH: t._("Month")}
    rows.append([button(("• " if kind is view else "") + names[kind],
                        PlanCb(kind, anchor).pack()) for kind in View])
    rows.append([button(t._("🏠 Menu"), MenuCb(MenuTarget.HOME).pack())])
    return Reply("\n".join(lines), keyboard(*rows))


def unreadable_date(t: L10n) -> Reply:
    return Reply(t._(
        "I could not read that date. You can write, for example:\n"
        "• <i>tomorrow</i>, <i>Thursday</i>, <i>next Thursday</i>\n"
        "• <i>next week</i>, <i>next month</i>\n"
        "• <i>planning for 3 December</i>\n"
        "or send /planning for today."), keyboard(
        [button(t._("📅 Today"), PlanCb(View.DAY).pack()),
         button(t._("🗓 Week"), PlanCb(View.WEEK).pack())]))


# -- artis.net down, stale buttons ------------------------------------------------------------
def unavailable(t: L10n, retry: str) -> Reply:
    """artis.net did not answer: a short message and a button repeating the request."""
    return Reply(t._("⚠️ artis.net is not answering right now. Try again in a moment."),
                 keyboard([button(t._("🔄 Retry"), retry)]))
