"""Dates, times and amounts as a French (or English) rep reads them, in their time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.i18n import L10n, pick_locale

PARIS = ZoneInfo("Europe/Paris")


def test_french_dates_amounts_and_numbers() -> None:
    t = L10n("fr", PARIS)
    assert t.date(date(2026, 12, 3)) == "jeudi 3 décembre 2026"
    assert t.day(date(2026, 12, 3)) == "jeudi 3 déc."
    assert t.money(4800) == "4\u202f800,00\u00a0€"
    assert t.number(12600.5) == "12\u202f600,5"


def test_times_are_shown_in_the_reps_time_zone_across_daylight_saving() -> None:
    t = L10n("fr", PARIS)
    assert t.time(datetime(2026, 7, 1, 12, 30, tzinfo=UTC)) == "14:30"   # summer, UTC+2
    assert t.time(datetime(2026, 12, 1, 12, 30, tzinfo=UTC)) == "13:30"  # winter, UTC+1
    # a moment late at night in UTC is already the next day in Paris
    assert t.date(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)) == "vendredi 1 janvier 2027"


def test_english_formatting() -> None:
    t = L10n("en", PARIS)
    assert t.date(date(2026, 12, 3)) == "Thursday, 3 December 2026"
    assert t.money(4800) == "€4,800.00"


def test_language_choice_order() -> None:
    assert pick_locale("en", "fr-FR", "fr") == "en"      # the rep's explicit choice wins
    assert pick_locale(None, "en-US", "fr") == "en"      # then their Telegram language
    assert pick_locale(None, "de", "fr") == "fr"         # then the bot's default
