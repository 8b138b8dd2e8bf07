"""A bad setting stops start-up with one clear line, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.settings import SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("BOT_TIMEZONE", "Mars/Olympus", "IANA time zone"),
    ("BOT_DEFAULT_LOCALE", "de", "one of: fr, en"),
    ("REDIS_URL", "localhost:6379", "redis://"),
    ("ARTIS_URL", "ftp://erp", "http(s) base URL"),
    ("WEBHOOK_PORT", "99999", "TCP port"),
    ("TELEGRAM_BOT_TOKEN", "not-a-token", "@BotFather"),
    ("ARTIS_TIMEOUT", "-3", "greater than 0"),
    ("TELEGRAM_SEND_RATE", "-1", "messages per second"),
    ("EVENT_LOOP", "trio", "auto, uvloop, asyncio"),
    ("ADMIN_SECRET", "fifteen-chars-x", "at least 16 characters"),
    ("WEBHOOK_SECRET", "fifteen_chars_x", "16 to 256 characters"),
])
def test_bad_value_names_the_variable_and_what_is_expected(
        monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None)
    message = str(error.value)
    assert message.startswith(f"configuration error: {name}=")
    assert expected in message
    assert len(message.splitlines()) == 1


def test_secrets_are_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "leaky-secret-value")
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None)
    assert "leaky-secret-value" not in str(error.value)


def test_secrets_of_16_characters_are_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_SECRET", "a" * 16)
    monkeypatch.setenv("WEBHOOK_SECRET", "b" * 16)
    settings = load_settings(_env_file=None)
    assert settings.admin_secret and settings.webhook_secret
    monkeypatch.setenv("ADMIN_SECRET", "")  # empty: the admin page is off, not an error
    assert load_settings(_env_file=None).admin_secret is None


def test_defaults_need_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ARTIS_URL", "REDIS_URL", "TELEGRAM_BOT_TOKEN", "BOT_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings(_env_file=None)
    assert settings.embedded_artis and settings.redis_url is None
    assert settings.bot_timezone == "Europe/Paris" and settings.bot_default_locale == "fr"


def _cli(args: list[str], env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items()
            if k not in ("ARTIS_URL", "REDIS_URL", "TELEGRAM_BOT_TOKEN")}
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=tmp_path,
                          env={**base, "DATA_DIR": str(tmp_path), **env},
                          capture_output=True, text=True, timeout=60)


def test_cli_stops_with_one_line_and_exit_code_2(tmp_path: Path) -> None:
    done = _cli(["run"], {"BOT_TIMEZONE": "Nowhere/City"}, tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == ("configuration error: BOT_TIMEZONE='Nowhere/City' is invalid; "
                                   "expected an IANA time zone such as Europe/Paris")


def test_a_short_secret_stops_start_up_with_one_line_that_hides_it(tmp_path: Path) -> None:
    for command, name in ((["admin"], "ADMIN_SECRET"), (["run", "--webhook"], "WEBHOOK_SECRET")):
        done = _cli(command, {name: "hunter2-secret"}, tmp_path)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and "hunter2" not in done.stderr
        [line] = done.stderr.strip().splitlines()
        assert line.startswith(f"configuration error: {name}='<hidden>' is invalid; expected ")
        assert "16" in line


def test_webhook_without_token_is_refused_clearly(tmp_path: Path) -> None:
    done = _cli(["run", "--webhook"], {}, tmp_path)
    assert done.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is required for --webhook" in done.stderr


def test_unreachable_redis_stops_start_up_with_one_line(tmp_path: Path) -> None:
    done = _cli(["demo"], {"REDIS_URL": "redis://user:hunter2@127.0.0.1:1/0",
                           "STORE_ENCRYPTION_KEY": Fernet.generate_key().decode()}, tmp_path)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("startup error: cannot open the store at "
                           "REDIS_URL=redis://user:***@127.0.0.1:1/0")


@pytest.mark.parametrize(("rate", "overall"), [("30", 30), ("1000", 1000), ("0", None)])
async def test_the_send_rate_is_the_bots_overall_limit_and_zero_turns_it_off(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, rate: str, overall: int | None) -> None:
    from bot.app import build_application
    from bot.ratelimit import SendLimiter
    from bot.runtime import open_services
    from integrations.fake_bot_api import FakeBotApi

    monkeypatch.setenv("TELEGRAM_SEND_RATE", rate)
    settings = load_settings(_env_file=None, data_dir=tmp_path)
    api = FakeBotApi()
    async with open_services(settings) as services:
        app = build_application(services, token=api.token, transport=api.transport())
        limiter = app.bot.rate_limiter
        assert limiter is not None
        assert isinstance(limiter, SendLimiter)
        assert (limiter.rate or None) == overall


@pytest.mark.parametrize("key", [
    Fernet.generate_key().decode(),
    Fernet.generate_key().decode().rstrip("="),  # padding dropped
    "not a key",
    "A" * 43 + "=",  # 32 bytes? no: the last character carries stray bits
    "AAAA",  # valid base64, 3 bytes
    Fernet.generate_key().decode()[:-2] + "+/",  # standard, not url-safe, alphabet
])
def test_a_store_key_is_accepted_exactly_when_cryptography_accepts_it(
        monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    """STORE_ENCRYPTION_KEY is checked at start-up without importing cryptography; the
    check must agree with Fernet's own."""
    try:
        Fernet(key)
        fernet_ok = True
    except ValueError:
        fernet_ok = False
    monkeypatch.setenv("STORE_ENCRYPTION_KEY", key)
    try:
        load_settings(_env_file=None)
        ours_ok = True
    except SettingsError as error:
        assert "STORE_ENCRYPTION_KEY" in str(error) and key not in str(error)
        ours_ok = False
    assert ours_ok == fernet_ok
