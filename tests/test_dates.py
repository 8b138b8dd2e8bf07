"""Date phrases as reps say them (bot/services/dates.py), against a fixed clock.

The reference is Wednesday 2 December 2026, 10:15 in Europe/Paris, unless a test says
otherwise. Each row of the table is a phrase, the purpose, and what it must mean,
written compactly by ``show``:

    2026-12-03                      a day
    2026-12-03 14:00                a day and a time
    2026-12-03 08:00-12:00          a part of the day (a time window)
    week 2026-12-07..2026-12-13     a week, a month or a period, first and last day
    before 2026-12-03               a deadline (due that day); "after …" for « après »
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.services.dates import (
    MAX_PHRASE,
    Bound,
    Purpose,
    Span,
    When,
    find,
    find_all,
    resolve,
    warm_up,
)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 12, 2, 10, 15, tzinfo=PARIS)  # a Wednesday
P, F = Purpose.PLANNING, Purpose.FOLLOW_UP


def show(when: When | None) -> str | None:
    if when is None:
        return None
    if when.span in (Span.WEEK, Span.MONTH, Span.PERIOD):
        text = f"{when.span.value} {when.start}..{when.last}"
    elif when.time is not None:
        text = f"{when.start} {when.time:%H:%M}"
    elif when.window is not None:
        text = f"{when.start} {when.window[0]:%H:%M}-{when.window[1]:%H:%M}"
    else:
        text = str(when.start)
    return f"{when.bound.value} {text}" if when.bound else text


TABLE: list[tuple[str, Purpose, str | None]] = [
    # a day
    ("aujourd'hui", P, "2026-12-02"),
    ("Aujourd’hui", P, "2026-12-02"),
    ("demain", P, "2026-12-03"),
    ("après-demain", P, "2026-12-04"),
    ("apres demain", P, "2026-12-04"),
    ("hier", P, "2026-12-01"),
    ("avant-hier", P, "2026-11-30"),
    ("jeudi", P, "2026-12-03"),
    ("mercredi", P, "2026-12-02"),  # said on a Wednesday, for the planning: today
    ("mercredi", F, "2026-12-09"),  # … for a follow-up: next week's
    ("jeudi prochain", P, "2026-12-10"),  # said on a Wednesday: next week's Thursday
    ("lundi prochain", P, "2026-12-07"),
    ("jeudi en huit", P, "2026-12-10"),
    ("lundi dernier", P, "2026-11-30"),
    ("ce vendredi", P, "2026-12-04"),
    ("jeudi de la semaine prochaine", P, "2026-12-10"),
    ("lundi 10h", P, "2026-12-07 10:00"),
    ("le 3 décembre", P, "2026-12-03"),
    ("3 déc.", P, "2026-12-03"),
    ("le 1er décembre", P, "2026-12-01"),  # planning: yesterday, not next year
    ("le 1er décembre", F, "2027-12-01"),  # follow-up: never in the past
    ("3/12", P, "2026-12-03"),
    ("03/12/2026", P, "2026-12-03"),
    ("2026-12-03", P, "2026-12-03"),
    ("planning du 3 décembre", P, "2026-12-03"),
    ("mon planning de demain", P, "2026-12-03"),
    ("le quinze janvier", P, "2027-01-15"),
    ("mardi 21 octobre", P, "2026-10-21"),  # planning: six weeks back is still "recent"
    ("mardi 21 octobre", F, "2027-10-21"),
    ("le 15 août", P, "2027-08-15"),  # more than three months back: next year's
    ("le 15", P, "2026-12-15"),
    ("tomorrow", P, "2026-12-03"),
    ("next thursday", P, "2026-12-10"),
    ("on monday", P, "2026-12-07"),
    ("the day after tomorrow", P, "2026-12-04"),
    ("December 3rd", P, "2026-12-03"),
    ("3rd of December", P, "2026-12-03"),
    # a time
    ("14h", P, "2026-12-02 14:00"),
    ("14h30", P, "2026-12-02 14:30"),
    ("14 h 30", P, "2026-12-02 14:30"),
    ("10 heures", P, "2026-12-02 10:00"),
    ("10 heures", F, "2026-12-03 10:00"),  # already past today: tomorrow
    ("à midi", P, "2026-12-02 12:00"),
    ("midi et demi", P, "2026-12-02 12:30"),
    ("quatorze heures trente", P, "2026-12-02 14:30"),
    ("dix heures et quart", P, "2026-12-02 10:15"),
    ("à 3 heures", P, "2026-12-02 15:00"),  # a rep's 3 o'clock is in the afternoon
    ("à 03:00", P, "2026-12-02 03:00"),  # unless written with its zero
    ("9h du soir", P, "2026-12-02 21:00"),
    ("demain vers 9h30", P, "2026-12-03 09:30"),
    ("tomorrow at 2pm", P, "2026-12-03 14:00"),
    ("monday 10am", P, "2026-12-07 10:00"),
    ("on Monday at 9:30", P, "2026-12-07 09:30"),
    ("le 3 décembre 2026 à 14h", P, "2026-12-03 14:00"),
    # a part of the day
    ("demain matin", P, "2026-12-03 08:00-12:00"),
    ("en fin de matinée", P, "2026-12-02 11:00-12:00"),
    ("en fin de matinée", F, "2026-12-02 11:00-12:00"),  # still ahead at 10:15
    ("ce matin", F, "2026-12-02 08:00-12:00"),  # « ce matin » stays today
    ("cet après-midi", P, "2026-12-02 14:00-18:00"),
    ("ce soir", P, "2026-12-02 18:00-22:00"),
    ("demain en début d'après-midi", P, "2026-12-03 14:00-15:30"),
    ("en fin de journée", P, "2026-12-02 17:00-19:00"),
    ("demain après-midi à 3h", P, "2026-12-03 15:00"),
    ("tomorrow morning", P, "2026-12-03 08:00-12:00"),
    ("this afternoon", P, "2026-12-02 14:00-18:00"),
    ("tonight", P, "2026-12-02 18:00-22:00"),
    # a week
    ("cette semaine", P, "week 2026-11-30..2026-12-06"),
    ("cette semaine", F, "week 2026-12-02..2026-12-06"),  # a follow-up starts today at the soonest
    ("semaine prochaine", P, "week 2026-12-07..2026-12-13"),
    ("la semaine prochaine", F, "week 2026-12-07..2026-12-13"),
    ("la semaine dernière", P, "week 2026-11-23..2026-11-29"),
    ("la semaine du 14 décembre", P, "week 2026-12-14..2026-12-20"),
    ("semaine 50", P, "week 2026-12-07..2026-12-13"),
    ("en fin de semaine", P, "2026-12-04"),
    ("début de semaine prochaine", P, "2026-12-07"),
    ("ce week-end", P, "period 2026-12-05..2026-12-06"),
    ("next week", P, "week 2026-12-07..2026-12-13"),
    ("last week", P, "week 2026-11-23..2026-11-29"),
    ("the week after next", P, "week 2026-12-14..2026-12-20"),
    # a month
    ("ce mois-ci", P, "month 2026-12-01..2026-12-31"),
    ("ce mois-ci", F, "month 2026-12-02..2026-12-31"),
    ("le mois prochain", P, "month 2027-01-01..2027-01-31"),
    ("en janvier", P, "month 2027-01-01..2027-01-31"),
    ("en septembre", P, "month 2026-09-01..2026-09-30"),  # planning: a recent month
    ("en septembre", F, "month 2027-09-01..2027-09-30"),
    ("début février", P, "period 2027-02-01..2027-02-10"),
    ("mi-janvier", P, "period 2027-01-11..2027-01-20"),
    ("fin mars", P, "period 2027-03-21..2027-03-31"),
    ("fin du mois", P, "period 2026-12-21..2026-12-31"),
    ("début décembre", F, "period 2026-12-02..2026-12-10"),
    ("next month", P, "month 2027-01-01..2027-01-31"),
    ("early february", P, "period 2027-02-01..2027-02-10"),
    ("end of march", P, "period 2027-03-21..2027-03-31"),
    # a run of days
    ("du 3 au 5 décembre", P, "period 2026-12-03..2026-12-05"),
    ("planning du 28 décembre au 3 janvier", P, "period 2026-12-28..2027-01-03"),
    ("entre le 3 et le 5 décembre", P, "period 2026-12-03..2026-12-05"),
    ("from the 3rd to the 5th of December", P, "period 2026-12-03..2026-12-05"),
    ("du 5 au 3 décembre", P, None),
    # relative spans
    ("dans trois semaines", P, "2026-12-23"),
    ("dans 2 jours", P, "2026-12-04"),
    ("dans huit jours", P, "2026-12-09"),  # French "eight days" is a week
    ("dans quinze jours", P, "2026-12-16"),  # and "fifteen days" two
    ("dans un mois", P, "2027-01-02"),
    ("dans 2 heures", P, "2026-12-02 12:15"),
    ("dans 2 jours à 9h", P, "2026-12-04 09:00"),
    ("il y a 3 jours", P, "2026-11-29"),
    ("in two weeks", P, "2026-12-16"),
    ("in a week", P, "2026-12-09"),
    ("3 days ago", P, "2026-11-29"),
    # deadlines and bounds
    ("avant vendredi", F, "before 2026-12-03"),  # due the last day before Friday
    ("d'ici vendredi", F, "before 2026-12-04"),  # by Friday: Friday included
    ("d'ici fin mars", F, "before 2027-03-31"),
    ("avant la fin du mois", F, "before 2026-12-31"),
    ("sous huitaine", F, "before 2026-12-09"),
    ("by friday", F, "before 2026-12-04"),
    ("before friday", F, "before 2026-12-03"),
    ("demain avant 17h", F, "before 2026-12-03 17:00"),
    ("au plus tard le 10 décembre", F, "before 2026-12-10"),
    ("avant le 10 décembre", F, "before 2026-12-09"),
    ("demain après 17 heures", F, "after 2026-12-03 17:00"),
    # follow-ups (issue 10, and the voice fixtures)
    ("à rappeler jeudi prochain", F, "2026-12-10"),
    ("relance dans trois semaines", F, "2026-12-23"),
    ("rendez-vous le 15 janvier à 10 heures", F, "2027-01-15 10:00"),
    ("repasser après-demain en fin de matinée", F, "2026-12-04 11:00-12:00"),
    ("début février", F, "period 2027-02-01..2027-02-10"),
    ("à recontacter début février", F, "period 2027-02-01..2027-02-10"),
    ("rappel prévu le 3 mars à 14 heures 30", F, "2027-03-03 14:30"),
    ("rappel prévu le trois mars à quatorze heures trente", F, "2027-03-03 14:30"),
    ("on en reparle dans 10 jours", F, "2026-12-12"),
    ("repasser en fin de semaine", F, "2026-12-04"),
    ("à prévoir lundi 9h", F, "2026-12-07 09:00"),
    ("lundi neuf heures", F, "2026-12-07 09:00"),
    # unreadable
    ("n'importe quoi", P, None),
    ("", P, None),
    ("   ", P, None),
    ("3 imprimantes", P, None),
    ("390 euros par mois", P, None),
    ("deux fois par semaine", P, None),
    ("2.5", P, None),
    ("le 31 février", P, None),
    ("32/12", P, None),
    ("25:00", P, None),
    ("mardi ou mercredi", P, None),
    ("we may call them", P, None),
]


@pytest.mark.parametrize(("phrase", "purpose", "expected"), TABLE,
                         ids=[f"{p or '(empty)'}-{u.value}" for p, u, _ in TABLE])
def test_the_phrase_means(phrase: str, purpose: Purpose, expected: str | None) -> None:
    assert show(resolve(phrase, now=NOW, tz=PARIS, purpose=purpose)) == expected


def test_the_table_is_long_enough() -> None:
    assert len(TABLE) >= 60


def test_a_part_of_the_day_already_over_is_tomorrows_for_a_follow_up() -> None:
    at_noon = NOW.replace(hour=12, minute=30)
    assert show(resolve("en fin de matinée", now=at_noon, tz=PARIS, purpose=F)) == \
        "2026-12-03 11:00-12:00"
    assert show(resolve("en fin de matinée", now=at_noon, tz=PARIS, purpose=P)) == \
        "2026-12-02 11:00-12:00"


# ----------------------------------------------------------------- ambiguities

@pytest.mark.parametrize(("today", "expected"), [
    (datetime(2026, 11, 30, 9, tzinfo=PARIS), "2026-12-03"),  # Monday: this Thursday
    (datetime(2026, 12, 1, 9, tzinfo=PARIS), "2026-12-10"),  # Tuesday: only two days ahead
    (datetime(2026, 12, 3, 9, tzinfo=PARIS), "2026-12-10"),  # Thursday: next week's
    (datetime(2026, 12, 4, 9, tzinfo=PARIS), "2026-12-10"),  # Friday: next week's
    (datetime(2026, 12, 6, 9, tzinfo=PARIS), "2026-12-10"),  # Sunday: next week's
])
def test_jeudi_prochain_depends_on_the_day_it_is_said(today: datetime, expected: str) -> None:
    for phrase in ("jeudi prochain", "next thursday"):
        for purpose in (P, F):
            assert show(resolve(phrase, now=today, tz=PARIS, purpose=purpose)) == expected


def test_lundi_prochain_said_on_a_weekend_is_the_coming_monday() -> None:
    saturday = datetime(2026, 12, 5, 18, tzinfo=PARIS)
    assert show(resolve("lundi prochain", now=saturday, tz=PARIS)) == "2026-12-07"


def test_jeudi_said_on_a_thursday() -> None:
    thursday = datetime(2026, 12, 3, 9, tzinfo=PARIS)
    assert show(resolve("jeudi", now=thursday, tz=PARIS, purpose=P)) == "2026-12-03"
    assert show(resolve("jeudi", now=thursday, tz=PARIS, purpose=F)) == "2026-12-10"
    assert show(resolve("ce jeudi", now=thursday, tz=PARIS, purpose=F)) == "2026-12-03"


def test_next_week_is_the_whole_week_and_a_follow_up_proposes_its_monday() -> None:
    for purpose in (P, F):
        when = resolve("la semaine prochaine", now=NOW, tz=PARIS, purpose=purpose)
        assert when is not None
        assert (when.span, str(when.start), str(when.last)) == (Span.WEEK, "2026-12-07",
                                                                "2026-12-13")


def test_a_date_without_year_in_january_looks_back_at_december_for_the_planning() -> None:
    january = datetime(2027, 1, 10, 9, tzinfo=PARIS)
    assert show(resolve("le 20 décembre", now=january, tz=PARIS, purpose=P)) == "2026-12-20"
    assert show(resolve("le 20 décembre", now=january, tz=PARIS, purpose=F)) == "2027-12-20"


# ------------------------------------------------------------- time zone, DST

def test_now_given_in_utc_is_read_in_the_reps_time_zone() -> None:
    late = datetime.fromisoformat("2026-12-02T23:30:00+00:00")  # 00:30 on the 3rd in Paris
    assert show(resolve("demain", now=late, tz=PARIS)) == "2026-12-04"
    assert show(resolve("demain", now=late, tz=ZoneInfo("America/New_York"))) == "2026-12-03"


def test_a_naive_now_is_read_in_the_reps_time_zone() -> None:
    assert show(resolve("demain", now=NOW.replace(tzinfo=None), tz=PARIS)) == "2026-12-03"


def test_spring_forward() -> None:
    before = datetime(2027, 3, 28, 1, 30, tzinfo=PARIS)  # clocks jump 02:00 -> 03:00
    when = resolve("dans 2 heures", now=before, tz=PARIS)
    assert when is not None and when.iso(PARIS) == "2027-03-28T04:30:00+02:00"
    skipped = resolve("aujourd'hui à 02:30", now=before, tz=PARIS)
    assert skipped is not None and skipped.iso(PARIS) == "2027-03-28T03:30:00+02:00"
    assert show(resolve("demain", now=before, tz=PARIS)) == "2027-03-29"
    rdv = resolve("dimanche 10h", now=datetime(2027, 3, 24, 9, tzinfo=PARIS), tz=PARIS)
    assert rdv is not None and rdv.iso(PARIS) == "2027-03-28T10:00:00+02:00"


def test_fall_back() -> None:
    first = datetime.fromisoformat("2026-10-25T02:30:00+02:00").astimezone(PARIS)
    when = resolve("dans une heure", now=first, tz=PARIS)
    assert when is not None and when.iso(PARIS) == "2026-10-25T02:30:00+01:00"
    assert show(resolve("dans une semaine", now=first, tz=PARIS)) == "2026-11-01"


# ------------------------------------------------------------ inside a sentence

def test_a_date_phrase_inside_a_sentence() -> None:
    sentence = "Visite OK, rappeler le client mardi prochain à 14h pour le devis."
    found = find(sentence, now=NOW, tz=PARIS)
    assert found is not None
    assert found.text == "mardi prochain à 14h"
    assert sentence[found.start:found.end] == found.text
    assert found.cue
    assert found.when.iso(PARIS) == "2026-12-08T14:00:00+01:00"


FOLLOW_UPS = [  # the voice fixtures' reports (../shared/voice-fixtures/transcripts.tsv)
    ("Madame Roche souhaite renouveler le contrat de maintenance de ses 6 copieurs, budget "
     "autour de 4 800 euros par an, rappeler jeudi prochain.", "jeudi prochain", "2026-12-10"),
    ("Monsieur Lefebvre accepte l'offre à 2 350 euros pour 3 imprimantes laser, rendez-vous "
     "le 15 janvier à 10 heures pour la signature.", "le 15 janvier à 10 heures",
     "2027-01-15 10:00"),
    ("Le traceur grand format fait des traînées, intervention estimée à 180 euros, repasser "
     "après-demain en fin de matinée.", "après-demain en fin de matinée",
     "2026-12-04 11:00-12:00"),
    ("Madame Fontaine veut comparer notre offre avec la concurrence, envoyer le devis avant "
     "vendredi, montant estimé à 12 600 euros.", "avant vendredi", "before 2026-12-03"),
    ("Rencontré Madame Lambert : contrat actuel chez un concurrent jusqu'en juin, devis de "
     "7 900 euros à envoyer la semaine prochaine.", "la semaine prochaine",
     "week 2026-12-07..2026-12-13"),
    ("Contrat signé pour 8 multifonctions, forfait de 390 euros par mois, relance dans trois "
     "semaines pour caler l'installation.", "dans trois semaines", "2026-12-23"),
    ("Monsieur Texier veut un copieur à la réception, budget 5 000 euros, rappeler demain "
     "après 17 heures.", "demain après 17 heures", "after 2026-12-03 17:00"),
    ("hôtel du parc quarante cinq chambres budget cinq mille euros rappeler demain après dix "
     "sept heures", "demain après dix sept heures", "after 2026-12-03 17:00"),
    ("Livraison effectuée : 2 imprimantes thermiques installées, facture de 1 140 euros, "
     "client satisfait.", None, None),
]


@pytest.mark.parametrize(("sentence", "text", "expected"), FOLLOW_UPS)
def test_the_follow_up_of_a_report(sentence: str, text: str | None,
                                   expected: str | None) -> None:
    found = find(sentence, now=NOW, tz=PARIS)
    assert (found.text if found else None) == text
    assert show(found.when if found else None) == expected


def test_every_date_phrase_of_a_long_report_in_order() -> None:
    report = ("rendez-vous le 15 janvier à 10 heures pour la signature. Envoyer le devis avant "
              "vendredi. Rappel prévu le 3 mars à 14 heures 30. Repasser en fin de semaine.")
    assert [f.text for f in find_all(report, now=NOW, tz=PARIS)] == [
        "le 15 janvier à 10 heures", "avant vendredi", "le 3 mars à 14 heures 30",
        "en fin de semaine"]


def test_a_duration_in_a_report_is_no_time_of_day() -> None:
    assert find("Trajet de 2 heures, client absent.", now=NOW, tz=PARIS) is None
    assert find("Formation de trois heures prévue.", now=NOW, tz=PARIS) is None
    found = find("Le rappeler à 16 heures.", now=NOW, tz=PARIS)
    assert found is not None and show(found.when) == "2026-12-02 16:00"


def test_a_date_closing_a_sentence() -> None:
    found = find("Nouveau passage prévu le 20/12.", now=NOW, tz=PARIS)
    assert found is not None and (found.text, show(found.when)) == ("le 20/12", "2026-12-20")


def test_a_past_date_is_not_taken_for_the_follow_up() -> None:
    found = find("Vu hier avec le client, à rappeler lundi.", now=NOW, tz=PARIS)
    assert found is not None and found.text == "lundi"


# ------------------------------------------------------------------ cost, limits

def test_long_input_is_none_at_once() -> None:
    for phrase in ("demain " * 40, "x" * 100_000, "le 3 décembre " + "a" * MAX_PHRASE):
        started = time.perf_counter()
        assert resolve(phrase, now=NOW, tz=PARIS) is None
        assert time.perf_counter() - started < 0.05
    started = time.perf_counter()
    assert find("rappeler demain " * 10_000, now=NOW, tz=PARIS) is None
    assert time.perf_counter() - started < 0.05


def test_pathological_texts_stay_fast() -> None:
    for text in (" " * 9_990 + "demain", "dans " * 1_990, "1 " * 4_990, "12/" * 3_300,
                 "fin de la " * 990, "vingt et " * 1_100):
        started = time.perf_counter()
        find_all(text, now=NOW, tz=PARIS)
        assert time.perf_counter() - started < 0.2, text[:20]
    found = find(" " * 9_990 + "demain", now=NOW, tz=PARIS)
    assert found is not None and found.start == 9_990


def test_random_word_salad_never_raises() -> None:
    import random

    words = [
        "le", "la", "à", "de", "du", "demain", "jeudi", "prochain", "14h", "3",
        "décembre", "fin", "début", "semaine", "mois", "dans", "trois", "jours", "avant",
        "après", "10", "heures", "matin", "soir", "midi", "/", ".", ":", "-", ",", "12",
        "2026", "en", "mi", "next", "week", "in", "at", "by", "9:30", "pm", "am", "İ",
        "ß", "œ", "’", "—", "1er", "vingt", "et", "un", "31", "00:00", "24h", "0h",
    ]
    rng = random.Random(7)
    for _ in range(1_500):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 10)))
        if rng.random() < 0.3:
            text = text.replace(" ", "")
        for purpose in (P, F):
            resolve(text, now=NOW, tz=PARIS, purpose=purpose)
            find_all(text, now=NOW, tz=PARIS, purpose=purpose)


def test_a_phrase_resolves_in_a_few_milliseconds() -> None:
    warm_up()
    phrases = [p for p, _, _ in TABLE if p]
    started = time.perf_counter()
    for _ in range(5):
        for phrase in phrases:
            resolve(phrase, now=NOW, tz=PARIS)
    per_phrase = (time.perf_counter() - started) / (5 * len(phrases))
    assert per_phrase < 0.003, f"{per_phrase * 1000:.2f} ms per phrase"


def test_dateparser_is_imported_only_when_needed() -> None:
    code = ("import sys; from datetime import datetime; from zoneinfo import ZoneInfo;"
            "from bot.services.dates import resolve;"
            "resolve('jeudi prochain 14h', now=datetime(2026, 12, 2), tz=ZoneInfo('UTC'));"
            "print('dateparser' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_dateparser_reads_what_the_grammar_does_not_know() -> None:
    assert show(resolve("Thu, 03 Dec 2026 14:00:00 +0100", now=NOW, tz=PARIS)) == \
        "2026-12-03 14:00"


# ------------------------------------------------------------- the support command

def test_parse_date_prints_the_date_time(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse-date", "jeudi prochain 14h", "--now", "2026-12-02T10:15",
                 "--tz", "Europe/Paris"]) == 0
    assert capsys.readouterr().out == "2026-12-10T14:00:00+01:00\n"


def test_parse_date_prints_the_date_alone_when_no_time_was_said(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse-date", "semaine prochaine", "--now", "2026-12-02T10:15+01:00",
                 "--explain"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "2026-12-07", "span=week last=2026-12-13 window=- bound=-"]


def test_parse_date_follow_up_and_english(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse-date", "wednesday", "--now", "2026-12-02T10:15", "--lang", "en",
                 "--purpose", "follow-up"]) == 0
    assert capsys.readouterr().out == "2026-12-09\n"


def test_parse_date_finds_the_phrase_in_a_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse-date", "--find", "--purpose", "follow-up", "--now", "2026-12-02T10:15",
                 "--explain", "Devis envoyé, relance dans trois semaines."]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "2026-12-23", "span=day last=2026-12-23 window=- bound=- text='dans trois semaines'"]


def test_parse_date_says_none(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse-date", "n'importe quoi"]) == 0
    assert capsys.readouterr().out == "none\n"


def test_parse_date_rejects_a_bad_time_zone(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse-date", "demain", "--tz", "Mars/Olympus"]) == 2
    assert "time zone" in capsys.readouterr().err


def test_parse_date_as_a_process() -> None:
    out = subprocess.run([sys.executable, "-m", "bot.cli", "parse-date", "demain matin",
                          "--now", "2026-12-02T10:15"], capture_output=True, text=True,
                         check=True)
    assert out.stdout == "2026-12-03\n"


def test_bound_and_span_values_are_plain() -> None:
    when = resolve("avant vendredi", now=NOW, tz=PARIS, purpose=F)
    assert when is not None and when.bound is Bound.BEFORE and when.span is Span.DAY
