"""A prompt and hotwords from the rep's own artis.net names, to help Whisper spell them.

Whisper conditions each 30 s window on up to 223 tokens of "previous text". faster-whisper puts
the ``initial_prompt`` there followed by the transcript so far, which soon pushes it out (in
practice it conditions the first window), and the ``hotwords`` before it in every window. So the
prompt carries the style (a French compte rendu with the names spelled right) and the hotwords
carry the names for the whole note. Both are kept short (≈ 100 and 50 tokens, estimated at 3
characters a token): every token of context costs decoding time in every window, and
bench/bench_stt.py found no gain in WER from 300 characters of hotwords over 150.

Only names from artis.net go in (the clients, sites and contacts of the rep's actions), never
anything from a test transcript.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PROMPT_CHARS = 300
HOTWORD_CHARS = 150

_PREAMBLE = {
    "fr": "Compte rendu de visite commerciale : contrat, devis, copieurs, rappeler le client.",
    "en": "Sales visit report: contract, quote, copiers, call the client back.",
}


@dataclass(frozen=True)
class SpeechContext:
    prompt: str | None
    hotwords: list[str]


def _unique(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        name = " ".join(name.split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            out.append(name)
    return out


def _fit(items: list[str], budget: int, sep: str) -> list[str]:
    kept: list[str] = []
    used = 0
    for item in items:
        cost = len(item) + len(sep)
        if used + cost > budget:
            continue  # a shorter one further on may still fit
        kept.append(item)
        used += cost
    return kept


def speech_context(*, companies: Iterable[str] = (), contacts: Iterable[str] = (),
                   places: Iterable[str] = (), lang: str = "fr") -> SpeechContext:
    """``companies``: client and site names, most relevant first (today's actions before the
    rest); ``contacts``: people's surnames; ``places``: towns. Earlier names win when the
    budget is short."""
    companies_ = _unique(companies)
    contacts_ = _unique(contacts)
    places_ = _unique(places)
    preamble = _PREAMBLE.get(lang, _PREAMBLE["fr"])
    named = _fit(companies_, PROMPT_CHARS - len(preamble) - 40, ", ")
    people = _fit(contacts_, PROMPT_CHARS - len(preamble) - len(", ".join(named)) - 20, ", ")
    prompt = preamble
    if named:
        prompt += (" Clients : " if lang == "fr" else " Clients: ") + ", ".join(named) + "."
    if people:
        prompt += (" Contacts : " if lang == "fr" else " Contacts: ") + ", ".join(people) + "."
    # Hotwords: the distinctive words of every name (not « Cabinet », « Mairie de »…).
    words: list[str] = []
    for name in [*contacts_, *companies_, *places_]:
        for word in name.replace("&", " ").replace(",", " ").split():
            if len(word) > 2 and word[0].isupper() and word.casefold() not in _COMMON:
                words.append(word)
    hotwords = _fit(_unique(words), HOTWORD_CHARS, " ")
    return SpeechContext(prompt=prompt, hotwords=hotwords)


_COMMON = {w.casefold() for w in (
    "Cabinet", "Mairie", "Société", "Centre", "Office", "Atelier", "Étude", "Associés", "Cie",
    "Fils", "Groupe", "Clinique", "Laboratoire", "Librairie", "Imprimerie", "Transports",
    "Résidence", "Garage", "Pharmacie", "Crèche", "Les", "Des", "Du", "Rue", "Avenue",
    "Services", "Conseil", "Expertise", "Paris", "Lyon", "Madame", "Monsieur")}
