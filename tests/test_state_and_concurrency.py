"""Conversation state lives in the store; chats run concurrently, each chat in order."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.harness import TEST_STORE_KEY, BotHarness, new_user

ROOT = Path(__file__).resolve().parent.parent


async def test_a_flow_survives_a_restart_between_two_steps(start_bot) -> None:
    user = new_user()
    async with start_bot() as before:
        invite = await before.services.pairing.invite("demo.commercial")
        [ask] = await before.say(user, f"/start {invite.token}")
        assert "mot de passe" in ask
    async with start_bot() as after:  # a new process: nothing kept in memory
        [home] = await after.say(user, "demo")
        assert "Appairage réussi" in home


@pytest.mark.parametrize("backend", ["redis"], indirect=True)
async def test_two_processes_on_one_redis_continue_each_others_steps(
        bot: BotHarness, bot_settings) -> None:
    """Step 1 in one OS process, step 2 in another: the second sees the first's state."""
    user = new_user()
    invite = await bot.services.pairing.invite("demo.commercial")
    settings = bot_settings().model_dump(mode="json", include={
        "data_dir", "artis_url", "redis_url", "store_namespace", "artis_service_login"})
    settings["artis_service_password"] = "demo"
    settings["store_encryption_key"] = TEST_STORE_KEY  # secrets do not dump

    def run_step(text: str) -> list[str]:
        done = subprocess.run(
            [sys.executable, "-m", "tests.step_process", json.dumps(settings), str(user.id), text],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = await asyncio.to_thread(run_step, f"/start {invite.token}")
    second = await asyncio.to_thread(run_step, "demo")
    assert "mot de passe" in first[0]
    assert "Appairage réussi" in second[0]
    assert await bot.services.pairing.status_of("demo.commercial") == "paired"


async def test_a_slow_artis_call_for_one_rep_does_not_delay_another(
        bot: BotHarness, artis) -> None:
    slow, fast = new_user("Camille"), new_user("Thomas")
    await bot.pair(slow, "demo.commercial")
    await bot.pair(fast, "demo.tdubois")
    artis.inject_fault(status=None, delay=1.5, path_prefix="/me", login="demo.commercial")

    async def timed(user) -> float:
        started = time.perf_counter()
        await bot.press(user, "help:reload")
        return time.perf_counter() - started

    slow_task = asyncio.create_task(timed(slow))
    await asyncio.sleep(0.1)
    fast_time = await timed(fast)
    slow_time = await slow_task
    assert slow_time >= 1.5
    assert fast_time < 0.8, f"the fast rep waited {fast_time:.2f}s behind the slow one"
    assert "Configuration rechargée" in bot.api.texts(fast.id)[-1]


async def test_updates_of_one_chat_are_answered_in_order(bot: BotHarness, artis) -> None:
    user = new_user()
    await bot.pair(user)
    artis.inject_fault(status=None, delay=0.5, path_prefix="/me", login="demo.commercial")
    first = bot.api.callback_update(user, "help:reload")
    second = bot.api.text_update(user, "/aide")
    await asyncio.gather(bot.send(first), bot.send(second))
    texts = bot.api.texts(user.id)
    assert "Configuration rechargée" in texts[-2]
    assert "Ce que je sais faire" in texts[-1]
