"""No secret at rest in clear (issue #8, item 4): the artis.net session token is sealed
in the store, expires, goes at the idle lock when there is no PIN; the embedded store's
files are private; Redis needs a shared key."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot import keys
from bot.services.vault import KEY_FILENAME, TokenVault, VaultError, key_file
from tests.harness import BotHarness, make_settings, new_user, running_bot

ROOT = Path(__file__).resolve().parent.parent
StartBot = Callable[..., AbstractAsyncContextManager[BotHarness]]
PASSWORD_ASKED = "Envoyez votre mot de passe artis.net"


async def _raw_link(bot: BotHarness, user_id: int) -> dict[str, object]:
    """The link exactly as the store holds it."""
    raw = await bot.services.store.get(keys.link(user_id))
    assert raw is not None
    return dict(json.loads(raw))


async def _store_text(bot: BotHarness) -> str:
    store = bot.services.store
    found = [key async for key in store.scan("")]
    return "\n".join(found + [await store.get(key) or "" for key in found])


async def _clear_token(bot: BotHarness, user_id: int) -> str:
    session = await bot.services.sessions.load(user_id, user_id, "fr")
    assert session.link is not None and session.link.artis_token is not None
    return session.link.artis_token


async def _make_idle(bot: BotHarness, user_id: int) -> None:
    session = await bot.services.sessions.load(user_id, user_id, "fr")
    assert session.link is not None
    await bot.services.sessions.save_link(
        session, session.link.model_copy(update={"last_seen": time.time() - 9 * 3600}))


async def test_the_store_holds_the_artis_token_sealed_never_in_clear(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    token = await _clear_token(bot, user.id)
    raw = await _raw_link(bot, user.id)
    assert "artis_token" not in raw
    assert isinstance(raw["artis_token_enc"], str) and token not in raw["artis_token_enc"]
    assert token not in await _store_text(bot)
    # and what is stored is the token, sealed with the store's key
    assert bot.services.sessions.vault.open(raw["artis_token_enc"]) == token


async def test_the_token_expires_with_artis_session_ttl(start_bot: StartBot) -> None:
    user = new_user()
    async with start_bot(artis_session_ttl=600) as bot:
        await bot.pair(user)
        expires_at = (await _raw_link(bot, user.id))["token_expires_at"]
    assert isinstance(expires_at, float)
    assert time.time() + 590 < expires_at <= time.time() + 600


async def test_an_expired_token_asks_for_the_password_and_keeps_the_pairing(
        bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    raw = await _raw_link(bot, user.id)
    raw["token_expires_at"] = time.time() - 1  # still sealed, still valid at artis.net
    await bot.services.store.set(keys.link(user.id), json.dumps(raw))
    [locked] = await bot.press(user, "help:reload")
    assert PASSWORD_ASKED in locked
    assert await bot.services.pairing.status_of("demo.commercial") == "locked"  # not unpaired
    assert (await _raw_link(bot, user.id))["artis_token_enc"] is None  # gone from the store
    texts = await bot.say(user, "demo")
    assert texts[0] == "🔓 Session déverrouillée." and "Configuration rechargée" in texts[1]


async def test_a_token_no_key_opens_asks_for_the_password_never_a_crash(
        bot: BotHarness, start_bot: StartBot, caplog: pytest.LogCaptureFixture) -> None:
    user = new_user()
    await bot.pair(user)
    caplog.set_level(logging.WARNING)
    async with start_bot(store_encryption_key=Fernet.generate_key().decode()) as rekeyed:
        [locked] = await rekeyed.press(user, "help:reload")
        assert PASSWORD_ASKED in locked
        assert await rekeyed.services.pairing.status_of("demo.commercial") == "locked"
        texts = await rekeyed.say(user, "demo")
        assert texts[0] == "🔓 Session déverrouillée." and "Configuration rechargée" in texts[1]
    assert "does not open with STORE_ENCRYPTION_KEY" in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_new_key_put_first_still_opens_old_tokens_and_reseals_them(
        start_bot: StartBot) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    user = new_user()
    async with start_bot(store_encryption_key=old) as before:
        await before.pair(user)
    async with start_bot(store_encryption_key=f"{new},{old}") as after:
        texts = await after.press(user, "help:reload")  # no password asked
        assert "Configuration rechargée" in texts[-1]
        sealed = (await _raw_link(after, user.id))["artis_token_enc"]
    assert isinstance(sealed, str)
    assert TokenVault([new]).open(sealed) is not None  # the old key can now be removed
    assert TokenVault([old]).open(sealed) is None


async def test_idle_lock_without_a_pin_drops_the_token(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    await _make_idle(bot, user.id)
    [locked] = await bot.press(user, "help:reload")
    assert PASSWORD_ASKED in locked
    raw = await _raw_link(bot, user.id)
    assert raw["locked"] is True
    assert raw["artis_token_enc"] is None and raw["token_expires_at"] is None


async def test_idle_lock_with_a_pin_keeps_the_token_sealed(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    await bot.say(user, "/pin")
    await bot.say(user, "2468")
    token = await _clear_token(bot, user.id)
    await _make_idle(bot, user.id)
    [locked] = await bot.press(user, "help:reload")
    assert "Envoyez votre code PIN" in locked
    raw = await _raw_link(bot, user.id)
    assert raw["locked"] is True and isinstance(raw["artis_token_enc"], str)
    assert token not in await _store_text(bot)
    texts = await bot.say(user, "2468")
    assert texts[0] == "🔓 Session déverrouillée."


# -- files of the embedded store ------------------------------------------------------------
@pytest.fixture
def loose_umask() -> Iterator[None]:
    """A umask that lets files be world-readable, as on many hosts."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_data_dir_is_0700_and_its_files_0600(tmp_path: Path, artis, loose_umask) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)
    # a store left world-readable by an earlier version
    sqlite3.connect(data_dir / "crmbot.sqlite3").close()
    assert _mode(data_dir / "crmbot.sqlite3") == 0o644
    user = new_user()
    async with running_bot(make_settings(data_dir, artis.url)) as bot:
        await bot.pair(user)
        files = sorted(p.name for p in data_dir.iterdir())
        assert {"crmbot.sqlite3", "crmbot.sqlite3-wal", "crmbot.sqlite3-shm",
                KEY_FILENAME} <= set(files)
        assert _mode(data_dir) == 0o700
        for name in ("crmbot.sqlite3", "crmbot.sqlite3-wal", "crmbot.sqlite3-shm",
                     KEY_FILENAME):
            assert _mode(data_dir / name) == 0o600, name
    # the key made on the first start is the one used at the next
    async with running_bot(make_settings(data_dir, artis.url)) as again:
        texts = await again.press(user, "help:reload")
        assert "Configuration rechargée" in texts[-1]


def test_the_key_file_is_made_once_and_a_garbled_one_stops_start_up(
        tmp_path: Path, loose_umask) -> None:
    path = tmp_path / "fresh" / KEY_FILENAME
    first = key_file(path)
    assert key_file(path) == first and _mode(path) == 0o600
    assert _mode(path.parent) == 0o700
    path.write_text("not a key")
    with pytest.raises(VaultError, match="is not a Fernet key"):
        key_file(path)


# -- start-up -------------------------------------------------------------------------------
def _cli(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items()
            if k not in ("ARTIS_URL", "REDIS_URL", "TELEGRAM_BOT_TOKEN", "STORE_ENCRYPTION_KEY")}
    return subprocess.run([sys.executable, "-m", "bot.cli", "demo"], cwd=tmp_path,
                          env={**base, "DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT), **env},
                          capture_output=True, text=True, timeout=60)


def test_redis_without_store_encryption_key_is_refused_at_start_up(tmp_path: Path) -> None:
    done = _cli({"REDIS_URL": "redis://127.0.0.1:6379/0"}, tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("configuration error: STORE_ENCRYPTION_KEY is required when "
                           "REDIS_URL is set")
    assert not (tmp_path / KEY_FILENAME).exists()


def test_a_malformed_store_encryption_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    done = _cli({"STORE_ENCRYPTION_KEY": "hunter2-not-a-fernet-key"}, tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("configuration error: STORE_ENCRYPTION_KEY=")
    assert "hunter2" not in done.stderr
