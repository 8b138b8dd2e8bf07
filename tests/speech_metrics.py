"""Word error rate of a transcript, after normalising both sides the same way.

Normalised: lower case; apostrophes, hyphens and punctuation become spaces; numbers are
written out in French words with num2words (« 4 800 » and « 4800 » → « quatre mille huit
cents », « 9h » → « neuf heures », « 15 % » → « quinze pour cent », « 49 € » → « quarante neuf
euros »), and the usual abbreviations of titles spelled out (« M. » monsieur, « Mme » madame,
« Dr » docteur). Accents are kept. Used by bench/bench_stt.py and tests/test_speech.py.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from num2words import num2words

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "voice"


@dataclass(frozen=True)
class Clip:
    file: str
    voice: str
    effect: str
    text: str
    spoken_text: str
    followup: str

    @property
    def path(self) -> Path:
        return FIXTURES / self.file


def clips() -> list[Clip]:
    """The voice fixtures, from their transcripts.tsv (tab-separated, no quoting)."""
    with (FIXTURES / "transcripts.tsv").open(encoding="utf-8", newline="") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [Clip(**row) for row in rows]  # type: ignore[arg-type]


def _number(match: re.Match[str]) -> str:
    digits = re.sub(r"[\s.\u202f\u00a0]", "", match.group(0)).replace(",", ".")
    try:
        return " " + num2words(float(digits) if "." in digits else int(digits), lang="fr") + " "
    except (ValueError, OverflowError):
        return " " + digits + " "


def normalise(text: str) -> str:
    text = text.lower().replace("\u2019", "'")
    text = re.sub(r"\bm\.(?=\s)", " monsieur ", text)
    text = re.sub(r"\bmme\b\.?", " madame ", text)
    text = re.sub(r"\bmlle\b\.?", " mademoiselle ", text)
    text = re.sub(r"\bdr\b\.?", " docteur ", text)
    text = text.replace("%", " pour cent ").replace("€", " euros ")
    # 14h30, 9h, 14 h 30 → "14 heures 30"
    text = re.sub(r"\b(\d{1,2})\s?h\s?(\d{2})?\b",
                  lambda m: f" {m.group(1)} heures {m.group(2) or ''} ", text)
    # 4 800, 12 600, 4.800 (thousands), 3,5 (decimal comma)
    text = re.sub(r"\d{1,3}(?:[ .\u202f\u00a0]\d{3})+(?!\d)|\d+(?:,\d+)?", _number, text)
    text = re.sub(r"[^\w\s]|_", " ", text)  # apostrophes, hyphens, punctuation
    return " ".join(text.split())


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference words) after normalisation."""
    ref = normalise(reference).split()
    hyp = normalise(hypothesis).split()
    previous = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        current = [i]
        for j, other in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (word != other)))
        previous = current
    return previous[-1], len(ref)


def wer(reference: str, hypothesis: str) -> float:
    errors, words = word_errors(reference, hypothesis)
    return errors / max(words, 1)
