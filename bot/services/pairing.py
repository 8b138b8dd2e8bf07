"""Pairing a Telegram account with an artis.net user, logging in, locking.

Rules (issue #3): pairing tokens carry ≥128 bits from ``secrets`` in base64url,
fit Telegram's 64-character ``/start`` payload, are single-use (atomic GETDEL),
expire (15 min by default) and only their SHA-256 is stored. Passwords go
straight to artis.net and are never stored or logged. Five wrong passwords in a
row lock the account's pairing for 15 minutes when they come through a pairing link
(counted per login), and lock unlocking of *that chat* when they come from a paired chat
(counted per chat: a stranger with a leaked link cannot lock the rep out of their own
chat). Five wrong PINs in a row drop the PIN and the artis.net session: only the
password unlocks then. A new pairing link for a rep revokes the rep's earlier links.

An interactive step (a password, a PIN) waits for artis.net at most ``deadline``
seconds (``INTERACTIVE_DEADLINE``), so a rep never waits long in silence; scrypt runs
in a worker thread, off the event loop every chat of the process shares.

Single sign-on: ``bot/services/sso.py`` issues and checks the one-time ``state``;
``log_in_with_sso`` exchanges the identity provider's ticket and then goes on exactly
like a right password (``_accept``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass, field

from bot import keys
from bot.services.prerequisites import Missing, missing_prerequisites
from bot.services.sessions import ArtisLink, ChatSession, SessionRepo
from bot.storage import Store
from integrations.artis.client import ArtisClient
from integrations.artis.errors import (
    AccountLocked,
    ArtisUnavailable,
    InvalidCredentials,
    InvalidData,
    NotFound,
    SessionExpired,
)
from integrations.artis.models import LoginResult, User

log = logging.getLogger(__name__)

TOKEN_BYTES = 24  # 192 bits -> 32 base64url characters
MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
MAX_PIN_FAILURES = 5
PIN_FAILURES_TTL = 30 * 24 * 3600  # wrong PINs are forgotten only by a right one, or a month
INTERACTIVE_DEADLINE = 15.0  # seconds a rep waits for artis.net at a password or PIN step


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def deep_link(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={token}"


@dataclass(frozen=True)
class Invite:
    login: str
    display_name: str
    token: str
    link: str
    expires_at: float


@dataclass(frozen=True)
class Ticket:
    """What a redeemed token tells us: who is expected to log in."""

    login: str
    display_name: str
    sso: bool = False


# -- outcomes of a password attempt ------------------------------------------------------
@dataclass(frozen=True)
class LoggedIn:
    link: ArtisLink
    user: User


@dataclass(frozen=True)
class WrongPassword:
    attempts_left: int


@dataclass(frozen=True)
class LockedOut:
    minutes: int
    just_locked: bool = False
    manager_user_id: int | None = None  # Telegram chat of the rep's manager, if paired
    rep_name: str = ""


@dataclass(frozen=True)
class PrerequisitesMissing:
    user: User
    missing: list[Missing] = field(default_factory=list)


@dataclass(frozen=True)
class AccountLockedAtArtis:
    """artis.net itself locked the account (HTTP 423): only its administrator unlocks it."""

    login: str


@dataclass(frozen=True)
class NoAnswer:
    """artis.net did not answer: within the step's deadline (``seconds``), or at all
    (``seconds`` None: unreachable, timed out, 5xx). Nothing changed; the rep may send the
    secret again later."""

    seconds: int | None = None


LoginOutcome = (LoggedIn | WrongPassword | LockedOut | PrerequisitesMissing
                | AccountLockedAtArtis | NoAnswer)


# -- outcomes of a PIN attempt -----------------------------------------------------------
@dataclass(frozen=True)
class PinUnlocked:
    pass


@dataclass(frozen=True)
class WrongPin:
    attempts_left: int


@dataclass(frozen=True)
class PinRevoked:
    """Too many wrong PINs: the PIN and the artis.net session are gone; password only."""


@dataclass(frozen=True)
class PinNeedsPassword:
    """No usable PIN or artis.net session (expired): the password is needed."""


PinOutcome = PinUnlocked | WrongPin | PinRevoked | PinNeedsPassword | NoAnswer


class PairingService:
    def __init__(self, store: Store, artis: ArtisClient, sessions: SessionRepo, *,
                 bot_username: str, token_ttl: int, idle_lock: int,
                 deadline: float = INTERACTIVE_DEADLINE) -> None:
        self.store = store
        self.artis = artis
        self.sessions = sessions
        self.bot_username = bot_username
        self.token_ttl = token_ttl
        self.idle_lock = idle_lock
        self.deadline = deadline

    # -- invitations ------------------------------------------------------------------
    async def invite(self, login: str) -> Invite:
        """A one-time deep link for ``login`` (raises ``NotFound`` for an unknown login).

        It revokes the rep's earlier links: each QR press or printed sheet would otherwise
        add one more valid way in."""
        user = await self.artis.find_user(login)
        if user is None:
            raise NotFound(f"no artis.net user {login!r}")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        digest = token_hash(token)
        ticket = {"login": user.login, "display_name": user.display_name, "sso": user.sso}
        async with self.store.lock(keys.invite_lock(user.login), timeout=10.0, wait=10.0):
            previous = await self.store.pop(keys.current_pairing_token(user.login))
            if previous is not None:
                await self.store.delete(keys.pairing_token(previous))
            await self.store.set(keys.pairing_token(digest), json.dumps(ticket), self.token_ttl)
            await self.store.set(keys.current_pairing_token(user.login), digest, self.token_ttl)
        return Invite(user.login, user.display_name, token,
                      deep_link(self.bot_username, token), time.time() + self.token_ttl)

    async def redeem(self, token: str) -> Ticket | None:
        """Consume a token. None for unknown, expired or already used — deliberately alike."""
        if not token or len(token) > 64:
            return None
        raw = await self.store.pop(keys.pairing_token(token_hash(token)))
        if raw is None:
            return None
        return Ticket(**json.loads(raw))

    # -- logging in ---------------------------------------------------------------------
    async def lockout_minutes(self, login: str) -> int:
        return await self._minutes_left(keys.pairing_lock(login))

    async def _minutes_left(self, lock_key: str) -> int:
        left = await self.store.ttl(lock_key)
        return max(1, round(left / 60)) if left else 0

    async def log_in(self, session: ChatSession, login: str, password: str) -> LoginOutcome:
        """Pairing through a link: check the password with artis.net, then the
        prerequisites; link on success. Failures count per login."""
        return await self._check_password(session, login, password,
                                          keys.pairing_failures(login), keys.pairing_lock(login),
                                          notify_manager=True)

    async def unlock_with_password(self, session: ChatSession, password: str) -> LoginOutcome:
        """Unlocking a paired chat: as ``log_in`` for the chat's own login, but failures
        count per chat, so tries made elsewhere (a leaked pairing link) never block it."""
        assert session.link is not None
        return await self._check_password(session, session.link.login, password,
                                          keys.unlock_failures(session.chat_id),
                                          keys.unlock_lock(session.chat_id),
                                          notify_manager=False)

    async def _check_password(self, session: ChatSession, login: str, password: str,
                              failures_key: str, lock_key: str, *, notify_manager: bool
                              ) -> LoginOutcome:
        if minutes := await self._minutes_left(lock_key):
            return LockedOut(minutes)
        try:
            async with asyncio.timeout(self.deadline):
                result = await self.artis.login(login, password)
        except InvalidCredentials:
            return await self._count_failure(login, failures_key, lock_key,
                                             notify_manager=notify_manager)
        except AccountLocked:
            log.info("artis.net refused %s: the account is locked there", login)
            return AccountLockedAtArtis(login)
        except TimeoutError:
            log.warning("artis.net gave no answer to a login within %.0fs", self.deadline)
            return NoAnswer(round(self.deadline))
        except ArtisUnavailable as exc:
            log.warning("artis.net unavailable for a login: %s", exc)
            return NoAnswer()
        await self.store.delete(failures_key)
        return await self._accept(session, result)

    async def _accept(self, session: ChatSession, result: LoginResult
                      ) -> LoggedIn | PrerequisitesMissing:
        """artis.net said yes (password or SSO): check the prerequisites, then link."""
        user = result.user
        await self.store.delete(keys.pairing_failures(user.login))
        if missing := missing_prerequisites(user):
            await self._quiet_logout(result.token)
            return PrerequisitesMissing(user, missing)
        holder = await self.sessions.holder_of(user.login)
        if holder is not None and holder[0] != session.user_id:
            # One Telegram account per rep: pairing a new phone ends the old pairing.
            log.info("%s re-paired from another Telegram account; old pairing revoked",
                     user.login)
            await self.revoke(user.login)
        previous = session.link
        link = ArtisLink(login=user.login, display_name=user.display_name,
                         is_manager=bool(user.heads_org_units), timezone=user.timezone,
                         pin_hash=previous.pin_hash if previous and previous.login == user.login
                         else None
                         ).with_token(result.token, self.sessions.token_deadline(result.expires_at))
        await self.sessions.save_link(session, link)
        return LoggedIn(link, user)

    # -- single sign-on (assumed protocol, see integrations/artis/openapi.yaml) -----------
    async def log_in_with_sso(self, session: ChatSession, expected_login: str, ticket: str
                              ) -> LoggedIn | PrerequisitesMissing | None:
        """Exchange the identity provider's ticket, then go on as after a right password.

        None when artis.net refuses the ticket (unknown, expired, used, locked account) or
        when it names another user than the one the state was issued for.
        ``ArtisUnavailable`` passes through.
        """
        if not ticket or len(ticket) > 512:
            return None
        try:
            result = await self.artis.sso_exchange(ticket)
        except (InvalidCredentials, AccountLocked, InvalidData) as exc:
            log.info("SSO ticket refused by artis.net (%s)", exc.code or exc.status_code)
            return None
        if result.user.login != expected_login:
            log.warning("SSO sign-in as %s refused: the pairing link was for %s",
                        result.user.login, expected_login)
            await self._quiet_logout(result.token)
            return None
        return await self._accept(session, result)

    async def _count_failure(self, login: str, failures_key: str, lock_key: str, *,
                             notify_manager: bool) -> WrongPassword | LockedOut:
        failures = await self.store.incr(failures_key, LOCKOUT_SECONDS)
        if failures < MAX_FAILURES:
            return WrongPassword(MAX_FAILURES - failures)
        await self.store.set(lock_key, "1", LOCKOUT_SECONDS)
        await self.store.delete(failures_key)
        log.warning("%d wrong passwords for %s: %s set for %d minutes", MAX_FAILURES, login,
                    lock_key, LOCKOUT_SECONDS // 60)
        if not notify_manager:
            return LockedOut(LOCKOUT_SECONDS // 60, just_locked=True)
        manager_id, rep_name = await self._manager_chat_of(login)
        return LockedOut(LOCKOUT_SECONDS // 60, just_locked=True,
                         manager_user_id=manager_id, rep_name=rep_name)

    async def _manager_chat_of(self, login: str) -> tuple[int | None, str]:
        """The Telegram chat of the head of the rep's Commerce unit, if that head is paired."""
        try:
            async with asyncio.timeout(self.deadline):
                user = await self.artis.find_user(login)
        except Exception:  # the notice is a courtesy: never let it break the answer
            log.exception("could not look up %s's manager", login)
            return None, login
        if user is None:
            return None, login
        for unit in user.org_units:
            holder = (await self.sessions.holder_of(unit.head_login)
                      if unit.head_login and unit.head_login != login else None)
            if holder is not None:
                return holder[0], user.display_name
        return None, user.display_name

    async def _quiet_logout(self, token: str | None) -> None:
        if not token:
            return
        try:
            await self.artis.logout(token)
        except Exception:
            log.info("artis.net logout failed; the token will expire by itself")

    # -- lock, PIN, reload, logout -------------------------------------------------------
    def is_idle(self, link: ArtisLink, now: float | None = None) -> bool:
        return (now or time.time()) - link.last_seen > self.idle_lock

    async def lock(self, session: ChatSession, *, expired: bool = False) -> None:
        """Lock the session. Idle: the artis.net token is kept (sealed, until it expires) for
        a PIN unlock, and dropped if the rep has no PIN: only the password unlocks then.
        ``expired``: artis.net no longer accepts the token, so it is dropped too."""
        link = session.link
        if link is None or (link.locked and not expired):
            return
        locked = link.model_copy(update={"locked": True})
        if expired or link.pin_hash is None:
            locked = locked.without_token()
        await self.sessions.save_link(session, locked)

    async def touch(self, session: ChatSession) -> None:
        """Record activity; written at most once a minute to spare the store."""
        link = session.link
        if link is not None and time.time() - link.last_seen > 60:
            await self.sessions.save_link(
                session, link.model_copy(update={"last_seen": time.time()}))

    async def unlock_with_pin(self, session: ChatSession, pin: str) -> PinOutcome:
        """Check the PIN (scrypt, in a worker thread), then that artis.net still honours the
        session. ``MAX_PIN_FAILURES`` wrong PINs in a row drop the PIN and the session: a
        4-digit PIN must not fall to ten thousand messages."""
        link = session.link
        if link is None or link.pin_hash is None or link.artis_token is None:
            return PinNeedsPassword()
        if not await asyncio.to_thread(verify_pin, pin, link.pin_hash):
            return await self._count_pin_failure(session, link)
        await self.store.delete(keys.pin_failures(session.user_id))
        try:
            async with asyncio.timeout(self.deadline):
                await self.artis.me(link.artis_token)
        except SessionExpired:
            await self.sessions.save_link(session, link.without_token())
            return PinNeedsPassword()
        except TimeoutError:
            return NoAnswer(round(self.deadline))
        except ArtisUnavailable:
            return NoAnswer()
        await self.sessions.save_link(session, link.model_copy(
            update={"locked": False, "last_seen": time.time()}))
        return PinUnlocked()

    async def _count_pin_failure(self, session: ChatSession, link: ArtisLink
                                 ) -> WrongPin | PinRevoked:
        failures = await self.store.incr(keys.pin_failures(session.user_id), PIN_FAILURES_TTL)
        if failures < MAX_PIN_FAILURES:
            return WrongPin(MAX_PIN_FAILURES - failures)
        log.warning("%d wrong PINs for %s: PIN and artis.net session dropped",
                    MAX_PIN_FAILURES, link.login)
        await self.sessions.save_link(session, link.model_copy(
            update={"pin_hash": None, "locked": True}).without_token())
        await self.store.delete(keys.pin_failures(session.user_id))
        await self._quiet_logout(link.artis_token)
        return PinRevoked()

    async def set_pin(self, session: ChatSession, pin: str) -> None:
        if session.link is not None:
            pin_hash = await asyncio.to_thread(hash_pin, pin)
            await self.store.delete(keys.pin_failures(session.user_id))
            await self.sessions.save_link(session, session.link.model_copy(
                update={"pin_hash": pin_hash}))

    async def reload(self, session: ChatSession) -> tuple[User, list[Missing]]:
        """Re-read rights and units from artis.net (the app's "reload configuration")."""
        link = session.link
        if link is None or link.artis_token is None:
            raise SessionExpired("no artis.net session")
        user = await self.artis.me(link.artis_token)
        await self.sessions.save_link(session, link.model_copy(update={
            "display_name": user.display_name, "is_manager": bool(user.heads_org_units),
            "timezone": user.timezone}))
        return user, missing_prerequisites(user)

    async def log_out(self, session: ChatSession) -> bool:
        link = session.link
        if link is None:
            return False
        await self._quiet_logout(link.artis_token)
        await self.sessions.drop_link(session)
        await self.sessions.end_flow(session)
        return True

    async def status_of(self, login: str) -> str:
        """For the admin page: "not_paired", "paired" or "locked"."""
        holder = await self.sessions.holder_of(login)
        if holder is None or holder[1] is None:
            return "not_paired"
        link = holder[1]
        return "locked" if link.locked or self.is_idle(link) else "paired"

    async def revoke(self, login: str) -> bool:
        """Unpair ``login`` from whatever Telegram account holds it (admin action)."""
        holder = await self.sessions.holder_of(login)
        if holder is None:
            return False
        user_id, link = holder
        if link is not None:
            await self._quiet_logout(link.artis_token)
        await self.sessions.unlink_login(login, user_id)
        return True


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"{salt.hex()}:{digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    salt_hex, digest_hex = stored.split(":")
    digest = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt_hex), n=2**14, r=8, p=1)
    return hmac.compare_digest(digest.hex(), digest_hex)


__all__ = ["AccountLockedAtArtis", "Invite", "LockedOut", "LoggedIn", "LoginOutcome", "NoAnswer",
           "NotFound", "PairingService", "PinNeedsPassword", "PinOutcome", "PinRevoked",
           "PinUnlocked", "PrerequisitesMissing", "Ticket", "WrongPassword", "WrongPin"]
