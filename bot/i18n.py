"""Translations (gettext catalogs under ``bot/locales/``) and French-style formatting.

Catalogs are managed with Babel (see README › Translations): ``pybabel extract``
writes ``bot/locales/messages.pot``, translators edit ``bot/locales/<lang>/
LC_MESSAGES/messages.po``, and ``make catalogs`` compiles each into a ``.mo`` named
after the hash of its ``.po``. A ``.po`` without its ``.mo`` is compiled in memory at
start-up, so a forgotten compilation can never ship stale texts. The catalogs live inside the
``bot`` package and ship in the wheel as package data (``pyproject.toml``).
"""

from __future__ import annotations

import gettext
import hashlib
import io
from dataclasses import dataclass, field

# L10n's methods named date/time/datetime shadow those types inside its class body;
# these aliases name the types there.
from datetime import date as Date
from datetime import datetime, tzinfo
from datetime import datetime as DateTime
from datetime import time as Time
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale

from bot.settings import SUPPORTED_LOCALES

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"

# Babel locale used for formatting, per bot language.
_FORMAT_LOCALE = {"fr": "fr_FR", "en": "en_GB"}


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


def catalog_path(lang: str) -> Path:
    """Where the ``.po`` catalog of ``lang`` is (it may be missing)."""
    return LOCALES_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def catalog(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (identity for unknown languages).

    The ``.mo`` that ``make catalogs`` compiled beside the ``.po`` is used when its name
    carries the hash of the ``.po`` as it is now (``compiled_path``); otherwise the
    ``.po`` is compiled here, in memory, so an edited catalog is never served stale. The
    shipped ``.mo`` spares a start Babel's catalog modules and the compilation (~0.05 s
    on a slow machine; a test keeps it up to date)."""
    po_path = catalog_path(lang)
    if not po_path.exists():
        return gettext.NullTranslations()
    source = po_path.read_bytes()
    mo_path = compiled_path(po_path, source)
    if mo_path.is_file():
        with mo_path.open("rb") as mo_file:
            return gettext.GNUTranslations(mo_file)
    return gettext.GNUTranslations(io.BytesIO(_compile(source, lang)))


def compiled_path(po_path: Path, source: bytes) -> Path:
    """Where the ``.mo`` compiled from exactly ``source`` is: its hash in the name."""
    digest = hashlib.sha256(source).hexdigest()[:16]
    return po_path.with_name(f"{po_path.stem}-{digest}.mo")


def _compile(source: bytes, lang: str) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    buffer = io.BytesIO()
    write_mo(buffer, read_po(io.BytesIO(source), locale=lang))
    return buffer.getvalue()


def compile_catalogs() -> list[Path]:
    """Write each language's ``.mo`` beside its ``.po`` (``make catalogs``), removing
    those of earlier versions; the paths written."""
    written = []
    for po_path in sorted(LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        source = po_path.read_bytes()
        mo_path = compiled_path(po_path, source)
        for old in po_path.parent.glob(f"{DOMAIN}-*.mo"):
            if old != mo_path:
                old.unlink()
        mo_path.write_bytes(_compile(source, po_path.parent.parent.name))
        written.append(mo_path)
    return written


def pick_locale(preferred: str | None, telegram_code: str | None, default: str) -> str:
    """The user's explicit choice, else their Telegram app language if we speak it, else default."""
    if preferred in SUPPORTED_LOCALES:
        return preferred
    if telegram_code:
        base = telegram_code.split("-")[0].lower()
        if base in SUPPORTED_LOCALES:
            return base
    return default


@dataclass(frozen=True)
class L10n:
    """Everything locale- and time-zone-dependent for one user: texts, dates, money."""

    lang: str
    tz: tzinfo = field(default_factory=lambda: ZoneInfo("Europe/Paris"))

    @property
    def _translations(self) -> gettext.NullTranslations:
        return catalog(self.lang)

    @property
    def babel_locale(self) -> Locale:
        return Locale.parse(_FORMAT_LOCALE.get(self.lang, self.lang))

    def _(self, message: str, /, **values: object) -> str:
        """Translate, then fill ``{placeholders}``."""
        text = self._translations.gettext(message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int, /, **values: object) -> str:
        text = self._translations.ngettext(singular, plural, n)
        return text.format(n=n, **values)

    # -- formatting ---------------------------------------------------------------
    # Babel's formatting modules are imported at the first date or amount shown, not at
    # start-up: a start's first answer (an access check, a pairing prompt) needs none.
    def local(self, moment: datetime) -> datetime:
        """``moment`` in the user's time zone (naive datetimes are taken as UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("UTC"))
        return moment.astimezone(self.tz)

    def date(self, value: Date | DateTime, fmt: str = "full") -> str:
        """``jeudi 3 décembre 2026`` (full), ``3 déc. 2026`` (medium), ``03/12/2026`` (short)."""
        if isinstance(value, DateTime):
            value = self.local(value).date()
        from babel.dates import format_date

        return format_date(value, format=fmt, locale=self.babel_locale)

    def day(self, value: Date | DateTime) -> str:
        """Short day heading: ``jeudi 3 déc.``."""
        if isinstance(value, DateTime):
            value = self.local(value).date()
        from babel.dates import format_date

        return format_date(value, format="EEEE d MMM", locale=self.babel_locale)

    def time(self, value: DateTime | Time) -> str:
        """``14:30`` in French, ``14:30`` in British English too (24-hour clocks)."""
        if isinstance(value, DateTime):
            value = self.local(value)
        from babel.dates import format_time

        return format_time(value, format="HH:mm", locale=self.babel_locale)

    def datetime(self, value: DateTime) -> str:
        from babel.dates import format_datetime

        return format_datetime(self.local(value), format="medium", locale=self.babel_locale)

    def money(self, amount: float | Decimal, currency: str = "EUR") -> str:
        """``4 800,00 €`` in French."""
        from babel.numbers import format_currency

        return format_currency(amount, currency, locale=self.babel_locale)

    def number(self, value: float | int | Decimal) -> str:
        from babel.numbers import format_decimal

        return format_decimal(value, locale=self.babel_locale)

    def either(self, items: list[str]) -> str:
        """``un texte, une note vocale ou une position``."""
        from babel.lists import format_list

        return format_list(items, style="or", locale=self.babel_locale)
