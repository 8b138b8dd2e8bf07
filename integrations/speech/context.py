"""A prompt and hotwords from the rep's own artis.net data, to help Whisper spell it.

Whisper conditions each 30 s window on up to 223 tokens of "previous text". faster-whisper puts
the ``initial_prompt`` there followed by the transcript so far, which soon pushes it out (in
practice it conditions the first window), and the ``hotwords`` before it in every window. So the
prompt carries the style (a French compte rendu, the rep's clients and contacts spelled right,
the subjects of the rep's actions for their vocabulary) and the hotwords carry the names for
the whole note. Both are kept short (≈ 140 and 50 tokens, estimated at 3 characters a token):
every token of context costs decoding time in every window, and bench/bench_stt.py found no
gain in WER from 300 characters of hotwords over 150, nor from 10 hotwords (today's names
only) over 19.

What goes first matters when the budget is short: the caller passes the action the note is
about first, then the actions of the day, then the nearest days.

Only data from artis.net goes in (the clients, sites, contacts and subjects of the rep's
actions), never anything from a test transcript.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PROMPT_CHARS = 300
TOPIC_CHARS = 120  # on top of PROMPT_CHARS, for the topics
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
                   places: Iterable[str] = (), topics: Iterable[str] = (),
                   lang: str = "fr") -> SpeechContext:
    """``companies``: client and site names; ``contacts``: people's surnames; ``places``:
    towns; ``topics``: the subjects of the rep's actions (« Revue du contrat de
    maintenance »), which bring the rep's own vocabulary into the prompt. Each most relevant
    first: the action the note is about, then the actions of the day, then the nearest days.
    Earlier items win when the budget is short."""
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
    subjects = _fit([t.rstrip(". ") for t in _unique(topics)],
                    PROMPT_CHARS + TOPIC_CHARS - len(prompt), ". ")
    if subjects:
        prompt += " " + ". ".join(subjects) + "."
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
