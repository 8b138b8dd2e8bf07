"""The action card and what opens from it: call, route, contacts, attachments, affaire.

Pure renderers. The card and its sub-screens are edited in place; a call sends the numbers
as text and contact cards, a route sends a place card with map buttons.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from telegram import InlineKeyboardButton

from bot.i18n import L10n
from bot.services.planning import (
    AffaireCard,
    AttachmentFile,
    CallSheet,
    Card,
    TooBig,
    international,
)
from bot.views import (
    ContactCard,
    Document,
    Outgoing,
    Reply,
    Venue,
    button,
    esc,
    keyboard,
    url_button,
)
from bot.views.contact import CtcCb, CtcOp, NewCtcCb, NewOp
from bot.views.planning import STATUS_ICON, CardCb, Op, OpCb, clip, status_name, type_name
from integrations.artis.models import (
    ActionDetail,
    AffaireSalesStatus,
    Contact,
    QuoteStatus,
    Site,
)

MAX_CONTACT_CARDS = 4


def sales_status(t: L10n, status: AffaireSalesStatus) -> str:
    return {
        AffaireSalesStatus.DETECTEE: t._("detected"),
        AffaireSalesStatus.QUALIFIEE: t._("qualified"),
        AffaireSalesStatus.PROPOSITION: t._("proposal"),
        AffaireSalesStatus.NEGOCIATION: t._("negotiation"),
        AffaireSalesStatus.REFUSEE: t._("refused"),
        AffaireSalesStatus.GAGNEE: t._("won"),
        AffaireSalesStatus.PERDUE: t._("lost"),
        AffaireSalesStatus.ANNULEE: t._("cancelled"),
    }[status]


def quote_status(t: L10n, status: QuoteStatus) -> str:
    return {
        QuoteStatus.EN_COURS: t._("in progress"),
        QuoteStatus.ENVOYE: t._("sent"),
        QuoteStatus.ACCEPTE: t._("accepted"),
        QuoteStatus.REFUSE: t._("declined"),
        QuoteStatus.INVALIDE: t._("superseded"),
    }[status]


def contact_name(contact: Contact) -> str:
    return " ".join(part for part in (contact.civility, contact.first_name, contact.last_name)
                    if part)


def back_row(t: L10n, data: CardCb) -> list[InlineKeyboardButton]:
    """From the card: to the planning (or home) it was opened from."""
    return [button(t._("⬅ Back"), data.back().pack())]


def to_card_row(t: L10n, data: CardCb) -> list[InlineKeyboardButton]:
    """From a screen of the card (contacts, attachments, affaire): back to the card."""
    return [button(t._("⬅ Back"), data.pack())]


def people_and_affaire(t: L10n, detail: ActionDetail) -> list[str]:
    """The site's contacts with their functions, then the linked affaire (card, briefing)."""
    lines: list[str] = []
    if detail.contacts:
        lines += ["", t._("👥 <b>Contacts</b>")]
        for contact in detail.contacts:
            functions = ", ".join(contact.functions)
            lines.append(f"• {esc(contact_name(contact))}"
                         + (f" — {esc(functions)}" if functions else ""))
    if detail.affaire is not None:
        affaire = detail.affaire
        lines += ["", t._("💼 Affaire no. {number} — {label} ({status})",
                          number=esc(affaire.number), label=esc(affaire.label),
                          status=esc(sales_status(t, affaire.sales_status)))]
    return lines


def card(t: L10n, outcome: Card, data: CardCb) -> Reply:
    detail = outcome.detail
    action, site = detail.action, detail.site
    when = f"{t.date(action.planned_start)} · {t.time(action.planned_start)}"
    if action.planned_end is not None:
        when += f"–{t.time(action.planned_end)}"
    lines = [f"<b>{esc(type_name(t, action.type))}</b> · {STATUS_ICON[outcome.status]} "
             f"{esc(status_name(t, outcome.status))}",
             f"📅 {esc(when)}",
             f"<b>{esc(action.subject)}</b>"]
    if action.detail:
        lines.append(f"<i>{esc(action.detail)}</i>")
    lines += ["", *site_lines(t, site)]
    lines += people_and_affaire(t, detail)
    lines.append(t.ngettext("📎 {n} attachment", "📎 {n} attachments", len(detail.attachments)))
    rows = [
        [button(t._("📞 Call"), OpCb.of(data, Op.CALL).pack()),
         button(t._("🗺 Route"), OpCb.of(data, Op.ROUTE).pack())],
        [button(t._("👥 Contacts"), OpCb.of(data, Op.CONTACTS).pack()),
         button(t._("📎 Attachments ({n})", n=len(detail.attachments)),
                OpCb.of(data, Op.FILES).pack())],
        [*([button(t._("💼 Affaire"), OpCb.of(data, Op.AFFAIRE).pack())]
           if detail.affaire is not None else []),
         button(t._("✍️ Report"), OpCb.of(data, Op.REPORT).pack())],
        back_row(t, data),
    ]
    return Reply("\n".join(lines), keyboard(*rows))


def site_lines(t: L10n, site: Site) -> list[str]:
    lines = [f"🏢 <b>{esc(site.company_name)}</b>"]
    if site.name and site.name != site.company_name:
        lines[0] += f" ({esc(site.name)})"
    lines.append(f"📍 {esc(site.full_address)}")
    if site.opening_hours:
        lines.append(t._("🕘 Opening hours: {hours}", hours=esc(site.opening_hours)))
    phone = international(site.phone)
    if phone:
        lines.append(f"☎️ {esc(phone)}")
    return lines


# -- call -----------------------------------------------------------------------------------
def call(t: L10n, sheet: CallSheet) -> list[Outgoing]:
    """The numbers as text (tappable), then a contact card for each to call in one tap."""
    if not sheet.callees:
        return [Reply(t._("📞 I have no phone number for {company}.",
                          company=esc(sheet.detail.site.company_name)))]
    lines = [t._("📞 <b>Call</b> — {company}", company=esc(sheet.detail.site.company_name))]
    for callee in sheet.callees:
        who = esc(callee.name) + (f" ({esc(callee.function)})" if callee.function else "")
        lines.append(f"• {who} : {esc(callee.phone)}")
    lines.append(t._("Tap a number or a contact card below to call."))
    cards: list[Outgoing] = [ContactCard(c.phone, c.first_name, c.last_name)
                             for c in sheet.callees[:MAX_CONTACT_CARDS]]
    return [Reply("\n".join(lines)), *cards]


# -- route ----------------------------------------------------------------------------------
def map_links(site: Site) -> list[tuple[str, str]]:
    """Google Maps, Apple Plans and Waze, from the coordinates (the address when none)."""
    if site.latitude is not None and site.longitude is not None:
        point = f"{site.latitude},{site.longitude}"
        return [
            ("Google Maps", "https://www.google.com/maps/dir/?"
             + urlencode({"api": "1", "destination": point})),
            ("Apple Plans", "https://maps.apple.com/?" + urlencode({"daddr": point})),
            ("Waze", "https://waze.com/ul?" + urlencode({"ll": point, "navigate": "yes"})),
        ]
    address = site.full_address
    return [
        ("Google Maps", "https://www.google.com/maps/dir/?api=1&destination="
         + quote(address, safe="")),
        ("Apple Plans", "https://maps.apple.com/?daddr=" + quote(address, safe="")),
        ("Waze", "https://waze.com/ul?q=" + quote(address, safe="") + "&navigate=yes"),
    ]


def route(t: L10n, detail: ActionDetail) -> list[Outgoing]:
    site = detail.site
    links = keyboard([url_button(f"🗺 {name}", url) for name, url in map_links(site)[:2]],
                     [url_button(f"🚗 {name}", url) for name, url in map_links(site)[2:]])
    if site.latitude is not None and site.longitude is not None:
        return [Venue(site.latitude, site.longitude, site.company_name, site.full_address,
                      links)]
    return [Reply(t._("🗺 <b>{company}</b>\n📍 {address}\nOpen the route in your maps app:",
                      company=esc(site.company_name), address=esc(site.full_address)), links)]


# -- contacts, attachments, affaire -----------------------------------------------------------
def contacts(t: L10n, outcome: Card, data: CardCb) -> Reply:
    detail = outcome.detail
    lines = [t._("👥 <b>Contacts</b> — {company}", company=esc(detail.site.company_name))]
    rows: list[list[InlineKeyboardButton]] = []
    if not detail.contacts:
        lines.append(t._("No contact on this action."))
    for contact in detail.contacts:
        lines += ["", f"<b>{esc(contact_name(contact))}</b>"]
        if contact.functions:
            lines.append(t._("Function: {functions}", functions=esc(", ".join(contact.functions))))
        if contact.role:
            lines.append(t._("Role: {role}", role=esc(contact.role)))
        direct, mobile = international(contact.direct_phone), international(contact.mobile_phone)
        if direct:
            lines.append(t._("Direct line: {phone}", phone=esc(direct)))
        if mobile:
            lines.append(t._("Mobile: {phone}", phone=esc(mobile)))
        if contact.email:
            lines.append(t._("Email: {email}", email=esc(contact.email)))
        row = [button(clip(t._("✏️ Edit {name}", name=contact.display_name), 30),
                      CtcCb.of(data, CtcOp.MENU, contact.id).pack())]
        if direct or mobile:
            row.insert(0, button(clip(t._("📞 Call {name}", name=contact.display_name), 30),
                                 OpCb.of(data, Op.CALL, ref=contact.id).pack()))
        rows.append(row)
    rows.append([button(t._("➕ New contact"), NewCtcCb.of(data, NewOp.START).pack())])
    rows.append(to_card_row(t, data))
    return Reply("\n".join(lines), keyboard(*rows))


def size(t: L10n, n: int) -> str:
    if n < 1024:
        return t._("{n} bytes", n=t.number(n))
    if n < 1024 * 1024:
        return t._("{n} KB", n=t.number(round(n / 1024, 1)))
    return t._("{n} MB", n=t.number(round(n / 1024 / 1024, 1)))


def attachments(t: L10n, outcome: Card, data: CardCb) -> Reply:
    detail = outcome.detail
    lines = [t._("📎 <b>Attachments</b> — {subject}", subject=esc(detail.action.subject))]
    if not detail.attachments:
        lines.append(t._("No attachment."))
    rows: list[list[InlineKeyboardButton]] = []
    for item in detail.attachments:
        line = f"• {esc(item.file_name)} ({esc(size(t, item.size_bytes))})"
        if item.description:
            line += f" — <i>{esc(item.description)}</i>"
        lines.append(line)
        rows.append([button(clip(f"📄 {item.file_name}"),
                            OpCb.of(data, Op.FILE, ref=item.id).pack())])
    if detail.attachments:
        lines += ["", t._("Tap a file to receive it here.")]
    rows.append(to_card_row(t, data))
    return Reply("\n".join(lines), keyboard(*rows))


def attachment_file(t: L10n, found: AttachmentFile) -> list[Outgoing]:
    item = found.attachment
    caption = f"📎 {esc(item.file_name)}" + (f" — {esc(item.description)}"
                                              if item.description else "")
    return [Document(item.file_name, found.content, caption[:1024])]


def attachment_too_big(t: L10n, too_big: TooBig) -> Reply:
    item = too_big.attachment
    return Reply(t._("📎 {name} ({size}) is too big for Telegram (50 MB at most): open it in "
                     "artis.net.", name=esc(item.file_name), size=esc(size(t, item.size_bytes))))


def affaire(t: L10n, outcome: AffaireCard, data: CardCb) -> Reply:
    item = outcome.affaire
    lines = [t._("💼 <b>Affaire no. {number}</b>", number=esc(item.number)),
             f"<b>{esc(item.label)}</b>",
             t._("Client: {client}", client=esc(item.client_name)),
             t._("Sales status: {status}", status=esc(sales_status(t, item.sales_status)))]
    if item.commercial_revenue is not None:
        lines.append(t._("Amount: {amount}", amount=esc(t.money(item.commercial_revenue))))
    if item.margin is not None:
        lines.append(t._("Margin: {amount}", amount=esc(t.money(item.margin))))
    if item.probability_pct is not None:
        lines.append(t._("Probability: {pct} %", pct=item.probability_pct))
    if item.expected_close_date is not None:
        lines.append(t._("Expected closing: {day}", day=esc(t.date(item.expected_close_date))))
    if item.main_sales_rep_login:
        lines.append(t._("Main sales rep: {login}", login=esc(item.main_sales_rep_login)))
    if item.quotes:
        lines += ["", t._("🧾 <b>Quotes</b>")]
        for quote in item.quotes:
            lines.append(t._("• {number} v{version} of {day}: {amount} excl. tax — {status}",
                             number=esc(quote.number), version=quote.version,
                             day=esc(t.date(quote.created_on, "d MMM y")),
                             amount=esc(t.money(quote.amount)),
                             status=esc(quote_status(t, quote.status))))
    return Reply("\n".join(lines), keyboard(to_card_row(t, data)))
