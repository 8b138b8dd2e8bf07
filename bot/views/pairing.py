"""What a rep reads while pairing, logging in, unlocking and logging out."""

from __future__ import annotations

from telegram import InlineKeyboardButton

from bot.i18n import L10n
from bot.services.prerequisites import Missing
from bot.services.sso import SSO_STATE_TTL
from bot.views import Reply, esc, keyboard
from integrations.artis.models import UOGroupType, User

ADMIN_PATH_LICENCES = (
    "Paramétrage › Menus et habilitations › Gérer les comptes d'accès › Type licence")


def ask_password(t: L10n, display_name: str, sso_url: str | None = None) -> Reply:
    text = t._("Hello {name}! To pair this Telegram account with artis.net, send me your "
               "artis.net password (the one you use in your browser).\n\n"
               "🔒 I delete your message as soon as I have read it, and I never keep your "
               "password. /cancel to stop.", name=esc(display_name))
    markup = None
    if sso_url:
        minutes = SSO_STATE_TTL // 60
        text += "\n\n" + t.ngettext(
            "Your company uses single sign-on: you can also sign in with the button below "
            "(it works once, for {n} minute).",
            "Your company uses single sign-on: you can also sign in with the button below "
            "(it works once, for {n} minutes).", minutes)
        markup = keyboard([InlineKeyboardButton(t._("Sign in with SSO"), url=sso_url)])
    return Reply(text, markup)


def invalid_link(t: L10n) -> Reply:
    return Reply(t._("This pairing link is not valid. Links work once and only for a short "
                     "time: ask your manager or administrator for a new QR code."))


def wrong_password(t: L10n, attempts_left: int, *, unlocking: bool = False) -> Reply:
    if unlocking:
        return Reply(t.ngettext(
            "Wrong password. {n} attempt left before unlocking is blocked for 15 minutes.",
            "Wrong password. {n} attempts left before unlocking is blocked for 15 minutes.",
            attempts_left))
    return Reply(t.ngettext(
        "Wrong password. {n} attempt left before pairing is locked for 15 minutes.",
        "Wrong password. {n} attempts left before pairing is locked for 15 minutes.",
        attempts_left))


def locked_out(t: L10n, minutes: int, *, unlocking: bool = False) -> Reply:
    if unlocking:
        return Reply(t.ngettext(
            "Too many wrong passwords: unlocking is blocked in this chat. Try again in {n} "
            "minute.",
            "Too many wrong passwords: unlocking is blocked in this chat. Try again in {n} "
            "minutes.", minutes))
    return Reply(t.ngettext(
        "Too many wrong passwords: pairing of this account is locked. Try again in {n} minute.",
        "Too many wrong passwords: pairing of this account is locked. Try again in {n} minutes.",
        minutes))


def account_locked_at_artis(t: L10n, login: str) -> Reply:
    return Reply(t._("🔒 Your artis.net account ({login}) is locked in artis.net itself, so I "
                     "cannot log you in. Only your artis.net administrator can unlock it: ask "
                     "them, then try again.", login=esc(login)))


def no_answer(t: L10n, seconds: int | None) -> Reply:
    if seconds is None:
        return Reply(t._("artis.net is not answering right now, so I could not check it. "
                         "Nothing was kept: send it again in a few minutes."))
    return Reply(t.ngettext(
        "artis.net did not answer within {n} second, so I could not check it. Nothing was "
        "kept: send it again in a few minutes.",
        "artis.net did not answer within {n} seconds, so I could not check it. Nothing was "
        "kept: send it again in a few minutes.", seconds))


def manager_lockout_notice(t: L10n, rep_name: str, minutes: int) -> Reply:
    return Reply(t._("⚠️ Five wrong passwords in a row were typed to pair the artis.net "
                     "account of {name} with Telegram. Pairing of that account is locked for "
                     "{minutes} minutes. If it was not them, tell your administrator.",
                     name=esc(rep_name), minutes=minutes))


def missing_prerequisites(t: L10n, user: User, missing: list[Missing]) -> Reply:
    lines = [t._("Your artis.net account ({login}) cannot use the CRM assistant yet:",
                 login=esc(user.login)), ""]
    for item in missing:
        lines.append("• " + _missing_line(t, item))
    lines += ["", t._("Ask your artis.net administrator to make these changes, then scan your "
                      "QR code again.")]
    return Reply("\n".join(lines))


def _missing_line(t: L10n, item: Missing) -> str:
    if item is Missing.CRM_LICENCE:
        return t._("the <b>CRM</b> licence is missing. The administrator adds it in {path}.",
                   path=f"<i>{ADMIN_PATH_LICENCES}</i>")
    if item is Missing.SMARTPHONE_LICENCE:
        return t._("the <b>Smartphone</b> licence (PDA) is missing. The administrator adds it "
                   "in {path}.", path=f"<i>{ADMIN_PATH_LICENCES}</i>")
    if item is Missing.COMMERCIAL_MISSION:
        return t._("the <b>Commercial</b> mission is missing. The administrator ticks it on "
                   "your collaborator record (Organisation interne › Collaborateurs › Missions).")
    if item is Missing.COMMERCE_UNIT:
        return t._("you are not a member of an organisational unit of type <b>Commerce</b>. "
                   "The administrator adds you to one in Organisation interne › Unités "
                   "organisationnelles (group type “Commerce”).")
    return t._("your artis.net account is inactive. The administrator must reactivate it.")


def home(t: L10n, user: User) -> Reply:
    units = ", ".join(esc(unit.name) for unit in user.org_units
                      if unit.group_type == UOGroupType.COMMERCE)
    lines = [t._("✅ Paired! Welcome, {name}.", name=esc(user.display_name))]
    if units:
        lines.append(t._("Unit: {units}", units=units))
    if user.heads_org_units:
        lines.append(t._("You head a sales team: you will receive its daily planning digest."))
    lines += ["", t._("I lock your session after a long idle time, like the app does; your "
                      "password unlocks it. /pin lets you choose a shorter PIN code instead."),
              t._("/help shows everything I can do.")]
    return Reply("\n".join(lines))


def session_locked(t: L10n, *, with_pin: bool, text_deleted: bool = False) -> Reply:
    if with_pin:
        text = t._("🔒 Your session is locked. Send your PIN code to unlock it "
                   "(or /password to use your artis.net password).")
    else:
        text = t._("🔒 Your session is locked. Send your artis.net password to unlock it; "
                   "I delete the message right away.")
    if text_deleted:
        text += "\n\n" + (
            t._("I deleted the message you just sent, in case it was your PIN code: if it was, "
                "send it now. Anything else, send it again once unlocked.") if with_pin else
            t._("I deleted the message you just sent, in case it was your password: if it was, "
                "send it now. Anything else, send it again once unlocked."))
    return Reply(text)


def send_text_again(t: L10n) -> Reply:
    return Reply(t._("The message you sent while the session was locked was not kept (it might "
                     "have been your password): please send it again."))


def unlocked(t: L10n) -> Reply:
    return Reply(t._("🔓 Unlocked."))


def wrong_pin(t: L10n, attempts_left: int) -> Reply:
    return Reply(t.ngettext(
        "Wrong PIN code. {n} attempt left, then only your password will unlock. Or send "
        "/password to use your password now.",
        "Wrong PIN code. {n} attempts left, then only your password will unlock. Or send "
        "/password to use your password now.", attempts_left))


def pin_revoked(t: L10n) -> Reply:
    return Reply(t._("Too many wrong PIN codes: I removed your PIN code and closed your "
                     "artis.net session. Send your artis.net password to unlock (I delete the "
                     "message right away); /pin then lets you choose a new PIN code."))


def pin_needs_password(t: L10n) -> Reply:
    return Reply(t._("Your artis.net session has expired: please send your artis.net password "
                     "this time."))


def ask_new_pin(t: L10n) -> Reply:
    return Reply(t._("Choose a PIN code of 4 to 8 digits and send it to me (I delete the "
                     "message right away). /cancel to keep using your password."))


def bad_pin_format(t: L10n) -> Reply:
    return Reply(t._("A PIN code is 4 to 8 digits. Try again, or /cancel."))


def pin_saved(t: L10n) -> Reply:
    return Reply(t._("PIN code saved: it will unlock your session from now on."))


def logged_out(t: L10n) -> Reply:
    return Reply(t._("You are logged out and this Telegram account is no longer paired. "
                     "Scan a new QR code to pair it again."))


def not_logged_in(t: L10n) -> Reply:
    return Reply(t._("This Telegram account is not paired: there is nothing to log out from."))


def already_paired(t: L10n, display_name: str) -> Reply:
    return Reply(t._("You are already paired as {name}. /help shows what I can do; /logout "
                     "unpairs this account.", name=esc(display_name)))


def reloaded(t: L10n, user: User, missing: list[Missing]) -> Reply:
    if missing:
        return missing_prerequisites(t, user, missing)
    units = ", ".join(esc(unit.name) for unit in user.org_units) or "—"
    licences = ", ".join(str(licence.value) for licence in user.licences)
    return Reply(t._("🔄 Configuration reloaded from artis.net.\nLicences: {licences}\n"
                     "Units: {units}", licences=esc(licences), units=units))
