"""The core the features build on, seen from the chat: typed buttons, the chat scope,
declared steps that take voice notes and locations, drafts that outlive a detour and a
restart. Run on both stores, through the real Application and the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import BaseModel

from bot import outbound, sso, steps
from bot.callbacks import CallbackData
from bot.context import BotContext
from bot.services.drafts import DraftSlot
from bot.views import Reply, esc
from handlers.steps import on_step
from integrations.artis.client import ArtisClient
from integrations.artis.errors import InvalidData
from tests.harness import BotHarness, new_user

STALE = "n'est plus valable"


# -- typed buttons ---------------------------------------------------------------------------
class View(StrEnum):
    DAY = "d"
    WEEK = "w"


@dataclass(frozen=True)
class PlanningCb(CallbackData, prefix="tplan"):
    view: View
    day: date
    page: int = 0
    mine: bool = True
    back: str | None = None


def test_a_button_keeps_its_view_date_and_page_in_its_data() -> None:
    button = PlanningCb(View.WEEK, date(2026, 12, 3), page=2, mine=False, back="A-1042")
    data = button.pack()
    assert len(data.encode()) <= 64
    assert PlanningCb.unpack(data) == button
    assert PlanningCb.unpack(PlanningCb(View.DAY, date(2027, 1, 1)).pack()) == PlanningCb(
        View.DAY, date(2027, 1, 1), 0, True, None)


@pytest.mark.parametrize("data", [
    "tplan:w:20261203:2:0:..",        # a dot segment that would climb the artis.net URL
    "tplan:w:20261203:2:0:a/b",       # a slash
    "tplan:x:20261203:2:0:",          # an enum value that does not exist
    "tplan:w:20261340:2:0:",          # an impossible date
    "tplan:w:20261203:two:0:",        # a word where a number goes
    "tplan:w:20261203:2:yes:",        # a word where a boolean goes
    "tplan:w:20261203:2",             # an older, shorter layout
    "tplan:w:20261203:2:0::extra",    # a longer one
    "other:w:20261203:2:0:",
])
def test_a_forged_or_old_button_does_not_decode(data: str) -> None:
    assert PlanningCb.unpack(data) is None


def test_a_button_that_cannot_carry_its_data_is_refused_when_built() -> None:
    with pytest.raises(ValueError):
        PlanningCb(View.DAY, date(2026, 1, 1), back="..").pack()
    with pytest.raises(ValueError):
        PlanningCb(View.DAY, date(2026, 1, 1), back="x" * 60).pack()


@pytest.mark.parametrize("data", ["lang:..", "lang:de", "lang:fr:extra", "help:..",
                                  "help:reload:1", "help"])
async def test_pressing_a_forged_button_gets_the_stale_answer(bot: BotHarness,
                                                               data: str) -> None:
    user = new_user()
    await bot.pair(user)
    before = len(bot.toasts())
    [fresh_menu] = await bot.press(user, data)  # the stale answer comes with a fresh menu
    [toast] = bot.toasts()[before:]
    assert STALE in toast
    assert "Actions aujourd'hui" in fresh_menu


async def test_a_language_button_still_works(bot: BotHarness) -> None:
    user = new_user()
    await bot.say(user, "/lang")
    [done] = await bot.press(user, "lang:en")
    assert "English" in done


async def test_an_id_with_dot_segments_never_reaches_artis_net(artis_client: ArtisClient,
                                                              artis_login) -> None:
    token = await artis_login("demo.commercial")
    for forged in ("..", ".", "...", ""):
        with pytest.raises(InvalidData):
            await artis_client.get_action(token, forged)


# -- a test flow: a note that accumulates in a draft -----------------------------------------
NOTE = steps.declare("test.note", accepts={steps.Kind.TEXT, steps.Kind.VOICE,
                                           steps.Kind.LOCATION})


class Note(BaseModel):
    parts: list[str] = []


NOTE_DRAFT = DraftSlot("test-note", Note)


@on_step(NOTE)
async def take_note(update, context: BotContext) -> None:
    message = update.effective_message
    if message.voice is not None:
        seconds = message.voice.duration.total_seconds()
        part = f"[voice {seconds:.0f}s {message.voice.file_id}]"
    elif message.location is not None:
        part = f"[at {message.location.latitude:.4f},{message.location.longitude:.4f}]"
    else:
        part = message.text
    drafts, session = context.services.drafts, context.session
    note = await drafts.get(session, NOTE_DRAFT, "1") or Note()
    note.parts.append(part)
    await drafts.put(session, NOTE_DRAFT, "1", note)
    await outbound.answer(update, Reply("Note: " + esc(" ".join(note.parts))))


async def open_note_from_a_job(bot: BotHarness, user) -> None:
    """What a background job does (a missing-report nudge): scope, step, message."""
    services = bot.services
    async with services.scopes.scope(user.id, user.id) as session:
        await services.sessions.goto(session, NOTE)
        await outbound.send(bot.runtime.application.bot, user.id, Reply("Write your note."))


async def test_a_job_opens_a_step_and_the_reps_next_message_reaches_it(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    await open_note_from_a_job(bot, user)
    assert bot.api.texts(user.id)[-1] == "Write your note."
    assert await bot.say(user, "client ravi") == ["Note: client ravi"]


async def test_a_voice_note_and_a_location_reach_the_step(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    await open_note_from_a_job(bot, user)
    voice = {"file_id": "voice-1", "file_unique_id": "v1", "duration": 12,
             "mime_type": "audio/ogg"}
    assert await bot.send(bot.api.message_update(user, voice=voice)) == [
        "Note: [voice 12s voice-1]"]
    location = {"latitude": 48.8566, "longitude": 2.3522}
    assert await bot.send(bot.api.message_update(user, location=location)) == [
        "Note: [voice 12s voice-1] [at 48.8566,2.3522]"]


async def test_a_voice_note_where_a_pin_is_due_gets_a_polite_answer(bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    await bot.say(user, "/pin")
    voice = {"file_id": "voice-2", "file_unique_id": "v2", "duration": 3}
    [reply] = await bot.send(bot.api.message_update(user, voice=voice))
    assert "j'attends un texte tapé" in reply
    [saved] = await bot.say(user, "4821")  # still at the PIN step
    assert "PIN enregistré" in saved


async def test_a_draft_survives_a_detour_and_a_restart(
        bot: BotHarness,
        start_bot: Callable[..., AbstractAsyncContextManager[BotHarness]]) -> None:
    user = new_user()
    await bot.pair(user)
    await open_note_from_a_job(bot, user)
    await bot.say(user, "premier point")
    await bot.say(user, "/aide")  # the rep looks elsewhere
    await bot.say(user, "/lang")
    async with start_bot() as restarted:
        assert await restarted.say(user, "second point") == [
            "Note: premier point second point"]


async def test_cancelling_the_step_keeps_the_draft_and_unpairing_drops_it(
        bot: BotHarness) -> None:
    user = new_user()
    await bot.pair(user)
    await open_note_from_a_job(bot, user)
    await bot.say(user, "à garder")
    await bot.say(user, "/annuler")
    await open_note_from_a_job(bot, user)
    assert await bot.say(user, "suite") == ["Note: à garder suite"]
    await bot.say(user, "/logout")
    await bot.pair(user)
    await open_note_from_a_job(bot, user)
    assert await bot.say(user, "neuf") == ["Note: neuf"]


# -- the scope serializes the SSO callback with the chat's updates ----------------------------
async def test_the_sso_callback_waits_for_the_chats_scope(
        start_bot: Callable[..., AbstractAsyncContextManager[BotHarness]], artis,
        monkeypatch) -> None:
    user = new_user()
    monkeypatch.setattr(sso, "SSO_LOCK_WAIT", 0.3)
    async with start_bot(sso_url=artis.sso_url, webhook_url="https://bot.example.test") as bot:
        services = bot.services
        async with services.scopes.scope(user.id, user.id) as session:
            url = await services.sso.sign_in_url(session, "demo.sso", "Camille")
            assert url is not None
            [state] = parse_qs(urlsplit(url).query)["state"]
            bound = await services.sso.bind_browser(state)
            assert bound is not None
            # Busy chat: the browser is told to come back, the chat is left untouched.
            done = await sso.complete(services, bot.runtime.application.bot, state, "ticket",
                                      bound[1])
        assert done.result is sso.Result.UNAVAILABLE
        assert bot.api.texts(user.id) == []


async def test_a_busy_chat_makes_an_update_wait_not_interleave(bot: BotHarness) -> None:
    user = new_user()
    services = bot.services
    order: list[str] = []

    async def hold() -> None:
        async with services.scopes.scope(user.id, user.id):
            order.append("job starts")
            await asyncio.sleep(0.3)
            order.append("job ends")

    job = asyncio.create_task(hold())
    await asyncio.sleep(0.05)
    reply = await bot.say(user, "/aide")
    order.append("update answered")
    await job
    assert order == ["job starts", "job ends", "update answered"]
    assert "Ce que je sais faire" in reply[0]


def test_a_worker_imports_the_services_without_any_handler() -> None:
    """What a background worker loads: the services, the scope and the outbound path —
    no PTB handler, no Application assembly, no web server."""
    import subprocess
    import sys

    probe = ("import sys, bot.container, bot.scope, bot.outbound, bot.views.common; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'handlers' "
             "or m in ('bot.app', 'bot.runtime', 'bot.web', 'starlette')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"


def test_crmbot_worker_loads_no_handler_and_no_application() -> None:
    """`crmbot worker`: the services, the jobs and a send-only Bot; nothing that answers
    updates."""
    import subprocess
    import sys

    probe = ("import sys, bot.worker, bot.jobs; "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'handlers' "
             "or m in ('bot.app', 'bot.runtime', 'bot.web', 'bot.pipeline', 'starlette')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
