"""The admin page, served for real (uvicorn on loopback) and used in headless Chromium.

The bot runs with the embedded demo artis.net, a SQLite store in a temp dir
and the fake Telegram Bot API; the page is the webhook server's ``/admin``.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Locator, Page, expect
from starlette.applications import Starlette
from starlette.middleware import Middleware

from bot.admin import ADMIN_PAGE, CSRF_WINDOW, AuthBackoff, build_admin_routes, csrf_token
from bot.pages import BASELINE_CSP, SecurityHeaders
from bot.pairing_cli import ONBOARDING_PAGE, unit_reps
from bot.runtime import Runtime, open_runtime
from bot.services.sessions import ArtisLink, ChatSession
from bot.settings import Settings
from bot.sso import SSO_PAGE
from bot.web import build_web_app
from integrations.fake_bot_api import BOT_USER, FakeBotApi
from tests.browser import chromium, decode_data_url, decode_qr, require_chromium, serve

SECRET = "s3cret-admin-page-42"
BOT_USERNAME = BOT_USER["username"]
LINK = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=([A-Za-z0-9_-]{{32,64}})")
SCREENSHOT = Path("/tmp/admin.png")


@dataclass
class Site:
    url: str
    runtime: Runtime

    async def pair_in_store(self, login: str, display_name: str, user_id: int, *,
                            locked: bool = False) -> None:
        """Record a pairing the way the bot does after a successful login."""
        services = self.runtime.services
        session = ChatSession(chat_id=user_id, user_id=user_id, lang="fr",
                              tz=services.settings.tz)
        await services.sessions.save_link(session, ArtisLink(
            login=login, display_name=display_name, artis_token=None, locked=locked))


def make_settings(data_dir: Path, admin_secret: str | None) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, artis_url=None, redis_url=None,  # type: ignore[call-arg]
                    telegram_bot_token=None, artis_service_login=None,
                    artis_service_password=None, admin_secret=admin_secret,
                    telegram_bot_username=BOT_USERNAME)


@asynccontextmanager
async def start_site(data_dir: Path, admin_secret: str | None) -> AsyncIterator[Site]:
    api = FakeBotApi()
    settings = make_settings(data_dir, admin_secret)
    async with open_runtime(settings, transport=api.transport(), token=api.token) as runtime:
        app = build_web_app(runtime, webhook_path="/telegram", secret="hook-secret-for-tests")
        async with serve(app) as url:
            yield Site(url, runtime)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    async with start_site(tmp_path, SECRET) as running:
        yield running


@pytest.fixture
async def page(site: Site) -> AsyncIterator[Page]:
    """A logged-in browser tab (HTTP Basic credentials: any user, the admin secret)."""
    require_chromium()
    async with chromium() as browser:
        context = await browser.new_context(
            http_credentials={"username": "admin", "password": SECRET},
            viewport={"width": 1100, "height": 900}, locale="fr-FR")
        tab = await context.new_page()
        yield tab
        await context.close()


def row(page: Page, login: str) -> Locator:
    return page.locator(f'tr[data-login="{login}"]')


# -- access ------------------------------------------------------------------------------
async def test_no_or_wrong_credentials_get_401(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.url) as http:
        anonymous = await http.get("/admin")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"].startswith("Basic ")
        assert "Camille" not in anonymous.text
        assert (await http.get("/admin", auth=("admin", "wrong"))).status_code == 401
        assert (await http.get("/admin", auth=("admin", SECRET + "x"))).status_code == 401
        assert (await http.get("/admin", headers={"Authorization": "Basic !!!"})).status_code == 401

    # Headless Chromium with no (or wrong) credentials gets the 401 and nothing else.
    async with chromium() as browser:
        for credentials in (None, {"username": "admin", "password": "wrong"}):
            context = await browser.new_context(http_credentials=credentials)
            tab = await context.new_page()
            statuses: list[int] = []
            tab.on("response", lambda response, seen=statuses: seen.append(response.status))
            try:
                response = await tab.goto(f"{site.url}/admin")
            except PlaywrightError as exc:  # Chromium gives up on the auth challenge
                assert "ERR_INVALID_AUTH_CREDENTIALS" in exc.message
            else:
                assert response is not None and response.status == 401
            assert statuses and set(statuses) == {401}
            await context.close()


async def test_posts_need_credentials_and_the_csrf_token(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.url) as http:
        assert (await http.post("/admin/pair/demo.commercial")).status_code == 401
        auth = ("anyone", SECRET)
        assert (await http.post("/admin/pair/demo.commercial", auth=auth)).status_code == 403
        forged = await http.post("/admin/revoke/demo.commercial", auth=auth,
                                 data={"csrf": "0" * 64})
        assert forged.status_code == 403
        page = await http.get("/admin", auth=auth)
        assert page.status_code == 200
        assert page.headers["cache-control"] == "no-store"
        token = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
        assert token

        answer = await http.post("/admin/pair/demo.commercial", auth=auth,
                                 headers={"Accept": "application/json",
                                          "X-CSRF-Token": token.group(1)})
        assert answer.status_code == 200, answer.text
        data = answer.json()
        assert LINK.fullmatch(data["link"])
        assert decode_qr(base64.b64decode(data["png_base64"])) == data["link"]
        assert datetime.fromisoformat(data["expires_at"]).tzinfo is not None

        unknown = await http.post("/admin/pair/nobody.here", auth=auth,
                                  headers={"Accept": "application/json",
                                           "X-CSRF-Token": token.group(1)})
        assert unknown.status_code == 404

        sheet = await http.post("/admin/sheet/CDV-LYON", auth=auth,
                                data={"csrf": token.group(1)})
        assert sheet.status_code == 200
        assert sheet.text.count('<img class="qr"') == 3  # the Lyon team: head and two reps
        assert "@media print" in sheet.text


async def test_admin_page_is_off_without_admin_secret(tmp_path: Path) -> None:
    async with start_site(tmp_path, None) as site, httpx.AsyncClient(base_url=site.url) as http:
        assert (await http.get("/admin", auth=("admin", ""))).status_code == 404
        assert (await http.post("/admin/pair/demo.commercial")).status_code == 404
        assert (await http.get("/healthz")).status_code == 200


# -- the page ------------------------------------------------------------------------------
async def test_page_lists_the_unit_and_its_qr_code_pairs_the_rep(site: Site, page: Page) -> None:
    response = await page.goto(f"{site.url}/admin")
    assert response is not None and response.status == 200
    await expect(page.locator("h2").first).to_contain_text("CDV-IDF")
    await expect(page.get_by_role("link", name="Équipe commerciale Lyon")).to_be_visible()

    services = site.runtime.services
    reps = await unit_reps(services.artis, await services.artis.get_org_unit("CDV-IDF"))
    assert len(reps) >= 4
    await expect(page.locator("tbody tr")).to_have_count(len(reps))
    for rep in reps:
        await expect(row(page, rep.login).locator("td.name")).to_contain_text(rep.display_name)
        await expect(row(page, rep.login).locator(".state")).to_have_text("non appairé")
    await expect(page.get_by_role("button", name="Révoquer")).to_have_count(0)

    await row(page, "demo.commercial").get_by_role("button", name="Générer un QR code").click()
    image = page.locator("#qr-image")
    await expect(image).to_be_visible()
    await expect(page.locator("#qr-panel")).to_contain_text("Camille Martin")
    await expect(page.locator("#qr-panel")).to_contain_text("Valable 15 minutes")

    # What the admin's phone camera would see: the rendered pixels, not the markup.
    link = decode_qr(await image.screenshot())
    assert link == decode_qr(decode_data_url(await image.get_attribute("src") or ""))
    assert await page.locator("#qr-link").inner_text() == link
    match = LINK.fullmatch(link)
    assert match, link
    await page.screenshot(path=str(SCREENSHOT), full_page=True)

    ticket = await services.pairing.redeem(match.group(1))
    assert ticket is not None and ticket.login == "demo.commercial"
    assert await services.pairing.redeem(match.group(1)) is None


async def test_states_and_revoke(site: Site, page: Page) -> None:
    await site.pair_in_store("demo.tdubois", "Thomas Dubois", 7_100_001)
    await site.pair_in_store("demo.sbenali", "Sarah Benali", 7_100_002, locked=True)
    await page.goto(f"{site.url}/admin?unit=CDV-IDF")
    tdubois = row(page, "demo.tdubois")
    await expect(tdubois.locator(".state")).to_have_text("appairé")
    await expect(row(page, "demo.sbenali").locator(".state")).to_have_text("verrouillé")
    await expect(row(page, "demo.commercial").locator(".state")).to_have_text("non appairé")

    # Cancelling the confirmation changes nothing.
    page.once("dialog", lambda dialog: dialog.dismiss())
    await tdubois.get_by_role("button", name="Révoquer").click()
    await expect(tdubois.locator(".state")).to_have_text("appairé")
    assert await site.runtime.services.pairing.status_of("demo.tdubois") == "paired"

    page.once("dialog", lambda dialog: dialog.accept())
    await tdubois.get_by_role("button", name="Révoquer").click()
    await expect(page.locator(".notice")).to_contain_text("demo.tdubois")
    await expect(tdubois.locator(".state")).to_have_text("non appairé")
    await expect(tdubois.get_by_role("button", name="Révoquer")).to_have_count(0)
    assert page.url.endswith("/admin?unit=CDV-IDF&revoked=demo.tdubois")
    assert await site.runtime.services.pairing.status_of("demo.tdubois") == "not_paired"
    assert await site.runtime.services.pairing.status_of("demo.sbenali") == "locked"


async def test_other_unit_and_unknown_unit(site: Site, page: Page) -> None:
    await page.goto(f"{site.url}/admin")
    await page.get_by_role("link", name="Équipe commerciale Lyon").click()
    await expect(page.get_by_role("link", name="Équipe commerciale Lyon")).to_have_attribute(
        "aria-current", "page")
    await expect(row(page, "demo.pfaure")).to_be_visible()
    await expect(row(page, "demo.commercial")).to_have_count(0)

    response = await page.goto(f"{site.url}/admin?unit=%3Cscript%3E")
    assert response is not None and response.status == 404
    await expect(page.get_by_role("alert")).to_contain_text("<script>")


# -- hardening -----------------------------------------------------------------------------
class Clock:
    """A clock the test moves by hand (wall time for CSRF, the backoff's clock too)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def admin_app(site: Site, clock: Clock) -> Starlette:
    """The admin routes alone, on a clock the test controls, with the web server's headers."""
    return Starlette(routes=build_admin_routes(site.runtime.services, clock=clock,
                                               backoff=AuthBackoff(clock=clock)),
                     middleware=[Middleware(SecurityHeaders)])


def client_at(app: Starlette, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40_000)),
                             base_url="http://bot")


async def test_wrong_passwords_back_off_the_address_even_for_the_right_secret(
        site: Site, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    app = admin_app(site, clock)
    tried = [f"guess-number-{n:02d}" for n in range(20)]
    caplog.set_level(logging.WARNING, logger="bot.admin")
    async with client_at(app, "203.0.113.7") as attacker, \
            client_at(app, "198.51.100.2") as admin, client_at(app, "192.0.2.9") as browser:
        for guess in tried[:10]:
            assert (await attacker.get("/admin", auth=("root", guess))).status_code == 401
        blocked = await attacker.get("/admin", auth=("admin", SECRET))
        assert blocked.status_code == 429 and blocked.headers["retry-after"] == "60"
        assert "Camille" not in blocked.text
        # Another address is not affected; requests without credentials are not tries.
        assert (await admin.get("/admin", auth=("admin", SECRET))).status_code == 200
        for _ in range(15):
            assert (await browser.get("/admin")).status_code == 401
        assert (await browser.get("/admin", auth=("admin", SECRET))).status_code == 200

        clock.now += 59
        still = await attacker.post("/admin/revoke/demo.commercial", auth=("admin", SECRET))
        assert still.status_code == 429 and still.headers["retry-after"] == "1"
        clock.now += 1
        # The next lockout lasts twice as long.
        for guess in tried[10:]:
            assert (await attacker.get("/admin", auth=("root", guess))).status_code == 401
        blocked = await attacker.get("/admin", auth=("admin", SECRET))
        assert blocked.status_code == 429 and blocked.headers["retry-after"] == "120"
        clock.now += 120
        assert (await attacker.get("/admin", auth=("admin", SECRET))).status_code == 200

    warnings = [record.getMessage() for record in caplog.records]
    assert sum("wrong password from 203.0.113.7" in line for line in warnings) == 20
    assert any("from 203.0.113.7; refusing it for 60 s" in line for line in warnings)
    assert any("from 203.0.113.7; refusing it for 120 s" in line for line in warnings)
    assert not any("192.0.2.9" in line or "198.51.100.2" in line for line in warnings)
    logged = "\n".join(warnings)
    assert not any(guess in logged for guess in tried) and SECRET not in logged
    assert "root" not in logged


async def test_csrf_token_expires_after_two_windows(site: Site) -> None:
    clock = Clock()
    async with client_at(admin_app(site, clock), "127.0.0.1") as http:
        auth = ("admin", SECRET)

        async def revoke(token: str) -> int:
            answer = await http.post("/admin/revoke/demo.commercial", auth=auth,
                                     headers={"Accept": "application/json",
                                              "X-CSRF-Token": token})
            return answer.status_code

        page = await http.get("/admin", auth=auth)
        token = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
        assert token and token.group(1) == csrf_token(SECRET, clock.now)
        assert await revoke(token.group(1)) == 200
        assert await revoke(csrf_token(SECRET, clock.now - CSRF_WINDOW)) == 200  # previous
        assert await revoke(csrf_token(SECRET, clock.now - 2 * CSRF_WINDOW)) == 403
        assert await revoke(csrf_token("another-secret-of-16+", clock.now)) == 403

        clock.now += 2 * CSRF_WINDOW  # the page stayed open two hours
        assert await revoke(token.group(1)) == 403
        fresh = re.search(r'name="csrf" value="([0-9a-f]{64})"',
                          (await http.get("/admin", auth=auth)).text)
        assert fresh and fresh.group(1) != token.group(1)
        assert await revoke(fresh.group(1)) == 200


async def test_admin_post_bodies_are_bounded_before_being_read(site: Site) -> None:
    pulled: list[int] = []

    async def body(chunks: int, size: int = 1024) -> AsyncIterator[bytes]:
        for _ in range(chunks):
            pulled.append(size)
            yield b"a" * size

    async with client_at(admin_app(site, Clock()), "127.0.0.1") as http:
        auth = ("admin", SECRET)
        declared = await http.post("/admin/revoke/demo.commercial", auth=auth,
                                   content=body(100), headers={"Content-Length": "102400"})
        assert declared.status_code == 413 and pulled == []
        streamed = await http.post("/admin/revoke/demo.commercial", auth=auth, content=body(100))
        assert streamed.status_code == 413 and len(pulled) == 5  # 4 KiB limit, read no further
        pulled.clear()
        stranger = await http.post("/admin/revoke/demo.commercial", content=body(100),
                                   headers={"Content-Length": "102400"})
        assert stranger.status_code == 401 and pulled == []  # no password: nothing read


async def test_every_response_carries_the_security_headers(site: Site) -> None:
    fixed = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
             "referrer-policy": "no-referrer", "cache-control": "no-store"}
    async with httpx.AsyncClient(base_url=site.url) as http:
        auth = ("admin", SECRET)
        page = await http.get("/admin", auth=auth)
        token = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text)
        assert token
        answers = {
            "page": page,
            "401": await http.get("/admin"),
            "json": await http.post("/admin/revoke/demo.commercial", auth=auth,
                                    headers={"Accept": "application/json",
                                             "X-CSRF-Token": token.group(1)}),
            "sheet": await http.post("/admin/sheet/CDV-LYON", auth=auth,
                                     data={"csrf": token.group(1)}),
            "sso": await http.get("/sso/callback?state=unknown&ticket=x"),
            "healthz": await http.get("/healthz"),
            "webhook": await http.post("/telegram", json={}),
        }
    for name, answer in answers.items():
        assert {key: answer.headers.get(key) for key in fixed} == fixed, name
        csp = answer.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp, name
        assert "unsafe-inline" not in csp and "nonce-" not in csp, name
    assert answers["page"].headers["content-security-policy"] == ADMIN_PAGE.policy()
    assert "script-src 'sha256-" in ADMIN_PAGE.policy()
    assert answers["sheet"].headers["content-security-policy"] == ONBOARDING_PAGE.policy()
    assert answers["sso"].status_code == 400
    assert answers["sso"].headers["content-security-policy"] == SSO_PAGE.policy()
    assert answers["webhook"].headers["content-security-policy"] == BASELINE_CSP


async def test_pages_run_under_their_policy_without_violations(site: Site, page: Page) -> None:
    """The inline CSS and script are allowed by hash: they apply, and Chromium reports nothing."""
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    await page.goto(f"{site.url}/admin")
    await row(page, "demo.commercial").get_by_role("button", name="Générer un QR code").click()
    await expect(page.locator("#qr-image")).to_be_visible()
    assert await page.locator("#qr-image").evaluate("img => img.naturalWidth") > 0
    await expect(page.locator("header.top")).to_have_css("background-color", "rgb(31, 78, 121)")
    await page.goto(f"{site.url}/admin?unit=NOPE")
    await expect(page.locator(".notice")).to_have_css("border-left-color", "rgb(31, 78, 121)")
    assert not [line for line in console if "Content Security Policy" in line], console
