"""The manager's daily digest: what it says for a known seeded day (the demo artis.net pinned
to Wednesday 9 December 2026), how it is cut between reps, in the manager's time zone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import L10n
from bot.services.digests import Digest, DigestService, Line, NotAManager, RepDigest, UnitDigest
from bot.services.digests import Week as WeekCounts
from bot.views.digest import digest as render
from integrations.artis.client import ArtisClient
from integrations.artis.demo import DEMO_PASSWORD, DemoArtisServer, DemoLogins
from integrations.artis.models import ActionType

PARIS = ZoneInfo("Europe/Paris")
WEDNESDAY = date(2026, 12, 9)
FR = L10n("fr", tz=PARIS)


@pytest.fixture(scope="module")
def wednesday_artis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoArtisServer]:
    path = tmp_path_factory.mktemp("artis-wednesday") / "artis.sqlite3"
    with DemoArtisServer(db_path=path, today=WEDNESDAY) as server:
        yield server


@pytest.fixture
async def digests(wednesday_artis: DemoArtisServer) -> AsyncIterator[DigestService]:
    async with ArtisClient(wednesday_artis.url, service_login=DemoLogins.SERVICE,
                           service_password=DEMO_PASSWORD, timeout=5.0) as client:
        yield DigestService(client)


def _at(hour: int, minute: int = 0, day: date = WEDNESDAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


async def _digest(digests: DigestService, login: str = DemoLogins.MANAGER) -> Digest:
    found = await digests.digest(login, _at(7, 30))
    assert isinstance(found, Digest)
    return found


async def test_the_manager_gets_their_unit_then_its_sub_unit(digests: DigestService) -> None:
    data = await _digest(digests)
    assert [(u.code, u.parent_name) for u in data.units] == [
        ("CDV-IDF", None), ("CDV-IDF-PME", "Équipe commerciale Île-de-France")]
    idf = data.units[0]
    names = [rep.name for rep in idf.reps]
    assert "Camille Martin" in names and "Thomas Dubois" in names
    assert "Laurent Girard" not in names  # the manager is not one of his reps
    assert "Hugo Marchand" not in names  # the ADV clerk has no sales mission
    assert data.previous_day == date(2026, 12, 8)


async def test_a_reps_day_yesterdays_missing_reports_and_the_week(
    digests: DigestService,
) -> None:
    pme = (await _digest(digests)).units[1]
    [lucie] = pme.reps
    assert [(x.start.hour, x.type) for x in lucie.today] == [
        (10, ActionType.RDV), (15, ActionType.APPEL)]
    assert all(x.town for x in lucie.today)
    assert [(x.start.hour, x.type) for x in lucie.unreported] == [
        (14, ActionType.RDV), (16, ActionType.APPEL)]
    assert lucie.week == WeekCounts(rdv_planned=4, rdv_done=3, reports_missing=2)
    assert (pme.affaires_won, pme.won_amount) == (1, 8900.0)


async def test_the_digest_reads_in_french(digests: DigestService) -> None:
    [message] = render(FR, await _digest(digests))
    text = message.text
    assert "mercredi 9 décembre 2026" in text
    assert "Lucie Mercier" in text and "Équipe PME Île-de-France" in text
    lucie = text[text.index("Lucie Mercier"):]
    assert "10:00 · RDV" in lucie and "15:00 · Appel" in lucie
    assert "mardi 8 décembre" in lucie
    assert "1 affaire gagnée (8\u202f900,00\u00a0€)" in text


async def test_a_rep_gets_no_digest(digests: DigestService) -> None:
    assert isinstance(await digests.digest(DemoLogins.COMMERCIAL, _at(7, 30)), NotAManager)


async def test_a_manager_elsewhere_reads_times_in_their_own_zone(
    digests: DigestService,
) -> None:
    reunion = ZoneInfo("Indian/Reunion")  # UTC+4: 10:00 in Paris is 13:00 there
    data = await digests.digest(DemoLogins.MANAGER, _at(7, 30).astimezone(reunion))
    assert isinstance(data, Digest)
    text = "\n".join(r.text for r in render(L10n("fr", tz=reunion), data))
    lucie = text[text.index("Lucie Mercier"):]
    assert "13:00 · RDV" in lucie


def _big_digest(reps: int, actions: int) -> Digest:
    def rep(n: int) -> RepDigest:
        lines = [Line(f"A{n}-{k}", _at(8) + timedelta(minutes=10 * k), ActionType.RDV,
                      f"Entreprise numéro {k} du commercial {n}", "Boulogne-Billancourt")
                 for k in range(actions)]
        return RepDigest(f"rep{n}", f"Commercial {n:02d}", lines, lines[:3], WeekCounts(5, 3, 2))

    units = [UnitDigest("U1", "Équipe Une", None, [rep(n) for n in range(reps // 2)]),
             UnitDigest("U2", "Équipe Deux", "Équipe Une",
                        [rep(n) for n in range(reps // 2, reps)])]
    return Digest("Laurent Girard", WEDNESDAY, WEDNESDAY - timedelta(days=1),
                  WEDNESDAY - timedelta(days=2), units)


def test_a_long_digest_is_cut_between_reps_never_inside_one() -> None:
    data = _big_digest(reps=24, actions=12)
    parts = [reply.text for reply in render(FR, data)]
    assert len(parts) > 1
    assert all(len(part) <= 4096 for part in parts)
    for rep in data.reps:
        holding = [part for part in parts if f"<b>{rep.name}</b>" in part]
        assert len(holding) == 1, rep.name
        assert all(f"numéro {k} du commercial {rep.login[3:]}<" in holding[0]
                   for k in range(12))
    # Reps stay in order, and a unit carried over names itself again.
    joined = "".join(parts)
    positions = [joined.index(f"<b>{rep.name}</b>") for rep in data.reps]
    assert positions == sorted(positions)
    assert any(part.startswith("🏢 <b>Équipe") and "(suite)" in part.split("\n")[0]
               for part in parts[1:])


def test_a_short_digest_is_one_message() -> None:
    assert len(render(FR, _big_digest(reps=2, actions=2))) == 1


def test_every_part_fits_even_for_a_rep_longer_than_a_message() -> None:
    parts = render(FR, _big_digest(reps=2, actions=80))
    assert all(len(reply.text) <= 4096 for reply in parts)


def test_unit_tree_survives_in_the_text() -> None:
    text = render(FR, _big_digest(reps=2, actions=1))[0].text
    assert "Équipe Deux</b> (rattachée à Équipe Une)" in text


# -- the chart --------------------------------------------------------------------------------


async def test_the_week_chart_is_a_png_of_sensible_size(digests: DigestService) -> None:
    from bot.views.digest_chart import week_chart

    chart = week_chart(FR, await _digest(digests))
    assert chart is not None and chart.caption
    png = chart.content
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    assert width == 800 and 300 <= height <= 1200
    assert 10_000 < len(png) < 500_000


def test_starting_the_bot_does_not_import_matplotlib() -> None:
    import subprocess
    import sys

    code = ("import sys, bot.runtime, bot.app, bot.views.digest, bot.services.digests; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
