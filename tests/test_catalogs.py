"""Every text the bot can say exists in French, and the template is up to date."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot import i18n
from bot.i18n import compiled_path

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}


def _source_ids() -> set[str | tuple[str, ...]]:
    ids: set[str | tuple[str, ...]] = set()
    for folder in ("bot", "handlers"):
        for _, _, message, _, _ in extract_from_dir(ROOT / folder, keywords=KEYWORDS,
                                                    method_map=[("**.py", "python")]):
            ids.add(message if isinstance(message, str) else tuple(message))
    return ids


def test_every_message_has_a_french_translation() -> None:
    with (ROOT / "bot/locales/fr/LC_MESSAGES/messages.po").open("rb") as po:
        catalog = read_po(po, locale="fr")
    translated = {m.id if isinstance(m.id, str) else tuple(m.id): m.string for m in catalog}
    missing = [m for m in _source_ids() if not translated.get(m) or
               (isinstance(translated[m], tuple) and not all(translated[m]))]
    assert missing == [], "run pybabel extract/update and translate: " + repr(missing[:3])


def test_template_matches_the_code() -> None:
    with (ROOT / "bot/locales/messages.pot").open("rb") as pot:
        template = {m.id if isinstance(m.id, str) else tuple(m.id) for m in read_po(pot) if m.id}
    assert template == _source_ids(), "bot/locales/messages.pot is stale: run pybabel extract"


def test_the_shipped_compiled_catalogs_match_their_sources() -> None:
    """A start uses the .mo compiled from the .po as it is (a stale one would be ignored
    and the .po compiled at every start): `make catalogs` keeps them in step."""
    for po_path in sorted((ROOT / "bot/locales").glob("*/LC_MESSAGES/messages.po")):
        mo_path = compiled_path(po_path, po_path.read_bytes())
        assert mo_path.is_file(), f"{mo_path.name} missing: run make catalogs"
        assert sorted(po_path.parent.glob("messages-*.mo")) == [mo_path], (
            "an outdated .mo is left beside the catalog: run make catalogs")


def test_a_catalog_edited_after_compiling_is_served_as_edited(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    french = tmp_path / "fr" / "LC_MESSAGES"
    french.mkdir(parents=True)
    source = (ROOT / "bot/locales/fr/LC_MESSAGES/messages.po").read_bytes()
    (french / "messages.po").write_bytes(source)
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.compile_catalogs()
    i18n.catalog.cache_clear()
    try:
        said = i18n.catalog("fr").gettext("Cancelled.")
        assert said and said != "Cancelled."  # the compiled French
        (french / "messages.po").write_bytes(
            source.replace(f'msgstr "{said}"'.encode(), 'msgstr "Annulé, vraiment."'.encode()))
        i18n.catalog.cache_clear()
        assert i18n.catalog("fr").gettext("Cancelled.") == "Annulé, vraiment."
    finally:
        i18n.catalog.cache_clear()
