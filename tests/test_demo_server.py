"""The demo artis.net itself: current seed, reseeding, realistic data, contract agreement."""

from __future__ import annotations

import functools
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic import BaseModel
from starlette.routing import Mount, Route

from integrations.artis import models
from integrations.artis.demo import DEMO_PASSWORD, DemoArtisServer, DemoLogins
from integrations.artis.demo.app import API_PREFIX, create_app
from integrations.artis.demo.seed import PARIS, at, build_seed, paris_today
from integrations.artis.demo.service import DemoService
from integrations.artis.demo.store import DemoStore
from integrations.artis.models import ActionStatus, Contact

OPENAPI = Path(models.__file__).with_name("openapi.yaml")
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}
# OpenAPI schema name -> model it documents.
SCHEMA_MODELS: dict[str, type[BaseModel]] = {
    "Error": models.ErrorBody,
    "OrgUnit": models.OrgUnit,
    "User": models.User,
    "Site": models.Site,
    "Contact": models.Contact,
    "Attachment": models.Attachment,
    "AffaireSummary": models.AffaireSummary,
    "Affaire": models.Affaire,
    "Report": models.Report,
    "FollowUp": models.FollowUp,
    "Action": models.Action,
    "ActionDetail": models.ActionDetail,
    "NearbyAction": models.NearbyAction,
    "Quote": models.Quote,
    "LoginRequest": models.LoginRequest,
    "LoginResult": models.LoginResult,
    "ContactCreate": models.ContactCreate,
    "ContactPatch": models.ContactPatch,
    "FollowUpIn": models.FollowUpIn,
    "ReportIn": models.ReportIn,
}
IDF_BOX = (48.1, 49.3, 1.4, 3.6)
LYON_BOX = (45.55, 45.95, 4.6, 5.1)


@functools.cache
def _spec() -> dict[str, Any]:
    """The contract, parsed once (PyYAML is slow enough to matter across parametrized tests)."""
    return yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))


def _in_box(lat: float, lon: float, box: tuple[float, float, float, float]) -> bool:
    return box[0] <= lat <= box[1] and box[2] <= lon <= box[3]


def _main_rep_day(store: DemoStore, day: date) -> list[models.Action]:
    return store.actions([DemoLogins.COMMERCIAL], at(day, 0), at(day + timedelta(days=1), 0))


# -- seed ------------------------------------------------------------------------------------


def test_seed_is_current(demo_artis: DemoArtisServer) -> None:
    today = paris_today()
    assert demo_artis.store.seeded_on() == today
    todays = _main_rep_day(demo_artis.store, today)
    assert len(todays) >= 3
    for action in todays:
        local = action.planned_start.astimezone(PARIS)
        assert local.date() == today and 8 <= local.hour <= 18


def test_seed_is_deterministic_and_moves_with_today() -> None:
    day = date(2025, 3, 12)  # a Wednesday
    first, again = build_seed(day), build_seed(day)
    assert first.actions == again.actions and first.contacts == again.contacts
    later = build_seed(day + timedelta(days=9))
    assert min(a.planned_start for a in later.actions) > min(a.planned_start for a in first.actions)
    for seed in (first, later, build_seed(date(2025, 3, 16))):  # the last one is a Sunday
        main = [a for a in seed.actions if a.assignee_login == DemoLogins.COMMERCIAL]
        assert sum(a.planned_start.date() == seed.day for a in main) >= 3
        overdue = [
            a
            for a in main
            if a.status is ActionStatus.A_REALISER and a.planned_start.date() < seed.day
        ]
        assert len(overdue) >= 2
        assert any(a.report for a in main) and any(a.affaire_id for a in main)


def test_every_rep_of_the_units_has_a_planning() -> None:
    seed = build_seed(date(2025, 3, 12))
    for login in (
        DemoLogins.MANAGER,
        DemoLogins.TDUBOIS,
        DemoLogins.SBENALI,
        DemoLogins.PFAURE,
        DemoLogins.AROBERT,
        DemoLogins.LYON_MANAGER,
    ):
        assert any(a.assignee_login == login for a in seed.actions), login


def test_pinned_today_drives_the_api(tmp_path: Path) -> None:
    day = date(2024, 6, 5)
    with (
        DemoArtisServer(db_path=tmp_path / "pinned.sqlite3", today=day) as server,
        httpx.Client(base_url=server.url + "/") as http,
    ):
        token = http.post(
            "auth/login", json={"login": DemoLogins.COMMERCIAL, "password": DEMO_PASSWORD}
        ).json()["token"]
        answer = http.get(
            "actions",
            params={"from": at(day, 0).isoformat(), "to": at(day, 23, 59).isoformat()},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert answer.status_code == 200
    assert len(answer.json()) >= 3


def test_reseed_on_a_different_day(tmp_path: Path) -> None:
    db_path = tmp_path / "artis.sqlite3"
    day = date(2025, 1, 14)
    with DemoArtisServer(db_path=db_path, today=day) as server:
        contact = server.store.contact("CTC-0001")
        assert contact is not None
        server.store.save_contact(contact.model_copy(update={"email": "change@demo.example"}))
    with DemoArtisServer(db_path=db_path, today=day) as server:  # same day: data kept
        kept = server.store.contact("CTC-0001")
        assert kept is not None and kept.email == "change@demo.example"
    next_day = day + timedelta(days=1)
    with DemoArtisServer(db_path=db_path, today=next_day) as server:  # new day: reseeded
        assert server.store.seeded_on() == next_day
        fresh = server.store.contact("CTC-0001")
        assert fresh is not None and fresh.email != "change@demo.example"
        assert len(_main_rep_day(server.store, next_day)) >= 3


def test_sites_are_real_places_in_idf_or_lyon(demo_artis: DemoArtisServer) -> None:
    sites = demo_artis.store.all_sites()
    assert 35 <= len(sites) <= 45
    lyon = 0
    for site in sites:
        assert site.latitude is not None and site.longitude is not None
        if site.postal_code.startswith("69"):
            lyon += 1
            assert _in_box(site.latitude, site.longitude, LYON_BOX), site.full_address
            assert site.phone and site.phone.startswith("+33 4 ")
        else:
            assert site.postal_code[:2] in {"75", "77", "78", "91", "92", "93", "94", "95"}
            assert _in_box(site.latitude, site.longitude, IDF_BOX), site.full_address
            assert site.phone and site.phone.startswith("+33 1 ")
        assert site.address_lines and site.city
    assert 8 <= lyon <= len(sites) - 20


def test_contacts_look_french(demo_artis: DemoArtisServer) -> None:
    contacts: list[Contact] = []
    for site in demo_artis.store.all_sites():
        at_site = demo_artis.store.contacts_of(site.third_party_code)
        seeded = [c for c in at_site if int(c.id.split("-")[1]) < 5001]  # not API-created
        assert 1 <= len(seeded) <= 3
        contacts += seeded
    for contact in contacts:
        assert contact.civility in {"M.", "Mme"}
        assert contact.mobile_phone and contact.mobile_phone.startswith("+33 6 ")
        assert contact.email and contact.email.endswith(".example")
        assert contact.functions


def test_start_is_quick_and_stop_is_clean(tmp_path: Path) -> None:
    started = time.monotonic()
    server = DemoArtisServer(db_path=tmp_path / "quick.sqlite3")
    server.start()
    try:
        assert time.monotonic() - started < 3.0
        assert httpx.get(server.url.removesuffix(API_PREFIX) + "/healthz").json() == {
            "status": "ok"
        }
    finally:
        server.stop()
    server.stop()  # idempotent
    with pytest.raises(RuntimeError):
        _ = server.url


# -- control routes ----------------------------------------------------------------------------


def test_fault_control_routes(artis: DemoArtisServer) -> None:
    with httpx.Client(base_url=artis.url + "/") as http:
        rule = {"status": 503, "count": 1, "path_prefix": "/me", "login": None, "delay": 0.0}
        assert http.post("_demo/faults", json=rule).status_code == 201
        first, second = http.get("me"), http.get("me")
        assert first.status_code == 503 and first.json()["error"] == "injected_fault"
        assert second.status_code == 401 and second.json()["error"] == "invalid_token"
        assert http.get("_demo/requests", params={"path_prefix": "/me"}).json() == {"count": 2}
        http.post("_demo/faults", json={"status": 500, "count": 5})
        assert http.delete("_demo/faults").status_code == 204
        assert http.get("me").status_code == 401
        token = http.post(
            "auth/login", json={"login": DemoLogins.COMMERCIAL, "password": DEMO_PASSWORD}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert http.get("me", headers=headers).status_code == 200
        assert http.post("_demo/expire-tokens").status_code == 204
        assert http.get("me", headers=headers).status_code == 401
        assert http.delete("_demo/requests").status_code == 204
        assert http.get("_demo/requests").json() == {"count": 0}


def test_control_routes_absent_without_faults(tmp_path: Path) -> None:
    with DemoArtisServer(db_path=tmp_path / "plain.sqlite3") as server:
        answer = httpx.post(server.url + "/_demo/expire-tokens")
        assert answer.status_code == 404 and answer.json()["error"] == "not_found"
        with pytest.raises(RuntimeError):
            server.inject_fault()


def test_errors_are_json(artis: DemoArtisServer) -> None:
    with httpx.Client(base_url=artis.url + "/") as http:
        token = http.post(
            "auth/login", json={"login": DemoLogins.COMMERCIAL, "password": DEMO_PASSWORD}
        ).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        bad_range = http.get("actions", params={"from": "2025-01-01T00:00:00"}, headers=headers)
        assert bad_range.status_code == 422 and bad_range.json()["error"] == "invalid_data"
        no_key = http.post("actions/ACT-00001/report", json={"text": "x"}, headers=headers)
        assert no_key.status_code == 400
        assert no_key.json()["error"] == "missing_idempotency_key"
        not_json = http.post("auth/login", content=b"{", headers={"content-type": "text/plain"})
        assert not_json.status_code == 422 and not_json.json()["error"] == "invalid_json"
        wrong_method = http.delete("me", headers=headers)
        assert wrong_method.status_code == 405 and "error" in wrong_method.json()


# -- contract agreement ----------------------------------------------------------------------


def _served_operations(tmp_path: Path) -> set[tuple[str, str]]:
    store = DemoStore(tmp_path / "routes.sqlite3")
    try:
        app = create_app(DemoService(store, paris_today))
    finally:
        store.close()
    served: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, Mount) and route.path == API_PREFIX:
            for inner in route.routes:
                assert isinstance(inner, Route)
                for method in inner.methods or ():
                    if method.lower() in HTTP_METHODS:
                        served.add((inner.path, method.lower()))
    return served


def _documented_operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_openapi_and_server_routes_agree(tmp_path: Path) -> None:
    spec = _spec()
    assert spec["openapi"].startswith("3.1")
    assert spec["servers"][0]["url"].endswith(API_PREFIX)
    served = _served_operations(tmp_path)
    assert served, "no API routes found"
    assert served == _documented_operations(spec)


def _refs(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(value) for value in node))
    return set()


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_openapi_paths_are_well_formed() -> None:
    spec = _spec()
    refs = _refs(spec)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/")
        assert _resolve(spec, ref), ref
    for path, item in spec["paths"].items():
        declared = {p["name"] for p in item.get("parameters", []) if "name" in p}
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            assert operation.get("operationId"), (path, method)
            assert any(code.startswith("2") for code in operation["responses"]), (path, method)
            names = declared | {
                (_resolve(spec, p["$ref"]) if "$ref" in p else p)["name"]
                for p in operation.get("parameters", [])
            }
            for segment in path.split("/"):
                if segment.startswith("{"):
                    assert segment.strip("{}") in names, (path, segment)


@pytest.mark.parametrize("schema_name", sorted(SCHEMA_MODELS))
def test_openapi_schemas_match_models(schema_name: str) -> None:
    spec = _spec()
    schema = spec["components"]["schemas"][schema_name]
    model = SCHEMA_MODELS[schema_name]
    assert set(schema["properties"]) == set(model.model_fields), schema_name
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert set(schema.get("required", [])) == required, schema_name


@pytest.mark.parametrize(
    "enum",
    [
        models.LicenceType,
        models.Mission,
        models.UOGroupType,
        models.RelationType,
        models.ActionType,
        models.ActionStatus,
        models.FollowUpKind,
        models.AffaireSalesStatus,
        models.AffaireAfterSalesStatus,
        models.QuoteStatus,
    ],
)
def test_openapi_enums_match_models(enum: type[Any]) -> None:
    spec = _spec()
    assert spec["components"]["schemas"][enum.__name__]["enum"] == [m.value for m in enum]


def test_datetimes_on_the_wire_carry_an_offset(demo_artis: DemoArtisServer) -> None:
    action = demo_artis.store.actions([DemoLogins.COMMERCIAL])[0]
    dumped = action.model_dump(mode="json")
    assert datetime.fromisoformat(dumped["planned_start"]).utcoffset() is not None
    with pytest.raises(ValueError):
        models.Report(
            text="x",
            executed_at=datetime(2025, 1, 1),
            executed_by_login="a",
            created_at=datetime.now(PARIS),
        )
