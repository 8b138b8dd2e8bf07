"""Every text the bot can say exists in French, and the template is up to date."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

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
