"""SQLite persistence of the demo server.

Entities are stored as JSON documents of the shared pydantic models, with a few indexed columns
for the queries the contract needs. Calls are synchronous and serialized by a lock; the web layer
runs them in a thread pool so the server's event loop never waits on the disk.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from integrations.artis.demo.seed import AttachmentRow, SeedData, UserRow
from integrations.artis.demo.seed_data import SEED_VERSION
from integrations.artis.models import (
    Action,
    ActionStatus,
    Affaire,
    Attachment,
    Contact,
    OrgUnit,
    Site,
    User,
)

ModelT = TypeVar("ModelT", bound=BaseModel)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    login TEXT PRIMARY KEY, password_hash TEXT NOT NULL, locked INTEGER NOT NULL, doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS org_units (code TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sites (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contacts (
    id TEXT PRIMARY KEY, third_party_code TEXT NOT NULL, doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS affaires (id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS actions (
    id TEXT PRIMARY KEY, assignee_login TEXT NOT NULL, planned_start_utc TEXT NOT NULL,
    status TEXT NOT NULL, doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS actions_by_assignee ON actions (assignee_login, planned_start_utc);
CREATE TABLE IF NOT EXISTS attachments (
    id TEXT PRIMARY KEY, owner_type TEXT NOT NULL, owner_id TEXT NOT NULL, doc TEXT NOT NULL,
    content BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY, login TEXT NOT NULL, expires_at_utc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sso_tickets (
    ticket_hash TEXT PRIMARY KEY, login TEXT NOT NULL, expires_at_utc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY, login TEXT NOT NULL, action_id TEXT NOT NULL, response TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

# Sessions and SSO tickets survive a daily reseed (logins are stable); the rest is rebuilt.
_SEEDED_TABLES = (
    "users",
    "org_units",
    "sites",
    "contacts",
    "affaires",
    "actions",
    "attachments",
    "idempotency",
    "counters",
)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def utc_key(moment: datetime) -> str:
    """Sortable UTC text form used by the indexed datetime columns."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


class DemoStore:
    """All reads and writes of the demo database."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the connection (the file stays, to be reused the same day)."""
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Serialize and make atomic a group of calls (e.g. a report and its follow-up)."""
        with self._lock:
            if self._db.in_transaction:
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- seeding ------------------------------------------------------------

    def seeded_on(self) -> date | None:
        """Day of the last seed, or None for an empty database or an older SEED_VERSION."""
        with self._lock:
            meta = dict(self._db.execute(
                "SELECT key, value FROM meta WHERE key IN ('seeded_on', 'seed_version')"
            ).fetchall())
        if "seeded_on" not in meta or meta.get("seed_version", "1") != SEED_VERSION:
            return None
        return date.fromisoformat(meta["seeded_on"])

    def reseed(self, seed: SeedData) -> None:
        """Replace all business data with `seed`."""
        with self.transaction():
            for table in _SEEDED_TABLES:
                self._db.execute(f"DELETE FROM {table}")
            for row in seed.users:
                self._insert_user(row)
            for unit in seed.units:
                self._put("org_units", "code", unit.code, unit)
            for site in seed.sites:
                self.save_site(site)
            for contact in seed.contacts:
                self.save_contact(contact)
            for affaire in seed.affaires:
                self.save_affaire(affaire)
            for action in seed.actions:
                self.save_action(action)
            for attachment in seed.attachments:
                self._insert_attachment(attachment)
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('seeded_on', ?)", (seed.day.isoformat(),)
            )
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('seed_version', ?)", (SEED_VERSION,)
            )

    def _insert_user(self, row: UserRow) -> None:
        # Units are stored once, in org_units; the user document never embeds them.
        doc = row.user.model_copy(update={"org_units": [], "heads_org_units": []})
        self._db.execute(
            "INSERT INTO users VALUES (?, ?, ?, ?)",
            (row.user.login, row.password_hash, int(row.locked), doc.model_dump_json()),
        )

    def _insert_attachment(self, row: AttachmentRow) -> None:
        item = row.attachment
        self._db.execute(
            "INSERT INTO attachments VALUES (?, ?, ?, ?, ?)",
            (item.id, item.owner_type, item.owner_id, item.model_dump_json(), row.content),
        )

    # -- generic helpers ----------------------------------------------------

    def _put(self, table: str, key: str, value: str, model: BaseModel) -> None:
        with self._lock:
            self._db.execute(
                f"INSERT OR REPLACE INTO {table} ({key}, doc) VALUES (?, ?)",
                (value, model.model_dump_json()),
            )

    def _get(self, table: str, key: str, value: str, model: type[ModelT]) -> ModelT | None:
        with self._lock:
            row = self._db.execute(f"SELECT doc FROM {table} WHERE {key} = ?", (value,)).fetchone()
        return model.model_validate_json(row[0]) if row else None

    def _many(self, sql: str, params: Iterable[object], model: type[ModelT]) -> list[ModelT]:
        with self._lock:
            rows = self._db.execute(sql, tuple(params)).fetchall()
        return [model.model_validate_json(row[0]) for row in rows]

    def next_id(self, prefix: str, start: int) -> str:
        """A fresh id such as ACT-10001 for objects created through the API."""
        with self._lock:
            row = self._db.execute(
                "INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) "
                "DO UPDATE SET value = value + 1 RETURNING value",
                (prefix, start),
            ).fetchone()
        return f"{prefix}-{row[0]:05d}"

    # -- users, units, sessions ----------------------------------------------

    def user_credentials(self, login: str) -> tuple[str, bool] | None:
        """(password hash, locked) of a login, None when unknown."""
        with self._lock:
            row = self._db.execute(
                "SELECT password_hash, locked FROM users WHERE login = ?", (login,)
            ).fetchone()
        return (row[0], bool(row[1])) if row else None

    def user(self, login: str) -> User | None:
        """A user with the units they belong to and head, embedded."""
        user = self._get("users", "login", login, User)
        if user is None:
            return None
        units = self.org_units()
        user.org_units = [u for u in units if login in u.member_logins]
        user.heads_org_units = [u.code for u in units if u.head_login == login]
        return user

    def org_units(self) -> list[OrgUnit]:
        """All org units, members included."""
        return self._many("SELECT doc FROM org_units ORDER BY code", (), OrgUnit)

    def create_session(self, login: str, ttl: timedelta) -> tuple[str, datetime]:
        """Open a session and return (token, expiry)."""
        token = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + ttl
        with self._lock:
            self._db.execute(
                "INSERT INTO sessions VALUES (?, ?, ?)", (token, login, utc_key(expires))
            )
        return token, expires

    def session_login(self, token: str) -> str | None:
        """Login owning a live session token."""
        with self._lock:
            row = self._db.execute(
                "SELECT login FROM sessions WHERE token = ? AND expires_at_utc > ?",
                (token, utc_key(datetime.now(UTC))),
            ).fetchone()
        return row[0] if row else None

    def delete_session(self, token: str) -> None:
        """Log a session out."""
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE token = ?", (token,))

    def create_sso_ticket(self, login: str, ttl: timedelta) -> str:
        """A one-time SSO ticket for `login`; only its SHA-256 is stored."""
        ticket = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + ttl
        with self._lock:
            self._db.execute(
                "DELETE FROM sso_tickets WHERE expires_at_utc <= ?", (utc_key(datetime.now(UTC)),)
            )
            self._db.execute(
                "INSERT INTO sso_tickets VALUES (?, ?, ?)",
                (_sha256(ticket), login, utc_key(expires)),
            )
        return ticket

    def pop_sso_ticket(self, ticket: str) -> str | None:
        """Consume a ticket: the login it was issued for, or None if unknown, used or expired."""
        with self._lock:
            row = self._db.execute(
                "DELETE FROM sso_tickets WHERE ticket_hash = ? RETURNING login, expires_at_utc",
                (_sha256(ticket),),
            ).fetchone()
        if row is None or row[1] <= utc_key(datetime.now(UTC)):
            return None
        return str(row[0])

    def delete_all_sessions(self) -> None:
        """Invalidate every session (fault injection)."""
        with self._lock:
            self._db.execute("DELETE FROM sessions")

    # -- planning -----------------------------------------------------------

    def actions(
        self,
        logins: Iterable[str],
        start: datetime | None = None,
        end: datetime | None = None,
        status: ActionStatus | None = None,
    ) -> list[Action]:
        """Actions of `logins`, planned in [start, end), sorted by planned start."""
        logins = list(logins)
        sql = f"SELECT doc FROM actions WHERE assignee_login IN ({','.join('?' * len(logins))})"
        params: list[object] = list(logins)
        if start is not None:
            sql += " AND planned_start_utc >= ?"
            params.append(utc_key(start))
        if end is not None:
            sql += " AND planned_start_utc < ?"
            params.append(utc_key(end))
        if status is not None:
            sql += " AND status = ?"
            params.append(status.value)
        return self._many(sql + " ORDER BY planned_start_utc, id", params, Action)

    def action(self, action_id: str) -> Action | None:
        """One action by id, whoever owns it (callers check visibility)."""
        return self._get("actions", "id", action_id, Action)

    def save_action(self, action: Action) -> None:
        """Insert or replace an action."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO actions VALUES (?, ?, ?, ?, ?)",
                (
                    action.id,
                    action.assignee_login,
                    utc_key(action.planned_start),
                    action.status.value,
                    action.model_dump_json(),
                ),
            )

    def idempotent_response(self, key: str) -> tuple[str, str, str] | None:
        """(login, action id, stored JSON response) recorded for an Idempotency-Key."""
        with self._lock:
            row = self._db.execute(
                "SELECT login, action_id, response FROM idempotency WHERE key = ?", (key,)
            ).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def remember_response(self, key: str, login: str, action_id: str, response: str) -> None:
        """Record the answer given for an Idempotency-Key, to replay it."""
        with self._lock:
            self._db.execute(
                "INSERT INTO idempotency VALUES (?, ?, ?, ?)", (key, login, action_id, response)
            )

    # -- clients ------------------------------------------------------------

    def site(self, site_id: str) -> Site | None:
        """One site by id."""
        return self._get("sites", "id", site_id, Site)

    def save_site(self, site: Site) -> None:
        """Insert or replace a site."""
        self._put("sites", "id", site.id, site)

    def all_sites(self) -> list[Site]:
        """Every site (used by tests and tools, not by the API)."""
        return self._many("SELECT doc FROM sites ORDER BY id", (), Site)

    def contact(self, contact_id: str) -> Contact | None:
        """One contact by id."""
        return self._get("contacts", "id", contact_id, Contact)

    def contacts_of(self, third_party_code: str) -> list[Contact]:
        """All contacts of a third party, the scope of the duplicate check."""
        return self._many(
            "SELECT doc FROM contacts WHERE third_party_code = ? ORDER BY id",
            (third_party_code,),
            Contact,
        )

    def save_contact(self, contact: Contact) -> None:
        """Insert or replace a contact."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO contacts VALUES (?, ?, ?)",
                (contact.id, contact.third_party_code, contact.model_dump_json()),
            )

    def affaire(self, affaire_id: str) -> Affaire | None:
        """One affaire by id."""
        return self._get("affaires", "id", affaire_id, Affaire)

    def affaires_of_reps(self, logins: Iterable[str]) -> list[Affaire]:
        """Affaires whose main sales rep is one of `logins`."""
        logins = list(logins)
        return self._many(
            "SELECT doc FROM affaires WHERE json_extract(doc, '$.main_sales_rep_login') IN "
            f"({','.join('?' * len(logins))})",
            logins,
            Affaire,
        )

    def save_affaire(self, affaire: Affaire) -> None:
        """Insert or replace an affaire."""
        self._put("affaires", "id", affaire.id, affaire)

    def attachments_of(self, owners: Iterable[tuple[str, str]]) -> list[Attachment]:
        """Attachments hanging off any of the (owner_type, owner_id) pairs."""
        found: list[Attachment] = []
        for owner_type, owner_id in owners:
            found += self._many(
                "SELECT doc FROM attachments WHERE owner_type = ? AND owner_id = ? ORDER BY id",
                (owner_type, owner_id),
                Attachment,
            )
        return found

    def attachment(self, attachment_id: str) -> tuple[Attachment, bytes] | None:
        """Metadata and bytes of one attachment."""
        with self._lock:
            row = self._db.execute(
                "SELECT doc, content FROM attachments WHERE id = ?", (attachment_id,)
            ).fetchone()
        return (Attachment.model_validate_json(row[0]), bytes(row[1])) if row else None
