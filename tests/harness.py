"""Drive the real bot as a Telegram user would, with Telegram faked at HTTP level."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from bot.inbound import deliver
from bot.runtime import Runtime, open_runtime
from bot.settings import Settings
from integrations.fake_bot_api import FakeBotApi, SimUser

_user_ids = itertools.count(5_000_001)


def new_user(first_name: str = "Camille", language_code: str | None = "fr") -> SimUser:
    return SimUser(id=next(_user_ids), first_name=first_name, language_code=language_code)


#: The STORE_ENCRYPTION_KEY of every Redis-backed bot of this test session (so a restart, or
#: a second process, opens what the first one sealed).
TEST_STORE_KEY = Fernet.generate_key().decode()


def make_settings(data_dir: Path, artis_url: str, *, redis_url: str | None = None,
                  namespace: str = "crmbot", **extra: Any) -> Settings:
    if redis_url is not None:
        extra.setdefault("store_encryption_key", TEST_STORE_KEY)
    # No scheduled digests or reminders at the real time of day: the tests that want them
    # call bot.scheduled.tick with their own clock, or turn the scheduler on.
    extra.setdefault("schedule_tick_seconds", 0)
    return Settings(_env_file=None, data_dir=data_dir, artis_url=artis_url, redis_url=redis_url,
                    store_namespace=namespace, artis_service_login="bot.service",
                    artis_service_password="demo", artis_timeout=2.0, **extra)


class BotHarness:
    """One running bot (Application + services) and the fake Bot API it talks to."""

    def __init__(self, runtime: Runtime, api: FakeBotApi) -> None:
        self.runtime, self.api = runtime, api

    @property
    def services(self):
        return self.runtime.services

    async def send(self, update: dict[str, Any]) -> list[str]:
        """Deliver one update; return the texts the bot sent or edited in that chat."""
        before = len(self.api.calls)
        await deliver(self.runtime.application, update)
        queue = self.runtime.application.update_queue
        while not queue.empty():  # requests the bot re-queued (resume after unlock)
            await deliver(self.runtime.application, queue.get_nowait())
        chat = (update.get("message") or update.get("callback_query", {}).get("message") or {}
                ).get("chat", {}).get("id")
        return [c.params.get("text", "") for c in self.api.calls[before:]
                if c.method in ("sendMessage", "editMessageText")
                and str(c.params.get("chat_id")) == str(chat)]

    async def say(self, user: SimUser, text: str) -> list[str]:
        return await self.send(self.api.text_update(user, text))

    async def press(self, user: SimUser, data: str) -> list[str]:
        return await self.send(self.api.callback_update(user, data))

    def bot_messages(self, user: SimUser) -> list[dict[str, Any]]:
        """The bot's messages in the user's chat as they stand now (edits applied), oldest
        first."""
        return sorted((m for (chat, _), m in self.api.messages.items()
                       if chat == user.id and m.get("from", {}).get("is_bot")),
                      key=lambda m: m["message_id"])

    def find_button(self, user: SimUser, label: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The newest bot message showing a button labelled ``label`` (exactly, else the only
        one containing it), and that button."""
        for message in reversed(self.bot_messages(user)):
            buttons = self.api.buttons(message)
            exact = [b for b in buttons if b.get("text") == label]
            near = [b for b in buttons if label in b.get("text", "")]
            if exact or len(near) == 1:
                return message, (exact or near)[0]
            if near:
                raise AssertionError(f"several buttons match {label!r}: "
                                     f"{[b['text'] for b in near]}")
        raise AssertionError(f"no button {label!r} in the chat; last buttons: "
                             f"{[b.get('text') for b in self.api.buttons(self.last(user))]}")

    def last(self, user: SimUser) -> dict[str, Any]:
        messages = self.bot_messages(user)
        assert messages, "the bot said nothing"
        return messages[-1]

    async def press_label(self, user: SimUser, label: str) -> list[str]:
        """Press the button labelled ``label`` on the newest bot message that has one, as
        a rep does; return the texts sent or edited."""
        message, found = self.find_button(user, label)
        assert "callback_data" in found, f"{label!r} is a URL button: {found.get('url')}"
        return await self.send(self.api.callback_update(user, found["callback_data"], message))

    def toasts(self) -> list[str]:
        return [c.params.get("text", "") for c in self.api.calls
                if c.method == "answerCallbackQuery" and c.params.get("text")]

    async def pair(self, user: SimUser, login: str = "demo.commercial",
                   password: str = "demo") -> list[str]:
        invite = await self.services.pairing.invite(login)
        await self.say(user, f"/start {invite.token}")
        return await self.say(user, password)


@asynccontextmanager
async def running_bot(settings: Settings) -> AsyncIterator[BotHarness]:
    api = FakeBotApi()
    async with open_runtime(settings, transport=api.transport(), token=api.token) as runtime:
        yield BotHarness(runtime, api)
