"""Digests and reminders the bot sends on its own, driven by ``tick`` with a controllable
clock, through the real bot on the real Redis, against the demo artis.net pinned to
Wednesday 9 December 2026 (manager Laurent Girard, sub-unit rep Lucie Mercier)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import keys
from bot.jobs import open_jobs
from bot.jobs.broker import build_broker
from bot.jobs.scheduling import schedule_source
from bot.scheduled import tick
from bot.services.preferences import DigestPrefs, ReminderPrefs
from bot.services.schedule import (
    Recipient,
    ReminderKind,
    Rules,
    digest_due,
    reminders_due,
    still_due,
)
from bot.settings import Settings
from bot.views.planning import CardCb, Op, OpCb
from integrations.artis.demo import DemoArtisServer, DemoLogins
from integrations.artis.demo.seed import build_seed
from integrations.artis.models import ActionStatus, ReportIn
from integrations.fake_bot_api import SimUser
from tests.harness import BotHarness, make_settings, new_user, running_bot
from tests.store_fixtures import REDIS_URL, new_namespace, wipe_redis_namespace

PARIS = ZoneInfo("Europe/Paris")
REUNION = ZoneInfo("Indian/Reunion")  # UTC+4, no summer time
WEDNESDAY = date(2026, 12, 9)


def at(hour: int, minute: int = 0, day: date = WEDNESDAY, tz: ZoneInfo = PARIS) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


# -- the rules, pure -------------------------------------------------------------------------


def manager(tz: ZoneInfo = PARIS, **prefs: object) -> Recipient:
    return Recipient(1, DemoLogins.MANAGER, True, tz,
                     DigestPrefs(at=time(7, 30)).model_copy(update=prefs), ReminderPrefs())


def test_the_digest_is_due_from_the_chosen_time_on_a_working_day() -> None:
    rules = Rules()
    assert digest_due(manager(), at(7, 29), rules) is None
    due = digest_due(manager(), at(7, 30), rules)
    assert due is not None and due.day == WEDNESDAY
    assert digest_due(manager(at=time(6, 45)), at(6, 45), rules) is not None
    assert digest_due(manager(paused=True), at(7, 30), rules) is None
    rep = Recipient(2, DemoLogins.COMMERCIAL, False, PARIS, DigestPrefs(at=time(7, 30)),
                    ReminderPrefs())
    assert digest_due(rep, at(7, 30), rules) is None


def test_no_digest_on_saturday_nor_on_christmas_day() -> None:
    rules = Rules()
    assert digest_due(manager(), at(7, 30, date(2026, 12, 12)), rules) is None  # Saturday
    assert digest_due(manager(), at(7, 30, date(2026, 12, 25)), rules) is None  # a Friday
    assert digest_due(manager(), at(7, 30, date(2026, 12, 24)), rules) is not None


def test_a_manager_in_another_time_zone_gets_it_at_their_local_time() -> None:
    rules = Rules()
    far = manager(tz=REUNION)
    due = digest_due(far, at(7, 30, tz=REUNION), rules)  # 04:30 in Paris
    assert due is not None and due.day == WEDNESDAY
    assert digest_due(far, at(7, 30), rules) is None  # 11:30 there: long past its time
    assert digest_due(far, at(7, 29, tz=REUNION), rules) is None


def _lucies_actions() -> list:
    return [a for a in build_seed(WEDNESDAY).actions if a.assignee_login == DemoLogins.LMERCIER]


def lucie(**prefs: bool) -> Recipient:
    return Recipient(3, DemoLogins.LMERCIER, False, PARIS, DigestPrefs(at=time(7, 30)),
                     ReminderPrefs(**prefs))


def test_briefing_an_hour_before_the_appointment() -> None:
    actions, rules = _lucies_actions(), Rules()

    def briefed(now: datetime) -> list[int]:
        return [r.action.planned_start.hour for r in reminders_due(lucie(), actions, now, rules)
                if r.kind is ReminderKind.BRIEFING]

    assert briefed(at(8, 59)) == []
    assert briefed(at(9, 0)) == [10]
    assert briefed(at(9, 59)) == [10]
    assert briefed(at(10, 0)) == []  # it has started
    assert [r.kind for r in reminders_due(lucie(briefing=False), actions, at(9), rules)
            ] == [ReminderKind.NUDGE, ReminderKind.NUDGE]


def test_report_nudge_half_an_hour_after_the_end_within_working_hours_only() -> None:
    actions, rules = _lucies_actions(), Rules()

    def nudged(now: datetime) -> list[str]:
        return [f"{r.action.planned_start:%d %H}" for r in
                reminders_due(lucie(briefing=False), actions, now, rules)]

    tuesday = WEDNESDAY - timedelta(days=1)
    assert nudged(at(15, 29, tuesday)) == []  # the 14:00 RDV ends at 15:00
    assert nudged(at(15, 30, tuesday)) == ["08 14"]
    assert nudged(at(16, 45, tuesday)) == ["08 14", "08 16"]  # the call ends at 16:15
    assert nudged(at(19, 0, tuesday)) == []  # after working hours
    assert nudged(at(7, 59)) == []  # before them
    assert nudged(at(8, 0)) == ["08 14", "08 16"]
    assert nudged(at(11, 30)) == ["08 14", "08 16", "09 10"]  # today's RDV ended at 11:00
    # Reported actions (Monday's, Tuesday 09:00) never get one.
    assert all(r.action.report is None
               for r in reminders_due(lucie(), actions, at(11, 30), rules))
    assert reminders_due(lucie(nudge=False, briefing=False), actions, at(11, 30), rules) == []


# -- through the bot, on Redis --------------------------------------------------------------


@pytest.fixture(scope="module")
def wednesday_artis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoArtisServer]:
    path = tmp_path_factory.mktemp("artis-wednesday") / "artis.sqlite3"
    with DemoArtisServer(db_path=path, today=WEDNESDAY) as server:
        yield server


@pytest.fixture
async def settings(tmp_path: Path,
                   wednesday_artis: DemoArtisServer) -> AsyncIterator[Callable[[], Settings]]:
    namespace = new_namespace()
    yield lambda: make_settings(tmp_path, wednesday_artis.url, redis_url=REDIS_URL,
                                namespace=namespace)
    await wipe_redis_namespace(namespace)


@pytest.fixture
async def bot(settings: Callable[[], Settings]) -> AsyncIterator[BotHarness]:
    async with running_bot(settings()) as harness:
        yield harness


async def paired(bot: BotHarness, login: str) -> SimUser:
    user = new_user()
    await bot.pair(user, login)
    return user


def sent_to(bot: BotHarness, user: SimUser, since: int = 0) -> list[tuple[str, str]]:
    return [(c.method, c.params.get("text") or c.params.get("caption") or "")
            for c in bot.api.calls[since:]
            if c.method.startswith("send") and str(c.params.get("chat_id")) == str(user.id)]


async def test_the_manager_gets_the_digest_and_its_chart_once(bot: BotHarness) -> None:
    boss = await paired(bot, DemoLogins.MANAGER)
    before = len(bot.api.calls)
    assert await tick(bot.services, bot.runtime.application.bot, at(7, 29)) == 0
    assert await tick(bot.services, bot.runtime.application.bot, at(7, 30)) == 1
    got = sent_to(bot, boss, before)
    texts = [text for method, text in got if method == "sendMessage"]
    assert "La journée de votre équipe" in texts[0] and "Lucie Mercier" in "".join(texts)
    assert [method for method, _ in got][-1] == "sendPhoto"
    assert await tick(bot.services, bot.runtime.application.bot, at(7, 45)) == 0
    assert len(sent_to(bot, boss, before)) == len(got)


async def test_two_processes_ticking_at_once_send_one_digest(
    bot: BotHarness, settings: Callable[[], Settings]
) -> None:
    boss = await paired(bot, DemoLogins.MANAGER)
    async with running_bot(settings()) as other:
        before = len(bot.api.calls), len(other.api.calls)
        counts = await asyncio.gather(
            tick(bot.services, bot.runtime.application.bot, at(7, 30)),
            tick(other.services, other.runtime.application.bot, at(7, 30)),
            tick(bot.services, bot.runtime.application.bot, at(7, 31)),
            tick(other.services, other.runtime.application.bot, at(7, 31)))
        assert sum(counts) == 1
        photos = [m for m, _ in sent_to(bot, boss, before[0]) + sent_to(other, boss, before[1])
                  if m == "sendPhoto"]
        assert photos == ["sendPhoto"]


async def test_a_user_who_blocked_the_bot_gets_no_digest(bot: BotHarness) -> None:
    boss = await paired(bot, DemoLogins.MANAGER)
    await bot.services.store.set(keys.blocked(boss.id), "1")
    before = len(bot.api.calls)
    assert await tick(bot.services, bot.runtime.application.bot, at(7, 30)) == 0
    assert sent_to(bot, boss, before) == []


async def test_no_digest_on_christmas_day_through_the_bot(bot: BotHarness) -> None:
    boss = await paired(bot, DemoLogins.MANAGER)
    before = len(bot.api.calls)
    await tick(bot.services, bot.runtime.application.bot, at(7, 30, date(2026, 12, 25)))
    assert sent_to(bot, boss, before) == []


async def test_the_rep_is_briefed_and_nudged_once_each(bot: BotHarness) -> None:
    rep = await paired(bot, DemoLogins.LMERCIER)
    app_bot = bot.runtime.application.bot
    before = len(bot.api.calls)
    assert await tick(bot.services, app_bot, at(9, 0)) == 3  # a briefing, two nudges
    texts = [text for _, text in sent_to(bot, rep, before)]
    briefing = next(text for text in texts if "Dans un instant" in text)
    assert "10:00" in briefing and "Dernier compte rendu ici" in briefing
    nudges = [text for text in texts if "Pas encore de compte rendu" in text]
    assert len(nudges) == 2
    assert await tick(bot.services, app_bot, at(9, 5)) == 0
    assert await tick(bot.services, app_bot, at(9, 30)) == 0
    # The nudge's ✍️ is the action card's own report button.
    tuesday_call = next(a for a in _lucies_actions()
                        if a.planned_start == at(16, 0, WEDNESDAY - timedelta(days=1)))
    _, report = bot.find_button(rep, "✍️ Compte rendu")
    assert report["callback_data"] in {
        OpCb.of(CardCb(a.id, home=True), Op.REPORT).pack() for a in _lucies_actions()}
    assert any(OpCb.of(CardCb(tuesday_call.id, home=True), Op.REPORT).pack()
               in str(bot.api.buttons(m)) for m in bot.bot_messages(rep))
    # The briefing carries the route buttons of the action card.
    message, _ = bot.find_button(rep, "🗺 Google Maps")
    assert "Dans un instant" in message["text"]


async def test_reglages_turns_a_reminder_off(bot: BotHarness) -> None:
    rep = await paired(bot, DemoLogins.LMERCIER)
    shown = await bot.say(rep, "/reglages")
    assert "Briefing 60 minutes avant un rendez-vous : <b>activé</b>" in shown[-1]
    edited = await bot.press_label(rep, "Désactiver le briefing")
    assert "Briefing 60 minutes avant un rendez-vous : <b>désactivé</b>" in edited[-1]
    before = len(bot.api.calls)
    assert await tick(bot.services, bot.runtime.application.bot, at(9, 0)) == 2
    assert not any("Dans un instant" in text for _, text in sent_to(bot, rep, before))


async def test_digest_command_changes_time_pauses_resumes_and_sends_now(
    bot: BotHarness,
) -> None:
    boss = await paired(bot, DemoLogins.MANAGER)
    shown = await bot.say(boss, "/digest")
    assert "Chaque jour ouvré à <b>07:30</b>" in shown[-1]
    assert "Chaque jour ouvré à <b>08:00</b>" in (await bot.press_label(boss, "08:00"))[-1]
    assert "Chaque jour ouvré à <b>06:45</b>" in (await bot.say(boss, "/digest 6h45"))[-1]
    assert "En pause" in (await bot.say(boss, "/digest pause"))[-1]
    assert await tick(bot.services, bot.runtime.application.bot, at(6, 45)) == 0
    assert "Chaque jour ouvré" in (await bot.press_label(boss, "▶️ Reprendre"))[-1]
    assert "Je n'ai pas compris" in (await bot.say(boss, "/digest bientôt"))[-1]
    before = len(bot.api.calls)
    now = await bot.say(boss, "/digest maintenant")
    assert any("La journée de votre équipe" in text for text in now)
    assert [m for m, _ in sent_to(bot, boss, before)][-1] == "sendPhoto"


async def test_a_rep_is_told_the_digest_is_for_managers(bot: BotHarness) -> None:
    rep = await paired(bot, DemoLogins.LMERCIER)
    assert "responsables" in (await bot.say(rep, "/digest"))[-1]


async def test_a_former_manager_gets_nothing_and_is_not_asked_about_again(
    bot: BotHarness,
) -> None:
    import json

    from bot.services.schedule import NOT_DUE, DigestDue

    rep = await paired(bot, DemoLogins.COMMERCIAL)
    store = bot.services.store
    link = json.loads(await store.get(keys.link(rep.id)) or "{}")
    await store.set(keys.link(rep.id), json.dumps({**link, "is_manager": True}))
    before = len(bot.api.calls)
    assert await tick(bot.services, bot.runtime.application.bot, at(7, 30)) == 0
    assert sent_to(bot, rep, before) == []
    day = DigestDue(rep.id, DemoLogins.COMMERCIAL, PARIS, WEDNESDAY)
    assert await bot.services.schedule.state(day) == NOT_DUE
    assert day not in await bot.services.schedule.due(at(7, 31))


# -- taskiq's scheduler drives the ticks -----------------------------------------------------


@pytest.mark.parametrize("redis", [False, True], ids=["embedded", "redis"])
async def test_schedulers_and_workers_send_the_digest_once(
    tmp_path: Path, wednesday_artis: DemoArtisServer, redis: bool
) -> None:
    """Two processes' worth of schedulers and workers (taskiq), ticking every second at
    07:30 on a working day for three seconds: the manager gets one digest and one chart."""
    namespace = new_namespace()
    built = make_settings(tmp_path, wednesday_artis.url, namespace=namespace,
                          redis_url=REDIS_URL if redis else None, jobs_in_bot=False)
    ticking = built.model_copy(update={"schedule_tick_seconds": 1})
    try:
        async with running_bot(built) as first, running_bot(built) as second:
            boss = await paired(first, DemoLogins.MANAGER)
            before = len(first.api.calls), len(second.api.calls)
            async with AsyncExitStack() as stack:
                for harness in (first, second) if redis else (first,):
                    services = dataclasses.replace(harness.services, settings=ticking)
                    await stack.enter_async_context(open_jobs(
                        services, harness.runtime.application.bot, consume=True,
                        clock=lambda: at(7, 30)))
                await asyncio.sleep(3.5)
                if redis:  # one schedule in Redis, whichever process wrote it last
                    source = schedule_source(ticking, build_broker(ticking))
                    assert [s.schedule_id for s in await source.get_schedules()] == [
                        "crmbot-tick"]
                    await source.shutdown()
            got = sent_to(first, boss, before[0]) + sent_to(second, boss, before[1])
            assert [m for m, _ in got].count("sendPhoto") == 1
            assert sum("La journée de votre équipe" in text for _, text in got) == 1
    finally:
        if redis:
            await wipe_redis_namespace(namespace)


async def test_blocking_the_bot_stops_the_digest_and_unblocking_brings_it_back(
        bot: BotHarness) -> None:
    boss = await paired(bot, DemoLogins.MANAGER)
    me = {"id": 1, "is_bot": True, "first_name": "artis CRM"}
    chat = {"id": boss.id, "type": "private", "first_name": boss.first_name}

    def membership(old: str, new: str) -> dict[str, object]:
        return {"update_id": bot.api.next_update_id(), "my_chat_member": {
            "chat": chat, "from": boss.as_json(), "date": 0,
            "old_chat_member": {"user": me, "status": old, "until_date": 0},
            "new_chat_member": {"user": me, "status": new, "until_date": 0}}}

    assert await bot.send(membership("member", "kicked")) == []  # no answer to a block
    before = len(bot.api.calls)
    assert await tick(bot.services, bot.runtime.application.bot, at(7, 30)) == 0
    assert sent_to(bot, boss, before) == []
    assert await bot.send(membership("kicked", "member")) == []
    assert await tick(bot.services, bot.runtime.application.bot, at(7, 31)) == 1
    assert "La journée de votre équipe" in sent_to(bot, boss, before)[0][1]


# -- what the reminders read ------------------------------------------------------------------


def test_a_reminder_found_on_an_old_copy_is_checked_against_the_action_as_it_is_now() -> None:
    rules = Rules()
    rdv = next(a for a in _lucies_actions() if a.planned_start == at(10, 0))
    [briefing] = [r for r in reminders_due(lucie(nudge=False), [rdv], at(9, 15), rules)]
    assert still_due(briefing, rdv, at(9, 15), rules)
    moved = rdv.model_copy(update={"planned_start": at(15, 0), "planned_end": at(16, 0)})
    assert not still_due(briefing, moved, at(9, 15), rules)
    cancelled = rdv.model_copy(update={"status": ActionStatus.ANNULEE})
    assert not still_due(briefing, cancelled, at(9, 15), rules)
    [nudge] = [r for r in reminders_due(lucie(briefing=False), [rdv], at(11, 30), rules)]
    assert still_due(nudge, rdv, at(11, 30), rules)
    reported = next(a for a in _lucies_actions() if a.report is not None)
    assert not still_due(nudge, rdv.model_copy(update={"report": reported.report}),
                         at(11, 30), rules)


@pytest.fixture
async def counted(tmp_path: Path) -> AsyncIterator[tuple[BotHarness, DemoArtisServer]]:
    """A bot on an artis.net of its own that counts requests (and may be written to)."""
    namespace = new_namespace()
    try:
        with DemoArtisServer(db_path=tmp_path / "artis.sqlite3", today=WEDNESDAY,
                             faults_enabled=True) as artis:
            settings = make_settings(tmp_path, artis.url, redis_url=REDIS_URL,
                                     namespace=namespace)
            async with running_bot(settings) as harness:
                yield harness, artis
    finally:
        await wipe_redis_namespace(namespace)


def planning_reads(artis: DemoArtisServer) -> int:
    return artis.request_count("/actions", "GET") - artis.request_count("/actions/", "GET")


async def test_a_reps_planning_is_read_once_per_refresh_not_at_every_tick(
        counted: tuple[BotHarness, DemoArtisServer]) -> None:
    bot, artis = counted
    await paired(bot, DemoLogins.LMERCIER)
    app_bot = bot.runtime.application.bot
    artis.clear_faults()
    assert await tick(bot.services, app_bot, at(8, 0)) == 2  # Tuesday's two nudges
    assert planning_reads(artis) == 1
    for minute in range(1, 8):
        await tick(bot.services, app_bot, at(8, minute))
    assert planning_reads(artis) == 1  # ten minutes' refresh (REMINDER_REFRESH_MINUTES)
    await tick(bot.services, app_bot, at(8, 10) + timedelta(seconds=1))
    assert planning_reads(artis) == 2


async def test_no_nudge_for_an_action_reported_since_the_planning_was_read(
        counted: tuple[BotHarness, DemoArtisServer]) -> None:
    bot, artis = counted
    rep = await paired(bot, DemoLogins.LMERCIER)
    app_bot = bot.runtime.application.bot
    await tick(bot.services, app_bot, at(11, 25))  # reads the planning: 10:00 RDV not reported
    rdv = next(a for a in _lucies_actions() if a.planned_start == at(10, 0))
    login = await bot.services.artis.login(DemoLogins.LMERCIER, "demo")
    await bot.services.artis.submit_report(login.token, rdv.id,
                                           ReportIn(text="Visite faite, devis à envoyer."),
                                           idempotency_key="test-report-1")
    reads, before = planning_reads(artis), len(bot.api.calls)
    assert await tick(bot.services, app_bot, at(11, 30)) == 0
    assert not any("Pas encore de compte rendu" in text for _, text in sent_to(bot, rep, before))
    assert planning_reads(artis) == reads  # decided on the copy, checked on the action
    await tick(bot.services, app_bot, at(11, 31))
    assert planning_reads(artis) == reads + 1  # the copy said otherwise: dropped, read again
