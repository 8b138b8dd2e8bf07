"""Translations (gettext catalogs under ``bot/locales/``) and French-style formatting.

Catalogs are managed with Babel (see README › Translations): ``pybabel extract``
writes ``bot/locales/messages.pot``, translators edit ``bot/locales/<lang>/
LC_MESSAGES/messages.po``. At start-up the ``.po`` files are compiled in memory, so a
forgotten ``pybabel compile`` can never ship stale texts. The catalogs live inside the
``bot`` package and ship in the wheel as package data (``pyproject.toml``).
"""

from __future__ import annotations

import gettext
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
from babel.dates import format_date, format_datetime, format_time
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

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
    """The compiled catalog of ``lang`` (identity for unknown languages)."""
    po_path = catalog_path(lang)
    if not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as po_file:
        parsed = read_po(po_file, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, parsed)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


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
    def local(self, moment: datetime) -> datetime:
        """``moment`` in the user's time zone (naive datetimes are taken as UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo("UTC"))
        return moment.astimezone(self.tz)

    def date(self, value: Date | DateTime, fmt: str = "full") -> str:
        """``jeudi 3 décembre 2026`` (full), ``3 déc. 2026`` (medium), ``03/12/2026`` (short)."""
        if isinstance(value, DateTime):
            value = self.local(value).date()
        return format_date(value, format=fmt, locale=self.babel_locale)

    def day(self, value: Date | DateTime) -> str:
        """Short day heading: ``jeudi 3 déc.``."""
        if isinstance(value, DateTime):
            value = self.local(value).date()
        return format_date(value, format="EEEE d MMM", locale=self.babel_locale)

    def time(self, value: DateTime | Time) -> str:
        """``14:30`` in French, ``14:30`` in British English too (24-hour clocks)."""
        if isinstance(value, DateTime):
            value = self.local(value)
        return format_time(value, format="HH:mm", locale=self.babel_locale)

    def datetime(self, value: DateTime) -> str:
        return format_datetime(self.local(value), format="medium", locale=self.babel_locale)

    def money(self, amount: float | Decimal, currency: str = "EUR") -> str:
        """``4 800,00 €`` in French."""
        return format_currency(amount, currency, locale=self.babel_locale)

    def number(self, value: float | int | Decimal) -> str:
        return format_decimal(value, locale=self.babel_locale)

    def either(self, items: list[str]) -> str:
        """``un texte, une note vocale ou une position``."""
        return format_list(items, style="or", locale=self.babel_locale)
