"""SSO sign-in: the button, the demo identity provider, the callback, and every refusal.

Real parts: the demo artis.net (with its identity provider) over loopback HTTP, the real
Application and store; Telegram is the fake Bot API. The bot's web server is called
through ``httpx.ASGITransport``, the browser being an httpx client.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest

from bot import sso
from bot.runtime import open_services
from bot.services.pairing import token_hash
from bot.services.sso import SSO_STATE_TTL, SsoSignIn
from bot.settings import Settings
from bot.web import build_web_app
from integrations.artis.client import ArtisClient
from integrations.artis.demo import DemoArtisServer, DemoLogins
from integrations.artis.errors import InvalidCredentials
from integrations.fake_bot_api import SimUser
from tests.harness import BotHarness, new_user

PUBLIC = "https://bot.example.test"
DONE = "C'est fait, vous pouvez revenir dans Telegram."
REFUSED = "Ce lien de connexion n'est pas valable"
HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


@pytest.fixture
async def sso_bot(start_bot: Callable[..., AbstractAsyncContextManager[BotHarness]],
                  artis: DemoArtisServer) -> AsyncIterator[BotHarness]:
    """A bot with SSO on: the demo identity provider and a public base URL."""
    async with start_bot(sso_url=artis.sso_url, webhook_url=PUBLIC) as harness:
        yield harness


@pytest.fixture
async def browser(sso_bot: BotHarness) -> AsyncIterator[Browser]:
    async with Browser(sso_bot) as opened:
        yield opened


# -- helpers -----------------------------------------------------------------------------------
async def start_pairing(bot: BotHarness, user: SimUser, login: str = DemoLogins.SSO) -> str:
    """/start with a fresh pairing link; the text the bot answered."""
    invite = await bot.services.pairing.invite(login)
    [text] = await bot.say(user, f"/start {invite.token}")
    return text


def sso_button(bot: BotHarness, user: SimUser) -> str | None:
    buttons = bot.api.buttons(bot.api.last_bot_message(user.id))
    urls = [button["url"] for button in buttons if "url" in button]
    assert len(urls) <= 1
    return urls[0] if urls else None


class Browser:
    """One rep's browser: cookies for the bot's web server (served in-process over ASGI at
    ``PUBLIC``) and real HTTP to the demo identity provider on loopback."""

    def __init__(self, bot: BotHarness) -> None:
        web = build_web_app(bot.runtime, webhook_path="/telegram",
                            secret="s3cret-sso-webhook-42")
        self.bot_site = httpx.AsyncClient(transport=httpx.ASGITransport(app=web),
                                          base_url=PUBLIC)

    async def __aenter__(self) -> Browser:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bot_site.aclose()

    async def open_button(self, url: str) -> str:
        """Open the SSO button's link; the identity provider's URL it redirects to."""
        assert url.startswith(f"{PUBLIC}{sso.START_PATH}?")
        answer = await self.bot_site.get(url.removeprefix(PUBLIC))
        assert answer.status_code == 302, answer.text
        assert sso.COOKIE in self.bot_site.cookies
        return answer.headers["location"]

    async def sign_in(self, url: str, login: str, password: str = "demo") -> str:
        """The button, then the identity provider; the callback path+query it redirects to."""
        return await sign_in_at_provider(await self.open_button(url), login, password)

    async def open_callback(self, path: str) -> httpx.Response:
        """The browser coming back to the bot's web server."""
        return await self.bot_site.get(path)


async def sign_in_at_provider(url: str, login: str, password: str = "demo") -> str:
    """Play the browser at the identity provider; the callback path+query it redirects to."""
    async with httpx.AsyncClient(timeout=5) as browser:
        form = await browser.get(url)
        assert form.status_code == 200, form.text
        assert "SSO de démonstration" in form.text
        assert 'lang="fr"' in form.text and "Mot de passe" in form.text
        fields = {name: html.unescape(value) for name, value in HIDDEN.findall(form.text)}
        assert set(fields) == {"redirect_uri", "state"}
        action = re.search(r'<form method="post" action="([^"]+)"', form.text)
        assert action
        answer = await browser.post(urljoin(url, action.group(1)),
                                    data={**fields, "login": login, "password": password})
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}" == PUBLIC
    assert location.path == sso.CALLBACK_PATH
    return f"{location.path}?{location.query}"


async def linked_login(bot: BotHarness, user: SimUser) -> str | None:
    session = await bot.services.sessions.load(user.id, user.id, "fr")
    return session.link.login if session.link else None


async def step_of(bot: BotHarness, user: SimUser) -> str | None:
    step = (await bot.services.sessions.load(user.id, user.id, "fr")).step
    return step.name if step else None


# -- the button --------------------------------------------------------------------------------
async def test_start_shows_the_sso_button_and_the_password_still_works(
        browser: Browser, sso_bot: BotHarness, artis: DemoArtisServer) -> None:
    user = new_user("Mathieu")
    text = await start_pairing(sso_bot, user)
    assert "Bonjour Mathieu Lambert" in text and "mot de passe" in text
    assert "authentification unique" in text and "10 minutes" in text
    url = sso_button(sso_bot, user)
    assert url is not None and url.startswith(f"{PUBLIC}/sso/start?")
    [state] = parse_qs(urlsplit(url).query)["state"]
    provider = await browser.open_button(url)
    assert provider.startswith(artis.sso_url + "?")
    query = parse_qs(urlsplit(provider).query)
    assert query["redirect_uri"] == [f"{PUBLIC}/sso/callback"]
    assert query["state"] == [state]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", state)  # 192 bits from secrets
    # Only the state's hash is kept, for 10 minutes at most.
    store = sso_bot.services.store
    assert await store.get(f"sso-state:{state}") is None
    assert await store.get(f"sso-state:{token_hash(state)}") is not None
    left = await store.ttl(f"sso-state:{token_hash(state)}")
    assert left is not None and 0 < left <= SSO_STATE_TTL

    [home] = await sso_bot.say(user, "demo")
    assert "Appairage réussi" in home and "Mathieu Lambert" in home
    assert await linked_login(sso_bot, user) == DemoLogins.SSO


async def test_no_public_url_means_no_sso_button(
        start_bot: Callable[..., AbstractAsyncContextManager[BotHarness]],
        artis: DemoArtisServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.services.sso")
    async with start_bot(sso_url=artis.sso_url) as bot:  # no WEBHOOK_URL
        for first_name in ("Mathieu", "Encore"):
            user = new_user(first_name)
            text = await start_pairing(bot, user)
            assert "mot de passe" in text and "authentification unique" not in text
            assert sso_button(bot, user) is None
        [home] = await bot.say(user, "demo")
        assert "Appairage réussi" in home
    why = [r for r in caplog.records if "SSO sign-in is off" in r.getMessage()]
    assert len(why) == 1 and "WEBHOOK_URL" in why[0].getMessage()


def test_sso_url_defaults_to_the_demo_identity_provider_only_when_embedded(
        tmp_path: Path) -> None:
    def Fake(settings: Settings) -> SsoSignIn:
        return SsoSignIn(settings, store=None,  # type: ignore[arg-type]
                         artis_base_url="http://127.0.0.1:5555/api/v1")

    real_artis = "https://erp.example.fr/api/v1"
    real_settings = Settings(_env_file=None, data_dir=tmp_path, artis_url=real_artis)
    assert Fake(real_settings).identity_provider_url() is None
    configured = Fake(Settings(_env_file=None, data_dir=tmp_path, artis_url=real_artis,
                               sso_url="https://sso.example.fr/authorize/"))
    expected = "https://sso.example.fr/authorize"
    assert configured.identity_provider_url() == expected
    embedded = Fake(Settings(_env_file=None, data_dir=tmp_path))
    assert embedded.identity_provider_url() == (
        "http://127.0.0.1:5555/sso/authorize")


async def test_embedded_demo_serves_its_identity_provider(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path)  # no ARTIS_URL: embedded demo
    async with open_services(settings) as services:
        url = services.sso.identity_provider_url()
        assert url is not None and url.endswith("/sso/authorize")
        assert url.removesuffix("/sso/authorize") + "/api/v1" == services.artis.base_url
        async with httpx.AsyncClient() as browser:
            form = await browser.get(url, params={"redirect_uri": f"{PUBLIC}/sso/callback",
                                                  "state": "abc"})
        assert form.status_code == 200 and "SSO de démonstration" in form.text


# -- the full flow -----------------------------------------------------------------------------
async def test_full_sso_flow_pairs_the_rep(browser: Browser, sso_bot: BotHarness) -> None:
    user = new_user("Mathieu")
    await start_pairing(sso_bot, user)
    url = sso_button(sso_bot, user)
    assert url is not None
    callback = await browser.sign_in(url, DemoLogins.SSO)
    sent_before = len(sso_bot.api.texts(user.id))

    page = await browser.open_callback(callback)
    assert page.status_code == 200 and DONE in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"

    [home] = sso_bot.api.texts(user.id)[sent_before:]
    assert "Appairage réussi" in home and "Mathieu Lambert" in home
    assert "Équipe commerciale Île-de-France" in home
    assert await linked_login(sso_bot, user) == DemoLogins.SSO
    assert await step_of(sso_bot, user) is None  # the password step is over
    assert f"chat:{user.id}:" in sso_bot.api.commands  # the chat's menu, as after a password
    # The rep is now paired: /start says so, a text is no longer taken for a password.
    [again] = await sso_bot.say(user, "/start")
    assert "déjà appairé" in again

    # The same callback a second time (replayed state): the refusal page, nothing sent.
    replay = await browser.open_callback(callback)
    assert replay.status_code == 400 and REFUSED in replay.text and DONE not in replay.text
    assert len(sso_bot.api.texts(user.id)) == sent_before + 2


# -- refusals ----------------------------------------------------------------------------------
async def test_unknown_state_and_missing_parameters_get_the_same_page(
        browser: Browser, sso_bot: BotHarness) -> None:
    user = new_user()
    await start_pairing(sso_bot, user)
    url = sso_button(sso_bot, user)
    assert url is not None
    callback = await browser.sign_in(url, DemoLogins.SSO)
    ticket = parse_qs(urlsplit(callback).query)["ticket"][0]
    sent_before = len(sso_bot.api.calls)

    pages = [await browser.open_callback(path) for path in (
        f"/sso/callback?state={'A' * 32}&ticket={ticket}",
        f"/sso/callback?ticket={ticket}",
        "/sso/callback?state=&ticket=",
        "/sso/callback?error=access_denied",
        f"/sso/callback?state={'x' * 500}&ticket={ticket}",
    )]
    assert {page.status_code for page in pages} == {400}
    assert len({page.text for page in pages}) == 1 and REFUSED in pages[0].text
    assert len(sso_bot.api.calls) == sent_before  # nothing said to any chat
    assert await linked_login(sso_bot, user) is None
    # The real state and ticket still work: nothing above consumed them.
    page = await browser.open_callback(callback)
    assert page.status_code == 200 and DONE in page.text


async def test_replayed_ticket_is_refused(browser: Browser, sso_bot: BotHarness,
                                         artis_client: ArtisClient) -> None:
    user = new_user()
    await start_pairing(sso_bot, user)
    url = sso_button(sso_bot, user)
    assert url is not None
    callback = await browser.sign_in(url, DemoLogins.SSO)
    ticket = parse_qs(urlsplit(callback).query)["ticket"][0]
    used = await artis_client.sso_exchange(ticket)  # someone else used the ticket first
    assert used.user.login == DemoLogins.SSO
    sent_before = len(sso_bot.api.texts(user.id))

    page = await browser.open_callback(callback)
    assert page.status_code == 400 and REFUSED in page.text
    unknown = await browser.open_callback(f"/sso/callback?state={'B' * 32}&ticket=x")
    assert page.text == unknown.text  # no hint which check failed
    assert len(sso_bot.api.texts(user.id)) == sent_before
    assert await linked_login(sso_bot, user) is None
    # The chat still waits for the password, which still works.
    assert await step_of(sso_bot, user) == "login.password"
    [home] = await sso_bot.say(user, "demo")
    assert "Appairage réussi" in home


async def test_signing_in_as_someone_else_is_refused(browser: Browser,
                                                     sso_bot: BotHarness) -> None:
    user = new_user()
    await start_pairing(sso_bot, user)  # the link is for demo.sso
    url = sso_button(sso_bot, user)
    assert url is not None
    callback = await browser.sign_in(url, DemoLogins.COMMERCIAL)  # a real account, but not theirs
    sent_before = len(sso_bot.api.texts(user.id))

    page = await browser.open_callback(callback)
    assert page.status_code == 400 and REFUSED in page.text
    assert len(sso_bot.api.texts(user.id)) == sent_before
    assert await linked_login(sso_bot, user) is None
    assert await sso_bot.services.store.get(f"linked-login:{DemoLogins.COMMERCIAL}") is None


async def test_missing_prerequisite_through_sso(browser: Browser,
                                                sso_bot: BotHarness) -> None:
    user = new_user("Julien")
    # demo.nolicence is not an SSO account in the demo: hand-write a pairing ticket saying so.
    token = "T" * 32
    ticket = {"login": DemoLogins.NO_LICENCE, "display_name": "Julien Petit", "sso": True}
    await sso_bot.services.store.set(f"pairing:{token_hash(token)}", json.dumps(ticket), 60)
    await sso_bot.say(user, f"/start {token}")
    url = sso_button(sso_bot, user)
    assert url is not None
    callback = await browser.sign_in(url, DemoLogins.NO_LICENCE)
    sent_before = len(sso_bot.api.texts(user.id))

    page = await browser.open_callback(callback)
    assert page.status_code == 200
    assert "ne peut pas encore utiliser l'assistant" in page.text and DONE not in page.text
    [text] = sso_bot.api.texts(user.id)[sent_before:]
    assert "licence <b>Smartphone</b> (PDA) manque" in text and "administrateur" in text
    assert "Appairage réussi" not in text
    assert await linked_login(sso_bot, user) is None
    assert await step_of(sso_bot, user) is None


# -- the demo artis.net side --------------------------------------------------------------------
async def test_demo_identity_provider_and_ticket_exchange(
        artis: DemoArtisServer, artis_client: ArtisClient) -> None:
    redirect = f"{PUBLIC}/sso/callback"
    async with httpx.AsyncClient(timeout=5) as browser:
        bad = await browser.post(artis.sso_url, data={
            "redirect_uri": redirect, "state": "s1", "login": DemoLogins.SSO, "password": "nope"})
        assert bad.status_code == 401 and "Identifiant ou mot de passe incorrect" in bad.text
        locked = await browser.post(artis.sso_url, data={
            "redirect_uri": redirect, "state": "s1", "login": DemoLogins.LOCKED,
            "password": "demo"})
        assert locked.status_code == 401 and "verrouillé" in locked.text
        for params in ({"state": "s1"}, {"redirect_uri": "javascript:alert(1)", "state": "s1"},
                       {"redirect_uri": redirect}):
            assert (await browser.get(artis.sso_url, params=params)).status_code == 400
        good = await browser.post(artis.sso_url, data={
            "redirect_uri": redirect, "state": "s1", "login": DemoLogins.SSO,
            "password": "demo"})
    assert good.status_code == 302
    query = parse_qs(urlsplit(good.headers["location"]).query)
    assert query["state"] == ["s1"]
    [ticket] = query["ticket"]

    result = await artis_client.sso_exchange(ticket)
    assert result.user.login == DemoLogins.SSO and result.user.sso
    assert (await artis_client.me(result.token)).login == DemoLogins.SSO
    with pytest.raises(InvalidCredentials):
        await artis_client.sso_exchange(ticket)  # once only
    expired = artis.store.create_sso_ticket(DemoLogins.SSO, timedelta(seconds=-1))
    with pytest.raises(InvalidCredentials):
        await artis_client.sso_exchange(expired)
    with pytest.raises(InvalidCredentials):
        await artis_client.sso_exchange("never-issued")


# -- login CSRF: the sign-in belongs to the browser that opened the link -------------------------
async def test_a_sign_in_finished_in_another_browser_is_refused(sso_bot: BotHarness) -> None:
    """Someone redeems a rep's leaked pairing link in *their* Telegram, opens the SSO
    button themselves and sends the provider's page to the rep, who signs in there."""
    intruder = new_user("Intrus")
    await start_pairing(sso_bot, intruder)
    url = sso_button(sso_bot, intruder)
    assert url is not None
    async with Browser(sso_bot) as intruders_browser, Browser(sso_bot) as reps_browser:
        provider = await intruders_browser.open_button(url)
        callback = await sign_in_at_provider(provider, DemoLogins.SSO)  # the rep signs in
        page = await reps_browser.open_callback(callback)  # …in their own browser
        assert page.status_code == 400 and REFUSED in page.text
        # The state is spent: the intruder's own browser cannot finish it either.
        late = await intruders_browser.open_callback(callback)
        assert late.status_code == 400 and REFUSED in late.text
    assert await linked_login(sso_bot, intruder) is None


async def test_a_sign_in_link_opens_in_one_browser_only(sso_bot: BotHarness) -> None:
    user = new_user()
    await start_pairing(sso_bot, user)
    url = sso_button(sso_bot, user)
    assert url is not None
    async with Browser(sso_bot) as first, Browser(sso_bot) as second:
        provider = await first.open_button(url)
        refused = await second.bot_site.get(url.removeprefix(PUBLIC))
        assert refused.status_code == 400 and REFUSED in refused.text
        assert sso.COOKIE not in second.bot_site.cookies
        # The first browser is still the one the sign-in belongs to.
        page = await first.open_callback(await sign_in_at_provider(provider, DemoLogins.SSO))
        assert page.status_code == 200 and DONE in page.text


async def test_the_return_page_names_the_telegram_account_being_paired(
        browser: Browser, sso_bot: BotHarness) -> None:
    user = SimUser(id=new_user().id, first_name="Mathieu", last_name="Lambert",
                   username="mlambert")
    await start_pairing(sso_bot, user)
    url = sso_button(sso_bot, user)
    assert url is not None
    page = await browser.open_callback(await browser.sign_in(url, DemoLogins.SSO))
    assert page.status_code == 200 and DONE in page.text
    assert "Mathieu Lambert (@mlambert)" in html.unescape(page.text)


async def test_sso_in_a_real_browser_with_its_host_cookie(
        start_bot: Callable[..., AbstractAsyncContextManager[BotHarness]],
        artis: DemoArtisServer) -> None:
    """Headless Chromium keeps the ``__Host-`` cookie (Secure: localhost counts as a secure
    origin) across the identity provider and back."""
    from tests.browser import chromium, serve

    async with start_bot(sso_url=artis.sso_url, webhook_url=PUBLIC) as bot:
        web = build_web_app(bot.runtime, webhook_path="/telegram",
                            secret="s3cret-sso-webhook-42")
        async with serve(web) as served:
            public = served.replace("127.0.0.1", "localhost")
            bot.services.sso.settings = bot.services.settings.model_copy(
                update={"webhook_url": public})
            user = new_user("Mathieu")
            await start_pairing(bot, user)
            url = sso_button(bot, user)
            assert url is not None and url.startswith(f"{public}/sso/start?")
            async with chromium() as browser:
                tab = await browser.new_page()
                await tab.goto(url)  # -> the demo identity provider's form
                await tab.fill("input[name=login]", DemoLogins.SSO)
                await tab.fill("input[name=password]", "demo")
                await tab.click("button[type=submit], input[type=submit]")
                await tab.wait_for_url(f"{public}/sso/callback?*")
                assert DONE in await tab.content()
                cookies = await tab.context.cookies(public)
                assert sso.COOKIE not in {cookie["name"] for cookie in cookies}
            assert await linked_login(bot, user) == DemoLogins.SSO
