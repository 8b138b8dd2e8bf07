"""Pairing, login and access rules, through the real Application (issue #3)."""

from __future__ import annotations

import asyncio
import logging
import re
import time

import pytest

from bot.services.pairing import token_hash
from tests.harness import BotHarness, new_user


async def _all_store_text(bot: BotHarness) -> str:
    store = bot.services.store
    keys = [key async for key in store.scan("")]
    values = [await store.get(key) or "" for key in keys]
    return "\n".join(keys + values)


async def test_scan_password_home(bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    user = new_user("Camille")
    invite = await bot.services.pairing.invite("demo.commercial")
    assert re.fullmatch(r"[A-Za-z0-9_-]{22,64}", invite.token)
    assert invite.link == f"https://t.me/artis_crm_demo_bot?start={invite.token}"

    [ask] = await bot.say(user, f"/start {invite.token}")
    assert "Bonjour Camille Martin" in ask and "mot de passe" in ask

    secret = "demo"
    password_update = bot.api.text_update(user, secret)
    [home] = await bot.send(password_update)
    assert "Appairage réussi" in home and "Camille Martin" in home
    assert "Équipe commerciale Île-de-France" in home
    # the password message was deleted from the chat
    message_id = password_update["message"]["message_id"]
    assert (user.id, message_id) in bot.api.deleted
    # nothing kept the password, nor the raw pairing token
    stored = await _all_store_text(bot)
    assert invite.token not in stored
    assert f"link:{user.id}" in stored
    assert not any(secret == r.getMessage() or f"'{secret}'" in r.getMessage()
                   for r in caplog.records)


@pytest.mark.parametrize(("login", "expected"), [
    ("demo.nolicence", "licence <b>Smartphone</b> (PDA) manque"),
    ("demo.nouo", "type <b>Commerce</b>"),
    ("demo.nomission", "mission <b>Commercial</b> manque"),
])
async def test_missing_prerequisite_is_named_with_the_admin_fix(
        bot: BotHarness, login: str, expected: str) -> None:
    user = new_user()
    [text] = await bot.pair(user, login)
    assert expected in text
    assert "administrateur" in text
    assert "Appairage réussi" not in text
    # nothing else is shown: the user stays unpaired
    [after] = await bot.say(user, "bonjour")
    assert "pas encore appairé" in after


async def test_missing_smartphone_licence_names_the_admin_menu(bot: BotHarness) -> None:
    [text] = await bot.pair(new_user(), "demo.nolicence")
    assert "Gérer les comptes d'accès › Type licence" in text


async def test_replayed_expired_and_unknown_tokens_get_the_same_refusal(bot: BotHarness) -> None:
    first, thief = new_user(), new_user("Mallory")
    invite = await bot.services.pairing.invite("demo.commercial")
    await bot.say(first, f"/start {invite.token}")
    [replayed] = await bot.say(thief, f"/start {invite.token}")

    bot.services.pairing.token_ttl = 0.3
    expiring = await bot.services.pairing.invite("demo.commercial")
    await asyncio.sleep(0.6)
    [expired] = await bot.say(new_user(), f"/start {expiring.token}")
    [unknown] = await bot.say(new_user(), "/start AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
    assert replayed == expired == unknown
    assert "n'est pas valable" in replayed


async def test_token_is_bound_to_the_first_account(bot: BotHarness) -> None:
    rep, other = new_user(), new_user()
    invite = await bot.services.pairing.invite("demo.commercial")
    await bot.say(rep, f"/start {invite.token}")
    [refused] = await bot.say(other, f"/start {invite.token}")
    assert "n'est pas valable" in refused
    [home] = await bot.say(rep, "demo")
    assert "Appairage réussi" in home


async def test_only_the_token_hash_is_stored(bot: BotHarness) -> None:
    invite = await bot.services.pairing.invite("demo.commercial")
    stored = await _all_store_text(bot)
    assert invite.token not in stored
    assert token_hash(invite.token) in stored


async def test_five_wrong_passwords_lock_pairing_and_warn_the_manager(bot: BotHarness) -> None:
    manager, rep = new_user("Nathalie"), new_user("Camille")
    await bot.pair(manager, "demo.manager")
    invite = await bot.services.pairing.invite("demo.commercial")
    await bot.say(rep, f"/start {invite.token}")
    answers = [(await bot.say(rep, f"faux{i}"))[0] for i in range(5)]
    assert "Il reste 4 essais" in answers[0] and "Il reste 1 essai " in answers[3]
    assert "bloqué" in answers[4] and "15 minutes" in answers[4]
    # the manager was told in their own chat
    manager_texts = [c.params["text"] for c in bot.api.sent(manager.id, "sendMessage")]
    assert any("Cinq mots de passe erronés" in t and "Camille Martin" in t
               for t in manager_texts)
    # even the right password is refused while locked, from a new link too
    again = await bot.services.pairing.invite("demo.commercial")
    await bot.say(rep, f"/start {again.token}")
    [still] = await bot.say(rep, "demo")
    assert "bloqué" in still


async def _make_idle(bot: BotHarness, user_id: int) -> None:
    session = await bot.services.sessions.load(user_id, user_id, "fr")
    assert session.link is not None
    await bot.services.sessions.save_link(
        session, session.link.model_copy(update={"last_seen": time.time() - 9 * 3600}))


async def test_idle_session_locks_then_password_unlocks_and_carries_on(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    await _make_idle(bot, user.id)
    [locked] = await bot.press(user, "help:reload")
    assert "session est verrouillée" in locked
    password = bot.api.text_update(user, "demo")
    texts = await bot.send(password)
    assert (user.id, password["message"]["message_id"]) in bot.api.deleted
    assert texts[0] == "🔓 Session déverrouillée."
    assert "Configuration rechargée" in texts[1]  # the request made while locked


async def test_pin_unlocks_a_locked_session(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    [ask] = await bot.say(user, "/pin")
    assert "code PIN" in ask
    pin = bot.api.text_update(user, "2468")
    [saved] = await bot.send(pin)
    assert "Code PIN enregistré" in saved
    assert (user.id, pin["message"]["message_id"]) in bot.api.deleted
    await _make_idle(bot, user.id)
    [locked] = await bot.press(user, "help:reload")
    assert "Envoyez votre code PIN" in locked
    [wrong] = await bot.say(user, "1111")
    assert "Code PIN erroné" in wrong
    texts = await bot.say(user, "2468")
    assert texts[0] == "🔓 Session déverrouillée." and "Configuration rechargée" in texts[1]


async def test_expired_artis_session_asks_for_the_password(bot: BotHarness, artis) -> None:
    user = new_user()
    await bot.pair(user)
    artis.expire_tokens()
    [locked] = await bot.press(user, "help:reload")
    assert "mot de passe artis.net" in locked
    texts = await bot.say(user, "demo")
    assert "Configuration rechargée" in texts[-1]


async def test_logout_unlinks_at_once(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    [bye] = await bot.say(user, "/logout")
    assert "plus appairé" in bye
    await bot.press(user, "help:reload")
    assert "pas encore appairé" in bot.api.texts(user.id)[-1]
    assert await bot.services.pairing.status_of("demo.commercial") == "not_paired"


async def test_reload_configuration_rereads_rights(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    await bot.say(user, "/aide")
    assert "Recharger la configuration" in str(bot.api.sent(user.id)[-1].params["reply_markup"])
    [text] = await bot.press(user, "help:reload")
    assert "Licences : CRM, PDA" in text


def test_every_prerequisite_is_checked_on_the_artis_user() -> None:
    from bot.services.prerequisites import Missing, missing_prerequisites
    from integrations.artis.models import OrgUnit, UOGroupType, User

    bare = User(id="u1", login="x.y", last_name="Y", first_name="X", missions=[], licences=[],
                org_units=[OrgUnit(code="ADV", name="ADV", group_type=UOGroupType.SERVICE)],
                active=False)
    assert missing_prerequisites(bare) == [
        Missing.INACTIVE, Missing.CRM_LICENCE, Missing.SMARTPHONE_LICENCE,
        Missing.COMMERCIAL_MISSION, Missing.COMMERCE_UNIT]


@pytest.mark.parametrize("missing", ["crm_licence", "inactive"])
def test_each_missing_prerequisite_has_its_own_french_explanation(missing: str) -> None:
    from bot.i18n import L10n
    from bot.services.prerequisites import Missing
    from bot.views.pairing import missing_prerequisites
    from integrations.artis.models import User

    user = User(id="u1", login="x.y", last_name="Y", first_name="X")
    text = missing_prerequisites(L10n("fr"), user, [Missing(missing)]).text
    expected = {"crm_licence": "la licence <b>CRM</b> manque",
                "inactive": "compte artis.net est inactif"}[missing]
    assert expected in text


async def test_a_password_never_reaches_the_logs_even_at_debug_level(
        bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    """Through real long polling, where PTB logs whole updates at DEBUG level."""
    caplog.set_level(logging.DEBUG)
    app, api = bot.runtime.application, bot.api
    user = new_user()
    invite = await bot.services.pairing.invite("demo.commercial")
    secret = "Tr0ub4dor-and-3-horses"
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        api.push_update(api.text_update(user, f"/start {invite.token}"))
        api.push_update(api.text_update(user, secret))
        for _ in range(200):
            if any("Mot de passe erroné" in text for text in api.texts(user.id)):
                break
            await asyncio.sleep(0.02)
    finally:
        await app.updater.stop()
        await app.stop()
    assert any("Mot de passe erroné" in text for text in api.texts(user.id))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "getUpdates" in logged or "Application started" in logged, "DEBUG logging was off"
    assert secret not in logged
    assert secret not in await _all_store_text(bot)


async def test_the_bot_refuses_to_work_in_a_group(bot: BotHarness) -> None:
    user = new_user()
    invite = await bot.services.pairing.invite("demo.commercial")
    update = bot.api.text_update(user, f"/start {invite.token}")
    update["message"]["chat"] = {"id": -100123, "type": "supergroup", "title": "Équipe"}
    await bot.send(update)
    [text] = [c.params["text"] for c in bot.api.sent(-100123)]
    assert "conversation privée" in text and "@artis_crm_demo_bot" in text
    # the token was not consumed: the rep can still pair in private
    [ask] = await bot.say(user, f"/start {invite.token}")
    assert "mot de passe" in ask


async def test_pairing_a_new_telegram_account_ends_the_old_pairing(bot: BotHarness) -> None:
    old_phone, new_phone = new_user(), new_user()
    await bot.pair(old_phone)
    [home] = await bot.pair(new_phone)
    assert "Appairage réussi" in home
    [after] = await bot.say(old_phone, "bonjour")
    assert "pas encore appairé" in after
    assert await bot.services.pairing.status_of("demo.commercial") == "paired"


async def test_a_pin_typed_after_the_idle_lock_is_deleted_and_never_kept(
        bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    await bot.say(user, "/pin")
    await _make_idle(bot, user.id)          # the rep comes back hours later...
    pin = bot.api.text_update(user, "97531")
    [locked] = await bot.send(pin)          # ...and sends the PIN they had been asked for
    assert "session est verrouillée" in locked
    assert (user.id, pin["message"]["message_id"]) in bot.api.deleted
    assert "97531" not in await _all_store_text(bot)
    texts = await bot.say(user, "demo")     # unlocking does not replay the secret
    assert texts == ["🔓 Session déverrouillée."]
