"""Starlette application serving the artis REST contract (openapi.yaml) from the demo store."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from integrations.artis.demo.access import Caller
from integrations.artis.demo.faults import FaultBoard, FaultMiddleware, FaultRule, RequestLog
from integrations.artis.demo.idp import DemoIdentityProvider
from integrations.artis.demo.service import ApiError, DemoService
from integrations.artis.models import (
    ActionStatus,
    AffaireSalesStatus,
    ContactCreate,
    ContactPatch,
    LoginRequest,
    ReportIn,
    SsoExchangeRequest,
)

API_PREFIX = "/api/v1"
ModelT = TypeVar("ModelT", bound=BaseModel)


def _model_response(payload: BaseModel | Sequence[BaseModel], status: int = 200) -> Response:
    if isinstance(payload, BaseModel):
        body = payload.model_dump_json()
    else:
        body = "[" + ",".join(item.model_dump_json() for item in payload) + "]"
    return Response(body, status_code=status, media_type="application/json")


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


async def _body(request: Request, model: type[ModelT]) -> ModelT:
    try:
        raw = await request.json()
    except ValueError as exc:
        raise ApiError(422, "invalid_json", "the request body is not valid JSON") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise ApiError(422, "invalid_data", f"{where}: {first['msg']}") from exc


def _aware(request: Request, name: str) -> datetime:
    value = request.query_params.get(name)
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ApiError(422, "invalid_data", f"'{name}' must be an ISO-8601 datetime with offset")
    return moment


def _day(request: Request, name: str) -> date:
    value = request.query_params.get(name) or ""
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ApiError(422, "invalid_data", f"'{name}' must be an ISO-8601 date") from exc


class DemoApi:
    """Request handlers: parse, authenticate, delegate to the service in a worker thread."""

    def __init__(self, service: DemoService) -> None:
        self.service = service

    async def _call(self, func: Callable[..., Any], *args: Any) -> Any:
        return await run_in_threadpool(func, *args)

    async def _caller(self, request: Request) -> Caller:
        await self._call(self.service.ensure_current)
        caller: Caller = await self._call(self.service.authenticate, _bearer(request))
        return caller

    async def login(self, request: Request) -> Response:
        credentials = await _body(request, LoginRequest)
        await self._call(self.service.ensure_current)
        return _model_response(await self._call(self.service.login, credentials))

    async def sso_exchange(self, request: Request) -> Response:
        ticket = await _body(request, SsoExchangeRequest)
        await self._call(self.service.ensure_current)
        return _model_response(await self._call(self.service.sso_exchange, ticket))

    async def logout(self, request: Request) -> Response:
        await self._caller(request)
        await self._call(self.service.logout, _bearer(request))
        return Response(status_code=204)

    async def me(self, request: Request) -> Response:
        caller = await self._caller(request)
        return _model_response(caller.user)

    async def user(self, request: Request) -> Response:
        caller = await self._caller(request)
        login = request.path_params["login"]
        return _model_response(await self._call(self.service.get_user, caller, login))

    async def org_units(self, request: Request) -> Response:
        caller = await self._caller(request)
        return _model_response(await self._call(self.service.list_org_units, caller))

    async def org_unit(self, request: Request) -> Response:
        caller = await self._caller(request)
        code = request.path_params["code"]
        return _model_response(await self._call(self.service.get_org_unit, caller, code))

    async def sub_units(self, request: Request) -> Response:
        caller = await self._caller(request)
        code = request.path_params["code"]
        return _model_response(await self._call(self.service.list_sub_units, caller, code))

    async def affaires(self, request: Request) -> Response:
        caller = await self._caller(request)
        code = request.query_params.get("org_unit") or ""
        if not code:
            raise ApiError(422, "invalid_data", "'org_unit' is required")
        start, end = _day(request, "from"), _day(request, "to")
        raw_status = request.query_params.get("sales_status")
        try:
            status = AffaireSalesStatus(raw_status) if raw_status else None
        except ValueError as exc:
            raise ApiError(422, "invalid_data", f"unknown sales_status {raw_status!r}") from exc
        found = await self._call(self.service.list_affaires, caller, code, start, end, status)
        return _model_response(found)

    async def actions(self, request: Request) -> Response:
        caller = await self._caller(request)
        start, end = _aware(request, "from"), _aware(request, "to")
        raw_status = request.query_params.get("status")
        try:
            status = ActionStatus(raw_status) if raw_status else None
        except ValueError as exc:
            raise ApiError(422, "invalid_data", f"unknown status {raw_status!r}") from exc
        assignee = request.query_params.get("assignee") or None
        found = await self._call(self.service.list_actions, caller, start, end, status, assignee)
        return _model_response(found)

    async def duplicate_contacts(self, request: Request) -> Response:
        caller = await self._caller(request)
        new = await _body(request, ContactCreate)
        return _model_response(await self._call(self.service.duplicate_contacts, caller, new))

    async def nearby(self, request: Request) -> Response:
        caller = await self._caller(request)
        query = request.query_params
        try:
            lat, lon = float(query["lat"]), float(query["lon"])
            radius = float(query.get("radius_km") or 10)
            limit = int(query.get("limit") or 20)
        except (KeyError, ValueError) as exc:
            raise ApiError(422, "invalid_data", "lat and lon are required numbers") from exc
        found = await self._call(self.service.nearby_actions, caller, lat, lon, radius, limit)
        return _model_response(found)

    async def action(self, request: Request) -> Response:
        caller = await self._caller(request)
        action_id = request.path_params["action_id"]
        return _model_response(await self._call(self.service.action_detail, caller, action_id))

    async def report(self, request: Request) -> Response:
        caller = await self._caller(request)
        key = request.headers.get("idempotency-key", "").strip()
        if not key or len(key) > 200:
            raise ApiError(400, "missing_idempotency_key", "send an Idempotency-Key header")
        report = await _body(request, ReportIn)
        action_id = request.path_params["action_id"]
        response = await self._call(self.service.submit_report, caller, action_id, key, report)
        return Response(response, media_type="application/json")

    async def site(self, request: Request) -> Response:
        caller = await self._caller(request)
        site_id = request.path_params["site_id"]
        return _model_response(await self._call(self.service.get_site, caller, site_id))

    async def contact(self, request: Request) -> Response:
        caller = await self._caller(request)
        contact_id = request.path_params["contact_id"]
        return _model_response(await self._call(self.service.get_contact, caller, contact_id))

    async def patch_contact(self, request: Request) -> Response:
        caller = await self._caller(request)
        patch = await _body(request, ContactPatch)
        contact_id = request.path_params["contact_id"]
        updated = await self._call(self.service.patch_contact, caller, contact_id, patch)
        return _model_response(updated)

    async def create_contact(self, request: Request) -> Response:
        caller = await self._caller(request)
        new = await _body(request, ContactCreate)
        created = await self._call(self.service.create_contact, caller, new)
        return _model_response(created, status=201)

    async def attachment_content(self, request: Request) -> Response:
        caller = await self._caller(request)
        attachment_id = request.path_params["attachment_id"]
        attachment, content = await self._call(
            self.service.attachment_content, caller, attachment_id
        )
        disposition = f"attachment; filename*=UTF-8''{quote(attachment.file_name)}"
        return Response(
            content,
            media_type=attachment.media_type,
            headers={"Content-Disposition": disposition},
        )

    async def affaire(self, request: Request) -> Response:
        caller = await self._caller(request)
        affaire_id = request.path_params["affaire_id"]
        return _model_response(await self._call(self.service.get_affaire, caller, affaire_id))

    def routes(self) -> list[BaseRoute]:
        """The contract's routes, relative to API_PREFIX."""
        return [
            Route("/auth/login", self.login, methods=["POST"]),
            Route("/auth/sso/exchange", self.sso_exchange, methods=["POST"]),
            Route("/auth/logout", self.logout, methods=["POST"]),
            Route("/me", self.me, methods=["GET"]),
            Route("/users/{login}", self.user, methods=["GET"]),
            Route("/org-units", self.org_units, methods=["GET"]),
            Route("/org-units/{code}", self.org_unit, methods=["GET"]),
            Route("/org-units/{code}/sub-units", self.sub_units, methods=["GET"]),
            Route("/affaires", self.affaires, methods=["GET"]),
            Route("/actions", self.actions, methods=["GET"]),
            Route("/actions/nearby", self.nearby, methods=["GET"]),
            Route("/actions/{action_id}", self.action, methods=["GET"]),
            Route("/actions/{action_id}/report", self.report, methods=["POST"]),
            Route("/sites/{site_id}", self.site, methods=["GET"]),
            Route("/contacts", self.create_contact, methods=["POST"]),
            Route("/contacts/duplicates", self.duplicate_contacts, methods=["POST"]),
            Route("/contacts/{contact_id}", self.contact, methods=["GET"]),
            Route("/contacts/{contact_id}", self.patch_contact, methods=["PATCH"]),
            Route("/attachments/{attachment_id}/content", self.attachment_content, methods=["GET"]),
            Route("/affaires/{affaire_id}", self.affaire, methods=["GET"]),
        ]


class DemoControl:
    """Test-only routes under /_demo: fault injection, session expiry, request counts."""

    def __init__(self, service: DemoService, faults: FaultBoard, requests: RequestLog) -> None:
        self.service = service
        self.faults = faults
        self.requests = requests

    async def add_fault(self, request: Request) -> Response:
        try:
            raw = await request.json()
            rule = FaultRule(
                status=raw.get("status", 503),
                count=int(raw.get("count", 1)),
                path_prefix=str(raw.get("path_prefix") or ""),
                login=raw.get("login"),
                method=raw.get("method"),
                delay=float(raw.get("delay") or 0.0),
            )
        except (ValueError, TypeError, AttributeError) as exc:
            raise ApiError(422, "invalid_data", "bad fault rule") from exc
        self.faults.add(rule)
        return JSONResponse({"queued": True}, status_code=201)

    async def clear_faults(self, request: Request) -> Response:
        self.faults.clear()
        return Response(status_code=204)

    async def expire_tokens(self, request: Request) -> Response:
        await run_in_threadpool(self.service.store.delete_all_sessions)
        return Response(status_code=204)

    async def count_requests(self, request: Request) -> Response:
        prefix = request.query_params.get("path_prefix", "")
        method = request.query_params.get("method") or None
        return JSONResponse({"count": self.requests.count(prefix, method)})

    async def clear_requests(self, request: Request) -> Response:
        self.requests.clear()
        return Response(status_code=204)

    def routes(self) -> list[BaseRoute]:
        """Control routes, relative to API_PREFIX."""
        return [
            Route("/_demo/faults", self.add_fault, methods=["POST"]),
            Route("/_demo/faults", self.clear_faults, methods=["DELETE"]),
            Route("/_demo/expire-tokens", self.expire_tokens, methods=["POST"]),
            Route("/_demo/requests", self.count_requests, methods=["GET"]),
            Route("/_demo/requests", self.clear_requests, methods=["DELETE"]),
        ]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed"}
    body = {"error": codes.get(exc.status_code, "http_error"), "message": str(exc.detail)}
    return Response(json.dumps(body), status_code=exc.status_code, media_type="application/json")


async def _internal_error(request: Request, exc: Exception) -> Response:
    body = {"error": "internal_error", "message": "unexpected server error"}
    return JSONResponse(body, status_code=500)


async def _healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


def create_app(
    service: DemoService,
    *,
    faults: FaultBoard | None = None,
    requests: RequestLog | None = None,
) -> Starlette:
    """Build the ASGI app; the /_demo control routes exist only when `faults` is given."""
    api_routes = DemoApi(service).routes()
    requests = requests or RequestLog()
    middleware: list[Middleware] = []
    if faults is not None:
        api_routes += DemoControl(service, faults, requests).routes()

        async def resolve_login(token: str) -> str | None:
            return await run_in_threadpool(service.store.session_login, token)

        middleware.append(
            Middleware(
                FaultMiddleware,
                api_prefix=API_PREFIX,
                faults=faults,
                requests=requests,
                resolve_login=resolve_login,
            )
        )
    return Starlette(
        routes=[
            Route("/healthz", _healthz, methods=["GET"]),
            *DemoIdentityProvider(service).routes(),
            Mount(API_PREFIX, routes=api_routes),
        ],
        middleware=middleware,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
