"""The report outbox as a rep lives it: ✅ stores the compte rendu, a background job
delivers it with the rep's own session, exactly once, whatever artis.net does.

Orders are submitted through ``services.outbox.submit`` as the report flow does after ✅
(the flow's screens are another branch's); the demo artis.net answers over loopback HTTP,
the jobs run on taskiq (in-process broker on SQLite, Redis list on Redis), and the rep's
chat is the fake Bot API.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import keys
from bot.services.outbox import (
    AlreadySubmitted,
    Delivered,
    OutboxTiming,
    ReportOrder,
    ReportState,
    Stored,
)
from bot.settings import Settings
from integrations.artis.demo import DemoArtisServer
from integrations.artis.models import Action, ActionStatus, ActionType, RelationType, ReportIn
from integrations.fake_bot_api import SimUser
from tests.harness import BotHarness, make_settings, new_user, running_bot
from tests.store_fixtures import REDIS_URL, new_namespace, wipe_redis_namespace

#: Short timings so retries, sweeps and leases happen within a test.
FAST = {"outbox_submit_wait": 1.0, "outbox_retry_base": 0.2, "outbox_retry_max": 1.0,
        "outbox_sweep_interval": 0.2, "outbox_lease": 1.5}
LATER = "est maintenant enregistré dans artis.net"


@pytest.fixture(scope="module")
def demo_artis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoArtisServer]:
    """This module's own demo artis.net: its reports use up open actions that the other
    tests' planning screens expect to find open."""
    db_path = tmp_path_factory.mktemp("artis-outbox") / "artis.sqlite3"
    with DemoArtisServer(db_path=db_path, faults_enabled=True) as server:
        yield server


def open_actions(artis: DemoArtisServer, login: str, n: int = 1, *,
                 rdv_on_suspect: bool = False) -> list[Action]:
    """``n`` not-yet-reported actions of ``login``, the latest planned first."""
    todo = [a for a in artis.store.actions([login], status=ActionStatus.A_REALISER)
            if a.report is None]
    if rdv_on_suspect:
        todo = [a for a in todo if a.type is ActionType.RDV and _relation(artis, a)
                is RelationType.SUSPECT]
    assert len(todo) >= n, f"fewer than {n} open actions left for {login}"
    return todo[::-1][:n]


def open_action(artis: DemoArtisServer, login: str, *, rdv_on_suspect: bool = False) -> Action:
    return open_actions(artis, login, rdv_on_suspect=rdv_on_suspect)[0]


def _relation(artis: DemoArtisServer, action: Action) -> RelationType | None:
    site = artis.store.site(action.site_id)
    return site.relation_type if site else None


def applications(artis: DemoArtisServer, action_id: str) -> int:
    """How many reports the demo artis.net applied to the action (one row per key)."""
    store = artis.store
    with store._lock:
        return int(store._db.execute("SELECT COUNT(*) FROM idempotency WHERE action_id = ?",
                                     (action_id,)).fetchone()[0])


def order(user: SimUser, login: str, action: Action, text: str = "Client vu, devis à "
          "envoyer.") -> ReportOrder:
    return ReportOrder(id=uuid.uuid4().hex, chat_id=user.id, user_id=user.id, login=login,
                       action_id=action.id, action_label=f"RDV {action.id}", text=text,
                       executed_at=datetime.now(UTC))


async def token_of(bot: BotHarness, login: str) -> str | None:
    holder = await bot.services.sessions.holder_of(login)
    assert holder is not None and holder[1] is not None
    return holder[1].artis_token


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def said(bot: BotHarness, user: SimUser, fragment: str) -> list[str]:
    return [t for t in bot.api.texts(user.id) if fragment in t]


@pytest.fixture
async def fast_bot(bot_settings: Callable[..., Settings]):
    async with running_bot(bot_settings(**FAST)) as harness:
        yield harness


async def test_a_report_confirmed_while_artis_answers_is_recorded_at_once_and_once(
        fast_bot: BotHarness, artis: DemoArtisServer) -> None:
    bot, rep = fast_bot, new_user()
    await bot.pair(rep)
    action = open_action(artis, "demo.commercial", rdv_on_suspect=True)
    token = await token_of(bot, "demo.commercial")
    started = time.monotonic()
    outcome = await bot.services.outbox.submit(order(rep, "demo.commercial", action), token)
    print(f"\n✅ answered as recorded in {1000 * (time.monotonic() - started):.0f} ms")
    assert isinstance(outcome, Delivered)
    stored = artis.store.action(action.id)
    assert stored is not None and stored.report is not None
    assert stored.report.executed_by_login == "demo.commercial"  # the rep's own session
    assert _relation(artis, action) is RelationType.PROSPECT  # the RDV report's rule
    await asyncio.sleep(2 * FAST["outbox_lease"])  # the sweep has looked at it since
    assert applications(artis, action.id) == 1
    assert not said(bot, rep, LATER), "the rep was answered by ✅ already"
    assert await bot.services.outbox.waiting("demo.commercial") == []


async def test_a_second_confirm_of_the_same_report_records_it_once(
        fast_bot: BotHarness, artis: DemoArtisServer) -> None:
    bot, rep = fast_bot, new_user()
    await bot.pair(rep)
    confirmed = order(rep, "demo.commercial", open_action(artis, "demo.commercial"))
    token = await token_of(bot, "demo.commercial")
    first, second = await asyncio.gather(bot.services.outbox.submit(confirmed, token),
                                         bot.services.outbox.submit(confirmed, token))
    assert {type(first), type(second)} == {Delivered, AlreadySubmitted}
    again = await bot.services.outbox.submit(confirmed, token)
    assert isinstance(again, AlreadySubmitted) and again.record.state is ReportState.DELIVERED
    assert applications(artis, confirmed.action_id) == 1


async def test_artis_down_then_back_the_report_goes_once_and_the_rep_is_told(
        fast_bot: BotHarness, artis: DemoArtisServer) -> None:
    bot, rep = fast_bot, new_user()
    await bot.pair(rep)
    action = open_action(artis, "demo.commercial")
    path = f"/actions/{action.id}/report"
    artis.inject_fault(status=503, count=1000, path_prefix=path)
    outcome = await bot.services.outbox.submit(order(rep, "demo.commercial", action),
                                               await token_of(bot, "demo.commercial"))
    assert isinstance(outcome, Stored) and outcome.record.state is ReportState.PENDING
    assert "artis.net indisponible" in (await bot.say(rep, "/envois"))[0]
    for _ in range(100):  # the first attempts hit the outage
        [waiting] = await bot.services.outbox.waiting("demo.commercial")
        if waiting.attempts >= 2:
            break
        await asyncio.sleep(0.1)
    assert waiting.last_error and waiting.last_error.startswith("unavailable")
    artis.clear_faults()
    await until(lambda: bool(said(bot, rep, LATER)))
    await asyncio.sleep(2 * FAST["outbox_lease"])
    assert len(said(bot, rep, LATER)) == 1
    assert f"RDV {action.id}" in said(bot, rep, LATER)[0]
    assert applications(artis, action.id) == 1
    record = await bot.services.outbox.get(outcome.record.order.id)
    assert record is not None and record.state is ReportState.DELIVERED
    assert record.attempts >= 2
    assert "Rien en attente" in (await bot.say(rep, "/envois"))[0]


async def test_a_report_waits_for_the_unlock_when_the_session_ends_then_goes(
        fast_bot: BotHarness, artis: DemoArtisServer) -> None:
    bot, rep = fast_bot, new_user()
    await bot.pair(rep)
    action = open_action(artis, "demo.commercial")
    artis.inject_fault(status=503, count=1000, path_prefix=f"/actions/{action.id}/report")
    outcome = await bot.services.outbox.submit(order(rep, "demo.commercial", action),
                                               await token_of(bot, "demo.commercial"))
    assert isinstance(outcome, Stored)
    artis.expire_tokens()  # artis.net restarted: every session is gone
    artis.clear_faults()
    await until(lambda: bool(said(bot, rep, "/start")))
    [asked] = said(bot, rep, "session artis.net")
    assert f"RDV {action.id}" in asked
    assert "déverrouillage requis" in (await bot.say(rep, "/envois"))[0]
    await asyncio.sleep(3 * FAST["outbox_retry_max"])  # re-checks do not ask again
    assert len(said(bot, rep, "session artis.net")) == 1
    assert applications(artis, action.id) == 0

    # The rep comes back: the bot asks for the password, and the report follows the unlock.
    assert any("mot de passe" in t for t in await bot.say(rep, "/planning"))
    await bot.say(rep, "demo")
    await until(lambda: bool(said(bot, rep, LATER)))
    assert applications(artis, action.id) == 1
    assert "Rien en attente" in (await bot.say(rep, "/envois"))[0]


async def test_envois_lists_only_the_reps_own_waiting_reports(
        fast_bot: BotHarness, artis: DemoArtisServer) -> None:
    bot, camille, thomas = fast_bot, new_user(), new_user("Thomas")
    await bot.pair(camille)
    await bot.pair(thomas, "demo.tdubois")
    token = await token_of(bot, "demo.commercial")
    actions = open_actions(artis, "demo.commercial", 2)
    for action in actions:
        artis.inject_fault(status=503, count=1000, path_prefix=f"/actions/{action.id}/report")
        await bot.services.outbox.submit(order(camille, "demo.commercial", action), token)
    [listing] = await bot.say(camille, "/envois")
    assert "2 comptes rendus en attente" in listing
    for action in actions:
        assert f"RDV {action.id}" in listing
    assert "artis.net indisponible" in listing
    [theirs] = await bot.say(thomas, "/envois")
    assert "Rien en attente" in theirs
    artis.clear_faults()
    await until(lambda: len(said(bot, camille, LATER)) == 2)


async def test_a_report_artis_refuses_for_good_is_explained_and_kept(
        fast_bot: BotHarness, artis: DemoArtisServer, artis_client, artis_login) -> None:
    bot, rep = fast_bot, new_user()
    await bot.pair(rep)
    action = open_action(artis, "demo.commercial")
    confirmed = order(rep, "demo.commercial", action)
    # While its delivery is held up, the rep reports the same action from the artis CRM app.
    async with bot.services.store.lock(keys.outbox_delivery(confirmed.id), timeout=30):
        outcome = await bot.services.outbox.submit(confirmed)
        assert isinstance(outcome, Stored) and outcome.record.state is ReportState.PENDING
        await artis_client.submit_report(await artis_login("demo.commercial"), action.id,
                                         ReportIn(text="Saisi sur l'application."),
                                         "from-the-app-" + confirmed.id)
    await until(lambda: bool(said(bot, rep, "a refusé")))
    [refused] = said(bot, rep, "a refusé")
    assert "déjà un compte rendu" in refused and "Votre texte est conservé" in refused
    record = await bot.services.outbox.get(confirmed.id)
    assert record is not None and record.state is ReportState.REFUSED
    assert record.order.text == confirmed.text
    assert applications(artis, action.id) == 1  # the app's report only
    assert "Rien en attente" in (await bot.say(rep, "/envois"))[0]


def test_retries_back_off_twice_as_long_each_time_up_to_the_cap() -> None:
    timing = OutboxTiming(retry_base=5, retry_max=600)
    assert [timing.backoff(n) for n in range(1, 9)] == [5, 10, 20, 40, 80, 160, 320, 600]
    assert timing.backoff(10_000) == 600


async def test_a_report_confirmed_after_the_idle_lock_dropped_the_session_goes_after_unlock(
        fast_bot: BotHarness, artis: DemoArtisServer) -> None:
    bot, rep = fast_bot, new_user()
    await bot.pair(rep)
    async with bot.services.scopes.scope(rep.id, rep.id) as session:
        await bot.services.pairing.lock(session)  # idle, no PIN: the token is dropped
    action = open_action(artis, "demo.commercial")
    outcome = await bot.services.outbox.submit(order(rep, "demo.commercial", action))
    assert isinstance(outcome, Stored) and outcome.record.state is ReportState.WAITING_UNLOCK
    await asyncio.sleep(2 * FAST["outbox_retry_max"])  # re-checked by the sweep meanwhile
    assert not said(bot, rep, "session artis.net"), "✅'s answer asked already"
    assert applications(artis, action.id) == 0
    assert any("mot de passe" in t for t in await bot.say(rep, "/envois"))
    await bot.say(rep, "demo")
    await until(lambda: bool(said(bot, rep, LATER)))
    assert applications(artis, action.id) == 1


async def test_the_jobs_still_deliver_after_the_queue_stayed_quiet_longer_than_redis_waits(
        tmp_path: Path, artis: DemoArtisServer) -> None:
    """redis-py times reads out after 5 s by default (since 8.2): a job queue that stayed
    empty longer than that must not have stopped this process from taking jobs (Redis)."""
    namespace = new_namespace()
    settings = make_settings(tmp_path, artis.url, redis_url=REDIS_URL, namespace=namespace,
                             **FAST)
    try:
        async with running_bot(settings) as bot:
            rep = new_user()
            await bot.pair(rep)
            await asyncio.sleep(6)  # the queue idle for longer than redis-py's read timeout
            action = open_action(artis, "demo.commercial")
            outcome = await bot.services.outbox.submit(order(rep, "demo.commercial", action),
                                                       await token_of(bot, "demo.commercial"))
            assert isinstance(outcome, Delivered)
            assert applications(artis, action.id) == 1
    finally:
        await wipe_redis_namespace(namespace)
