"""Greeting, help, language, and polite answers to whatever a user throws at the bot."""

from __future__ import annotations

import logging

from integrations.fake_bot_api import BotApiError
from tests.harness import BotHarness, new_user


async def test_unpaired_user_is_greeted_in_french_and_told_how_to_pair(bot: BotHarness) -> None:
    user = new_user("Camille")
    [text] = await bot.say(user, "/start")
    assert "Bonjour Camille" in text
    assert "À propos › Smartphone" in text


async def test_english_telegram_user_is_answered_in_english(bot: BotHarness) -> None:
    [text] = await bot.say(new_user("Sam", language_code="en-GB"), "/start")
    assert text.startswith("Hello Sam!")


async def test_unpaired_user_writing_anything_gets_how_to_pair(bot: BotHarness) -> None:
    user = new_user()
    for message in ("bonjour", "/planning", "demain"):
        [text] = await bot.say(user, message)
        assert "pas encore appairé" in text


async def test_help_lists_what_the_bot_does(bot: BotHarness) -> None:
    [text] = await bot.say(new_user(), "/aide")
    assert "Ce que je sais faire" in text and "/lang" in text


async def test_language_choice_is_kept_across_restarts(bot: BotHarness, start_bot) -> None:
    user = new_user()
    [menu] = await bot.say(user, "/lang")
    assert "Choisissez votre langue" in menu
    [done] = await bot.press(user, "lang:en")
    assert done == "Done: I will speak English with you."
    async with start_bot() as restarted:
        [text] = await restarted.say(user, "/help")
    assert "What I can do" in text


async def test_command_menu_is_published_per_language(bot: BotHarness) -> None:
    keys = set(bot.api.commands)
    assert {"default::fr", "default::en"} <= keys
    descriptions = {c["description"] for c in bot.api.commands["default::fr"]}
    assert "Choisir la langue" in descriptions


async def test_bot_starts_even_if_the_server_refuses_the_command_menu(
        start_bot, caplog) -> None:
    from bot.runtime import open_runtime
    from integrations.fake_bot_api import FakeBotApi

    api = FakeBotApi()
    api.fail_methods["setMyCommands"] = BotApiError(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
    caplog.set_level(logging.WARNING)
    async with start_bot() as harness:
        settings = harness.services.settings
    async with open_runtime(settings, transport=api.transport(), token=api.token) as runtime:
        assert runtime.application.running is False  # initialized, not crashed
    assert any("refused the command menu" in r.getMessage() for r in caplog.records)


async def test_unknown_command_gets_a_polite_answer_when_paired(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    [text] = await bot.say(user, "/xyzzy")
    assert "Je ne connais pas la commande /xyzzy" in text


async def test_garbage_text_gets_a_polite_answer(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    [text] = await bot.say(user, "qsdkjqsdlkj ^^ §§ 💥")
    assert "je n'ai pas compris" in text


async def test_ten_thousand_characters_are_refused_politely(bot: BotHarness) -> None:
    [text] = await bot.say(new_user(), "a" * 10_000)
    assert "trop long" in text and "4\u202f096" in text  # French narrow no-break space


async def test_unsupported_message_kinds_get_an_answer(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    sticker = {"file_id": "x", "file_unique_id": "x", "width": 1, "height": 1,
               "is_animated": False, "is_video": False, "type": "regular"}
    texts = await bot.send(bot.api.message_update(user, sticker=sticker))
    assert texts and "ce type de message" in texts[0]


async def test_stale_forged_and_malformed_buttons_get_a_polite_toast(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    for data in ("zz:1", "lang:xx", "lang:", "lang:fr:extra", "help", "💥" * 10):
        await bot.press(user, data)
    toasts = bot.toasts()
    assert len(toasts) == 6
    assert all("n'est plus valable" in toast for toast in toasts)


async def test_a_duplicate_update_is_handled_once(bot: BotHarness) -> None:
    user = new_user()
    update = bot.api.text_update(user, "/aide")
    first = await bot.send(update)
    again = await bot.send(update)
    assert len(first) == 1 and again == []


async def test_an_internal_failure_gets_an_apology_not_silence(bot: BotHarness, monkeypatch,
                                                               caplog) -> None:
    user = new_user()
    await bot.pair(user)

    async def broken(session):
        raise RuntimeError("boom")

    monkeypatch.setattr(bot.services.pairing, "reload", broken)
    [text] = await bot.press(user, "help:reload")
    assert "un problème est survenu" in text
    assert any("unhandled error" in r.getMessage() for r in caplog.records)


async def test_artis_down_is_explained(bot: BotHarness, artis) -> None:
    user = new_user()
    await bot.pair(user)
    artis.inject_fault(status=503, count=10, path_prefix="/me")
    [text] = await bot.press(user, "help:reload")
    assert "artis.net ne répond pas" in text


async def test_store_outage_gets_an_apology_not_silence(bot: BotHarness, backend: str,
                                                        monkeypatch, caplog) -> None:
    import sqlite3

    import redis.exceptions

    error = (redis.exceptions.ConnectionError("Connection refused") if backend == "redis"
             else sqlite3.OperationalError("disk I/O error"))

    async def down(*args, **kwargs):
        raise error

    for operation in ("add", "enter"):  # the update's first store call fails, whichever it is
        monkeypatch.setattr(bot.services.store, operation, down)
    [text] = await bot.say(new_user(), "/aide")
    assert "un problème est survenu" in text
    assert any("store unavailable" in r.getMessage() for r in caplog.records)


async def test_unexpected_input_is_answered_in_the_users_language(bot: BotHarness) -> None:
    user = new_user("Sam", language_code="en")
    [unpaired] = await bot.say(user, "hello")
    assert unpaired.startswith("This Telegram account is not paired with artis.net yet.")
    [too_long] = await bot.say(user, "x" * 10_000)
    assert "more than 4,096 characters" in too_long
    await bot.pair(user)
    [unknown] = await bot.say(user, "/xyzzy")
    assert unknown == "I don't know the command /xyzzy. /help lists what I can do."


async def test_help_lists_reports_voice_notes_and_the_new_commands(bot: BotHarness) -> None:
    [text] = await bot.say(new_user(), "/help")
    for what in ("✍️ Compte rendu", "note vocale", "/envois", "/reglages", "/digest"):
        assert what in text
    assert "prochaines versions" not in text
