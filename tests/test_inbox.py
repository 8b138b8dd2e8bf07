"""Updates written down before Telegram forgets them, and finished after a crash.

In-process, on both stores: a crash is played by recording an update (what the poller
or the webhook does before acknowledging it) and marking it taken (what the pipeline
does when it starts), then never finishing it. ``tests/test_crash_recovery.py`` does
the same with a real process killed by SIGKILL.
"""

from __future__ import annotations

import json
import time

from telegram import Update

from bot import inbox as inbox_module
from bot import keys
from bot.inbound import deliver
from bot.inbox import Inbox
from bot.pipeline import ChatPipeline
from bot.recovery import Sweeper
from bot.storage import RedisStore
from tests.harness import BotHarness, new_user


async def crash_during(bot: BotHarness, update: dict) -> None:
    """The update was recorded and taken, then its process died."""
    store = bot.services.store
    await bot.services.inbox.record([update])
    await store.add(keys.seen(update["update_id"]), "1", 60)


async def sweep(bot: BotHarness) -> list[str]:
    """One sweep of the inbox; the texts the bot then sent."""
    before = len(bot.api.calls)
    sweeper = Sweeper(bot.runtime.application, bot.services, after=0)
    await sweeper.sweep()
    queue = bot.runtime.application.update_queue
    while not queue.empty():
        await deliver(bot.runtime.application, queue.get_nowait())
    return [c.params.get("text", "") for c in bot.api.calls[before:]
            if c.method == "sendMessage"]


async def test_an_unfinished_request_is_finished_once_by_the_sweeper(bot: BotHarness) -> None:
    user = new_user()
    update = bot.api.text_update(user, "/aide")
    await crash_during(bot, update)
    [text] = await sweep(bot)
    assert "Ce que je sais faire" in text
    assert await sweep(bot) == []  # finished: never twice
    assert await bot.send(update) == []  # a redelivery by Telegram is dropped


async def test_a_finished_update_is_not_recorded_again_when_redelivered(
        bot: BotHarness) -> None:
    user = new_user()
    update = bot.api.text_update(user, "/aide")
    await bot.services.inbox.record([update])
    assert len(await bot.send(update)) == 1
    await bot.services.inbox.record([update])  # Telegram sends it again (not acknowledged)
    assert await sweep(bot) == []


async def test_the_sweeper_finds_each_orphan_among_finished_updates_and_forgets_the_rest(
        bot: BotHarness, monkeypatch) -> None:
    """What the sweeper reads follows the last seconds' updates: on Redis an index of the
    records, each finished update's id dropped at the next sweep (the store does not grow),
    read a page at a time (a small page here, so that several are needed)."""
    monkeypatch.setattr(inbox_module, "SWEEP_PAGE", 2)
    for _ in range(6):  # handled normally: recorded, then crossed out
        update = bot.api.text_update(new_user(), "/aide")
        await bot.services.inbox.record([update])
        assert len(await bot.send(update)) == 1
    orphans = [bot.api.text_update(new_user(), "/aide") for _ in range(3)]
    for update in orphans:
        await crash_during(bot, update)
    found = await bot.services.inbox.unfinished(older_than=0)
    assert [r.update_id for r in found] == [u["update_id"] for u in orphans]
    texts = await sweep(bot)
    assert len(texts) == 3 and all("Ce que je sais faire" in t for t in texts)
    assert await bot.services.inbox.unfinished(older_than=0) == []
    store = bot.services.store
    if isinstance(store, RedisStore):
        assert await store.client.zcard(store.full_key(keys.inbox_index())) == 0


async def test_a_password_is_never_written_down_and_is_asked_again(bot: BotHarness) -> None:
    user = new_user()
    invite = await bot.services.pairing.invite("demo.commercial")
    await bot.say(user, f"/start {invite.token}")
    update = bot.api.text_update(user, "Secret-Passw0rd!")
    await crash_during(bot, update)
    raw = await bot.services.store.get(keys.inbox(update["update_id"]))
    assert raw is not None and "Secret-Passw0rd!" not in raw
    assert json.loads(raw)["update"] is None
    [again] = await sweep(bot)
    assert "envoyer à nouveau" in again
    [home] = await bot.say(user, "demo")  # still at the password step
    assert "Appairage réussi" in home


async def test_a_locked_reps_first_text_is_not_written_down(bot: BotHarness) -> None:
    """A locked rep often types the password before being asked for it."""
    user = new_user()
    await bot.pair(user)
    async with bot.services.scopes.scope(user.id, user.id) as session:
        await bot.services.pairing.lock(session)
    update = bot.api.text_update(user, "Secret-Passw0rd!")
    await bot.services.inbox.record([update])
    raw = await bot.services.store.get(keys.inbox(update["update_id"]))
    assert raw is not None and "Secret-Passw0rd!" not in raw


async def test_an_update_without_chat_or_user_is_ignored_quietly(
        bot: BotHarness, caplog) -> None:
    import logging

    caplog.set_level(logging.INFO)
    # An update of a kind this PTB does not know (or a poll's state): no chat, no user.
    poll = {"update_id": bot.api.next_update_id(), "some_future_kind": {"id": "x"}}
    before = len(bot.api.calls)
    await deliver(bot.runtime.application, poll)
    assert bot.api.calls[before:] == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


async def test_a_pin_sent_right_after_pin_in_one_batch_is_not_written_down(
        bot: BotHarness) -> None:
    """Both arrive in one getUpdates batch: when it is recorded, /pin has not yet opened
    the PIN step, so the second message's step is unknown — it is kept by kind only."""
    user = new_user()
    await bot.pair(user)
    first, second = bot.api.text_update(user, "/pin"), bot.api.text_update(user, "4821")
    await bot.services.inbox.record([first, second])
    raw = await bot.services.store.get(keys.inbox(second["update_id"]))
    assert raw is not None and "4821" not in raw
    assert "/pin" in (await bot.services.store.get(keys.inbox(first["update_id"])) or "")


async def test_a_pin_sent_while_pin_is_still_being_handled_is_not_written_down(
        bot: BotHarness) -> None:
    """/pin came in the previous batch and is still queued (or being handled) when the
    next batch is recorded: the step "4821" will be read at is not known yet."""
    user = new_user()
    await bot.pair(user)
    app = bot.runtime.application
    pipeline = app.update_processor
    assert isinstance(pipeline, ChatPipeline)
    first, second = bot.api.text_update(user, "/pin"), bot.api.text_update(user, "4821")
    await bot.services.inbox.record([first], busy=pipeline.busy())
    pipeline.expect(Update.de_json(first, app.bot))  # queued, not handled yet
    await bot.services.inbox.record([second], busy=pipeline.busy())
    raw = await bot.services.store.get(keys.inbox(second["update_id"]))
    assert raw is not None and "4821" not in raw
    # Once /pin has been handled, the chat is no longer busy: its step is in the store.
    await deliver(app, Update.de_json(first, app.bot))
    assert user.id not in pipeline.busy()


async def recorded(bot: BotHarness, update: dict) -> str:
    """What the inbox wrote for ``update`` (recorded alone, nothing in flight)."""
    await bot.services.inbox.record([update])
    raw = await bot.services.store.get(keys.inbox(update["update_id"]))
    assert raw is not None
    return raw


async def test_a_reps_text_is_kept_in_full_and_a_button_even_at_a_secret_step(
        bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    assert "bonjour" in await recorded(bot, bot.api.text_update(user, "bonjour"))
    await bot.say(user, "/pin")  # now at the secret step: a button press has no secret
    press = bot.api.callback_update(user, "lang:fr")
    assert json.loads(await recorded(bot, press))["update"] is not None
    assert json.loads(await recorded(bot, bot.api.text_update(user, "4821")))["update"] is None


async def test_a_text_from_a_rep_idle_past_the_lock_is_not_written_down(
        bot: BotHarness) -> None:
    """The lock is not written yet (it is, at the rep's next update): the idle time is
    what says it."""
    user = new_user()
    await bot.pair(user)
    session = await bot.services.sessions.load(user.id, user.id, "fr")
    assert session.link is not None
    await bot.services.sessions.save_link(
        session, session.link.model_copy(update={"last_seen": time.time() - 9 * 3600}))
    raw = await recorded(bot, bot.api.text_update(user, "Secret-Passw0rd!"))
    assert "Secret-Passw0rd!" not in raw


async def test_a_text_is_not_written_down_when_the_reps_link_cannot_be_read(
        bot: BotHarness) -> None:
    """Never kept in doubt: a link that is not what the bot writes counts as locked."""
    user = new_user()
    for bad in ('{"login": "x"}', "not json", '{"login": "x", "display_name": "X", '
                '"is_manager": "maybe"}', '{"login": "x", "display_name": "X", "last_seen": "0"}'):
        await bot.services.store.set(keys.link(user.id), bad)
        raw = await recorded(bot, bot.api.text_update(user, "Secret-Passw0rd!"))
        assert "Secret-Passw0rd!" not in raw, bad


async def test_a_sweep_on_redis_asks_once_however_much_the_store_remembers(
        make_store) -> None:
    """Two days of de-duplication marks live beside the inbox: a sweep (every few seconds,
    in every process) must not walk them."""
    store = await make_store("redis")
    assert isinstance(store, RedisStore)
    await store.client.mset({store.full_key(keys.seen(i)): "1" for i in range(1, 5001)})
    inbox = Inbox(store, idle_lock=3600)
    user = {"id": 5, "is_bot": False, "first_name": "Léa"}
    orphan = {"update_id": 6000, "message": {"message_id": 1, "date": 0, "from": user,
                                             "chat": {"id": 5, "type": "private"},
                                             "text": "/aide"}}
    await inbox.record([orphan])
    calls = 0
    execute = store.client.execute_command

    async def counted(*args, **kwargs):
        nonlocal calls
        calls += 1
        return await execute(*args, **kwargs)

    store.client.execute_command = counted  # type: ignore[method-assign]
    found = await inbox.unfinished(older_than=0)
    assert [r.update_id for r in found] == [6000]
    assert calls == 1
