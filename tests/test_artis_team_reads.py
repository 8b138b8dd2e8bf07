"""What the managers' digests and the reps' reminders read from artis.net: the service account
sees the planning, comptes rendus and affaires of the Commerce units' members, the unit tree and
the affaires won in a period; a rep's own session still sees only the rep's own data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

import pytest

from integrations.artis.client import ArtisClient
from integrations.artis.demo import DemoArtisServer, DemoLogins
from integrations.artis.demo.seed import PARIS, build_seed
from integrations.artis.errors import AccessDenied, InvalidData, NotFound
from integrations.artis.models import ActionStatus, AffaireSalesStatus

Login = Callable[[str], Awaitable[str]]


def _week() -> tuple[datetime, datetime]:
    today = datetime.now(PARIS).replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(days=7), monday + timedelta(days=7)


async def test_service_account_reads_a_reps_planning_with_reports(
    artis_client: ArtisClient,
) -> None:
    actions = await artis_client.team_actions(DemoLogins.LMERCIER, *_week())
    assert actions and all(a.assignee_login == DemoLogins.LMERCIER for a in actions)
    assert any(a.report is not None for a in actions)
    assert any(a.status is ActionStatus.REALISEE and a.report is None for a in actions)
    detail = await artis_client.team_action(actions[-1].id)
    assert detail.site.id == actions[-1].site_id and detail.contacts


async def test_service_account_reads_every_commerce_unit_but_not_other_staff(
    artis_client: ArtisClient,
) -> None:
    for login in (DemoLogins.COMMERCIAL, DemoLogins.PFAURE, DemoLogins.LMERCIER):
        assert await artis_client.team_actions(login, *_week()), login
    with pytest.raises(AccessDenied):  # the ADV clerk is in no Commerce unit
        await artis_client.team_actions(DemoLogins.NO_UO, *_week())


async def test_unit_tree_lists_sub_units_with_their_parent(
    artis_client: ArtisClient, artis_login: Login
) -> None:
    below = await artis_client.list_sub_units("CDV-IDF")
    assert [(u.code, u.parent_code) for u in below] == [("CDV-IDF-PME", "CDV-IDF")]
    assert DemoLogins.LMERCIER in below[0].member_logins
    assert await artis_client.list_sub_units("CDV-LYON") == []
    manager = await artis_login(DemoLogins.MANAGER)
    assert [u.code for u in await artis_client.list_sub_units("CDV-IDF", token=manager)] == [
        "CDV-IDF-PME"
    ]
    with pytest.raises(AccessDenied):
        await artis_client.list_sub_units("CDV-LYON", token=manager)
    with pytest.raises(NotFound):
        await artis_client.list_sub_units("NOPE")


async def test_head_of_a_unit_reads_the_planning_of_its_sub_units(
    artis_client: ArtisClient, artis_login: Login
) -> None:
    manager = await artis_login(DemoLogins.MANAGER)
    actions = await artis_client.list_actions(manager, *_week(), assignee=DemoLogins.LMERCIER)
    assert actions


async def test_affaires_won_this_week_by_unit(artis_client: ArtisClient) -> None:
    today = datetime.now(PARIS).date()
    monday = today - timedelta(days=today.weekday())
    won = await artis_client.list_affaires(
        "CDV-IDF-PME", monday, monday + timedelta(days=7), AffaireSalesStatus.GAGNEE
    )
    assert [(a.main_sales_rep_login, a.status_changed_on) for a in won] == [
        (DemoLogins.LMERCIER, today)
    ]
    everything = await artis_client.list_affaires(
        "CDV-IDF-PME", today - timedelta(days=60), today + timedelta(days=1)
    )
    assert {a.sales_status for a in everything} == {
        AffaireSalesStatus.GAGNEE, AffaireSalesStatus.PROPOSITION
    }
    with pytest.raises(InvalidData):
        await artis_client.list_affaires("CDV-IDF-PME", today, today)


async def test_a_rep_still_sees_only_their_own_data(
    artis: DemoArtisServer, artis_client: ArtisClient, artis_login: Login
) -> None:
    rep = await artis_login(DemoLogins.LMERCIER)
    with pytest.raises(AccessDenied):
        await artis_client.list_actions(rep, *_week(), assignee=DemoLogins.COMMERCIAL)
    with pytest.raises(AccessDenied):
        await artis_client.list_sub_units("CDV-IDF", token=rep)
    with pytest.raises(AccessDenied):
        today = datetime.now(PARIS).date()
        await artis_client.list_affaires("CDV-IDF", today, today + timedelta(days=1), token=rep)
    foreign = artis.store.actions([DemoLogins.COMMERCIAL])[0]
    with pytest.raises(NotFound):
        await artis_client.get_action(rep, foreign.id)
    other = await artis_login(DemoLogins.COMMERCIAL)
    with pytest.raises(AccessDenied):
        await artis_client.list_actions(other, *_week(), assignee=DemoLogins.LMERCIER)


def test_seeded_sub_unit_day_on_a_wednesday() -> None:
    seed = build_seed(date(2026, 12, 9))
    mine = [a for a in seed.actions if a.assignee_login == DemoLogins.LMERCIER]
    yesterday = [a for a in mine if a.planned_start.date() == date(2026, 12, 8)]
    assert [(a.planned_start.hour, a.report is not None) for a in yesterday] == [
        (9, True), (14, False), (16, False)
    ]
    assert len([a for a in mine if a.planned_start.date() == date(2026, 12, 9)]) == 2
    assert all(a.org_unit_code == "CDV-IDF-PME" for a in mine)
