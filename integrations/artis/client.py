"""Async HTTP client of the artis.net REST contract (see openapi.yaml).

This module is the only place that knows the contract's URLs. User calls take the rep's session
token explicitly, so one client instance serves every rep; calls that need the bot's own service
account (WS_REST licence) log in lazily and re-authenticate once when the session expired.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote, urlencode

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from integrations.artis.errors import (
    AccessDenied,
    AccountLocked,
    ArtisError,
    ArtisUnavailable,
    Conflict,
    InvalidCredentials,
    InvalidData,
    NotFound,
    SessionExpired,
)
from integrations.artis.models import (
    Action,
    ActionDetail,
    ActionStatus,
    Affaire,
    AffaireSalesStatus,
    AffaireSummary,
    Contact,
    ContactCreate,
    ContactPatch,
    LoginResult,
    NearbyAction,
    OrgUnit,
    ReportIn,
    Site,
    User,
)
from integrations.http import fast_transport

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

_MAX_BACKOFF = 5.0
_DEFER = ConfigDict(defer_build=True)  # built at first use, not at import (cold start)
_ACTIONS = TypeAdapter(list[Action], config=_DEFER)
_ORG_UNITS = TypeAdapter(list[OrgUnit], config=_DEFER)
_NEARBY = TypeAdapter(list[NearbyAction], config=_DEFER)
_CONTACTS = TypeAdapter(list[Contact], config=_DEFER)
_AFFAIRES = TypeAdapter(list[AffaireSummary], config=_DEFER)
# A 401 on these means "wrong credentials", not "session expired".
_CREDENTIAL_PATHS = ("auth/login", "auth/sso/exchange")


class ArtisClient:
    """One shared async client for all reps, with timeouts, bounded retries and error mapping."""

    def __init__(
        self,
        base_url: str,
        *,
        service_login: str | None = None,
        service_password: str | None = None,
        timeout: float = 10.0,
        max_retries: int = 3,
        backoff: float = 0.2,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._service_login = service_login
        self._service_password = service_password
        self._service_token: str | None = None
        self._service_lock = asyncio.Lock()
        self._max_retries = max(0, max_retries)
        self._backoff = max(0.0, backoff)
        # Requests go to absolute URLs built here: httpx parses (and checks character by
        # character) a relative URL three times, to join it to base_url and to add params.
        self._base = base_url.rstrip("/") + "/"
        self._http = httpx.AsyncClient(
            base_url=self._base,
            timeout=httpx.Timeout(timeout),
            transport=transport if transport is not None else fast_transport(100),
            headers={"Accept": "application/json", "User-Agent": "artis-crm-assistant"},
        )

    @property
    def base_url(self) -> str:
        """The API base URL, without its trailing slash."""
        return str(self._http.base_url).rstrip("/")

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close pooled connections."""
        await self._http.aclose()

    # ----------------------------------------------------------------- sessions

    async def login(self, login: str, password: str) -> LoginResult:
        """Open a session for a rep; the password is used once and never stored.

        Retried only when the connection failed (the password never left): after a read
        timeout or a 5xx artis.net may have seen it, and a password must not be sent again
        and again to a slow server (each try may count against the account, and the rep
        waits for all of them).
        """
        response = await self._request(
            "POST", "auth/login", json={"login": login, "password": password},
            retry_safe=False, connect_retries_only=True,
        )
        return _parse(LoginResult, response)

    async def sso_exchange(self, ticket: str) -> LoginResult:
        """Open a session with a one-time SSO ticket (assumed protocol, see openapi.yaml).

        Not retried once sent: the ticket works once, so a lost answer cannot be replayed.
        An unknown, expired or used ticket raises ``InvalidCredentials``.
        """
        response = await self._request(
            "POST", "auth/sso/exchange", json={"ticket": ticket}, retry_safe=False
        )
        return _parse(LoginResult, response)

    async def logout(self, token: str) -> None:
        """Close a session; an already expired session counts as logged out."""
        try:
            await self._request("POST", "auth/logout", token=token, retry_safe=True)
        except SessionExpired:
            return

    async def me(self, token: str) -> User:
        """The user owning the session, with licences, missions and units."""
        return _parse(User, await self._request("GET", "me", token=token))

    # ---------------------------------------------------------- service account

    async def find_user(self, login: str) -> User | None:
        """Look a user up by login with the service account; None when unknown."""
        try:
            response = await self._service_request("GET", f"users/{_segment(login)}")
        except NotFound:
            return None
        return _parse(User, response)

    async def list_org_units(self, token: str | None = None) -> list[OrgUnit]:
        """Org units with their members: all of them for the service account, or those the
        token's user heads."""
        response = await self._auto_request("GET", "org-units", token)
        return _parse_list(_ORG_UNITS, response)

    async def get_org_unit(self, code: str, token: str | None = None) -> OrgUnit:
        """One org unit with its members (service account, or its head's session)."""
        response = await self._auto_request("GET", f"org-units/{_segment(code)}", token)
        return _parse(OrgUnit, response)

    async def list_sub_units(self, code: str, token: str | None = None) -> list[OrgUnit]:
        """Every unit below `code`, parents first (service account, or a head above it)."""
        response = await self._auto_request("GET", f"org-units/{_segment(code)}/sub-units", token)
        return _parse_list(_ORG_UNITS, response)

    async def list_affaires(
        self,
        org_unit: str,
        start: date,
        end: date,
        sales_status: AffaireSalesStatus | None = None,
        token: str | None = None,
    ) -> list[AffaireSummary]:
        """Affaires led by the unit's members whose sales status changed in [start, end)
        (``sales_status=GAGNEE``: the affaires won in the period)."""
        params = {"org_unit": org_unit, "from": start.isoformat(), "to": end.isoformat()}
        if sales_status is not None:
            params["sales_status"] = sales_status.value
        response = await self._auto_request("GET", "affaires", token, params=params)
        return _parse_list(_AFFAIRES, response)

    async def team_actions(
        self, assignee: str, start: datetime, end: datetime, status: ActionStatus | None = None
    ) -> list[Action]:
        """A Commerce unit member's actions in [start, end), read with the service account:
        digests and reminders run when nobody is chatting and the rep's session may be gone."""
        params: dict[str, str] = {"from": _iso(start), "to": _iso(end), "assignee": assignee}
        if status is not None:
            params["status"] = status.value
        response = await self._service_request("GET", "actions", params=params)
        return _parse_list(_ACTIONS, response)

    async def team_action(self, action_id: str) -> ActionDetail:
        """A Commerce unit member's action with its site, contacts and affaire (service
        account)."""
        response = await self._service_request("GET", f"actions/{_segment(action_id)}")
        return _parse(ActionDetail, response)

    # ----------------------------------------------------------------- planning

    async def list_actions(
        self,
        token: str,
        start: datetime,
        end: datetime,
        status: ActionStatus | None = None,
        assignee: str | None = None,
    ) -> list[Action]:
        """Actions planned in [start, end), the caller's own unless a unit head asks for a
        member's."""
        params: dict[str, str] = {"from": _iso(start), "to": _iso(end)}
        if status is not None:
            params["status"] = status.value
        if assignee is not None:
            params["assignee"] = assignee
        response = await self._request("GET", "actions", token=token, params=params)
        return _parse_list(_ACTIONS, response)

    async def nearby_actions(
        self, token: str, lat: float, lon: float, radius_km: float = 10.0, limit: int = 20
    ) -> list[NearbyAction]:
        """The caller's open actions whose site is within `radius_km`, nearest first."""
        params = {"lat": repr(lat), "lon": repr(lon), "radius_km": repr(radius_km),
                  "limit": str(limit)}
        response = await self._request("GET", "actions/nearby", token=token, params=params)
        return _parse_list(_NEARBY, response)

    async def get_action(self, token: str, action_id: str) -> ActionDetail:
        """An action with its site, contacts, CRM-visible attachments and affaire summary."""
        response = await self._request("GET", f"actions/{_segment(action_id)}", token=token)
        return _parse(ActionDetail, response)

    async def submit_report(
        self, token: str, action_id: str, report: ReportIn, idempotency_key: str
    ) -> Action:
        """Record the compte rendu (and follow-up); safe to retry thanks to the key."""
        response = await self._request(
            "POST",
            f"actions/{_segment(action_id)}/report",
            token=token,
            json=report.model_dump(mode="json", exclude_none=True),
            headers={"Idempotency-Key": idempotency_key},
            retry_safe=True,
        )
        return _parse(Action, response)

    # ---------------------------------------------------- sites, contacts, files

    async def get_site(self, token: str, site_id: str) -> Site:
        """A site reachable from the caller's actions."""
        return _parse(Site, await self._request("GET", f"sites/{_segment(site_id)}", token=token))

    async def get_contact(self, token: str, contact_id: str) -> Contact:
        """A contact reachable from the caller's actions."""
        response = await self._request("GET", f"contacts/{_segment(contact_id)}", token=token)
        return _parse(Contact, response)

    async def update_contact(self, token: str, contact_id: str, patch: ContactPatch) -> Contact:
        """Change only the fields set on `patch`; setting the same values twice is harmless."""
        response = await self._request(
            "PATCH",
            f"contacts/{_segment(contact_id)}",
            token=token,
            json=patch.model_dump(mode="json", exclude_unset=True),
            retry_safe=True,
        )
        return _parse(Contact, response)

    async def create_contact(self, token: str, contact: ContactCreate) -> Contact:
        """Create a contact; raises Conflict(existing_id=...) when artis finds a duplicate."""
        response = await self._request(
            "POST", "contacts", token=token, json=contact.model_dump(mode="json")
        )
        return _parse(Contact, response)

    async def duplicate_contacts(self, token: str, contact: ContactCreate) -> list[Contact]:
        """The client's contacts this new one would duplicate (nothing is created)."""
        response = await self._request(
            "POST", "contacts/duplicates", token=token,
            json=contact.model_dump(mode="json"), retry_safe=True,
        )
        return _parse_list(_CONTACTS, response)

    async def get_attachment_content(self, token: str, attachment_id: str) -> bytes:
        """Raw bytes of a CRM-accessible attachment (metadata comes with the action)."""
        response = await self._request(
            "GET", f"attachments/{_segment(attachment_id)}/content", token=token
        )
        return response.content

    async def get_affaire(self, token: str, affaire_id: str) -> Affaire:
        """Full record of an affaire linked to one of the caller's actions."""
        response = await self._request("GET", f"affaires/{_segment(affaire_id)}", token=token)
        return _parse(Affaire, response)

    # ---------------------------------------------------------------- internals

    async def _auto_request(
        self, method: str, path: str, token: str | None, **kwargs: Any
    ) -> httpx.Response:
        if token is not None:
            return await self._request(method, path, token=token, **kwargs)
        return await self._service_request(method, path, **kwargs)

    async def _service_request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Call with the service session, logging in again once if it expired."""
        token = await self._service_session(refresh=False)
        try:
            return await self._request(method, path, token=token, **kwargs)
        except SessionExpired:
            log.info("artis service session expired, re-authenticating")
        token = await self._service_session(refresh=True, stale=token)
        try:
            return await self._request(method, path, token=token, **kwargs)
        except SessionExpired as exc:
            raise ArtisError("service session rejected right after login", status_code=401) from exc

    async def _service_session(self, *, refresh: bool, stale: str | None = None) -> str:
        if not self._service_login or self._service_password is None:
            raise ArtisError("no artis service account configured")
        async with self._service_lock:
            # Another task may already have refreshed the token while we waited for the lock.
            if self._service_token and not (refresh and self._service_token == stale):
                return self._service_token
            result = await self.login(self._service_login, self._service_password)
            self._service_token = result.token
            return result.token

    async def _request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        retry_safe: bool | None = None,
        connect_retries_only: bool = False,
    ) -> httpx.Response:
        """Send with bounded retries, then map the final answer to a model or an exception.

        `retry_safe` says whether re-sending after a lost answer cannot duplicate an effect;
        it defaults to True for GET. Connection failures are always retried (nothing was sent),
        503 too (the server refused to process), other 5xx and read timeouts only when safe.
        ``connect_retries_only`` retries connection failures and nothing else (a login).
        """
        safe = method == "GET" if retry_safe is None else retry_safe
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        url = self._base + path + (f"?{urlencode(params)}" if params else "")
        attempts = self._max_retries + 1
        last_problem = "no attempt made"
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self._delay(attempt))
            try:
                response = await self._http.request(method, url, json=json,
                                                    headers=all_headers)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                last_problem = f"cannot connect: {exc!r}"
                continue
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                last_problem = f"no answer: {exc!r}"
                if safe:
                    continue
                raise ArtisUnavailable(f"{method} {path}: {last_problem}") from exc
            if response.status_code >= 500:
                last_problem = f"HTTP {response.status_code}"
                if safe or (response.status_code == 503 and not connect_retries_only):
                    continue
                raise ArtisUnavailable(f"{method} {path}: {last_problem}", status_code=500)
            if response.status_code >= 400:
                raise _error_for(response, path)
            return response
        log.warning(
            "artis %s %s failed after %d attempts: %s", method, path, attempts, last_problem
        )
        raise ArtisUnavailable(f"{method} {path}: {last_problem} after {attempts} attempts")

    def _delay(self, attempt: int) -> float:
        """Exponential backoff with a little jitter so retrying bots do not sync up."""
        base = min(self._backoff * 2 ** (attempt - 1), _MAX_BACKOFF)
        return float(base + random.uniform(0, base / 4))


def _error_for(response: httpx.Response, path: str) -> ArtisError:
    """Translate a 4xx answer into the matching domain exception."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    code = str(body.get("error") or "")
    message = str(body.get("message") or code or f"HTTP {status}")
    if status == 401:
        if path in _CREDENTIAL_PATHS:
            return InvalidCredentials(message, status_code=status, code=code)
        return SessionExpired(message, status_code=status, code=code)
    if status == 409:
        existing = body.get("existing_id")
        return Conflict(
            message, code=code, existing_id=str(existing) if existing is not None else None
        )
    exc_type: type[ArtisError] = {
        400: InvalidData,
        403: AccessDenied,
        404: NotFound,
        422: InvalidData,
        423: AccountLocked,
    }.get(status, ArtisError)
    return exc_type(message, status_code=status, code=code)


def _parse(model: type[ModelT], response: httpx.Response) -> ModelT:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        problem = f"unexpected {model.__name__} payload: {exc.error_count()} errors"
        raise ArtisError(problem) from exc


def _parse_list(adapter: TypeAdapter[list[ModelT]], response: httpx.Response) -> list[ModelT]:
    try:
        return adapter.validate_json(response.content)
    except ValidationError as exc:
        raise ArtisError(f"unexpected list payload: {exc.error_count()} errors") from exc


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("artis datetimes must be timezone-aware")
    return moment.isoformat()


def _segment(value: str) -> str:
    """Quote an id for use as one path segment, so ids can never alter the route.

    Quoting alone is not enough: ``.`` and ``..`` survive it, and httpx normalises
    ``actions/..`` to the API root. Such an id never reaches a URL."""
    if not value or value.strip(".") == "" or len(value) > 200:
        raise InvalidData(f"not an artis.net id: {value[:40]!r}")
    return quote(value, safe="")
