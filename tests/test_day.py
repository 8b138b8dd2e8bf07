"""The rep's day, seen from the chat: home, planning, action card, call and route.

Driven through the real Application against the demo artis.net, pressing buttons by their
label, on both stores. The demo seeds a full day for Camille Martin (demo.commercial) every
day, attachments on today's first appointment, overdue actions and actions done without a
compte rendu.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from pydantic import TypeAdapter

from bot.services.artis_cache import ReadCache
from bot.services.planning import View
from bot.storage import Store
from bot.terminal import TerminalChat
from bot.views.planning import CardCb, Op, OpCb, PlanCb
from integrations.artis.client import ArtisClient
from integrations.artis.demo import DemoLogins
from integrations.fake_bot_api import SimUser
from tests.harness import BotHarness, new_user

STALE = "n'est plus valable"
PARIS = ZoneInfo("Europe/Paris")


def today() -> date:
    return datetime.now(PARIS).date()


def fr(day: date, fmt: str = "full") -> str:
    return format_date(day, format=fmt, locale="fr_FR")


async def paired(bot: BotHarness) -> SimUser:
    user = new_user()
    await bot.pair(user)
    return user


async def press_in_place(bot: BotHarness, user: SimUser, label: str) -> str:
    """Press ``label``; the pressed message itself must change (edited in place), and
    nothing new is sent. Returns its new text."""
    message, _ = bot.find_button(user, label)
    before = len(bot.api.calls)
    await bot.press_label(user, label)
    calls = bot.api.calls[before:]
    assert not [c for c in calls if c.method.startswith("send")], [c.method for c in calls]
    edits = [c for c in calls if c.method == "editMessageText"]
    assert edits and all(c.params["message_id"] == message["message_id"] for c in edits)
    return str(bot.api.messages[(user.id, message["message_id"])]["text"])


def labels(bot: BotHarness, message: dict[str, Any]) -> list[str]:
    return [b["text"] for b in bot.api.buttons(message)]


# -- home -------------------------------------------------------------------------------------
async def test_pairing_ends_on_the_home_screen_with_the_days_indicators(bot: BotHarness) -> None:
    user = new_user()
    [welcome] = await bot.pair(user)
    assert "Appairage réussi" in welcome
    assert fr(today()) in welcome
    assert "Actions aujourd'hui : <b>5</b>" in welcome
    assert "RDV cette semaine : <b>" in welcome
    assert re.search(r"Actions en retard : <b>[1-9]\d*</b>", welcome)
    assert "Réalisées sans compte rendu : <b>2</b>" in welcome
    assert "Prochaine action :" in welcome
    shown = labels(bot, bot.last(user))
    for label in ("📅 Aujourd'hui", "🗓 Semaine", "📍 À proximité", "❓ Aide", "📞 Appeler",
                  "🗺 Itinéraire"):
        assert label in shown
    assert any(label.startswith("➡️ Ouvrir : ") for label in shown)


async def test_menu_start_and_a_greeting_show_the_home_screen(bot: BotHarness) -> None:
    user = await paired(bot)
    for said in ("/menu", "bonjour", "Bonjour !", "/start"):
        [home] = await bot.say(user, said)
        assert "Actions aujourd'hui" in home, said
    [home] = await bot.say(user, "/start")
    assert "déjà appairé" in home


async def test_help_from_home(bot: BotHarness) -> None:
    user = await paired(bot)
    help_text = await press_in_place(bot, user, "❓ Aide")
    assert "Ce que je sais faire" in help_text and "/planning" in help_text
    assert "🔄 Recharger la configuration" in labels(bot, bot.last(user))
    home = await press_in_place(bot, user, "🏠 Menu")
    assert "Actions aujourd'hui" in home


# -- nearby -----------------------------------------------------------------------------------
CARPENTIER = {"latitude": 48.8712, "longitude": 2.3541}  # a few steps from the printer's
MARSEILLE = {"latitude": 43.2965, "longitude": 5.3698}


async def test_nearby_asks_for_the_location_then_lists_open_actions_nearest_first(
        bot: BotHarness) -> None:
    user = await paired(bot)
    [ask] = await bot.press_label(user, "📍 À proximité")
    assert "Partagez votre position" in ask
    [sent] = [c for c in bot.api.calls if c.method == "sendMessage"][-1:]
    keyboard = sent.params["reply_markup"]["keyboard"]
    assert keyboard == [[{"text": "📍 Partager ma position", "request_location": True}]]

    [found] = await bot.send(bot.api.message_update(user, location=CARPENTIER))
    assert "Vos actions ouvertes à moins de 10 km" in found
    lines = [line for line in found.splitlines() if " · " in line]
    assert "Imprimerie Carpentier" in lines[0] and re.match(r"^\d+ m · ", lines[0])
    metres = [float(re.match(r"^([\d,\u202f]+) (m|km)", line).group(1)
                    .replace(",", ".").replace("\u202f", "")) * (1 if " m · " in line else 1000)
              for line in lines]
    assert metres == sorted(metres)
    assert "réalisée" not in found  # open actions only
    listing = bot.last(user)
    first, route = labels(bot, listing)[:2]
    assert first.startswith("➡️ ") and "Imprimerie Carpentier" in first and route == "🗺"

    before = len(bot.api.calls)
    await bot.press(user, bot.api.buttons(listing)[1]["callback_data"])  # its route
    [venue] = [c for c in bot.api.calls[before:] if c.method == "sendVenue"]
    assert venue.params["title"] == "Imprimerie Carpentier"
    card = await press_in_place(bot, user, first)
    assert "Imprimerie Carpentier" in card
    assert "⬅ Retour" in labels(bot, bot.api.messages[(user.id, listing["message_id"])])


async def test_a_location_with_no_action_nearby(bot: BotHarness) -> None:
    user = await paired(bot)
    [nothing] = await bot.send(bot.api.message_update(user, location=MARSEILLE))
    assert "Aucune action ouverte à moins de 10 km" in nothing
    assert labels(bot, bot.last(user)) == ["🏠 Menu"]


async def test_the_next_visits_contact_is_two_taps_from_home(bot: BotHarness) -> None:
    user = await paired(bot)
    before = len(bot.api.calls)
    [numbers] = await bot.press_label(user, "📞 Appeler")
    assert re.search(r"\+33 \d( \d\d){4}", numbers)
    cards = [c for c in bot.api.calls[before:] if c.method == "sendContact"]
    assert cards and all(c.params["phone_number"].startswith("+33 ") for c in cards)
    assert all(c.params["first_name"] for c in cards)


async def test_the_route_is_a_venue_card_with_map_buttons(bot: BotHarness) -> None:
    user = await paired(bot)
    before = len(bot.api.calls)
    assert await bot.press_label(user, "🗺 Itinéraire") == []
    [venue] = [c for c in bot.api.calls[before:] if c.method == "sendVenue"]
    lat, lon = venue.params["latitude"], venue.params["longitude"]
    assert 48 < float(lat) < 49.5 and 1.5 < float(lon) < 3  # Île-de-France
    assert re.search(r"\d{5} ", venue.params["address"])
    urls = {b["text"]: b["url"] for b in bot.api.buttons(bot.last(user))}
    point = f"{lat}%2C{lon}"
    assert urls["🗺 Google Maps"] == (
        f"https://www.google.com/maps/dir/?api=1&destination={point}")
    assert urls["🗺 Apple Plans"] == f"https://maps.apple.com/?daddr={point}"
    assert urls["🚗 Waze"] == f"https://waze.com/ul?ll={point}&navigate=yes"


# -- planning ---------------------------------------------------------------------------------
async def test_planning_moves_between_day_week_and_month_in_the_same_message(
        bot: BotHarness) -> None:
    user = await paired(bot)
    [day] = await bot.say(user, "/planning")
    assert f"<b>{fr(today())}</b> (aujourd'hui)" in day
    assert "5 actions" in day and " · RDV · " in day
    assert re.search(r"\d\d:\d\d · (RDV|Appel|E-mail|Relance) · (à faire|en retard) — <b>", day)
    shown = labels(bot, bot.last(user))
    assert {"◀", "▶", "• Jour", "Semaine", "Mois"} <= set(shown)

    week = await press_in_place(bot, user, "Semaine")
    monday = today() - timedelta(days=today().weekday())
    assert f"Semaine du {fr(monday, 'EEEE d MMMM')} au {fr(monday + timedelta(days=6))}" in week
    days = re.findall(r"\n<b>(\w+ \d+ [\w.]+)</b>\n", week)  # grouped by day
    assert len(days) >= 2 and days[0] != days[1]
    assert all(day.split()[0] in ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi",
                                  "dimanche") for day in days)

    month = await press_in_place(bot, user, "Mois")
    assert f"<b>{fr(today(), 'LLLL y')}</b>" in month
    assert "Page 1/" in month
    page2 = await press_in_place(bot, user, "Page suivante ›")
    assert "Page 2/" in page2
    before = await press_in_place(bot, user, "◀")
    last_month = (today().replace(day=1) - timedelta(days=1))
    assert f"<b>{fr(last_month, 'LLLL y')}</b>" in before
    back = await press_in_place(bot, user, "▶")
    assert f"<b>{fr(today(), 'LLLL y')}</b>" in back and "Page 1/" in back


async def test_an_empty_day_says_so(bot: BotHarness) -> None:
    user = await paired(bot)
    await bot.say(user, "/planning")
    for _ in range(10):  # the rep's weekends are free, except today
        text = await press_in_place(bot, user, "▶")
        if "Rien de prévu" in text:
            break
    else:
        raise AssertionError("no empty day within ten days")
    assert "Rien de prévu ce jour-là" in text and "actions" not in text
    assert {"◀", "▶", "Aujourd'hui"} <= set(labels(bot, bot.last(user)))


async def test_an_old_planning_message_keeps_working(bot: BotHarness) -> None:
    user = await paired(bot)
    await bot.say(user, "/planning")
    await press_in_place(bot, user, "Semaine")
    old = bot.last(user)
    await bot.say(user, "/planning")  # a newer message
    [button] = [b for b in bot.api.buttons(old) if b["text"] == "▶"]
    [next_week] = await bot.send(bot.api.callback_update(user, button["callback_data"], old))
    monday = today() - timedelta(days=today().weekday()) + timedelta(days=7)
    assert f"Semaine du {fr(monday, 'EEEE d MMMM')}" in next_week
    assert bot.api.messages[(user.id, old["message_id"])]["text"] == next_week


async def test_no_message_goes_over_telegrams_limit(bot: BotHarness) -> None:
    user = await paired(bot)
    await bot.say(user, "/planning")
    await bot.press_label(user, "Mois")
    assert all(len(m.get("text", "")) <= 4096 for m in bot.bot_messages(user))
    assert len(bot.api.buttons(bot.last(user))) <= 20


# -- action card ------------------------------------------------------------------------------
async def test_the_action_card_and_its_screens(bot: BotHarness) -> None:
    user = await paired(bot)
    await bot.say(user, "/planning")
    card = await press_in_place(bot, user, "09:30 RDV")  # today's first appointment
    assert card.startswith("<b>RDV</b> · ")
    assert f"📅 {fr(today())} · 09:30–10:30" in card
    assert "Imprimerie Carpentier" in card and "Horaires d'ouverture" in card
    assert "👥 <b>Contacts</b>" in card and " — " in card.split("Contacts</b>")[1]
    assert "💼 Affaire n° " in card
    assert "📎 3 pièces jointes" in card
    shown = labels(bot, bot.last(user))
    for label in ("📞 Appeler", "🗺 Itinéraire", "👥 Contacts", "📎 Pièces jointes (3)",
                  "💼 Affaire", "✍️ Compte rendu", "⬅ Retour"):
        assert label in shown

    files = await press_in_place(bot, user, "📎 Pièces jointes (3)")
    assert "Proposition_commerciale.pdf" in files and "Plan_acces.pdf" in files
    assert "confidentielle" not in files and "Note_interne" not in files  # ERP-only files
    assert "⬅ Retour" in labels(bot, bot.last(user))
    before = len(bot.api.calls)
    assert await bot.press_label(user, "📄 Plan_acces.pdf") == []
    [document] = [c for c in bot.api.calls[before:] if c.method == "sendDocument"]
    [(_, content)] = document.files.items()
    assert content.startswith(b"%PDF") and "Plan_acces.pdf" in document.params["caption"]
    assert await press_in_place(bot, user, "⬅ Retour") == card

    affaire = await press_in_place(bot, user, "💼 Affaire")
    assert "Affaire n° " in affaire
    assert re.search("Montant : \\d{1,3}(\u202f\\d{3})*,\\d\\d\xa0€", affaire)  # 21 333,51 €
    assert "Client : Imprimerie Carpentier" in affaire
    assert "🧾 <b>Devis</b>" in affaire
    assert re.search(r"• D\d+ v\d du \d+ \w+\.? \d{4} : [\d\u202f]+,\d\d\xa0€ HT — \w+", affaire)
    assert await press_in_place(bot, user, "⬅ Retour") == card

    contacts = await press_in_place(bot, user, "👥 Contacts")
    assert "Ligne directe : +33 " in contacts and "Fonction : " in contacts
    before = len(bot.api.calls)
    screen, _ = bot.find_button(user, "⬅ Retour")
    await bot.press_label(user, next(b for b in labels(bot, screen)
                                     if b.startswith("📞 Appeler ")))
    [contact_card] = [c for c in bot.api.calls[before:] if c.method == "sendContact"][:1]
    assert contact_card.params["phone_number"].startswith("+33 ")
    await bot.press_label(user, "⬅ Retour")  # the contacts screen, back to the card

    ask = await press_in_place(bot, user, "✍️ Compte rendu")  # see tests/test_reports.py
    assert "Tapez le compte rendu, ou envoyez une note vocale" in ask
    assert await press_in_place(bot, user, "⬅ Retour") == card
    await bot.say(user, "/annuler")

    day = await press_in_place(bot, user, "⬅ Retour")
    assert f"<b>{fr(today())}</b> (aujourd'hui)" in day


async def test_back_from_a_card_opened_on_the_month_view_returns_to_that_page(
        bot: BotHarness) -> None:
    user = await paired(bot)
    await bot.say(user, "/planning")
    await press_in_place(bot, user, "Mois")
    page2 = await press_in_place(bot, user, "Page suivante ›")
    first = next(b for b in labels(bot, bot.last(user)) if re.match(r"^\S+ \w+\. \d+ \d\d:\d\d", b))
    await press_in_place(bot, user, first)
    assert await press_in_place(bot, user, "⬅ Retour") == page2


# -- rules ------------------------------------------------------------------------------------
async def another_reps_action(artis_client: ArtisClient, artis_login: Any) -> tuple[str, str]:
    token = await artis_login(DemoLogins.TDUBOIS)
    start = datetime.combine(today() - timedelta(days=7), datetime.min.time(), tzinfo=PARIS)
    actions = await artis_client.list_actions(token, start, start + timedelta(days=21))
    return actions[0].id, actions[0].company_name


async def test_a_forged_button_for_another_reps_action_never_shows_it(
        bot: BotHarness, artis_client: ArtisClient, artis_login: Any) -> None:
    user = await paired(bot)
    foreign, company = await another_reps_action(artis_client, artis_login)
    forged = [CardCb(foreign).pack(), CardCb(foreign, View.WEEK, today(), 2).pack(),
              OpCb(Op.FILE, foreign, ref="PJ-0001").pack(),
              *(OpCb(op, foreign).pack() for op in (Op.CALL, Op.ROUTE, Op.CONTACTS,
                                                     Op.FILES, Op.AFFAIRE))]
    for data in forged:
        before_calls, before_toasts = len(bot.api.calls), len(bot.toasts())
        [fresh_menu] = await bot.press(user, data)
        assert STALE in bot.toasts()[before_toasts], data
        assert "Actions aujourd'hui" in fresh_menu
        shown = bot.api.calls[before_calls:]
        assert not [c for c in shown if c.method in ("sendContact", "sendVenue")], data
        assert company not in str([c.params for c in shown]), data


async def test_a_contact_of_another_action_cannot_be_called_through_mine(
        bot: BotHarness) -> None:
    user = await paired(bot)
    await bot.say(user, "/planning")
    await bot.press_label(user, "09:30 RDV")
    _, call = bot.find_button(user, "📞 Appeler")
    op = OpCb.unpack(call["callback_data"])
    assert op is not None
    forged = OpCb(Op.CALL, op.id, ref="CTC-0099").pack()
    before = len(bot.api.calls)
    await bot.press(user, forged)
    assert not [c for c in bot.api.calls[before:] if c.method == "sendContact"]
    assert STALE in bot.toasts()[-1]


async def test_a_stale_button_gets_the_stale_answer_and_a_fresh_menu(bot: BotHarness) -> None:
    user = await paired(bot)
    for data in ("pl:x:20261203:0", "pl:d:20261340:0", "act:../x:d::0:0", "op:fly:A:d::0:0:",
                 "plan:w:20261203"):
        before = len(bot.toasts())
        [fresh_menu] = await bot.press(user, data)
        assert STALE in bot.toasts()[before]
        assert "Actions aujourd'hui" in fresh_menu


async def test_artis_down_then_back_retries_in_place(bot: BotHarness, artis: Any) -> None:
    user = await paired(bot)
    artis.inject_fault(status=503, count=1000, path_prefix="/actions")
    down = await press_in_place(bot, user, "🗓 Semaine")
    assert "artis.net ne répond pas" in down
    assert labels(bot, bot.last(user)) == ["🔄 Réessayer"]
    artis.clear_faults()
    week = await press_in_place(bot, user, "🔄 Réessayer")
    assert "Semaine du " in week

    artis.inject_fault(status=503, count=1000, path_prefix="/actions")
    [down] = await bot.say(user, "/planning")
    assert "artis.net ne répond pas" in down
    artis.clear_faults()
    day = await press_in_place(bot, user, "🔄 Réessayer")
    assert "(aujourd'hui)" in day


async def test_the_buttons_carry_view_and_date(bot: BotHarness) -> None:
    user = await paired(bot)
    await bot.say(user, "/planning")
    [button] = [b for b in bot.api.buttons(bot.last(user)) if b["text"] == "▶"]
    assert PlanCb.unpack(button["callback_data"]) == PlanCb(View.DAY, today() + timedelta(days=1))


# -- terminal demo ----------------------------------------------------------------------------
async def test_the_terminal_shows_venues_contact_cards_and_map_urls(bot: BotHarness) -> None:
    user = await paired(bot)
    out = io.StringIO()
    chat = TerminalChat(bot.runtime, bot.api, out, user=user)
    await chat.handle_line("/menu")

    def number_of(label: str) -> int:
        line = [line for line in out.getvalue().splitlines() if line.endswith(f"] {label}")][-1]
        return int(line.strip().split("]")[0].lstrip("["))

    await chat.handle_line(str(number_of("🗺 Itinéraire")))
    shown = out.getvalue()
    assert re.search(r"📍 .+ — .+\d{5} .+ \(4\d\.\d+, \d\.\d+\)", shown)
    assert "🗺 Google Maps  → https://www.google.com/maps/dir/?api=1&destination=" in shown
    assert "🚗 Waze  → https://waze.com/ul?ll=" in shown
    await chat.handle_line("/menu")
    await chat.handle_line(str(number_of("📞 Appeler")))
    assert re.search(r"📇 Contact : .+, \+33 ", out.getvalue())
    await chat.handle_line(str(number_of("📍 À proximité")))
    assert "[clavier] 📍 Partager ma position — tapez :position LAT LON" in out.getvalue()
    await chat.handle_line(":position 48.8712 2.3541")
    assert "Vos actions ouvertes à moins de 10 km" in out.getvalue()


# -- typed dates ------------------------------------------------------------------------------
async def test_typed_date_phrases_open_that_planning(bot: BotHarness) -> None:
    user = await paired(bot)
    tomorrow = today() + timedelta(days=1)
    next_monday = today() - timedelta(days=today().weekday()) + timedelta(days=7)
    # A date without a year: the closest in [today - 92 days, today + 273 days) (README).
    [december_3] = [d for y in (-1, 0, 1) if -92 <= ((d := date(today().year + y, 12, 3))
                                                      - today()).days < 273]
    next_month = (today().replace(day=28) + timedelta(days=4)).replace(day=1)
    expected = {
        "demain": f"<b>{fr(tomorrow)}</b>",
        "tomorrow": f"<b>{fr(tomorrow)}</b>",
        "semaine prochaine": f"Semaine du {fr(next_monday, 'EEEE d MMMM')}",
        "planning du 3 décembre": f"<b>{fr(december_3)}</b>",
        "/planning mois prochain": f"<b>{fr(next_month, 'LLLL y')}</b>",
        "planning": f"<b>{fr(today())}</b> (aujourd'hui)",
    }
    for said, title in expected.items():
        [shown] = await bot.say(user, said)
        assert title in shown, said
    [thursday] = await bot.say(user, "jeudi prochain")
    assert re.search(r"📅 <b>jeudi \d+ \w+ \d{4}</b>", thursday)


async def test_an_unreadable_date_gets_examples(bot: BotHarness) -> None:
    user = await paired(bot)
    for said in ("planning du 35 décembre", "/planning du machin"):
        [help_text] = await bot.say(user, said)
        assert "Je n'ai pas compris cette date" in help_text, said
        assert "jeudi prochain" in help_text and "planning du 3 décembre" in help_text
    [other] = await bot.say(user, "les chaussettes de l'archiduchesse")
    assert "je n'ai pas compris" in other and "/aide" in other


# -- the short read cache ---------------------------------------------------------------------
async def test_going_back_and_forth_reads_artis_once_per_screen(bot: BotHarness,
                                                               artis: Any) -> None:
    user = await paired(bot)
    await bot.say(user, "/planning")
    card = await press_in_place(bot, user, "09:30 RDV")
    artis.clear_faults()  # forget the requests so far
    day = await press_in_place(bot, user, "⬅ Retour")
    assert await press_in_place(bot, user, "09:30 RDV") == card
    assert await press_in_place(bot, user, "⬅ Retour") == day
    assert artis.request_count("/actions") == 0  # served from the 60 s cache


async def test_the_cache_is_per_rep(bot: BotHarness, artis: Any) -> None:
    other = new_user("Thomas")
    await bot.pair(other, "demo.tdubois")
    await bot.say(other, "/planning")
    await bot.press_label(other, "Mois")
    theirs = next(b["callback_data"] for b in bot.api.buttons(bot.last(other))
                  if b["callback_data"].startswith("act:"))
    [their_card] = await bot.press(other, theirs)  # now cached for demo.tdubois
    company = their_card.split("🏢 <b>")[1].split("</b>")[0]
    user = await paired(bot)
    before = len(bot.toasts())
    [fresh_menu] = await bot.press(user, theirs)
    assert STALE in bot.toasts()[before] and company not in fresh_menu


async def test_with_the_cache_off_every_screen_asks_artis(start_bot: Any, artis: Any) -> None:
    async with start_bot(artis_cache_ttl=0) as bot:
        user = await paired(bot)
        await bot.say(user, "/planning")
        await press_in_place(bot, user, "Semaine")
        artis.clear_faults()
        await press_in_place(bot, user, "• Semaine")
        assert artis.request_count("/actions") == 1


async def test_a_read_in_flight_when_the_rep_writes_is_not_served_afterwards(
        store: Store) -> None:
    """The planning was being read from artis.net when the rep's report landed: what that
    read brings back shows the action before the report, and must not be served later."""
    cache = ReadCache(store, ttl=60)
    words: TypeAdapter[list[str]] = TypeAdapter(list[str])

    async def read_during_the_write() -> list[str]:
        await cache.forget("demo.commercial")  # the report is written meanwhile
        return ["RDV à réaliser"]

    async def read_again() -> list[str]:
        return ["RDV réalisé"]

    assert await cache.read("demo.commercial", "day", words, read_during_the_write) == [
        "RDV à réaliser"]
    assert await cache.read("demo.commercial", "day", words, read_again) == ["RDV réalisé"]
    assert await cache.read("demo.commercial", "day", words, read_during_the_write) == [
        "RDV réalisé"]  # now cached


async def test_a_reps_write_drops_their_cache_in_one_store_call(make_store: Any) -> None:
    """Two days of de-duplication marks and every rep's cache share the store: dropping
    one rep's cache (before their report is confirmed) must not walk them."""
    store = await make_store("redis")
    await store.client.mset({store.full_key(f"seen:{i}"): "1" for i in range(5000)})
    cache = ReadCache(store, ttl=60)
    words: TypeAdapter[list[str]] = TypeAdapter(list[str])

    async def old() -> list[str]:
        return ["avant"]

    async def new() -> list[str]:
        return ["après"]

    await cache.read("demo.commercial", "day", words, old)
    calls = 0
    execute = store.client.execute_command

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return await execute(*args, **kwargs)

    store.client.execute_command = counted
    await cache.forget("demo.commercial")
    assert calls == 1
    assert await cache.read("demo.commercial", "day", words, new) == ["après"]


async def test_an_erp_only_or_foreign_file_is_never_sent(bot: BotHarness) -> None:
    user = await paired(bot)
    await bot.say(user, "/planning")
    await bot.press_label(user, "09:30 RDV")
    op = OpCb.unpack(bot.find_button(user, "📞 Appeler")[1]["callback_data"])
    assert op is not None
    for attachment in ("PJ-0002", "PJ-0005", "PJ-0006", "PJ-9999"):  # ERP-only, another site's
        before = len(bot.api.calls)
        await bot.press(user, OpCb(Op.FILE, op.id, ref=attachment).pack())
        assert not [c for c in bot.api.calls[before:] if c.method == "sendDocument"], attachment
        assert STALE in bot.toasts()[-1]


async def test_artis_nearby_lists_only_the_callers_open_actions(artis_client: ArtisClient,
                                                              artis_login: Any) -> None:
    mine = await artis_client.nearby_actions(await artis_login(DemoLogins.COMMERCIAL),
                                             CARPENTIER["latitude"], CARPENTIER["longitude"])
    theirs = await artis_client.nearby_actions(await artis_login(DemoLogins.TDUBOIS),
                                               CARPENTIER["latitude"], CARPENTIER["longitude"])
    assert mine and all(n.action.assignee_login == DemoLogins.COMMERCIAL for n in mine)
    assert all(n.action.assignee_login == DemoLogins.TDUBOIS for n in theirs)
    assert {n.action.id for n in mine}.isdisjoint(n.action.id for n in theirs)
    assert [n.distance_m for n in mine] == sorted(n.distance_m for n in mine)
    assert all(n.distance_m <= 10_000 and n.action.status.value == "A_REALISER" for n in mine)


# -- contact edit -----------------------------------------------------------------------------
async def open_contact_menu(bot: BotHarness, user: SimUser) -> str:
    """Today's 11:30 call → 👥 Contacts → ✏️ Modifier (its first contact)."""
    await bot.say(user, "/planning")
    await bot.press_label(user, "11:30 Appel")
    await bot.press_label(user, "👥 Contacts")
    screen, _ = bot.find_button(user, "⬅ Retour")
    edit = next(b for b in labels(bot, screen) if b.startswith("✏️ Modifier "))
    return await press_in_place(bot, user, edit)


async def test_a_contact_edit_checks_the_phone_and_confirms_old_and_new(
        bot: BotHarness, start_bot: Any, artis_client: ArtisClient, artis_login: Any) -> None:
    user = await paired(bot)
    menu = await open_contact_menu(bot, user)
    assert "choisissez le champ à modifier" in menu and "• Mobile : +33 6 " in menu
    old = re.search(r"• Mobile : (\+33[\d ]+)", menu).group(1).strip()
    ask = await press_in_place(bot, user, "✏️ Mobile")
    assert "Envoyez la nouvelle valeur pour « mobile »" in ask and old in ask

    [wrong] = await bot.say(user, "12 34")
    assert "n'est pas un numéro de téléphone valide" in wrong
    [planning] = await bot.say(user, "/planning")  # a detour: the edit waits
    assert "(aujourd'hui)" in planning
    [confirm] = await bot.say(user, "06 12 34 56 78")
    assert f"Avant : {old}" in confirm and "Après : <b>+33 6 12 34 56 78</b>" in confirm
    assert "Rien n'est écrit dans artis.net" in confirm
    save, _ = bot.find_button(user, "✅ Enregistrer")

    async with start_bot() as restarted:  # the draft survives a restart
        button = next(b for b in bot.api.buttons(save) if b["text"] == "✅ Enregistrer")
        texts = await restarted.send(restarted.api.callback_update(user, button["callback_data"],
                                                                   save))
    assert "Enregistré dans artis.net" in texts[-1] and "• Mobile : +33 6 12 34 56 78" in texts[-1]
    before = len(bot.toasts())
    await bot.press_label(user, "✅ Enregistrer")  # pressed again: nothing left to save
    assert "déjà été enregistrée" in bot.toasts()[before]


async def test_a_cancelled_contact_edit_writes_nothing(bot: BotHarness, artis: Any) -> None:
    user = await paired(bot)
    await open_contact_menu(bot, user)
    await press_in_place(bot, user, "✏️ E-mail")
    [wrong] = await bot.say(user, "pas une adresse")
    assert "n'est pas une adresse e-mail valide" in wrong
    [confirm] = await bot.say(user, "Nouvelle.Adresse@Client.example")
    assert "Après : <b>nouvelle.adresse@client.example</b>" in confirm
    artis.clear_faults()
    menu = await press_in_place(bot, user, "✖️ Annuler")
    assert "nouvelle.adresse" not in menu
    assert artis.request_count("/contacts", method="PATCH") == 0


async def test_a_forged_contact_button_is_refused(
        bot: BotHarness, artis_client: ArtisClient, artis_login: Any) -> None:
    from bot.services.contacts import Field
    from bot.views.contact import CtcCb, CtcOp

    user = await paired(bot)
    token = await artis_login(DemoLogins.TDUBOIS)
    foreign, _ = await another_reps_action(artis_client, artis_login)
    detail = await artis_client.get_action(token, foreign)
    theirs = detail.contacts[0].id
    await bot.say(user, "/planning")
    await bot.press_label(user, "09:30 RDV")
    mine = OpCb.unpack(bot.find_button(user, "📞 Appeler")[1]["callback_data"])
    assert mine is not None
    for data in (CtcCb(CtcOp.MENU, foreign, theirs), CtcCb(CtcOp.MENU, mine.id, theirs),
                 CtcCb(CtcOp.FIELD, mine.id, theirs, Field.MOBILE_PHONE)):
        before = len(bot.toasts())
        [fresh_menu] = await bot.press(user, data.pack())
        assert STALE in bot.toasts()[before] and "Actions aujourd'hui" in fresh_menu
        assert detail.contacts[0].last_name not in fresh_menu


async def start_new_contact(bot: BotHarness, user: SimUser) -> str:
    await bot.say(user, "/planning")
    await bot.press_label(user, "09:30 RDV")
    await bot.press_label(user, "👥 Contacts")
    return await press_in_place(bot, user, "➕ Nouveau contact")


async def test_a_new_contact_that_duplicates_one_lets_the_rep_choose(bot: BotHarness) -> None:
    user = await paired(bot)
    first = await start_new_contact(bot, user)
    assert "Nouveau contact chez Imprimerie Carpentier (1/5)" in first and "Nom ?" in first
    answers = {"Blanc": "Prénom ?", "olivier": "Fonctions ?", "-": "Mobile ?"}
    for said, next_question in answers.items():
        [question] = await bot.say(user, said)
        assert next_question in question, said
    [wrong] = await bot.say(user, "12")
    assert "n'est pas un numéro de téléphone valide" in wrong
    [question] = await bot.say(user, "-")
    assert "E-mail ?" in question
    [review] = await bot.say(user, "-")
    assert "Doublons probables" in review and "Olivier Blanc" in review
    assert "➕ Créer quand même" in labels(bot, bot.last(user))
    done = await press_in_place(bot, user, "👤 C'est Olivier Blanc")
    assert "Pas de nouveau contact : Olivier Blanc est déjà dans artis.net" in done


async def test_a_new_contact_without_duplicate_is_created(bot: BotHarness,
                                                          artis_client: ArtisClient,
                                                          artis_login: Any) -> None:
    import uuid

    unique = uuid.uuid4()
    name = "Zed" + "".join(chr(ord("a") + int(c, 16) % 26) for c in unique.hex[:8])
    digits = f"{unique.int % 1_000_000:06d}"
    mobile = f"+33 7 98 {digits[:2]} {digits[2:4]} {digits[4:]}"
    user = await paired(bot)
    await start_new_contact(bot, user)
    for said in (name, "Jeanne", "Acheteuse, Comptable", f"07 98 {digits}"):
        await bot.say(user, said)
    [review] = await bot.say(user, f"jeanne.{name.lower()}@imprimerie.example")
    assert "Aucun contact semblable" in review and f"• Mobile : {mobile}" in review
    assert "• Fonctions : Acheteuse, Comptable" in review
    done = await press_in_place(bot, user, "✅ Créer")
    assert f"Jeanne {name} est créé dans artis.net chez Imprimerie Carpentier" in done
    token = await artis_login(DemoLogins.COMMERCIAL)
    from integrations.artis.models import ContactCreate

    [twin] = await artis_client.duplicate_contacts(token, ContactCreate(
        site_id="SIT-0001", last_name=name, first_name="Jeanne"))
    assert twin.functions == ["Acheteuse", "Comptable"] and twin.mobile_phone == mobile


async def test_times_are_shown_in_the_reps_own_time_zone(bot: BotHarness) -> None:
    user = await paired(bot)
    sessions = bot.services.sessions
    session = await sessions.load(user.id, user.id, "fr")
    assert session.link is not None and session.link.timezone == "Europe/Paris"  # artis.net's
    await sessions.save_link(session, session.link.model_copy(
        update={"timezone": "America/Guadeloupe"}))  # UTC-4 all year
    [day] = await bot.press(user, PlanCb(View.DAY, today()).pack())
    paris = datetime.combine(today(), datetime.min.time()).replace(hour=9, minute=30,
                                                                   tzinfo=PARIS)
    there = paris.astimezone(ZoneInfo("America/Guadeloupe"))
    assert f"{there:%H:%M} · RDV" in day and "14:30 · RDV" not in day  # 09:30 there


def test_a_site_without_coordinates_is_routed_by_its_address() -> None:
    from bot.i18n import L10n
    from bot.views import Reply
    from bot.views.action import map_links, route
    from integrations.artis.models import ActionDetail, Site

    site = Site(id="S", third_party_code="C", company_name="Boulangerie Dupont",
                address_lines=["3 rue de la Paix"], postal_code="75002", city="Paris")
    links = dict(map_links(site))
    assert links["Google Maps"] == ("https://www.google.com/maps/dir/?api=1&destination="
                                    "3%20rue%20de%20la%20Paix%2C%2075002%20Paris")
    assert links["Apple Plans"] == "https://maps.apple.com/?daddr=3%20rue%20de%20la%20Paix%2C%2075002%20Paris"
    assert links["Waze"].startswith("https://waze.com/ul?q=3%20rue%20de%20la%20Paix")
    detail = ActionDetail.model_construct(site=site)
    [reply] = route(L10n("fr"), detail)
    assert isinstance(reply, Reply) and "3 rue de la Paix, 75002 Paris" in reply.text
