"""Word error rate of a transcript, after normalising both sides the same way.

Normalisation makes equivalent written forms of the same spoken words equal, and nothing
more: a misspelt word, a wrong plural, a homophone in the wrong form (« rappelé » for
« rappeler », « ces » for « ses ») or a name split in two (« petit jean » for « Petitjean »)
still counts as an error, since the rep reads it. The rules, applied in this order to the
reference and to the hypothesis alike:

1. Unicode NFC (an accent written as a combining mark equals the precomposed letter), lower
   case, the typographic apostrophe ’ as ', the ligatures œ and æ as oe and ae (« cœur »,
   « coeur »: both are correct French).
2. Abbreviations spelled out: « M. » monsieur, « Mme » madame, « Mlle » mademoiselle,
   « Dr » docteur, « St »/« Ste » saint/sainte (« St-Amand »).
3. Symbols read out: « % » pour cent, « € » euros.
4. Times: « 9h », « 14h30 », « 14 h 30 », « 14:30 » are « N heures [M] »; « 10h00 » is « dix
   heures » (the zero minutes are not said).
5. Ordinals: « 1er »/« 1re » premier/première, « 21e », « 21ème », « 2nd » written out with
   num2words (« vingt et unième »).
6. Numbers written out in French with num2words: « 4 800 », « 4800 », « 4.800 » (thousands
   separated by a space, a no-break space or a dot) are « quatre mille huit cents »;
   « 3,5 » (decimal comma) « trois virgule cinq ».
7. Apostrophes, hyphens and every other punctuation become spaces (« rendez-vous » =
   « rendez vous », « l'offre » = « l offre », num2words' « quatre-vingt-quinze » = the
   reference's « quatre vingt quinze »); single spaces. Accents are kept.

Used by bench/bench_stt.py and tests/test_speech.py.
"""

from __future__ import annotations

import csv
import re
import unicodedata
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


def _time(match: re.Match[str]) -> str:
    minutes = match.group(2) or ""
    return f" {match.group(1)} heures {'' if minutes == '00' else minutes} "


def _ordinal(match: re.Match[str]) -> str:
    number, suffix = int(match.group(1)), match.group(2)
    if number == 1 and suffix in ("re", "ère"):
        return " première "
    return " " + num2words(number, lang="fr", to="ordinal") + " "


def normalise(text: str) -> str:
    """The text in the form both sides are compared in (see the module's rules)."""
    text = unicodedata.normalize("NFC", text).lower().replace("\u2019", "'")
    text = text.replace("œ", "oe").replace("æ", "ae")
    text = re.sub(r"\bm\.(?=\s)", " monsieur ", text)
    text = re.sub(r"\bmme\b\.?", " madame ", text)
    text = re.sub(r"\bmlle\b\.?", " mademoiselle ", text)
    text = re.sub(r"\bdr\b\.?", " docteur ", text)
    text = re.sub(r"\bste\b\.?", " sainte ", text)
    text = re.sub(r"\bst\b\.?", " saint ", text)
    text = text.replace("%", " pour cent ").replace("€", " euros ")
    # 14h30, 9h, 14 h 30, 14:30 → "14 heures 30"; 10h00 → "10 heures"
    text = re.sub(r"\b(\d{1,2})\s?(?:h|:(?=\d{2}))\s?(\d{2})?\b", _time, text)
    # 1er, 1re, 21e, 21ème, 2nd
    text = re.sub(r"\b(\d+)(ère|re|er|ème|eme|e|nde|nd)\b", _ordinal, text)
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
