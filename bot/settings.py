"""Settings read from the environment (and an optional ``.env``).

Every variable is documented in README.md › Configuration. A bad value stops
start-up with one line naming the variable and what is expected
(``SettingsError``); the command line prints it without a traceback.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

SUPPORTED_LOCALES = ("fr", "en")
# Both secrets guard endpoints on the public webhook port: a short one falls to guessing.
MIN_SECRET_LENGTH = 16

_EXPECTED = {
    "TELEGRAM_API_URL": "an http(s) URL of a Bot API server, e.g. https://api.telegram.org",
    "ARTIS_URL": "the http(s) base URL of the artis.net REST API, e.g. https://erp.example.fr/api/v1",
    "REDIS_URL": "a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0",
    "BOT_TIMEZONE": "an IANA time zone such as Europe/Paris",
    "BOT_DEFAULT_LOCALE": "one of: " + ", ".join(SUPPORTED_LOCALES),
    "WEBHOOK_PORT": "a TCP port number between 1 and 65535",
    "WEBHOOK_SECRET": f"{MIN_SECRET_LENGTH} to 256 characters among A-Z a-z 0-9 _ -",
    "ADMIN_SECRET": f"at least {MIN_SECRET_LENGTH} characters (a long random password)",
    "TELEGRAM_BOT_TOKEN": "a token from @BotFather, like 123456:ABC-DEF...",
    "LOG_LEVEL": "one of DEBUG, INFO, WARNING, ERROR",
    "EVENT_LOOP": "one of auto, uvloop, asyncio",
    "TELEGRAM_SEND_RATE": "messages per second for the whole bot, >= 0 (0: no overall limit)",
    "SSO_URL": "the http(s) URL of the SSO sign-in page, e.g. https://sso.example.fr/authorize",
    "STT_URL": "the http(s) base URL of an OpenAI-compatible transcription server, e.g. "
               "http://127.0.0.1:8000 (the bot posts to /v1/audio/transcriptions)",
    "STT_MODEL_DIR": "a folder holding a CTranslate2 Whisper model (model.bin, config.json, …)",
    "STT_EXECUTOR": "process or thread",
    "STT_THREADS": "a number of CPU threads between 0 (all cores, at most 4) and 64",
    "DIGEST_DEFAULT_TIME": "a local time HH:MM, e.g. 07:30",
    "WORKING_HOURS": "two local times HH:MM-HH:MM, the first earlier, e.g. 08:00-19:00",
    "BRIEFING_LEAD_MINUTES": "minutes between 0 (no briefing) and 720",
    "REPORT_NUDGE_MINUTES": "minutes between 0 (no nudge) and 720",
    "SCHEDULE_TICK_SECONDS": "seconds between 0 (no scheduled sends here) and 3600",
    "REMINDER_REFRESH_MINUTES": "minutes between 0 (read at every tick) and 120",
    "STORE_ENCRYPTION_KEY": (
        "one or more comma-separated Fernet keys (the first encrypts, all decrypt), "
        "made with: python -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())'"),
}


def is_fernet_key(key: str | bytes) -> bool:
    """What ``cryptography.fernet.Fernet(key)`` accepts: 32 url-safe base64-encoded bytes.
    Checked without importing ``cryptography`` (~50 ms of a start), which the vault
    imports when it first seals or opens a token."""
    try:
        return len(base64.urlsafe_b64decode(key)) == 32
    except (binascii.Error, ValueError, TypeError):
        return False


#: Error type of a setting that another one makes required (its message is the whole line).
_REQUIRED_WITH = "required_with"


class StartupError(Exception):
    """Something the bot needs is unreachable or refuses it at start-up; ``str()`` is one
    operator line (exit code 1)."""


class SettingsError(Exception):
    """A configuration value is missing or invalid; ``str()`` is one user-facing line."""


class Settings(BaseSettings):
    """All knobs of the bot; field names are the environment variable names."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_bot_username: str = "artis_crm_demo_bot"
    # Messages per second for the whole bot (Telegram's limit for a normal bot is 30/s; a
    # local Bot API server or paid broadcasts allow more). 0 turns the overall limiter off.
    telegram_send_rate: float = Field(default=30.0, ge=0, le=100_000)

    artis_url: str | None = None
    artis_service_login: str | None = None
    artis_service_password: SecretStr | None = None
    artis_timeout: float = Field(default=10.0, gt=0, le=120)
    artis_cache_ttl: float = Field(default=60.0, ge=0, le=3600)  # 0: every screen asks artis

    redis_url: str | None = None
    # After redis_url: its validator needs to know whether Redis is used.
    store_encryption_key: SecretStr | None = Field(default=None, validate_default=True)
    store_namespace: str = Field(default="crmbot", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    data_dir: Path = Path("data")

    bot_timezone: str = "Europe/Paris"
    bot_default_locale: Literal["fr", "en"] = "fr"

    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = Field(default=8080, ge=1, le=65535,
                              validation_alias=AliasChoices("WEBHOOK_PORT", "PORT"))
    webhook_path: str = "/telegram"
    webhook_secret: SecretStr | None = None

    pairing_token_ttl: int = Field(default=900, ge=60, le=7 * 86400)
    session_idle_lock: int = Field(default=8 * 3600, ge=60)
    artis_session_ttl: int = Field(default=12 * 3600, ge=300, le=7 * 86400)
    admin_secret: SecretStr | None = None
    sso_url: str | None = None  # SSO sign-in page; embedded demo: its identity provider
    support_contact: str | None = None

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    event_loop: Literal["auto", "uvloop", "asyncio"] = "auto"

    # Managers' digests and reps' reminders (README › Digests and reminders).
    digest_default_time: str = Field(default="07:30", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    working_hours: str = Field(
        default="08:00-19:00",
        pattern=r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
    briefing_lead_minutes: int = Field(default=60, ge=0, le=720)
    report_nudge_minutes: int = Field(default=30, ge=0, le=720)
    schedule_tick_seconds: float = Field(default=60.0, ge=0, le=3600)
    reminder_refresh_minutes: int = Field(default=10, ge=0, le=120)

    # Speech to text (README › Speech to text): a server, else faster-whisper here.
    stt_url: str | None = None
    stt_api_key: SecretStr | None = None
    stt_model: str = Field(default="base", pattern=r"^[A-Za-z0-9_./:-]{1,200}$")
    stt_model_dir: Path | None = None
    stt_executor: Literal["process", "thread"] = "process"
    stt_threads: int = Field(default=0, ge=0, le=64)

    # Background jobs (README › Background work): taskiq on Redis, else in this process.
    jobs_in_bot: bool = True  # `crmbot run` also consumes jobs (a single process delivers)
    outbox_submit_wait: float = Field(default=2.5, ge=0, le=10)  # the rep's ✅ waits this long
    outbox_retry_base: float = Field(default=5.0, gt=0, le=3600)  # first retry after this
    outbox_retry_max: float = Field(default=600.0, gt=0, le=86400)  # backoff cap
    outbox_sweep_interval: float = Field(default=5.0, gt=0, le=3600)  # the sweep's tick
    outbox_lease: float = Field(default=60.0, ge=1, le=3600)  # a lost job is re-queued after

    @field_validator("telegram_api_url", "artis_url", "webhook_url", "sso_url", "stt_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("not an http(s) URL")
        return value.rstrip("/")

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not re.match(r"^(rediss?|unix)://", value):
            raise ValueError("not a redis URL")
        return value

    @field_validator("store_encryption_key")
    @classmethod
    def _encryption_key(cls, value: SecretStr | None, info: ValidationInfo
                        ) -> SecretStr | None:
        keys = [k.strip() for k in value.get_secret_value().split(",")] if value else []
        if not any(keys):
            if info.data.get("redis_url"):
                # Processes on several hosts share the store: they must share the key too.
                raise PydanticCustomError(_REQUIRED_WITH, "REDIS_URL is set")
            return None
        if not all(is_fernet_key(key) for key in keys):
            raise ValueError("not a list of Fernet keys")
        return SecretStr(",".join(keys))

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        start, _, end = value.partition("-")
        if start >= end:
            raise ValueError("the working day must end after it starts")
        return value

    @field_validator("bot_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown time zone") from exc
        return value

    @field_validator("bot_default_locale", "stt_executor", mode="before")
    @classmethod
    def _locale(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("stt_model_dir")
    @classmethod
    def _model_dir(cls, value: Path | None) -> Path | None:
        if value is None or str(value) in ("", "."):
            return None
        if not (value / "model.bin").is_file():
            raise ValueError("no model.bin in that folder")
        return value

    @field_validator("stt_api_key")
    @classmethod
    def _stt_api_key(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not re.fullmatch(rf"[A-Za-z0-9_-]{{{MIN_SECRET_LENGTH},256}}",
                                                  value.get_secret_value()):
            raise ValueError("invalid secret token")
        return value

    @field_validator("admin_secret")
    @classmethod
    def _admin_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # the admin page is off
        if len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError("admin secret too short")
        return value

    @field_validator("telegram_bot_token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not re.fullmatch(r"\d+:[A-Za-z0-9_-]{20,}", value.get_secret_value()):
            raise ValueError("malformed bot token")
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.bot_timezone)

    @property
    def encryption_keys(self) -> list[str]:
        """STORE_ENCRYPTION_KEY split; empty: the embedded store's key file is used."""
        if self.store_encryption_key is None:
            return []
        return self.store_encryption_key.get_secret_value().split(",")

    @property
    def embedded_artis(self) -> bool:
        """No ARTIS_URL: the demo artis.net server runs in-process."""
        return self.artis_url is None


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning validation errors into one readable ``SettingsError``."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> str:
    """One line per bad variable: ``NAME='value' is invalid: expected ...``."""
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0]).upper() if error["loc"] else "?"
        value = error.get("input")
        shown = ("<hidden>" if any(word in name for word in ("TOKEN", "SECRET", "PASSWORD", "KEY"))
                 else value)
        expected = _EXPECTED.get(name, error["msg"])
        if error["type"] == _REQUIRED_WITH:
            lines.append(f"configuration error: {name} is required when {error['msg']}; "
                         f"expected {expected}")
            continue
        lines.append(f"configuration error: {name}={shown!r} is invalid; expected {expected}")
    return "\n".join(lines)
