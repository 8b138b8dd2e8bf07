"""``crmbot pair`` run as a real process against the embedded demo artis.net.

Each run starts its own demo artis.net and opens the SQLite store of its
DATA_DIR; opening that store again afterwards shows that the printed token is
the one the bot will accept — once.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.async_api import expect

from bot.i18n import L10n
from bot.pairing_cli import ONBOARDING_PAGE, Team, onboarding_html, unit_reps, validity_fr
from bot.runtime import open_services
from bot.services.pairing import Invite
from bot.settings import Settings
from integrations.artis.models import OrgUnit, UOGroupType
from tests.browser import chromium, decode_data_url, decode_qr

LINK = re.compile(r"https://t\.me/artis_crm_demo_bot\?start=([A-Za-z0-9_-]+)")
TOKEN = re.compile(r"[A-Za-z0-9_-]{32,64}")
CLEARED = ("ARTIS_URL", "REDIS_URL", "TELEGRAM_BOT_TOKEN", "ADMIN_SECRET", "ARTIS_SERVICE_LOGIN",
           "ARTIS_SERVICE_PASSWORD", "TELEGRAM_BOT_USERNAME", "PAIRING_TOKEN_TTL", "BOT_TIMEZONE")


def run_cli(*args: str, data_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``crmbot ARGS`` in a clean environment (no .env: cwd is a temp dir)."""
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env["DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def settings_for(data_dir: Path) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, artis_url=None, redis_url=None,  # type: ignore[call-arg]
                    telegram_bot_token=None, artis_service_login=None,
                    artis_service_password=None)


async def test_pair_one_rep_prints_link_and_writes_a_redeemable_qr(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = run_cli("pair", "demo.commercial", "--png", "out.png", data_dir=data_dir,
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Camille Martin" in out
    assert "valable 15 minutes" in out
    match = LINK.search(out)
    assert match, out
    link, token = match.group(0), match.group(1)
    assert TOKEN.fullmatch(token), token
    assert "Traceback" not in result.stderr

    png = (tmp_path / "out.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    assert decode_qr(png) == link

    async with open_services(settings_for(data_dir)) as services:
        ticket = await services.pairing.redeem(token)
        assert ticket is not None and ticket.login == "demo.commercial"
        assert ticket.display_name == "Camille Martin"
        assert await services.pairing.redeem(token) is None  # single use


async def test_pair_default_png_is_named_after_the_login(tmp_path: Path) -> None:
    result = run_cli("pair", "demo.tdubois", data_dir=tmp_path / "data", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    link = LINK.search(result.stdout)
    assert link
    assert decode_qr((tmp_path / "demo.tdubois.png").read_bytes()) == link.group(0)


async def test_unknown_login_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    result = run_cli("pair", "nobody.here", data_dir=tmp_path / "data", cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "nobody.here" in lines[0] and "aucun utilisateur" in lines[0]
    assert result.stdout == ""
    assert not list(tmp_path.glob("*.png"))


async def test_unknown_unit_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    result = run_cli("pair", "--all-reps", "--unit", "NOPE", data_dir=tmp_path / "data",
                     cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "NOPE" in lines[0], result.stderr


async def test_all_reps_of_a_unit_make_one_printable_sheet(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = run_cli("pair", "--all-reps", "--unit", "CDV-IDF", "--out", "sheet.html",
                     data_dir=data_dir, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "sheet.html").read_text(encoding="utf-8")

    async with open_services(settings_for(data_dir)) as services:
        unit = await services.artis.get_org_unit("CDV-IDF")
        expected = {user.login: user.display_name
                    for user in await unit_reps(services.artis, unit)}
        assert "demo.commercial" in expected and len(expected) >= 4

        cards = re.findall(r'<article class="card" data-login="([^"]+)">(.*?)</article>',
                           page, flags=re.S)
        assert {html.unescape(login) for login, _ in cards} == set(expected)
        assert page.count('<img class="qr"') == len(expected)
        assert page.count('class="page"') == -(-len(expected) // 4)  # 4 reps per A4 page

        # Every card's QR holds its own link, and it pairs the right rep.
        for login, card in cards:
            src = re.search(r'<img class="qr" src="([^"]+)"', card)
            assert src
            link = decode_qr(decode_data_url(src.group(1)))
            assert html.escape(link) in card
            token = LINK.fullmatch(link)
            assert token and TOKEN.fullmatch(token.group(1))
            ticket = await services.pairing.redeem(token.group(1))
            assert ticket is not None and ticket.login == html.unescape(login)
            assert expected[ticket.login] in html.unescape(card)

    assert '<html lang="fr">' in page
    assert "@media print" in page and "size: A4" in page
    assert "Ouvrez l&#x27;appareil photo" in page and "DÉMARRER" in page
    assert "mot de passe artis.net" in page
    assert re.search(r"Valable jusqu'au \w+ \d{1,2} \w+\.? à \d\d:\d\d", page)


async def test_all_reps_without_unit_covers_every_commerce_unit(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result = run_cli("pair", "--all-reps", data_dir=data_dir, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "onboarding.html").read_text(encoding="utf-8")
    async with open_services(settings_for(data_dir)) as services:
        units = [u for u in await services.artis.list_org_units() if u.is_commerce]
        assert len(units) >= 2
        logins: set[str] = set()
        for unit in units:
            logins |= {user.login for user in await unit_reps(services.artis, unit)}
            assert html.escape(unit.name) in page
    assert page.count('<img class="qr"') == len(logins)
    assert f"{len(logins)} liens" in result.stdout


def test_sheet_escapes_everything() -> None:
    """Names come from the ERP: they must never become markup."""
    evil = '<script>alert("x")</script>'
    unit = OrgUnit(code='U&"1', name=evil, group_type=UOGroupType.COMMERCE)
    invite = Invite(login='a"b<c', display_name=evil, token="t" * 32,
                    link="https://t.me/bot?start=" + "t" * 32, expires_at=1_800_000_000)
    page = onboarding_html([Team(unit, [invite])], L10n("fr"), ttl=900, bot_username="b<ot")
    assert "<script>" not in page
    assert 'data-login="a&quot;b&lt;c"' in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "b&lt;ot" in page and "U&amp;&quot;1" in page


@pytest.mark.parametrize(("seconds", "expected"), [
    (60, "1 minute"), (900, "15 minutes"), (3600, "1 heure"), (5400, "90 minutes"),
    (7200, "2 heures"), (86400, "1 jour"), (7 * 86400, "7 jours"), (90, "90 secondes"),
])
def test_validity_is_said_exactly_in_french(seconds: int, expected: str) -> None:
    """Babel words it (with CLDR's no-break spaces); the unit is the largest that divides it,
    so 90 minutes are not rounded to "2 heures"."""
    assert validity_fr(seconds).replace("\xa0", " ") == expected


async def test_sheet_file_carries_its_policy_and_runs_under_it(tmp_path: Path) -> None:
    """Opened from disk there are no headers: the <meta> policy allows the sheet's own CSS
    (by hash) and data: images, nothing else, and Chromium reports no violation."""
    unit = OrgUnit(code="CDV-IDF", name="Équipe commerciale Île-de-France",
                   group_type=UOGroupType.COMMERCE)
    invite = Invite(login="demo.commercial", display_name="Camille Martin", token="t" * 32,
                    link="https://t.me/artis_crm_demo_bot?start=" + "t" * 32,
                    expires_at=1_800_000_000)
    page = onboarding_html([Team(unit, [invite])], L10n("fr"), ttl=900, bot_username="bot")
    policy = ONBOARDING_PAGE.policy(meta=True)
    assert (f'<meta http-equiv="Content-Security-Policy" content="{html.escape(policy)}">'
            in page)
    assert "script-src" not in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy and "frame-ancestors" not in policy  # ignored in <meta>
    sheet = tmp_path / "onboarding.html"
    sheet.write_text(page, encoding="utf-8")

    console: list[str] = []
    async with chromium() as browser:
        tab = await browser.new_page()
        tab.on("console", lambda message: console.append(message.text))
        await tab.goto(sheet.as_uri())
        await expect(tab.locator("header h1")).to_have_css("color", "rgb(31, 78, 121)")
        image = tab.locator("img.qr")
        assert await image.evaluate("img => img.naturalWidth") > 0
        assert decode_qr(await image.screenshot()) == invite.link
    assert not [line for line in console if "Content Security Policy" in line], console
