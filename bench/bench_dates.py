"""Follow-up dates resolved right: bot/services/dates.py beside dateparser alone.

Not a speed benchmark: a share of right answers over follow-up phrases as reps write
or dictate them in a compte rendu (issue 10's list, the voice fixtures' follow-ups,
and more of the same kind), at a fixed clock (Wednesday 2 December 2026, 10:15,
Europe/Paris). Two measures:

- the phrase alone: ``resolve(phrase, purpose=FOLLOW_UP)`` beside
  ``dateparser.parse(phrase, PREFER_DATES_FROM=future)``;
- the phrase inside a report sentence: ``find(sentence)`` (one answer) beside
  ``dateparser.search.search_dates(sentence)``, counted right if *any* of the dates it
  finds is right (an upper bound for dateparser: it does not say which one is the
  follow-up).

An answer is right when its day falls in the accepted days (one day, or a range where
usage is loose: « fin mars » is any day from the 21st, « avant vendredi » Thursday or
Friday) and, when a time was said, the time is the one said.

    .venv/bin/python bench/bench_dates.py [--verbose]
"""

from __future__ import annotations

import argparse
import sys
import time as clock
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.services.dates import Purpose, find, resolve

TZ = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 2, 10, 15, tzinfo=TZ)
FR_CONTEXT = "Visite chez Carpentier, devis de 4 800 euros pour 3 copieurs, {}."
EN_CONTEXT = "Met Mrs Roche at Carpentier, quote of 4,800 euros for 3 copiers, {}."


@dataclass(frozen=True)
class Case:
    text: str  # "words of the follow-up|the date phrase itself"
    first: date
    last: date | None = None  # accepted days: first..last
    at: time | None = None  # the time said, if any
    lang: str = "fr"

    @property
    def phrase(self) -> str:
        return " ".join(self.text.replace("|", " ").split())

    @property
    def core(self) -> str:  # what dateparser is given alone
        return self.text.split("|")[-1]

    def right(self, day: date, at: time | None) -> bool:
        if not self.first <= day <= (self.last or self.first):
            return False
        return self.at is None or at == self.at


D = date
CASES = [
    # issue 10's list
    Case("à rappeler|jeudi prochain", D(2026, 12, 10)),
    Case("relance|dans trois semaines", D(2026, 12, 23)),
    Case("rendez-vous|le 15 janvier à 10 heures", D(2027, 1, 15), at=time(10)),
    Case("repasser|après-demain en fin de matinée", D(2026, 12, 4)),
    Case("|début février", D(2027, 2, 1), D(2027, 2, 10)),
    Case("|avant vendredi", D(2026, 12, 3), D(2026, 12, 4)),
    # the voice fixtures (../shared/voice-fixtures/transcripts.tsv), written and spoken
    Case("rappeler|jeudi prochain", D(2026, 12, 10)),
    Case("à recontacter|début février", D(2027, 2, 1), D(2027, 2, 10)),
    Case("à prévoir|lundi 9h", D(2026, 12, 7), at=time(9)),
    Case("à prévoir|lundi neuf heures", D(2026, 12, 7), at=time(9)),
    Case("à envoyer|la semaine prochaine", D(2026, 12, 7), D(2026, 12, 13)),
    Case("rappel prévu|le 3 mars à 14 heures 30", D(2027, 3, 3), at=time(14, 30)),
    Case("rappel prévu|le trois mars à quatorze heures trente", D(2027, 3, 3),
         at=time(14, 30)),
    Case("rappeler|demain après 17 heures", D(2026, 12, 3), at=time(17)),
    Case("rappeler|demain après dix sept heures", D(2026, 12, 3), at=time(17)),
    Case("livraison fixée au|mardi 21 octobre", D(2027, 10, 21)),
    Case("on en reparle|dans 10 jours", D(2026, 12, 12)),
    Case("on en reparle|dans dix jours", D(2026, 12, 12)),
    Case("repasser|en fin de semaine", D(2026, 12, 3), D(2026, 12, 6)),
    Case("rendez vous|le quinze janvier à dix heures", D(2027, 1, 15), at=time(10)),
    # more of the same kind
    Case("rappeler le client|mardi prochain à 14h", D(2026, 12, 8), at=time(14)),
    Case("recontacter|dans 15 jours", D(2026, 12, 16), D(2026, 12, 17)),
    Case("relancer|sous huitaine", D(2026, 12, 9)),
    Case("rdv|demain à 9h30", D(2026, 12, 3), at=time(9, 30)),
    Case("repasser|jeudi 10h", D(2026, 12, 3), at=time(10)),
    Case("rappeler|vendredi matin", D(2026, 12, 4)),
    Case("envoyer la proposition|d'ici la fin du mois", D(2026, 12, 21), D(2026, 12, 31)),
    Case("à relancer|mi-janvier", D(2027, 1, 11), D(2027, 1, 20)),
    Case("rappeler|fin janvier", D(2027, 1, 21), D(2027, 1, 31)),
    Case("relance|en mars", D(2027, 3, 1), D(2027, 3, 31)),
    Case("prochain rendez-vous|le 8 décembre à 11h", D(2026, 12, 8), at=time(11)),
    Case("rappeler|le 12/01 à 16h", D(2027, 1, 12), at=time(16)),
    Case("démonstration prévue|lundi prochain à 14 heures", D(2026, 12, 7), at=time(14)),
    Case("rappeler|dans 2 mois", D(2027, 2, 2)),
    Case("à revoir|la semaine du 14 décembre", D(2026, 12, 14), D(2026, 12, 20)),
    Case("relancer après les fêtes,|début janvier", D(2027, 1, 1), D(2027, 1, 10)),
    Case("rappel|mercredi prochain à 11 heures", D(2026, 12, 9), at=time(11)),
    Case("recontacter|demain matin", D(2026, 12, 3)),
    Case("passer|cet après-midi à 15h", D(2026, 12, 2), at=time(15)),
    Case("signature|le vendredi 18 décembre", D(2026, 12, 18)),
    Case("rappeler|dans une semaine", D(2026, 12, 9)),
    Case("relance|dans un mois", D(2027, 1, 2)),
    Case("rdv|le 5 janvier 2027 à 9h", D(2027, 1, 5), at=time(9)),
    Case("call back|next Tuesday at 3pm", D(2026, 12, 8), at=time(15), lang="en"),
    Case("follow up|in two weeks", D(2026, 12, 16), lang="en"),
    Case("send the quote|by Friday", D(2026, 12, 3), D(2026, 12, 4), lang="en"),
    Case("meeting|on January 15th at 10am", D(2027, 1, 15), at=time(10), lang="en"),
]


# written after the grammar and the list above were done, and measured once before
# any change to the grammar (see README for that first figure)
HELD_OUT = [
    Case("relancer|mardi en huit", D(2026, 12, 15)),
    Case("rdv|le lundi 14 décembre à 8h30", D(2026, 12, 14), at=time(8, 30)),
    Case("à rappeler|courant janvier", D(2027, 1, 1), D(2027, 1, 31)),
    Case("on se revoit|jeudi à 16h", D(2026, 12, 3), at=time(16)),
    Case("recontacter|au plus tard le 10 décembre", D(2026, 12, 9), D(2026, 12, 10)),
    Case("passer le voir|dans deux jours", D(2026, 12, 4)),
    Case("rappeler|en début de semaine prochaine", D(2026, 12, 7), D(2026, 12, 8)),
    Case("le relancer|dans 3 semaines environ", D(2026, 12, 23)),
    Case("rdv fixé au|7 janvier, 14h", D(2027, 1, 7), at=time(14)),
    Case("relance prévue pour|la mi-février", D(2027, 2, 11), D(2027, 2, 20)),
    Case("le rappeler|après-demain vers 11h", D(2026, 12, 4), at=time(11)),
    Case("envoyer le contrat|demain dans la matinée", D(2026, 12, 3)),
    Case("nouveau passage prévu le|20/12", D(2026, 12, 20)),
    Case("rappeler|le 2 janvier à 9 heures", D(2027, 1, 2), at=time(9)),
    Case("relancer|d'ici deux semaines", D(2026, 12, 2), D(2026, 12, 16)),
    Case("démo à caler|semaine 51", D(2026, 12, 14), D(2026, 12, 20)),
    Case("call her back|tomorrow afternoon", D(2026, 12, 3), lang="en"),
    Case("next meeting|on Monday at 9:30", D(2026, 12, 7), at=time(9, 30), lang="en"),
    Case("check back|in 10 days", D(2026, 12, 12), lang="en"),
    Case("rappeler|lundi à quatorze heures", D(2026, 12, 7), at=time(14)),
    Case("à relancer|fin de semaine prochaine", D(2026, 12, 10), D(2026, 12, 13)),
    Case("visite de contrôle|dans six mois", D(2027, 6, 2)),
]


def _dp_settings() -> dict[str, object]:
    return {"PREFER_DATES_FROM": "future", "RELATIVE_BASE": NOW.replace(tzinfo=None),
            "RETURN_AS_TIMEZONE_AWARE": False}


def _dp_right(case: Case, moment: datetime | None) -> bool:
    return moment is not None and case.right(moment.date(), moment.time().replace(second=0,
                                                                                  microsecond=0))


def _measure(title: str, cases: list[Case], *, verbose: bool) -> None:
    import dateparser
    from dateparser.search import search_dates

    scores = {"ours": 0, "ours_core": 0, "dp_core": 0, "ours_sentence": 0, "dp_sentence": 0}
    spent = {"ours": 0.0, "dp": 0.0}
    for case in cases:
        sentence = (EN_CONTEXT if case.lang == "en" else FR_CONTEXT).format(case.phrase)
        t0 = clock.perf_counter()
        when = resolve(case.phrase, now=NOW, tz=TZ, lang=case.lang, purpose=Purpose.FOLLOW_UP)
        core = resolve(case.core, now=NOW, tz=TZ, lang=case.lang, purpose=Purpose.FOLLOW_UP)
        found = find(sentence, now=NOW, tz=TZ, lang=case.lang)
        t1 = clock.perf_counter()
        parsed = dateparser.parse(case.core, languages=[case.lang], settings=_dp_settings())
        searched = search_dates(sentence, languages=[case.lang], settings=_dp_settings()) or []
        t2 = clock.perf_counter()
        spent["ours"] += t1 - t0
        spent["dp"] += t2 - t1
        marks = {
            "ours": when is not None and case.right(when.start, when.time),
            "ours_core": core is not None and case.right(core.start, core.time),
            "dp_core": _dp_right(case, parsed),
            "ours_sentence": found is not None and case.right(found.when.start,
                                                              found.when.time),
            "dp_sentence": any(_dp_right(case, moment) for _, moment in searched),
        }
        for key, ok in marks.items():
            scores[key] += ok
        if verbose:
            flags = "".join(("+" if marks[k] else "-") for k in scores)
            ours = when.iso(TZ) if when else "none"
            theirs = parsed.isoformat(timespec="minutes") if parsed else "none"
            print(f"{flags}  {case.phrase!r:58} ours {ours:26} dateparser {theirs}")
    n = len(cases)
    print(f"{title}: {n} (reference Wednesday 2026-12-02 10:15 Europe/Paris)")
    print(f"  the date phrase alone   ours {scores['ours_core'] / n:6.1%}   "
          f"dateparser.parse {scores['dp_core'] / n:6.1%}")
    print(f"  with its follow-up verb ours {scores['ours'] / n:6.1%}")
    print(f"  in a report sentence    ours {scores['ours_sentence'] / n:6.1%}   "
          f"search_dates, any result right {scores['dp_sentence'] / n:6.1%}")
    print(f"  time per case (all measures): ours {spent['ours'] / n * 1000:.2f} ms, "
          f"dateparser {spent['dp'] / n * 1000:.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="one line per phrase")
    args = parser.parse_args()

    import dateparser

    dateparser.parse("demain", languages=["fr"])  # the first call loads the language data
    dateparser.parse("tomorrow", languages=["en"])
    for title, cases in (("follow-up phrases", CASES), ("held out", HELD_OUT)):
        _measure(title, cases, verbose=args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
