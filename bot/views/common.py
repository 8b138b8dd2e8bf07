"""Greeting, help, language menu and the polite answers to everything unexpected."""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from enum import StrEnum

from bot.callbacks import CallbackData
from bot.i18n import L10n
from bot.steps import Kind
from bot.views import Reply, button, esc, keyboard


class Language(StrEnum):
    FR = "fr"
    EN = "en"


LANGUAGE_NAMES = {Language.FR: "Français", Language.EN: "English"}


@dataclass(frozen=True)
class LangCb(CallbackData, prefix="lang", public=True):
    lang: Language


class HelpTopic(StrEnum):
    RELOAD = "reload"


@dataclass(frozen=True)
class HelpCb(CallbackData, prefix="help"):
    topic: HelpTopic


def welcome_unpaired(t: L10n, first_name: str) -> Reply:
    return Reply(t._(
        "Hello {name}! I am the artis CRM assistant: your planning, your actions, your "
        "contacts and your reports, right here in Telegram.\n\n"
        "To get started, pair this account with your artis.net login: in artis.net open "
        "<b>À propos › Smartphone</b> (or ask your manager) and scan your pairing QR code "
        "with your phone's camera.", name=esc(first_name)))


def how_to_pair(t: L10n) -> Reply:
    return Reply(t._(
        "This Telegram account is not paired with artis.net yet.\n\n"
        "Scan your pairing QR code (artis.net › <b>À propos › Smartphone</b>, or ask your "
        "manager for one), then follow the steps. /help explains what I can do."))


def help_text(t: L10n, *, paired: bool, support_contact: str | None = None) -> Reply:
    lines = [
        t._("<b>What I can do</b>"),
        t._("• /menu — your day: actions today, appointments this week, overdue actions, "
            "the next action with its 📞 and 🗺"),
        t._("• /planning — your actions by day, week or month; open one for its card (call, "
            "route, contacts, attachments, affaire)"),
        t._("• or just write a date: <i>demain</i>, <i>jeudi prochain</i>, <i>semaine "
            "prochaine</i>, <i>planning du 3 décembre</i>"),
        t._("• 📍 send your location — your open actions nearby"),
        t._("• ✍️ Report on an action card — type it or send a voice note 🎙; I find the "
            "follow-up (<i>rappeler jeudi prochain</i>) and you confirm with ✅"),
        t._("• 🎙 a voice note on its own — I ask which action it reports on"),
        t._("• /envois — your reports not yet in artis.net"),
        t._("• /reglages — reminders before a visit and for missing reports"),
        t._("• /digest — heads of a sales team: your team's daily digest (time, pause, now)"),
        t._("Your access:"),
        t._("• pair this Telegram account with your artis.net login (scan the QR code "
            "from artis.net › À propos › Smartphone)"),
        t._("• /pin — choose a PIN code to unlock your session"),
        t._("• /annuler — cancel the current step"),
        t._("• /lang — choose your language"),
        t._("• /logout — unpair this Telegram account"),
        "",
        (t._("Questions about your access: ask your artis.net administrator ({contact}).",
             contact=esc(support_contact)) if support_contact
         else t._("Questions about your access: ask your artis.net administrator.")),
    ]
    markup = None
    if paired:
        markup = keyboard([button(t._("🔄 Reload configuration"), HelpCb(HelpTopic.RELOAD).pack())])
    return Reply("\n".join(lines), markup)


def language_menu(t: L10n, current: str) -> Reply:
    """The language buttons, the current one ticked."""
    rows = [[button(("✅ " if code == current else "") + name, LangCb(code).pack())]
            for code, name in LANGUAGE_NAMES.items()]
    return Reply(t._("Choose your language:"), keyboard(*rows))


def language_set(t: L10n) -> Reply:
    return Reply(t._("Done: I will speak English with you."))


def private_chat_only(t: L10n, bot_username: str) -> Reply:
    return Reply(t._("I only work in a private chat, so that your data and passwords stay "
                     "between us: write to me directly at @{bot}.", bot=esc(bot_username)))


def unknown_command(t: L10n, command: str) -> Reply:
    return Reply(t._("I don't know the command {command}. /help lists what I can do.",
                     command=esc(command[:40])))


def not_understood(t: L10n) -> Reply:
    return Reply(t._("Sorry, I did not understand. /help lists what I can do."))


def too_long(t: L10n, limit: int) -> Reply:
    return Reply(t._("Your message is too long for me (more than {limit} characters). "
                     "Could you shorten it?", limit=t.number(limit)))


def unsupported_message(t: L10n) -> Reply:
    return Reply(t._("I can't use this kind of message here. "
                     "Send me text (or a voice note for a report). /help lists what I can do."))


def stale_button(t: L10n) -> str:
    return t._("This button is no longer valid. Please start again from a recent message.")


def something_went_wrong(t: L10n) -> Reply:
    return Reply(t._("Sorry, something went wrong on my side. Please try again in a moment; "
                     "if it keeps happening, tell your administrator."))


def artis_unavailable(t: L10n) -> Reply:
    return Reply(t._("artis.net is not answering right now. Please try again in a few minutes."))


def busy(t: L10n) -> Reply:
    return Reply(t._("I am still working on your previous request. Please try again in a "
                     "moment."))


def send_again(t: L10n) -> Reply:
    """After a crash, for a message that could not be kept (a password or PIN)."""
    return Reply(t._("Sorry, I restarted while reading your last message and could not keep "
                     "it (I never store a password or PIN). Please send it again."))


def flow_cancelled(t: L10n) -> Reply:
    return Reply(t._("Cancelled."))


def nothing_to_cancel(t: L10n) -> Reply:
    return Reply(t._("There is nothing to cancel."))


def step_expects(t: L10n, accepts: Set[Kind]) -> Reply:
    """A message of a kind the current step does not take (a voice note where a PIN is due)."""
    names = {
        Kind.TEXT: t._("typed text"),
        Kind.VOICE: t._("a voice note"),
        Kind.LOCATION: t._("a location"),
        Kind.CONTACT: t._("a contact card"),
    }
    wanted = t.either([names[kind] for kind in Kind if kind in accepts])
    return Reply(t._("At this step I need {wanted}. /annuler to stop.", wanted=wanted))
