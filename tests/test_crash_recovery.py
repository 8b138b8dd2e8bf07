"""`kill -9` in the middle of an update, as a real process: nothing is lost.

The bot long-polls a fake Bot API over loopback HTTP that keeps updates until a later
``getUpdates`` acknowledges them, as Telegram does; artis.net (the demo) is made slow so
that the kill lands while the update is being handled. A new process on the same store
finishes what the dead one left, within seconds.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

from bot.runtime import open_services
from bot.settings import Settings
from integrations.fake_bot_api import FakeBotApi, SimUser
from tests.test_entrypoints import _start, _stop, _wait_for, bot_api  # noqa: F401 - fixture

RECOVERY_BUDGET = 30.0  # seconds from the restart to the answer


async def _invite(tmp_path: Path, artis, login: str) -> str:
    settings = Settings(_env_file=None, data_dir=tmp_path, artis_url=artis.url,  # type: ignore[call-arg]
                        artis_service_login="bot.service", artis_service_password="demo")
    async with open_services(settings) as services:
        return (await services.pairing.invite(login)).token


def _deleted(api: FakeBotApi, user: SimUser) -> int:
    return sum(1 for c in api.calls
               if c.method == "deleteMessage" and str(c.params.get("chat_id")) == str(user.id))


async def _scan_the_qr(api: FakeBotApi, user: SimUser, token: str) -> None:
    """/start with the pairing link; the bot asks for the password."""
    api.push_update(api.text_update(user, f"/start {token}"))
    await _wait_for(lambda: any("mot de passe" in t for t in api.texts(user.id)))


async def _kill(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)
    await process.wait()


async def test_a_password_being_checked_when_the_bot_dies_is_asked_again(
        tmp_path: Path, bot_api, artis) -> None:  # noqa: F811 - the fixture
    api, url = bot_api
    user = SimUser(id=9_200_001, first_name="Camille")
    token = await _invite(tmp_path, artis, "demo.commercial")
    process = await _start(tmp_path, url, artis)
    try:
        await _scan_the_qr(api, user, token)
        artis.inject_fault(status=None, delay=20.0, path_prefix="/auth/login")
        api.push_update(api.text_update(user, "demo"))
        await _wait_for(lambda: _deleted(api, user) == 1)  # read, deleted, being checked
        await asyncio.sleep(0.3)
    finally:
        await _kill(process)
    artis.clear_faults()
    answered_before = len(api.texts(user.id))

    restarted = time.monotonic()
    process = await _start(tmp_path, url, artis)
    try:
        await _wait_for(lambda: len(api.texts(user.id)) > answered_before,
                        timeout=RECOVERY_BUDGET)
        took = time.monotonic() - restarted
        [again] = api.texts(user.id)[answered_before:]
        assert "envoyer à nouveau" in again or "renvoyer" in again, again
        print(f"\nchat answered again {took:.1f} s after the restart")
        # The chat is free and still at the password step: the password now pairs.
        api.push_update(api.text_update(user, "demo"))
        await _wait_for(lambda: any("Appairage réussi" in t for t in api.texts(user.id)))
    finally:
        await _stop(process)


async def test_a_request_being_handled_when_the_bot_dies_is_finished_after_a_restart(
        tmp_path: Path, bot_api, artis) -> None:  # noqa: F811 - the fixture
    api, url = bot_api
    user = SimUser(id=9_200_002, first_name="Camille")
    token = await _invite(tmp_path, artis, "demo.commercial")
    process = await _start(tmp_path, url, artis)
    try:
        await _scan_the_qr(api, user, token)
        api.push_update(api.text_update(user, "demo"))
        await _wait_for(lambda: any("Appairage réussi" in t for t in api.texts(user.id)))
        api.push_update(api.text_update(user, "/aide"))
        await _wait_for(lambda: any("Recharger" in str(b) for b in
                                    api.buttons(api.last_bot_message(user.id))))
        # "Recharger la configuration" reads artis.net: slow it, press, kill mid-update.
        artis.inject_fault(status=None, delay=20.0, count=10, path_prefix="/me")
        answered_before = len(api.texts(user.id))
        asked = artis.request_count("/me")
        api.push_update(api.callback_update(user, "help:reload"))
        await _wait_for(lambda: artis.request_count("/me") > asked)  # artis.net is answering
        await asyncio.sleep(0.3)
    finally:
        await _kill(process)
    artis.clear_faults()

    restarted = time.monotonic()
    process = await _start(tmp_path, url, artis)
    try:
        await _wait_for(lambda: len(api.texts(user.id)) > answered_before,
                        timeout=RECOVERY_BUDGET)
        took = time.monotonic() - restarted
        [done] = api.texts(user.id)[answered_before:]
        assert "Configuration rechargée" in done, done
        print(f"\nrequest finished {took:.1f} s after the restart")
    finally:
        await _stop(process)
