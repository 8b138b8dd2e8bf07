"""ArtisClient against the real demo server over loopback HTTP: mapping, access, resilience."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import pytest

from integrations.artis.client import ArtisClient
from integrations.artis.demo import DEMO_PASSWORD, DemoArtisServer, DemoLogins
from integrations.artis.demo.seed import PARIS
from integrations.artis.errors import (
    AccessDenied,
    AccountLocked,
    ArtisUnavailable,
    Conflict,
    InvalidCredentials,
    InvalidData,
    NotFound,
    SessionExpired,
)
from integrations.artis.models import (
    Action,
    ActionStatus,
    ActionType,
    ContactCreate,
    ContactPatch,
    FollowUpIn,
    FollowUpKind,
    LicenceType,
    Mission,
    ReportIn,
)

Login = Callable[[str], Awaitable[str]]


def _today_bounds() -> tuple[datetime, datetime]:
    start = datetime.now(PARIS).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def _week_around_today() -> tuple[datetime, datetime]:
    start, _ = _today_bounds()
    return start - timedelta(days=10), start + timedelta(days=14)


def _open_future_action(artis: DemoArtisServer, login: str, skip: int = 0) -> Action:
    """A not-yet-done action of `login` after today, distinct per `skip`, for write tests."""
    tomorrow = _today_bounds()[1]
    todo = [a for a in artis.store.actions([login], start=tomorrow, status=ActionStatus.A_REALISER)]
    return todo[skip]


def _fast_client(artis: DemoArtisServer, **overrides: float) -> ArtisClient:
    options: dict[str, float] = {"timeout": 2.0, "max_retries": 2, "backoff": 0.01}
    options.update(overrides)
    return ArtisClient(
        artis.url,
        service_login=DemoLogins.SERVICE,
        service_password=DEMO_PASSWORD,
        timeout=options["timeout"],
        max_retries=int(options["max_retries"]),
        backoff=options["backoff"],
    )


# -- sessions -------------------------------------------------------------------------------


async def test_login_returns_session_and_profile(artis_client: ArtisClient) -> None:
    result = await artis_client.login(DemoLogins.COMMERCIAL, DEMO_PASSWORD)
    assert result.token
    assert result.expires_at > datetime.now(PARIS)
    assert result.user.login == DemoLogins.COMMERCIAL
    assert result.user.display_name == "Camille Martin"
    me = await artis_client.me(result.token)
    assert me.id == result.user.id


@pytest.mark.parametrize("login", [DemoLogins.COMMERCIAL, "nobody.here"])
async def test_bad_credentials(artis_client: ArtisClient, login: str) -> None:
    with pytest.raises(InvalidCredentials):
        await artis_client.login(login, "wrong-password")


async def test_locked_account(artis_client: ArtisClient) -> None:
    with pytest.raises(AccountLocked):
        await artis_client.login(DemoLogins.LOCKED, DEMO_PASSWORD)


async def test_logout_ends_session(artis_client: ArtisClient, artis_login: Login) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    await artis_client.logout(token)
    with pytest.raises(SessionExpired):
        await artis_client.me(token)
    await artis_client.logout(token)  # logging out twice is harmless


@pytest.mark.parametrize(
    ("login", "has_pda", "commercial", "commerce_unit"),
    [
        (DemoLogins.MANAGER, True, True, True),
        (DemoLogins.COMMERCIAL, True, True, True),
        (DemoLogins.TDUBOIS, True, True, True),
        (DemoLogins.PFAURE, True, True, True),
        (DemoLogins.NO_LICENCE, False, True, True),
        (DemoLogins.NO_UO, True, True, False),
        (DemoLogins.NO_MISSION, True, False, True),
    ],
)
async def test_demo_users_prerequisites(
    artis_client: ArtisClient,
    artis_login: Login,
    login: str,
    has_pda: bool,
    commercial: bool,
    commerce_unit: bool,
) -> None:
    me = await artis_client.me(await artis_login(login))
    assert LicenceType.CRM in me.licences
    assert (LicenceType.PDA in me.licences) is has_pda
    assert (Mission.COMMERCIAL in me.missions) is commercial
    assert any(unit.is_commerce for unit in me.org_units) is commerce_unit
    assert me.org_units, "every demo rep belongs to at least one unit"
    assert me.timezone == "Europe/Paris"


async def test_manager_heads_the_idf_team(artis_client: ArtisClient, artis_login: Login) -> None:
    manager = await artis_client.me(await artis_login(DemoLogins.MANAGER))
    assert manager.heads_org_units == ["CDV-IDF"]
    rep = await artis_client.me(await artis_login(DemoLogins.COMMERCIAL))
    assert rep.heads_org_units == []


# -- service account ------------------------------------------------------------------------


async def test_service_account_reads_users_and_units(artis_client: ArtisClient) -> None:
    user = await artis_client.find_user(DemoLogins.COMMERCIAL)
    assert user is not None and user.display_name == "Camille Martin"
    assert await artis_client.find_user("nobody.here") is None
    units = {unit.code: unit for unit in await artis_client.list_org_units()}
    assert {"CDV-IDF", "CDV-LYON", "ADV"} <= set(units)
    assert DemoLogins.COMMERCIAL in units["CDV-IDF"].member_logins
    idf = await artis_client.get_org_unit("CDV-IDF")
    assert idf.head_login == DemoLogins.MANAGER
    with pytest.raises(NotFound):
        await artis_client.get_org_unit("NOPE")


async def test_org_units_for_heads_only(artis_client: ArtisClient, artis_login: Login) -> None:
    manager = await artis_login(DemoLogins.MANAGER)
    assert [u.code for u in await artis_client.list_org_units(token=manager)] == ["CDV-IDF"]
    assert (await artis_client.get_org_unit("CDV-IDF", token=manager)).member_logins
    with pytest.raises(AccessDenied):
        await artis_client.get_org_unit("CDV-LYON", token=manager)
    rep = await artis_login(DemoLogins.COMMERCIAL)
    with pytest.raises(AccessDenied):
        await artis_client.list_org_units(token=rep)


async def test_service_account_is_required_for_find_user(artis: DemoArtisServer) -> None:
    async with ArtisClient(artis.url) as client:
        with pytest.raises(Exception, match="no artis service account"):
            await client.find_user(DemoLogins.COMMERCIAL)


# -- planning and visibility ----------------------------------------------------------------


async def test_today_planning_of_demo_rep(artis_client: ArtisClient, artis_login: Login) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    start, end = _today_bounds()
    actions = await artis_client.list_actions(token, start, end)
    assert len(actions) >= 3
    assert all(a.assignee_login == DemoLogins.COMMERCIAL for a in actions)
    assert all(start <= a.planned_start < end for a in actions)
    assert [a.planned_start for a in actions] == sorted(a.planned_start for a in actions)
    assert all(8 <= a.planned_start.astimezone(PARIS).hour <= 18 for a in actions)
    assert {ActionType.RDV, ActionType.APPEL} <= {a.type for a in actions}


async def test_planning_has_done_and_overdue_actions(
    artis_client: ArtisClient, artis_login: Login
) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    actions = await artis_client.list_actions(token, *_week_around_today())
    today_start = _today_bounds()[0]
    overdue = [a for a in actions if a.is_overdue(today_start)]
    done = [a for a in actions if a.status is ActionStatus.REALISEE and a.report]
    assert len(overdue) >= 2
    assert done and all(a.executed_at for a in done)
    assert any(a.affaire_id for a in actions)
    todo = await artis_client.list_actions(
        token, *_week_around_today(), status=ActionStatus.REALISEE
    )
    assert todo and all(a.status is ActionStatus.REALISEE for a in todo)


async def test_action_detail(artis_client: ArtisClient, artis_login: Login) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    first = (await artis_client.list_actions(token, *_today_bounds()))[0]
    detail = await artis_client.get_action(token, first.id)
    assert detail.action.id == first.id
    assert detail.site.id == first.site_id and detail.site.latitude is not None
    assert [c.id for c in detail.contacts] == first.contact_ids
    assert detail.affaire is not None and len(detail.affaire.number) == 6
    site = await artis_client.get_site(token, first.site_id)
    assert site.phone and site.phone.startswith("+33 ")
    affaire = await artis_client.get_affaire(token, detail.affaire.id)
    assert affaire.commercial_revenue and affaire.client_name == site.company_name


async def test_rep_cannot_read_another_reps_data(
    artis: DemoArtisServer, artis_client: ArtisClient, artis_login: Login
) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    foreign = artis.store.actions([DemoLogins.TDUBOIS])[0]
    with pytest.raises(NotFound):
        await artis_client.get_action(token, foreign.id)
    with pytest.raises(NotFound):
        await artis_client.get_site(token, foreign.site_id)
    with pytest.raises(NotFound):
        await artis_client.get_contact(token, foreign.contact_ids[0])
    foreign_affaire = artis.store.affaires_of_reps([DemoLogins.TDUBOIS])[0]
    with pytest.raises(NotFound):
        await artis_client.get_affaire(token, foreign_affaire.id)
    with pytest.raises(AccessDenied):
        await artis_client.list_actions(token, *_today_bounds(), assignee=DemoLogins.TDUBOIS)


async def test_manager_sees_members_planning(artis_client: ArtisClient, artis_login: Login) -> None:
    manager = await artis_login(DemoLogins.MANAGER)
    actions = await artis_client.list_actions(
        manager, *_today_bounds(), assignee=DemoLogins.COMMERCIAL
    )
    assert len(actions) >= 3
    assert all(a.assignee_login == DemoLogins.COMMERCIAL for a in actions)
    detail = await artis_client.get_action(manager, actions[0].id)
    assert detail.action.assignee_login == DemoLogins.COMMERCIAL
    own = await artis_client.list_actions(manager, *_week_around_today())
    assert all(a.assignee_login == DemoLogins.MANAGER for a in own)
    with pytest.raises(AccessDenied):  # not a member of a unit they head
        await artis_client.list_actions(manager, *_today_bounds(), assignee=DemoLogins.PFAURE)


async def test_naive_datetimes_are_refused(artis_client: ArtisClient) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await artis_client.list_actions("token", datetime(2025, 1, 1), datetime(2025, 1, 2))


# -- attachments ----------------------------------------------------------------------------


async def test_only_crm_attachments_are_listed_and_served(
    artis: DemoArtisServer, artis_client: ArtisClient, artis_login: Login
) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    first = (await artis_client.list_actions(token, *_today_bounds()))[0]
    detail = await artis_client.get_action(token, first.id)
    names = {a.file_name for a in detail.attachments}
    assert {"Proposition_commerciale.pdf", "Plan_acces.pdf", "Ordre_du_jour.txt"} <= names
    assert all(a.accessible_crm for a in detail.attachments)
    pdf = next(a for a in detail.attachments if a.file_name == "Plan_acces.pdf")
    content = await artis_client.get_attachment_content(token, pdf.id)
    assert content.startswith(b"%PDF-") and len(content) == pdf.size_bytes

    owners = [("action", first.id), ("site", first.site_id), ("affaire", first.affaire_id or "")]
    hidden = [a for a in artis.store.attachments_of(owners) if not a.accessible_crm]
    assert len(hidden) == 2
    assert not names & {a.file_name for a in hidden}
    for attachment in hidden:
        with pytest.raises(NotFound):
            await artis_client.get_attachment_content(token, attachment.id)
    lyon_file = artis.store.attachments_of([("site", "SIT-0029")])[0]
    with pytest.raises(NotFound):
        await artis_client.get_attachment_content(token, lyon_file.id)


# -- contacts -------------------------------------------------------------------------------


async def test_contact_patch_persists(artis_client: ArtisClient, artis_login: Login) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    action = (await artis_client.list_actions(token, *_week_around_today()))[3]
    contact_id = action.contact_ids[0]
    before = await artis_client.get_contact(token, contact_id)
    patch = ContactPatch(mobile_phone="06 39 98 77 66", email="nouvel.email@exemple.example")
    updated = await artis_client.update_contact(token, contact_id, patch)
    assert updated.mobile_phone == "+33 6 39 98 77 66"
    again = await artis_client.get_contact(token, contact_id)
    assert again.email == "nouvel.email@exemple.example"
    assert again.last_name == before.last_name and again.functions == before.functions
    with pytest.raises(InvalidData):
        await artis_client.update_contact(token, contact_id, ContactPatch(email="pas-un-email"))


async def test_contact_create_and_duplicate_check(
    artis_client: ArtisClient, artis_login: Login
) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    action = (await artis_client.list_actions(token, *_today_bounds()))[1]
    existing = await artis_client.get_contact(token, action.contact_ids[0])

    same_name = ContactCreate(
        site_id=action.site_id,
        last_name=existing.last_name.upper(),
        first_name=existing.first_name,
    )
    with pytest.raises(Conflict) as caught:
        await artis_client.create_contact(token, same_name)
    assert caught.value.existing_id == existing.id

    same_mobile = ContactCreate(
        site_id=action.site_id, last_name="Autre", mobile_phone=existing.mobile_phone
    )
    with pytest.raises(Conflict) as caught:
        await artis_client.create_contact(token, same_mobile)
    assert caught.value.existing_id == existing.id

    fresh = ContactCreate(
        site_id=action.site_id,
        civility="Mme",
        last_name="Nouvelle",
        first_name=f"Personne {uuid.uuid4().hex[:6]}",
        functions=["Comptable"],
        direct_phone="01 99 00 55 44",
    )
    created = await artis_client.create_contact(token, fresh)
    assert created.site_ids == [action.site_id]
    assert created.direct_phone == "+33 1 99 00 55 44"
    assert (await artis_client.get_contact(token, created.id)).first_name == fresh.first_name


async def test_contact_on_foreign_site_is_refused(
    artis: DemoArtisServer, artis_client: ArtisClient, artis_login: Login
) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    foreign_site = artis.store.actions([DemoLogins.PFAURE])[0].site_id
    with pytest.raises(InvalidData):
        await artis_client.create_contact(
            token, ContactCreate(site_id=foreign_site, last_name="Intrus")
        )


# -- reports --------------------------------------------------------------------------------


async def test_report_is_idempotent(
    artis: DemoArtisServer, artis_client: ArtisClient, artis_login: Login
) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    target = _open_future_action(artis, DemoLogins.COMMERCIAL, skip=0)
    count_before = len(artis.store.actions([DemoLogins.COMMERCIAL]))
    next_call = target.planned_start + timedelta(days=7)
    report = ReportIn(
        text="Client intéressé, rappeler la semaine prochaine.",
        follow_up=FollowUpIn(
            kind=FollowUpKind.NOUVELLE_ACTION, planned_start=next_call, action_type=ActionType.APPEL
        ),
    )
    key = str(uuid.uuid4())
    first = await artis_client.submit_report(token, target.id, report, key)
    replay = await artis_client.submit_report(token, target.id, report, key)
    assert first == replay
    assert first.status is ActionStatus.REALISEE and first.executed_at is not None
    assert first.report is not None and first.report.executed_by_login == DemoLogins.COMMERCIAL
    assert first.follow_up is not None and first.follow_up.created_action_id
    assert len(artis.store.actions([DemoLogins.COMMERCIAL])) == count_before + 1
    follow = await artis_client.get_action(token, first.follow_up.created_action_id)
    assert follow.action.planned_start == next_call and follow.action.type is ActionType.APPEL
    assert follow.action.site_id == target.site_id

    with pytest.raises(Conflict) as caught:
        await artis_client.submit_report(token, target.id, report, str(uuid.uuid4()))
    assert caught.value.code == "already_reported"
    other = _open_future_action(artis, DemoLogins.COMMERCIAL, skip=0)
    with pytest.raises(Conflict):  # same key, different action
        await artis_client.submit_report(token, other.id, report, key)


async def test_report_retried_after_timeout_is_recorded_once(
    artis: DemoArtisServer, artis_login: Login
) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    target = _open_future_action(artis, DemoLogins.COMMERCIAL, skip=1)
    count_before = len(artis.store.actions([DemoLogins.COMMERCIAL]))
    path = f"/actions/{target.id}/report"
    # The first attempt reaches the server late (after the client gave up); the retry wins.
    artis.inject_fault(status=None, delay=0.6, path_prefix=path)
    report = ReportIn(
        text="Devis signé.",
        follow_up=FollowUpIn(
            kind=FollowUpKind.NOUVELLE_ACTION,
            planned_start=target.planned_start + timedelta(days=3),
        ),
    )
    async with _fast_client(artis, timeout=0.3) as client:
        done = await client.submit_report(token, target.id, report, str(uuid.uuid4()))
    await asyncio.sleep(0.6)  # let the delayed first attempt finish on the server
    assert artis.request_count(path) == 2
    assert done.follow_up is not None
    assert len(artis.store.actions([DemoLogins.COMMERCIAL])) == count_before + 1
    stored = artis.store.action(target.id)
    assert stored is not None and stored.report is not None
    assert stored.follow_up == done.follow_up


async def test_report_new_affaire_and_other_reps_action(
    artis: DemoArtisServer, artis_client: ArtisClient, artis_login: Login
) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    target = _open_future_action(artis, DemoLogins.COMMERCIAL, skip=2)
    report = ReportIn(
        text="Nouveau projet de GED.", follow_up=FollowUpIn(kind=FollowUpKind.NOUVELLE_AFFAIRE)
    )
    done = await artis_client.submit_report(token, target.id, report, str(uuid.uuid4()))
    assert done.follow_up is not None and done.follow_up.created_affaire_id
    affaire = await artis_client.get_affaire(token, done.follow_up.created_affaire_id)
    assert affaire.main_sales_rep_login == DemoLogins.COMMERCIAL and len(affaire.number) == 6

    manager = await artis_login(DemoLogins.MANAGER)
    member_action = _open_future_action(artis, DemoLogins.COMMERCIAL, skip=3)
    with pytest.raises(AccessDenied):  # a head reads, but only the assignee reports
        await artis_client.submit_report(manager, member_action.id, report, "k-manager")
    foreign = _open_future_action(artis, DemoLogins.PFAURE)
    with pytest.raises(NotFound):
        await artis_client.submit_report(token, foreign.id, report, "k-foreign")


# -- resilience -----------------------------------------------------------------------------


async def test_retries_transient_503(
    artis: DemoArtisServer, artis_client: ArtisClient, artis_login: Login
) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    artis.inject_fault(status=503, count=2, path_prefix="/me")
    me = await artis_client.me(token)
    assert me.login == DemoLogins.COMMERCIAL
    assert artis.request_count("/me") == 3


async def test_gives_up_after_max_retries(
    artis: DemoArtisServer, artis_client: ArtisClient, artis_login: Login
) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    artis.inject_fault(status=503, count=10, path_prefix="/actions")
    with pytest.raises(ArtisUnavailable):
        await artis_client.list_actions(token, *_today_bounds())
    assert artis.request_count("/actions") == 3  # max_retries=2 -> 3 attempts


async def test_timeout_is_reported_quickly(artis: DemoArtisServer, artis_login: Login) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    artis.inject_fault(status=None, delay=1.0, count=5, path_prefix="/me")
    started = time.monotonic()
    async with _fast_client(artis, timeout=0.2, max_retries=1) as client:
        with pytest.raises(ArtisUnavailable):
            await client.me(token)
    assert time.monotonic() - started < 0.9
    assert artis.request_count("/me") == 2


async def test_unreachable_server(artis: DemoArtisServer) -> None:
    async with ArtisClient("http://127.0.0.1:9/api/v1", max_retries=1, backoff=0.01) as client:
        with pytest.raises(ArtisUnavailable):
            await client.login(DemoLogins.COMMERCIAL, DEMO_PASSWORD)


async def test_client_errors_are_not_retried(
    artis: DemoArtisServer, artis_client: ArtisClient, artis_login: Login
) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    with pytest.raises(NotFound):
        await artis_client.get_action(token, "ACT-NOPE")
    assert artis.request_count("/actions/ACT-NOPE") == 1
    artis.inject_fault(status=429, count=3, path_prefix="/me")
    with pytest.raises(Exception, match="fault injection"):
        await artis_client.me(token)
    assert artis.request_count("/me") == 1


async def test_non_idempotent_post_not_retried_on_500(
    artis: DemoArtisServer, artis_client: ArtisClient, artis_login: Login
) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    action = (await artis_client.list_actions(token, *_today_bounds()))[0]
    artis.inject_fault(status=500, count=3, path_prefix="/contacts", method="POST")
    with pytest.raises(ArtisUnavailable):
        await artis_client.create_contact(
            token, ContactCreate(site_id=action.site_id, last_name="Jamais")
        )
    assert artis.request_count("/contacts", method="POST") == 1


async def test_expired_user_session(
    artis: DemoArtisServer, artis_client: ArtisClient, artis_login: Login
) -> None:
    token = await artis_login(DemoLogins.COMMERCIAL)
    artis.expire_tokens()
    with pytest.raises(SessionExpired):
        await artis_client.list_actions(token, *_today_bounds())
    assert artis.request_count("/actions") == 1


async def test_service_session_renewed_transparently(
    artis: DemoArtisServer, artis_client: ArtisClient
) -> None:
    assert await artis_client.find_user(DemoLogins.MANAGER) is not None
    artis.expire_tokens()
    user = await artis_client.find_user(DemoLogins.MANAGER)
    assert user is not None and user.heads_org_units == ["CDV-IDF"]
    assert artis.request_count("/auth/login") == 2
    assert artis.request_count("/users/") == 3


async def test_faults_can_target_one_login(
    artis: DemoArtisServer, artis_client: ArtisClient, artis_login: Login
) -> None:
    rep = await artis_login(DemoLogins.COMMERCIAL)
    other = await artis_login(DemoLogins.TDUBOIS)
    artis.inject_fault(status=503, count=10, login=DemoLogins.TDUBOIS)
    assert (await artis_client.me(rep)).login == DemoLogins.COMMERCIAL
    with pytest.raises(ArtisUnavailable):
        await artis_client.me(other)
