"""The admin page, served for real (uvicorn on loopback) and used in headless Chromium.

The bot runs with the embedded demo artis.net, a SQLite store in a temp dir
and the fake Telegram Bot API; the page is the webhook server's ``/admin``.
"""

from __future__ import annotations

import base64
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

from bot.pairing_cli import unit_reps
from bot.runtime import Runtime, open_runtime
from bot.services.sessions import ArtisLink, ChatSession
from bot.settings import Settings
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
