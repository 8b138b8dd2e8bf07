"""Hardening of the door (issue #8): brute force, lockout abuse, secrets typed at the wrong
moment, a locked or slow artis.net, groups and channels, the terminal demo.

Each test drives the real Application on the fake Bot API and the demo artis.net, and
asserts what the rep sees.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bot.services import pairing as pairing_service
from integrations.fake_bot_api import BOT_USER, SimUser
from tests.harness import BotHarness, new_user
from tests.test_terminal_demo import demo_env, start_demo

ROOT = Path(__file__).resolve().parent.parent
UNLOCKED = "🔓 Session déverrouillée."


async def _all_store_text(bot: BotHarness) -> str:
    store = bot.services.store
    keys = [key async for key in store.scan("")]
    values = [await store.get(key) or "" for key in keys]
    return "\n".join(keys + values)


async def _make_idle(bot: BotHarness, user_id: int) -> None:
    session = await bot.services.sessions.load(user_id, user_id, "fr")
    assert session.link is not None
    await bot.services.sessions.save_link(
        session, session.link.model_copy(update={"last_seen": time.time() - 9 * 3600}))


async def _link(bot: BotHarness, user_id: int) -> Any:
    return (await bot.services.sessions.load(user_id, user_id, "fr")).link


def _deleted(bot: BotHarness, update: dict[str, Any]) -> bool:
    message = update["message"]
    return (message["chat"]["id"], message["message_id"]) in bot.api.deleted


# -- 1. PIN brute force -------------------------------------------------------------------------


async def test_five_wrong_pins_drop_the_pin_and_the_session_and_ask_for_the_password(
        bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    await bot.say(user, "/pin")
    await bot.say(user, "2468")
    await _make_idle(bot, user.id)
    [locked] = await bot.press(user, "help:reload")
    assert "Envoyez votre code PIN" in locked

    answers = [(await bot.say(user, f"{1000 + i}"))[0] for i in range(5)]
    assert "Code PIN erroné. Il reste 4 essais" in answers[0]
    assert "Il reste 1 essai," in answers[3]
    assert "Trop de codes PIN erronés" in answers[4] and "mot de passe artis.net" in answers[4]
    link = await _link(bot, user.id)
    assert link.pin_hash is None and link.artis_token is None and link.locked

    # the right PIN no longer unlocks: it is taken as a (wrong) password now
    [refused] = await bot.say(user, "2468")
    assert "Mot de passe erroné" in refused
    texts = await bot.say(user, "demo")
    assert texts[0] == UNLOCKED and "Configuration rechargée" in texts[1]


async def test_a_right_pin_resets_the_count_of_wrong_ones(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    await bot.say(user, "/pin")
    await bot.say(user, "2468")
    for _ in range(2):
        await _make_idle(bot, user.id)
        await bot.press(user, "help:reload")
        for wrong in ("1111", "2222", "3333", "4444"):
            await bot.say(user, wrong)
        assert (await bot.say(user, "2468"))[0] == UNLOCKED
    assert (await _link(bot, user.id)).pin_hash is not None


async def test_scrypt_runs_off_the_event_loop(bot: BotHarness,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[int] = []
    real_scrypt = hashlib.scrypt

    def spy(password: bytes, **kwargs: Any) -> bytes:
        if password == b"2468":  # the demo artis.net hashes its passwords with scrypt too
            threads.append(threading.get_ident())
        return real_scrypt(password, **kwargs)

    monkeypatch.setattr(pairing_service.hashlib, "scrypt", spy)
    user = new_user()
    await bot.pair(user)
    await bot.say(user, "/pin")
    await bot.say(user, "2468")
    await _make_idle(bot, user.id)
    await bot.press(user, "help:reload")
    assert (await bot.say(user, "2468"))[0] == UNLOCKED
    assert len(threads) == 2  # hashing the new PIN, checking it
    assert threading.get_ident() not in threads


# -- 3. Lockout abuse ---------------------------------------------------------------------------


async def test_a_stranger_with_a_leaked_link_cannot_lock_the_rep_out_of_unlocking(
        bot: BotHarness) -> None:
    rep, stranger = new_user("Camille"), new_user("Mallory")
    await bot.pair(rep)
    await _make_idle(bot, rep.id)
    leaked = await bot.services.pairing.invite("demo.commercial")
    await bot.say(stranger, f"/start {leaked.token}")
    tries = [(await bot.say(stranger, f"guess{i}"))[0] for i in range(5)]
    assert "bloqué" in tries[4]  # pairing of the login is locked for the stranger...

    [locked] = await bot.press(rep, "help:reload")
    assert "session est verrouillée" in locked
    texts = await bot.say(rep, "demo")  # ...the rep unlocks their own chat all the same
    assert texts[0] == UNLOCKED and "Configuration rechargée" in texts[1]


async def test_wrong_unlock_passwords_count_per_chat(bot: BotHarness) -> None:
    rep = new_user()
    await bot.pair(rep)
    await _make_idle(bot, rep.id)
    await bot.press(rep, "help:reload")
    tries = [(await bot.say(rep, f"wrong{i}"))[0] for i in range(5)]
    assert "Il reste 4 essais avant le blocage du déverrouillage" in tries[0]
    assert "le déverrouillage est bloqué dans cette conversation" in tries[4]
    await bot.press(rep, "help:reload")
    [still] = await bot.say(rep, "demo")
    assert "bloqué" in still
    # the login itself is not locked: pairing through a new link still works
    assert await bot.services.pairing.lockout_minutes("demo.commercial") == 0


async def test_pairing_through_a_link_keeps_counting_per_login(bot: BotHarness) -> None:
    """Five Telegram accounts with one try each lock pairing as one account with five."""
    answers = []
    for i in range(5):
        invite = await bot.services.pairing.invite("demo.commercial")
        user = new_user()
        await bot.say(user, f"/start {invite.token}")
        answers.append((await bot.say(user, f"guess{i}"))[0])
    assert "Il reste 1 essai " in answers[3] and "bloqué" in answers[4]


async def test_a_new_pairing_link_revokes_the_earlier_ones(bot: BotHarness) -> None:
    user = new_user()
    first = await bot.services.pairing.invite("demo.commercial")
    second = await bot.services.pairing.invite("demo.commercial")
    other_rep = await bot.services.pairing.invite("demo.manager")
    [refused] = await bot.say(user, f"/start {first.token}")
    assert "n'est pas valable" in refused
    [ask] = await bot.say(user, f"/start {second.token}")
    assert "mot de passe" in ask
    [ask_manager] = await bot.say(new_user(), f"/start {other_rep.token}")
    assert "mot de passe" in ask_manager  # another rep's link is untouched


async def test_links_issued_at_once_for_a_rep_leave_one_valid(bot: BotHarness) -> None:
    """A double-click on "new QR code" must not leave two valid links."""
    invites = await asyncio.gather(*(bot.services.pairing.invite("demo.commercial")
                                     for _ in range(4)))
    valid = [invite for invite in invites
             if "mot de passe" in (await bot.say(new_user(), f"/start {invite.token}"))[0]]
    assert len(valid) == 1


# -- 5. A secret typed at the wrong moment ------------------------------------------------------


async def test_text_typed_while_locked_is_deleted_never_kept_and_asked_for_again(
        bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    await _make_idle(bot, user.id)
    typed = bot.api.text_update(user, "Tr0ub4dor&3-typed-first")  # the password, too early
    [locked] = await bot.send(typed)
    assert _deleted(bot, typed)
    assert "session est verrouillée" in locked and "J'ai supprimé le message" in locked
    assert "Tr0ub4dor" not in await _all_store_text(bot)

    await bot.say(user, "/annuler")  # out of the unlock step, still locked
    again = bot.api.text_update(user, "Tr0ub4dor&3-again")
    [locked_again] = await bot.send(again)
    assert _deleted(bot, again) and "J'ai supprimé le message" in locked_again
    assert "Tr0ub4dor" not in await _all_store_text(bot)

    texts = await bot.say(user, "demo")
    assert texts[0] == UNLOCKED
    assert "n'a pas été conservé" in texts[1] and "renvoyez-le" in texts[1]
    assert len(texts) == 2  # nothing replayed as a request


async def test_a_text_edited_while_locked_is_deleted_too(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    sent = bot.api.text_update(user, "rendez-vous demain")
    await bot.send(sent)
    await _make_idle(bot, user.id)
    edited = {"update_id": bot.api.next_update_id(),
              "edited_message": {**sent["message"], "text": "Tr0ub4dor&3-edited",
                                 "edit_date": int(time.time())}}
    await bot.send(edited)
    assert "J'ai supprimé le message" in bot.api.texts(user.id)[-1]
    assert (user.id, sent["message"]["message_id"]) in bot.api.deleted
    assert "Tr0ub4dor" not in await _all_store_text(bot)


async def test_an_unknown_slash_text_while_locked_is_treated_as_typed_text(
        bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    await _make_idle(bot, user.id)
    slashed = bot.api.text_update(user, "/Pa55word")
    await bot.send(slashed)
    assert _deleted(bot, slashed) and "Pa55word" not in await _all_store_text(bot)


async def test_commands_and_voice_notes_made_while_locked_are_kept_by_reference(
        bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    await _make_idle(bot, user.id)
    command = bot.api.text_update(user, "/pin")
    await bot.send(command)
    assert not _deleted(bot, command)
    texts = await bot.say(user, "demo")
    assert texts[0] == UNLOCKED and "code PIN" in texts[1]  # /pin carried out
    await bot.say(user, "/annuler")

    await _make_idle(bot, user.id)
    voice = {"file_id": "voice-kept-1", "file_unique_id": "vk1", "duration": 7}
    await bot.send(bot.api.message_update(user, voice=voice, caption="caption-not-kept"))
    stored = await _all_store_text(bot)
    assert "voice-kept-1" in stored and "caption-not-kept" not in stored
    texts = await bot.say(user, "demo")
    assert texts[0] == UNLOCKED
    # The voice note was carried out: on its own, it asks which action it is a report for.
    assert "Pour quelle action est cette note vocale" in texts[1]

    await _make_idle(bot, user.id)
    await bot.send(bot.api.message_update(user, location={"latitude": 48.8566,
                                                         "longitude": 2.3522}))
    assert "48.8566" in await _all_store_text(bot)


@pytest.mark.parametrize("stage", ["pairing", "unlocking"])
async def test_a_slash_password_at_the_password_step_is_deleted_and_used_as_the_password(
        bot: BotHarness, monkeypatch: pytest.MonkeyPatch, stage: str) -> None:
    tried: list[str] = []
    real_login = bot.services.artis.login

    async def spy(login: str, password: str) -> Any:
        tried.append(password)
        return await real_login(login, password)

    user = new_user()
    if stage == "pairing":
        invite = await bot.services.pairing.invite("demo.commercial")
        await bot.say(user, f"/start {invite.token}")
    else:
        await bot.pair(user)
        await _make_idle(bot, user.id)
        await bot.press(user, "help:reload")
    monkeypatch.setattr(bot.services.artis, "login", spy)
    secret = bot.api.text_update(user, "/Pa55word")
    [answer] = await bot.send(secret)
    assert _deleted(bot, secret)
    assert tried == ["/Pa55word"]
    assert "Mot de passe erroné" in answer


# -- 8. A locked artis.net account --------------------------------------------------------------


async def test_a_locked_artis_account_is_explained_and_ends_the_flow(
        bot: BotHarness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    user = new_user("Chloé")
    [text] = await bot.pair(user, "demo.locked")
    assert "demo.locked" in text and "verrouillé dans artis.net" in text
    assert "administrateur artis.net" in text
    assert "quelque chose" not in text and "problème" not in text
    [after] = await bot.say(user, "demo")  # the flow ended: no longer a password step
    assert "pas encore appairé" in after
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info]


# -- 9. A slow artis.net at login ---------------------------------------------------------------


async def test_a_slow_login_sends_the_password_once_shows_typing_and_says_so(
        bot: BotHarness, artis: Any) -> None:
    user = new_user()
    invite = await bot.services.pairing.invite("demo.commercial")
    await bot.say(user, f"/start {invite.token}")
    artis.clear_faults()
    artis.inject_fault(status=None, delay=2.5, count=10, path_prefix="/auth/login")
    [text] = await bot.say(user, "demo")  # the client's read timeout is 2 s here
    assert artis.request_count("/auth/login") == 1  # a read timeout is not retried
    assert "artis.net ne répond pas" in text and "renvoyez-le" in text
    actions = bot.api.sent(user.id, "sendChatAction")
    assert actions and actions[0].params["action"] == "typing"
    artis.clear_faults()
    [home] = await bot.say(user, "demo")  # still at the password step
    assert "Appairage réussi" in home


async def test_a_login_refused_with_503_is_not_sent_again(bot: BotHarness, artis: Any) -> None:
    user = new_user()
    invite = await bot.services.pairing.invite("demo.commercial")
    await bot.say(user, f"/start {invite.token}")
    artis.clear_faults()
    artis.inject_fault(status=503, count=10, path_prefix="/auth/login")
    [text] = await bot.say(user, "demo")
    assert artis.request_count("/auth/login") == 1
    assert "artis.net ne répond pas" in text


async def test_an_interactive_step_has_an_overall_deadline(bot: BotHarness, artis: Any) -> None:
    bot.services.pairing.deadline = 1.0
    user = new_user()
    invite = await bot.services.pairing.invite("demo.commercial")
    await bot.say(user, f"/start {invite.token}")
    artis.clear_faults()
    # slower than the deadline, faster than the client's 2 s read timeout: without the
    # deadline this login would succeed after 1.8 s
    artis.inject_fault(status=None, delay=1.8, count=1, path_prefix="/auth/login")
    [text] = await bot.say(user, "demo")
    assert "artis.net n'a pas répondu en 1 seconde" in text


# -- 12. Groups and channels --------------------------------------------------------------------

GROUP = {"id": -100777, "type": "supergroup", "title": "Équipe IDF"}


def _group_message(bot: BotHarness, user: SimUser, text: str,
                   entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    update = bot.api.text_update(user, text)
    update["message"]["chat"] = GROUP
    if entities is not None:
        update["message"]["entities"] = entities
    return update


def _group_texts(bot: BotHarness) -> list[str]:
    return [c.params["text"] for c in bot.api.sent(GROUP["id"], "sendMessage")]


async def test_in_a_group_only_commands_and_mentions_get_an_answer(bot: BotHarness) -> None:
    user = new_user()
    await bot.send(_group_message(bot, user, "bonjour à tous"))
    await bot.send(_group_message(bot, user, "/aide@other_bot"))
    assert _group_texts(bot) == []
    await bot.send(_group_message(bot, user, "/aide"))
    await bot.send(_group_message(bot, user, "/aide@artis_crm_demo_bot"))
    mention = "@artis_crm_demo_bot tu es là ?"
    await bot.send(_group_message(bot, user, mention,
                                  [{"type": "mention", "offset": 0, "length": 19}]))
    texts = _group_texts(bot)
    assert len(texts) == 3 and all("conversation privée" in text for text in texts)


async def test_channel_posts_and_membership_changes_get_nothing(bot: BotHarness) -> None:
    user = new_user()
    channel = {"id": -100888, "type": "channel", "title": "Annonces"}
    await bot.send({"update_id": bot.api.next_update_id(), "channel_post": {
        "message_id": 1, "date": int(time.time()), "chat": channel, "text": "/aide"}})
    joined = _group_message(bot, user, "")
    joined["message"].pop("text")
    joined["message"]["new_chat_members"] = [new_user("Léa").as_json()]
    await bot.send(joined)
    assert bot.api.sent(channel["id"]) == [] and _group_texts(bot) == []


async def test_added_to_a_group_it_says_why_once_and_leaves(bot: BotHarness) -> None:
    user = new_user()
    bot_member = {**BOT_USER}

    def membership(old: str, new: str) -> dict[str, Any]:
        return {"update_id": bot.api.next_update_id(), "my_chat_member": {
            "chat": GROUP, "from": user.as_json(), "date": int(time.time()),
            "old_chat_member": {"user": bot_member, "status": old},
            "new_chat_member": {"user": bot_member, "status": new}}}

    await bot.send(membership("left", "member"))
    [notice] = _group_texts(bot)
    assert "conversation privée" in notice and "@artis_crm_demo_bot" in notice
    assert bot.api.left_chats == [GROUP["id"]]
    await bot.send(membership("member", "left"))  # the bot's own leaving: nothing more
    assert len(_group_texts(bot)) == 1


# -- 14. The terminal demo: a secret step before button numbers ----------------------------------


def test_the_terminal_demo_takes_an_all_digit_pin_as_the_pin(tmp_path: Path) -> None:
    demo, link = start_demo(tmp_path, demo_env(tmp_path))
    # /aide shows the button [1]; the PIN that follows /pin must not press button 1
    script = [link, "demo", "/aide", "/pin", "1", "1357", ":quit"]
    out, err = demo.communicate("\n".join(script) + "\n", timeout=60)
    assert demo.returncode == 0, err
    assert "[1] 🔄 Recharger la configuration" in out
    assert "Configuration rechargée" not in out  # "1" was not a button press...
    assert "Un code PIN comporte 4 à 8 chiffres" in out  # ...but a (too short) PIN
    assert "Code PIN enregistré" in out
    assert "vous › ••••\n" in out and "vous › 1357\n" not in out

