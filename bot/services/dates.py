"""Date phrases as reps say them, French and English, in the rep's time zone.

Two entry points, both pure (no I/O, no Telegram type):

- ``resolve(phrase, now=…, tz=…)``: a short phrase typed or said to the bot
  (« demain matin », « planning du 3 décembre », "next week") → a ``When``, or None.
- ``find(sentence, now=…, tz=…)``: the date phrase inside a longer text, e.g. the
  follow-up in a compte rendu (« … rappeler le client mardi prochain à 14h. ») → a
  ``Found`` (the ``When`` plus where it was in the text), or None. ``find_all`` lists
  every one.

How it works: the text is normalised one character for one character (lower case,
accents and apostrophes folded, hyphens between letters as spaces), so that offsets
found in the normalised text are offsets in the original. A small grammar of regular
expressions finds *pieces* (a day, a weekday, a date, a time, a part of the day, a
week, a month, a relative span, a bound such as « avant »); neighbouring pieces joined
only by small words (à, le, de, vers, at, on…) make one *phrase*, resolved against
``now`` for a ``Purpose``. Numbers may be written as words (trois, quinze, vingt et
un, twenty-one). What the grammar does not know (other absolute formats: "Thu, 03 Dec
2026 14:00") falls back to ``dateparser``, imported lazily and only for phrases with
digits. The meaning chosen for ambiguous phrases, with the reasons, is in README.md
("Dates as reps say them").
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

MAX_PHRASE = 200  # characters; a longer "phrase" is not a date phrase (answer None at once)
MAX_TEXT = 10_000  # characters for find(): a 5-minute dictated report is about 4 500

__all__ = ["Bound", "Found", "Purpose", "Span", "When", "find", "find_all", "resolve",
           "warm_up"]


class Purpose(Enum):
    """What the date is for: it decides the ambiguous cases (see README)."""

    PLANNING = "planning"  # looking at a day, week or month (may be in the past)
    FOLLOW_UP = "follow_up"  # a next step or a deadline (never before today)


class Span(Enum):
    DAY = "day"
    PART_OF_DAY = "part_of_day"  # a day with a time window (matin, fin de matinée…)
    WEEK = "week"  # Monday to Sunday
    MONTH = "month"
    PERIOD = "period"  # a run of days: début février (1–10), the weekend…


class Bound(Enum):
    BEFORE = "before"  # a deadline: « avant vendredi », « d'ici fin mars », "by Monday"
    AFTER = "after"  # « après 17 heures »


@dataclass(frozen=True, slots=True)
class When:
    """A resolved date phrase, in the rep's time zone.

    ``start`` is the day to show or propose (the first day of a week, month or
    period; the due day of a deadline); ``end`` the last day, inclusive. ``time`` is
    None when no time was said; ``window`` is the time range of a part of the day.
    """

    start: date
    span: Span = Span.DAY
    time: _dt.time | None = None
    end: date | None = None
    window: tuple[_dt.time, _dt.time] | None = None
    bound: Bound | None = None

    @property
    def last(self) -> date:
        return self.end or self.start

    def at(self, tz: ZoneInfo) -> datetime | None:
        """The aware date-time when a time was said (a local time skipped by a DST
        change moves forward by the gap, as a clock would)."""
        if self.time is None:
            return None
        naive = datetime.combine(self.start, self.time)
        return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)

    def iso(self, tz: ZoneInfo) -> str:
        """ISO 8601: the date-time when a time was said, else the date alone."""
        moment = self.at(tz)
        return moment.isoformat() if moment is not None else self.start.isoformat()


@dataclass(frozen=True, slots=True)
class Found:
    """A date phrase found in a text: ``text == sentence[start:end]``."""

    when: When
    start: int
    end: int
    text: str
    cue: bool = False  # a follow-up word (rappeler, relance, rendez-vous…) stands before it


# --------------------------------------------------------------------------- words

_FR_SMALL = {
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7,
    "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14,
    "quinze": 15, "seize": 16,
}
_EN_SMALL = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}


def _number_words() -> dict[str, int]:
    words = dict(_FR_SMALL)
    units = [w for w, n in _FR_SMALL.items() if 2 <= n <= 9 and w != "une"]
    for n in (7, 8, 9):
        words["dix " + next(w for w, v in _FR_SMALL.items() if v == n)] = 10 + n
    for tens, value in (("vingt", 20), ("trente", 30), ("quarante", 40), ("cinquante", 50)):
        words[tens] = value
        words[tens + " et un"] = words[tens + " et une"] = value + 1
        for u in units:
            words[f"{tens} {u}"] = value + _FR_SMALL[u]
    words.update(_EN_SMALL)
    for tens, value in (("twenty", 20), ("thirty", 30), ("forty", 40), ("fifty", 50)):
        words[tens] = value
        for u, n in _EN_SMALL.items():
            if n <= 9:
                words[f"{tens} {u}"] = value + n
    return words


_NUMBER_WORDS = _number_words()
_NUMW = "|".join(sorted((re.escape(w).replace(r"\ ", r"\s+") for w in _NUMBER_WORDS),
                        key=len, reverse=True))
NUM = rf"(?:\d{{1,2}}|{_NUMW})"  # 1–59 in figures or words

_WEEKDAYS = {
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5,
    "dimanche": 6, "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4,
    "saturday": 5, "sunday": 6,
}
WD = "(?:" + "|".join(_WEEKDAYS) + ")"

_MONTHS_FULL = {
    "janvier": 1, "fevrier": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6, "juillet": 7,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
    "january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
}
_MONTHS_ABBR = {
    "janv": 1, "jan": 1, "fevr": 2, "fev": 2, "feb": 2, "mar": 3, "avr": 4, "apr": 4,
    "may": 5, "jun": 6, "juil": 7, "jul": 7, "aug": 8, "sept": 9, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12,
}
_MONTHS = {**_MONTHS_ABBR, **_MONTHS_FULL}
MONTH_ANY = ("(?:" + "|".join(sorted(_MONTHS_FULL, key=len, reverse=True)) + "|(?:"
             + "|".join(sorted(_MONTHS_ABBR, key=len, reverse=True)) + r")\.?)")
# standing alone, only full names (not "may", "mar", "sept": a verb, a number…)
MONTH_FULL = "(?:" + "|".join(sorted(_MONTHS_FULL, key=len, reverse=True)) + ")"
MONTH_EN = "(?:" + "|".join(sorted(
    [m for m in _MONTHS if m.isascii() and m not in ("mars", "mai", "janv", "fevr", "fev", "avr",
                                                   "juil", "juin", "aout", "janvier")
     and not m.endswith(("ier", "bre", "llet"))], key=len, reverse=True)) + r")\.?"

_DAY_OFFSETS = {
    "aujourd'hui": 0, "aujourd hui": 0, "aujourdhui": 0, "ce jour": 0, "today": 0,
    "demain": 1, "tomorrow": 1, "apres demain": 2, "day after tomorrow": 2,
    "the day after tomorrow": 2, "hier": -1, "yesterday": -1, "avant hier": -2,
    "day before yesterday": -2, "the day before yesterday": -2,
}

# part of the day -> (window, representative name)
_PARTS: dict[str, tuple[time, time]] = {
    "morning": (time(8), time(12)),
    "early_morning": (time(8), time(10)),
    "late_morning": (time(11), time(12)),
    "lunch": (time(12), time(14)),
    "afternoon": (time(14), time(18)),
    "early_afternoon": (time(14), time(15, 30)),
    "late_afternoon": (time(17), time(19)),
    "evening": (time(18), time(22)),
    "early_day": (time(8), time(10)),
    "late_day": (time(17), time(19)),
}
_PART_WORDS = {
    "matin": "morning", "matinee": "morning", "morning": "morning",
    "apres midi": "afternoon", "aprem": "afternoon", "afternoon": "afternoon",
    "soir": "evening", "soiree": "evening", "evening": "evening", "night": "evening",
    "journee": "day", "day": "day", "midi": "lunch", "lunchtime": "lunch",
}

_UNITS = {
    "jour": "d", "jours": "d", "j": "d", "day": "d", "days": "d",
    "semaine": "w", "semaines": "w", "sem": "w", "week": "w", "weeks": "w",
    "mois": "m", "month": "m", "months": "m",
    "an": "y", "ans": "y", "annee": "y", "annees": "y", "year": "y", "years": "y",
    "heure": "h", "heures": "h", "h": "h", "hour": "h", "hours": "h", "hr": "h", "hrs": "h",
    "minute": "min", "minutes": "min", "min": "min", "mn": "min", "mins": "min",
}
UNIT = "(?:" + "|".join(sorted(_UNITS, key=len, reverse=True)) + ")"

# words that may stand around a date phrase in a request ("planning du 3 décembre")
_FILLER = frozenset({
    "planning", "plannings", "agenda", "calendrier", "mon", "ma", "mes", "le", "la", "les",
    "l", "du", "de", "des", "d", "pour", "a", "au", "aux", "en", "on", "for", "the", "my",
    "of", "at", "in", "show", "me", "voir", "afficher", "affiche", "montre", "moi", "quoi",
    "what", "whats", "is", "rdv", "rendez", "vous", "actions", "action", "programme", "prevu",
    "prevue", "prevus", "prevues", "et", "and", "s'il", "te", "plait", "stp", "svp", "please",
    "sur", "ce", "cette", "cet", "this", "un", "une",
})

# a follow-up word close before a date phrase marks it as the suite à donner
_CUE = re.compile(
    r"\b(?:rappel\w*|relanc\w*|recontact\w*|repass\w*|rendez vous|rdv|revoir|reparl\w*|"
    r"envoy\w*|prevoir|prevu\w*|planifi\w*|caler|recaler|visite\w*|passer|rencontr\w*|"
    r"appel\w*|livr\w*|demo\w*|signature|call\w*|follow\w*|meet\w*|visit\w*|send|"
    r"remind\w*|chase)\b")


# ------------------------------------------------------------------- normalising

_FOLD = {"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "–": "-", "—": "-", "‑": "-",
         "œ": "œ", "æ": "æ", "ß": "ß"}


def _normalize(text: str) -> str:
    """Lower case, accents and apostrophes folded, hyphens between letters as spaces,
    one character for one character (offsets stay those of ``text``)."""
    out: list[str] = []
    for ch in text:
        c = ch.lower()
        if len(c) != 1:
            c = ch
        if not c.isascii():
            c = _FOLD.get(c) or _strip_accent(c)
        out.append(c)
    for i, c in enumerate(out):
        if c == "-" and 0 < i < len(out) - 1 and out[i - 1].isalpha() and out[i + 1].isalpha():
            out[i] = " "
    return "".join(out)


def _strip_accent(c: str) -> str:
    decomposed = unicodedata.normalize("NFKD", c)
    if decomposed and decomposed[0].isascii():
        return decomposed[0]
    return " " if c.isspace() else c


def _num(word: str) -> int:
    word = " ".join(word.split())
    if word.isdigit():
        return int(word)
    if word in ("premier", "first"):
        return 1
    return _NUMBER_WORDS[word]


# ------------------------------------------------------------------------ pieces

@dataclass(slots=True)
class _Piece:
    kind: str  # day weekday date time part week month rel bound
    start: int
    end: int
    offset: int = 0  # day, week, month: relative to today / this week / this month
    weekday: int = -1
    mod: str = ""  # weekday: this/next/last/coming/en8/en15; week/month: sub (debut/mi/fin)
    day: int = 0
    month: int = 0
    year: int = 0
    hour: int = -1
    minute: int = 0
    literal: bool = False  # time written so that it is not moved to the afternoon
    meridiem: str = ""  # am / pm
    part: str = ""
    iso_week: int = 0
    amount: int = 0
    unit: str = ""
    ago: bool = False
    bound: str = ""  # before / by / until / after
    explicit: bool = True  # week/month: "semaine" said with its offset word
    day2: int = 0  # range: its last day and month
    month2: int = 0


def _rx(pattern: str) -> re.Pattern[str]:
    # (?=\w): a piece starts on a word, so a run of spaces is never scanned from each
    # of its characters (quadratic)
    return re.compile(r"(?<![\w'])(?=\w)" + pattern + r"(?![\w])")


_SUB = r"(?P<sub>debut|milieu|mi|fin|early|mid|late|end|beginning|start)"
_SUB_JOIN = r"(?:\s+(?:of|de|du|d')\s*(?:the\s+|la\s+|l'\s*)?|\s+)"

_R_DAY = _rx(r"(?P<w>" + "|".join(sorted((re.escape(k).replace(r"\ ", r"\s+")
                                          for k in _DAY_OFFSETS), key=len, reverse=True)) + ")")
_R_NOW_PART = _rx(r"(?:(?:ce|cet|cette|this)\s+(?P<p>matin|apres\s+midi|aprem|soir|midi|nuit|"
                  r"morning|afternoon|evening)|(?P<tonight>tonight|ce\s+soir))")
_R_PART = _rx(r"(?:(?:en|dans\s+la|dans\s+l'|dans\s+le|in\s+the|du|de\s+l'|de\s+la|le|la|l'|"
              r"at)\s*)?"
              r"(?:" + _SUB + r"(?:\s+(?:de|d'|of)\s*(?:la\s+|l'\s*|the\s+)?|\s+|-))?"
              r"(?P<p>matinee|matin|apres\s+midi|aprem|soiree|soir|journee|morning|afternoon|"
              r"evening|day|night|lunchtime)")
_R_WEEKDAY = _rx(r"(?:(?P<pre>ce|this|next|last|coming|on)\s+)?(?P<wd>" + WD + r")"
                 r"(?:\s+(?P<post>prochain|suivant|d'apres|qui\s+vient|dernier|passe|en\s+huit|"
                 r"en\s+quinze))?")
_DAYNUM = r"(?P<d>\d{1,2}|premier|first|" + _NUMW + r")(?:er|eme|e|st|nd|rd|th)?"
_R_DATE_DM = _rx(r"(?:(?P<wd>" + WD + r"),?\s+)?(?:(?:le|the)\s+)?" + _DAYNUM +
                 r"\s+(?:of\s+)?(?P<m>" + MONTH_ANY + r")(?:\s+(?P<y>\d{4}))?")
_R_DATE_MD = _rx(r"(?:(?P<wd>" + WD + r"),?\s+)?(?P<m>" + MONTH_EN + r")\s+(?P<d>\d{1,2})"
                 r"(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{4}))?")
_R_DATE_NUM = re.compile(r"(?<![\w/.:-])(?:(?P<wd>" + WD + r")\s+)?(?:(?:le|the)\s+)?"
                         r"(?P<d>\d{1,2})(?P<sep>[/.])(?P<m>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?"
                         r"(?![\w/:-]|\.\d)")
_R_DATE_ISO = re.compile(r"(?<![\w-])(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?![\w-])")
_R_DATE_BARE = _rx(r"(?:(?P<wd>" + WD + r")\s+|(?:le|the)\s+)(?P<d>\d{1,2}|premier)"
                   r"(?:er|eme|e|st|nd|rd|th)?(?=\s*(?:$|[,.;:!?)]|a\s|at\s|vers\s|\d{1,2}\s*h|"
                   r"au\s+plus|matin|apres|soir|dans\s+la|en\s+(?:debut|fin)))")
_DAYNUM2 = r"(?P<d2>\d{1,2}|" + _NUMW + r")(?:er|eme|e|st|nd|rd|th)?"
_R_RANGE = _rx(r"(?:du|from(?:\s+the)?|entre\s+le|between(?:\s+the)?)\s+" + _DAYNUM +
               r"(?:\s+(?:of\s+)?(?P<m>" + MONTH_ANY + r"))?\s+(?:au|to|until|et\s+le|and)\s+"
               r"(?:the\s+)?" + _DAYNUM2 + r"\s+(?:of\s+)?(?P<m2>" + MONTH_ANY + r")"
               r"(?:\s+(?P<y>\d{4}))?")
_MIN = r"(?P<min>\d{2}|" + _NUMW + r"|et\s+quart|et\s+demie?|moins\s+le\s+quart|moins\s+quart)"
_R_TIME = [
    _rx(r"(?P<h>\d{1,2})\s*(?:h|heures?|hrs?)(?:\s*" + _MIN + r")?"),
    _rx(r"(?P<h>\d{1,2}):(?P<min>\d{2})(?:\s*(?P<ap>am|pm|a\.m\.|p\.m\.))?"),
    _rx(r"(?P<h>\d{1,2})\s*(?P<ap>am|pm|a\.m\.|p\.m\.)"),
    _rx(r"(?P<h>" + _NUMW + r")\s+heures?(?:\s+" + _MIN + r")?"),
    _rx(r"(?P<h>" + _NUMW + r"|\d{1,2})\s+o'?\s*clock"),
    _rx(r"(?P<noon>midi|minuit|noon|midnight)(?:\s+" + _MIN + r")?"),
    _rx(r"at\s+(?P<h>\d{1,2})(?![\d:h/%]|\s*(?:%|[.,]\d))"),
]
_WEEK_OFF = (r"(?P<off>prochaine|suivante|derniere|passee|d'apres|qui\s+vient|"
             r"d'avant|precedente)")
_R_WEEK = [
    _rx(r"(?:(?:en|au|dans)\s+)?(?:" + _SUB + _SUB_JOIN + r")?"
        r"(?P<this>cette|ce|la)?\s*semaine(?:\s+" + _WEEK_OFF + r")?"),
    _rx(r"(?:la\s+)?semaine\s+(?:n\s*°?\s*|numero\s+)?(?P<iso>\d{1,2})"),
    _rx(r"week\s+(?:n(?:o|°)\.?\s*)?(?P<iso>\d{1,2})"),
    _rx(r"(?:(?:in|during|at|by)\s+)?(?:the\s+)?(?:" + _SUB + _SUB_JOIN + r")?(?:the\s+)?"
        r"(?P<en>this|next|last|coming|the)\s+week(?P<after>\s+after\s+next)?"),
    _rx(r"(?:(?:en|au|the|in)\s+)?(?P<sub>fin|end)\s+(?:of\s+|de\s+)?week"),
]
_R_WEEKEND = _rx(r"(?:(?P<pre>ce|le|this|next|the|on\s+the)\s+)?week\s?end"
                 r"(?:\s+(?P<off>prochain))?")
_MONTH_OFF = r"(?P<off>ci|la|prochain|suivant|dernier|passe|d'apres|precedent)"
_R_MONTH = [
    _rx(r"(?:(?:en|au|dans)\s+)?(?:" + _SUB + r"\s+(?:de\s+|du\s+|d')?)?"
        r"(?:(?P<this>ce|le)\s+)?mois(?:\s+" + _MONTH_OFF + r")?"),
    _rx(r"(?:(?:in|during|at|by)\s+)?(?:the\s+)?(?:" + _SUB + _SUB_JOIN + r")?(?:the\s+)?"
        r"(?P<en>this|next|last|coming|the)\s+month"),
    _rx(r"(?:(?:en|in|au|courant|during)\s+)?(?:" + _SUB + _SUB_JOIN + r")?"
        r"(?P<name>" + MONTH_FULL + r"|may)(?:\s+(?P<y>\d{4}))?"),
]
_R_REL = [
    _rx(r"(?P<pre>dans|d'ici|sous|in|within)\s+(?:(?:les?|the)\s+)?"
        r"(?P<n>\d{1,3}|" + _NUMW + r"|a|an|a\s+couple\s+of|quelques|a\s+few)\s+(?P<u>" + UNIT +
        r")(?:\s+(?:de\s+plus|from\s+now))?"),
    _rx(r"(?P<n>\d{1,3}|" + _NUMW + r"|a|an)\s+(?P<u>" + UNIT + r")"
        r"\s+(?P<post>plus\s+tard|later|from\s+now|ago)"),
    _rx(r"(?P<pre>il\s+y\s+a)\s+(?P<n>\d{1,3}|" + _NUMW + r")\s+(?P<u>" + UNIT + r")"),
    _rx(r"(?:(?P<pre>sous|in|within|dans)\s+)(?:(?:une|a)\s+)?(?P<idiom>huitaine|quinzaine|"
        r"fortnight)"),
]
_R_BOUND = _rx(r"(?P<b>avant(?:\s+d'ici)?|au\s+plus\s+tard|"  # « le », « la »: in the gap
               r"d'ici|jusqu'\s*(?:au|a|en)?|jusque|"
               r"no\s+later\s+than|before|by|until|till|apres|after|a\s+partir\s+d[eu']?|"
               r"from)")

_GAP = re.compile(r"^[\s,]*(?:(?:a|au|le|la|l'|vers|de|du|d'|pour|on|at|the|around|about|"
                  r"des|en|sur|in|from|dans|environ)(?![\w])[\s,']*)*$")
_ANCHORS = frozenset({"day", "weekday", "date", "rel", "week", "month", "range"})


def _pieces(norm: str) -> list[_Piece]:
    found: list[_Piece] = []
    found += [_Piece("day", m.start(), m.end(), offset=_DAY_OFFSETS[" ".join(m["w"].split())])
              for m in _R_DAY.finditer(norm)]
    for m in _R_NOW_PART.finditer(norm):
        word = "soir" if m["tonight"] else " ".join(m["p"].split())
        found.append(_Piece("part", m.start(), m.end(), part=_part_name("", word), offset=0,
                            explicit=True))
    for m in _R_PART.finditer(norm):
        name = _part_name(m["sub"] or "", " ".join(m["p"].split()))
        if name:
            found.append(_Piece("part", m.start(), m.end(), part=name, explicit=False))
    for m in _R_WEEKDAY.finditer(norm):
        pre, post = m["pre"] or "", " ".join((m["post"] or "").split())
        mod = {"ce": "this", "this": "this", "next": "next", "last": "last",
               "coming": "coming", "on": ""}.get(pre, "")
        mod = {"prochain": "next", "suivant": "next", "d'apres": "next", "qui vient": "coming",
               "dernier": "last", "passe": "last", "en huit": "en8",
               "en quinze": "en15"}.get(post, mod)
        found.append(_Piece("weekday", m.start(), m.end(), weekday=_WEEKDAYS[m["wd"]], mod=mod))
    for rx in (_R_DATE_DM, _R_DATE_MD):
        for m in rx.finditer(norm):
            d = _num(m["d"])
            mo = _MONTHS[m["m"].rstrip(".")]
            found.append(_Piece("date", m.start(), m.end(), day=d, month=mo,
                                year=int(m["y"] or 0)))
    for m in _R_RANGE.finditer(norm):
        found.append(_Piece("range", m.start(), m.end(), day=_num(m["d"]),
                            month=_MONTHS[m["m"].rstrip(".")] if m["m"] else 0,
                            day2=_num(m["d2"]), month2=_MONTHS[m["m2"].rstrip(".")],
                            year=int(m["y"] or 0)))
    for m in _R_DATE_NUM.finditer(norm):
        y = int(m["y"] or 0)
        if m["sep"] == "." and not y:
            continue  # "2.5" is a number, not the 2nd of May
        found.append(_Piece("date", m.start(), m.end(), day=int(m["d"]), month=int(m["m"]),
                            year=y + 2000 if 0 < y < 100 else y))
    for m in _R_DATE_ISO.finditer(norm):
        found.append(_Piece("date", m.start(), m.end(), day=int(m["d"]), month=int(m["m"]),
                            year=int(m["y"])))
    for m in _R_DATE_BARE.finditer(norm):
        found.append(_Piece("date", m.start(), m.end(), day=_num(m["d"]), month=0))
    for rx in _R_TIME:
        for m in rx.finditer(norm):
            piece = _time_piece(m)
            if piece is not None:
                found.append(piece)
    for m in _R_WEEK[0].finditer(norm):
        off = _week_offset(" ".join((m["off"] or "").split()))
        if not (m["off"] or m["this"] or m["sub"]):
            continue  # "semaine" alone ("deux fois par semaine") is no date
        found.append(_Piece("week", m.start(), m.end(), offset=off, mod=_sub(m["sub"]),
                            explicit=bool(m["off"] or m["this"] in ("cette", "ce"))))
    for rx in _R_WEEK[1:3]:
        for m in rx.finditer(norm):
            found.append(_Piece("week", m.start(), m.end(), iso_week=int(m["iso"])))
    for m in _R_WEEK[3].finditer(norm):
        en = m["en"]
        off = 2 if m["after"] else {"next": 1, "coming": 1, "last": -1}.get(en, 0)
        found.append(_Piece("week", m.start(), m.end(), offset=off, mod=_sub(m["sub"]),
                            explicit=en != "the"))
    for m in _R_WEEK[4].finditer(norm):
        found.append(_Piece("week", m.start(), m.end(), mod="fin"))
    for m in _R_WEEKEND.finditer(norm):
        found.append(_Piece("week", m.start(), m.end(), mod="weekend",
                            offset=1 if (m["pre"] == "next" or m["off"]) else 0))
    for m in _R_MONTH[0].finditer(norm):
        off_word = m["off"] or ""
        plain = not (off_word or m["this"] == "ce" or m["sub"])
        if plain and not norm[m.start():m.end()].startswith("dans"):
            continue  # "par mois", "le mois" are no dates; "dans le mois" is
        off = {"prochain": 1, "suivant": 1, "d'apres": 1, "dernier": -1, "passe": -1,
               "precedent": -1}.get(off_word, 0)
        found.append(_Piece("month", m.start(), m.end(), offset=off, mod=_sub(m["sub"])))
    for m in _R_MONTH[1].finditer(norm):
        off = {"next": 1, "coming": 1, "last": -1}.get(m["en"], 0)
        found.append(_Piece("month", m.start(), m.end(), offset=off, mod=_sub(m["sub"])))
    for m in _R_MONTH[2].finditer(norm):
        if m["name"] == "may" and not (m["sub"] or m["y"] or norm[m.start():m.start() + 2] in
                                       ("in", "du")):
            continue  # "we may call": a verb
        found.append(_Piece("month", m.start(), m.end(), month=_MONTHS[m["name"]],
                            year=int(m["y"] or 0), mod=_sub(m["sub"])))
    for i, rx in enumerate(_R_REL):
        for m in rx.finditer(norm):
            piece = _rel_piece(m, idiom=i == 3)
            if piece is not None:
                found.append(piece)
    for m in _R_BOUND.finditer(norm):
        b = " ".join(m["b"].split())
        kind = ("after" if b.startswith(("apres", "after", "a partir", "from")) else
                "until" if b.startswith(("jusqu", "until", "till")) else
                "by" if b.startswith(("d'ici", "au plus", "by", "no later")) else "before")
        found.append(_Piece("bound", m.start(), m.end(), bound=kind))
    # leftmost, then longest; overlapping pieces lose
    found.sort(key=lambda p: (p.start, -(p.end - p.start)))
    chosen: list[_Piece] = []
    for p in found:
        if chosen and p.start < chosen[-1].end:
            continue
        chosen.append(p)
    return chosen


def _sub(word: str | None) -> str:
    return {"debut": "debut", "early": "debut", "beginning": "debut", "start": "debut",
            "milieu": "mi", "mi": "mi", "mid": "mi", "fin": "fin", "late": "fin",
            "end": "fin"}.get(word or "", "")


def _week_offset(word: str) -> int:
    return {"prochaine": 1, "suivante": 1, "d'apres": 1, "qui vient": 1, "derniere": -1,
            "passee": -1, "d'avant": -1, "precedente": -1}.get(word, 0)


def _part_name(sub: str, word: str) -> str:
    base = _PART_WORDS.get(word, "")
    sub = _sub(sub)
    if base == "night":
        base = "evening"
    if base == "day":
        return {"debut": "early_day", "fin": "late_day"}.get(sub, "")
    if base == "lunch":
        return "lunch" if not sub else ""
    if sub == "debut":
        return {"morning": "early_morning", "afternoon": "early_afternoon"}.get(base, base)
    if sub == "fin":
        return {"morning": "late_morning", "afternoon": "late_afternoon"}.get(base, base)
    return base


def _time_piece(m: re.Match[str]) -> _Piece | None:
    groups = m.groupdict()
    literal = False
    if groups.get("noon"):
        hour = 0 if groups["noon"] in ("minuit", "midnight") else 12
        literal = True
    else:
        raw = " ".join(groups["h"].split())
        hour = _num(raw)
        literal = raw.startswith("0") or (raw.isdigit() and hour >= 7)
    minute = 0
    raw_min = groups.get("min")
    if raw_min:
        raw_min = " ".join(raw_min.split())
        if raw_min == "et quart":
            minute = 15
        elif raw_min.startswith("et demi"):
            minute = 30
        elif raw_min.startswith("moins"):
            hour, minute = hour - 1, 45
        else:
            minute = _num(raw_min)
    ap = (groups.get("ap") or "").replace(".", "")
    if ap:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ap == "pm" else 0)
        literal = True
    if hour == 24 and minute == 0:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return _Piece("time", m.start(), m.end(), hour=hour, minute=minute, literal=literal,
                  meridiem=ap)


def _rel_piece(m: re.Match[str], *, idiom: bool) -> _Piece | None:
    groups = m.groupdict()
    pre = " ".join((groups.get("pre") or "").split())
    post = " ".join((groups.get("post") or "").split())
    if idiom:
        amount = {"huitaine": 7, "quinzaine": 14, "fortnight": 14}[groups["idiom"]]
        return _Piece("rel", m.start(), m.end(), amount=amount, unit="d",
                      bound="by" if pre in ("sous", "within") else "")
    raw = " ".join(groups["n"].split())
    amount = {"a": 1, "an": 1, "a couple of": 2, "quelques": 3, "a few": 3}.get(raw) or _num(raw)
    unit = _UNITS[groups["u"]]
    if unit == "d" and pre in ("dans", "d'ici", "sous") and amount in (8, 15):
        amount -= 1  # « dans huit jours » is a week, « dans quinze jours » two
    return _Piece("rel", m.start(), m.end(), amount=amount, unit=unit,
                  ago=pre == "il y a" or post == "ago",
                  bound="by" if pre in ("d'ici", "sous", "within") else "")


# -------------------------------------------------------------------- resolving

@dataclass(frozen=True, slots=True)
class _Ctx:
    now: datetime  # local, aware
    today: date
    tz: ZoneInfo
    purpose: Purpose


def _clusters(norm: str, pieces: list[_Piece]) -> list[list[_Piece]]:
    clusters: list[list[_Piece]] = []
    current: list[_Piece] = []
    for p in pieces:
        if current and _GAP.match(norm[current[-1].end:p.start]):
            if _fits(current, p):
                current.append(p)
                continue
            if current[-1].kind == "bound" and len(current) > 1 and _fits([current[-1]], p):
                carried = current.pop()  # « demain, avant vendredi »: the bound is vendredi's
                clusters.append(current)
                current = [carried, p]
                continue
        if current:
            clusters.append(current)
        current = [p]
    if current:
        clusters.append(current)
    return clusters


def _fits(cluster: list[_Piece], p: _Piece) -> bool:
    """May ``p`` join the phrase ``cluster``? One anchor (a day, a week…), one time, one
    part of the day, one bound; a weekday or a date may go with a plain week."""
    kinds = [q.kind for q in cluster]
    if p.kind in ("time", "part", "bound"):
        return p.kind not in kinds
    anchors = {k for k in kinds if k in _ANCHORS}
    if not anchors:
        return True
    if p.kind in anchors or len(anchors) > 1:
        return False
    if anchors | {p.kind} in ({"weekday", "week"}, {"date", "week"}):
        week = next(q for q in [*cluster, p] if q.kind == "week")
        return week.mod == ""
    return False


def _resolve_cluster(cluster: list[_Piece], ctx: _Ctx) -> When | None:
    by = {p.kind: p for p in cluster}
    anchors = [p for p in cluster if p.kind in _ANCHORS]
    tpiece, ppiece, bpiece = by.get("time"), by.get("part"), by.get("bound")
    if not anchors and tpiece is None and ppiece is None:
        return None
    today = ctx.today
    span, start, end = Span.DAY, today, today
    at: time | None = None
    # a time or a part of the day alone: today, or for a follow-up tomorrow once past
    # (« ce matin », « ce soir » stay today)
    floating = not anchors and not (ppiece is not None and ppiece.explicit)
    try:
        if "week" in by and "weekday" in by:  # « jeudi de la semaine prochaine »
            _, monday, _ = _week_range(by["week"], ctx)
            start = end = monday + timedelta(days=by["weekday"].weekday)
        elif "week" in by and "date" in by:  # « la semaine du 14 décembre »
            day = _date_of(by["date"], ctx)
            if day is None:
                return None
            week = by["week"]
            start = end = day
            if not (week.explicit or week.offset or week.iso_week):
                span, start, end = Span.WEEK, _monday(day), _monday(day) + timedelta(days=6)
        elif anchors:
            a = anchors[0]
            if a.kind == "day":
                start = end = today + timedelta(days=a.offset)
            elif a.kind == "weekday":
                start = end = _weekday(a, ctx)
            elif a.kind == "date":
                day = _date_of(a, ctx)
                if day is None:
                    return None
                start = end = day
            elif a.kind == "rel":
                moment = _shift(ctx.now, a)
                if moment is None:
                    return None
                start = end = moment.date()
                if a.unit in ("h", "min") and a.amount and not (a.unit == "h" and
                                                                 a.amount % 24 == 0):
                    at = moment.time().replace(second=0, microsecond=0)
                if a.bound and bpiece is None:
                    bpiece = _Piece("bound", a.start, a.start, bound=a.bound)
            elif a.kind == "range":  # « du 3 au 5 décembre »
                last = _date_of(_Piece("date", 0, 0, day=a.day2, month=a.month2, year=a.year),
                                ctx)
                if last is None:
                    return None
                first = _valid(last.year, a.month or last.month, a.day)
                if first is not None and first > last:  # « du 28 décembre au 3 janvier »
                    first = _valid(last.year - 1, a.month, a.day) if a.month else None
                if first is None or (last - first).days > 366:
                    return None
                span, start, end = Span.PERIOD, first, last
            elif a.kind == "week":
                span, start, end = _week_range(a, ctx)
            elif a.kind == "month":
                found = _month_range(a, ctx)
                if found is None:
                    return None
                span, start, end = found
    except (ValueError, OverflowError):
        return None

    window: tuple[time, time] | None = None
    if ppiece is not None and ppiece.part:
        window = _PARTS[ppiece.part]
    if tpiece is not None:
        hour = tpiece.hour
        if ppiece is not None and not tpiece.meridiem and hour < 12 and ppiece.part in (
                "afternoon", "early_afternoon", "late_afternoon", "evening", "late_day"):
            hour += 12
        elif not tpiece.literal and ppiece is None and 1 <= hour <= 6:
            hour += 12  # « à 3 heures » in a rep's day is 15:00
        at = time(hour, tpiece.minute)
        window = None
    if floating:
        moment_end = at or (window[1] if window else None)
        if (ctx.purpose is Purpose.FOLLOW_UP and moment_end is not None
                and moment_end <= ctx.now.time().replace(tzinfo=None)):
            start = end = today + timedelta(days=1)

    bound: Bound | None = None
    if bpiece is not None:
        if not anchors and at is None:
            return None
        kind = bpiece.bound
        fin = bool(anchors) and anchors[-1].mod == "fin"
        if kind == "after":
            bound = Bound.AFTER
            if at is None and span is Span.DAY and window is None:
                start = end = start + timedelta(days=1)
            elif at is None and span is not Span.DAY:
                start = end = end + timedelta(days=1)
                span = Span.DAY
        else:
            bound = Bound.BEFORE
            if at is None:
                if kind == "until" or fin:
                    due = end
                elif kind == "by":
                    due = start if span is not Span.DAY else end
                else:  # before: the day before
                    due = start - timedelta(days=1) if (span is Span.DAY or window is None) \
                        else start
                start = end = due
                if window is None:
                    span = Span.DAY
    if ctx.purpose is Purpose.FOLLOW_UP and span in (Span.WEEK, Span.MONTH, Span.PERIOD) \
            and start < today <= end:
        start = today  # a next step is not proposed in the past
    if window is not None and at is None and span is Span.DAY:
        span = Span.PART_OF_DAY
    return When(start=start, span=span, time=at, end=end if end != start else None,
                window=window if at is None else None, bound=bound)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weekday(p: _Piece, ctx: _Ctx) -> date:
    today = ctx.today
    ahead = (p.weekday - today.weekday()) % 7
    if p.mod == "this":
        return today + timedelta(days=ahead)
    if p.mod == "last":
        return today - timedelta(days=(today.weekday() - p.weekday) % 7 or 7)
    if p.mod in ("coming", "en8", "en15"):
        extra = {"coming": 0, "en8": 7, "en15": 14}[p.mod]
        return today + timedelta(days=(ahead or 7) + extra)
    if p.mod == "next":
        # « jeudi prochain »: next week's Thursday, except early in the week (Monday,
        # Tuesday) for a day at least three days ahead: this week's (see README)
        if today.weekday() <= 1 and ahead >= 3:
            return today + timedelta(days=ahead)
        return _monday(today) + timedelta(days=7 + p.weekday)
    if ahead == 0 and ctx.purpose is Purpose.FOLLOW_UP:
        return today + timedelta(days=7)
    return today + timedelta(days=ahead)


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _pick(candidates: list[date], ctx: _Ctx, *, last: list[date] | None = None) -> date | None:
    """A date said without its year: for a follow-up the first one not in the past; for
    the planning the one in [today − 92 days, today + 273 days) (recent past or future)."""
    ends = last or candidates
    today = ctx.today
    for first, final in zip(candidates, ends, strict=True):
        if ctx.purpose is Purpose.FOLLOW_UP:
            if final >= today:
                return first
        elif final >= today - timedelta(days=92) and first < today + timedelta(days=273):
            return first
    return candidates[-1] if candidates else None


def _date_of(p: _Piece, ctx: _Ctx) -> date | None:
    if not 1 <= p.day <= 31:
        return None
    if p.month == 0:  # « le 15 »: this month's or the next month's
        y, m = ctx.today.year, ctx.today.month
        options = []
        for k in range(-1, 3):
            yy, mm = y + (m - 1 + k) // 12, (m - 1 + k) % 12 + 1
            d = _valid(yy, mm, p.day)
            if d is not None:
                options.append(d)
        if ctx.purpose is Purpose.FOLLOW_UP:
            return next((d for d in options if d >= ctx.today), None)
        return min(options, key=lambda d: (abs((d - ctx.today).days), d < ctx.today))
    if not 1 <= p.month <= 12:
        return None
    if p.year:
        return _valid(p.year, p.month, p.day)
    options = [d for y in (ctx.today.year - 1, ctx.today.year, ctx.today.year + 1,
                           ctx.today.year + 2, ctx.today.year + 3, ctx.today.year + 4)
               if (d := _valid(y, p.month, p.day)) is not None]
    return _pick(options, ctx)


def _shift(now: datetime, p: _Piece) -> datetime | None:
    sign = -1 if p.ago else 1
    n = p.amount * sign
    if p.unit in ("h", "min"):
        delta = timedelta(hours=n) if p.unit == "h" else timedelta(minutes=n)
        return (now.astimezone(UTC) + delta).astimezone(now.tzinfo)
    if p.unit == "d":
        return now + timedelta(days=n)
    if p.unit == "w":
        return now + timedelta(weeks=n)
    months = n if p.unit == "m" else 12 * n
    y, m = divmod(now.month - 1 + months, 12)
    year, month = now.year + y, m + 1
    day = min(now.day, monthrange(year, month)[1])
    return now.replace(year=year, month=month, day=day)


def _week_range(p: _Piece, ctx: _Ctx) -> tuple[Span, date, date]:
    today = ctx.today
    if p.iso_week:
        year = today.year
        options = []
        for y in (year - 1, year, year + 1):
            try:
                options.append(date.fromisocalendar(y, p.iso_week, 1))
            except ValueError:
                continue
        monday = _pick(options, ctx, last=[d + timedelta(days=6) for d in options])
        if monday is None:
            raise ValueError("no such week")
    else:
        monday = _monday(today) + timedelta(weeks=p.offset)
    if p.mod == "weekend":
        saturday = monday + timedelta(days=5)
        if ctx.purpose is Purpose.FOLLOW_UP and saturday + timedelta(days=1) < today:
            saturday += timedelta(weeks=1)
        return Span.PERIOD, saturday, saturday + timedelta(days=1)
    if p.mod in ("debut", "mi", "fin"):
        day = monday + timedelta(days={"debut": 0, "mi": 2, "fin": 4}[p.mod])
        if ctx.purpose is Purpose.FOLLOW_UP and day < today and not p.offset:
            day += timedelta(weeks=1)
        return Span.DAY, day, day
    return Span.WEEK, monday, monday + timedelta(days=6)


def _month_range(p: _Piece, ctx: _Ctx) -> tuple[Span, date, date] | None:
    today = ctx.today
    if p.month:
        years = [p.year] if p.year else [today.year - 1, today.year, today.year + 1]
        firsts = [date(y, p.month, 1) for y in years]
        lasts = [_part_of_month(f, p.mod)[1] for f in firsts]
        first = _pick(firsts, ctx, last=lasts) if not p.year else firsts[0]
        if first is None:
            return None
    else:
        y, m = divmod(today.month - 1 + p.offset, 12)
        first = date(today.year + y, m + 1, 1)
    lo, hi = _part_of_month(first, p.mod)
    return (Span.PERIOD if p.mod else Span.MONTH), lo, hi


def _part_of_month(first: date, sub: str) -> tuple[date, date]:
    last = first.replace(day=monthrange(first.year, first.month)[1])
    if sub == "debut":
        return first, first.replace(day=10)
    if sub == "mi":
        return first.replace(day=11), first.replace(day=20)
    if sub == "fin":
        return first.replace(day=21), last
    return first, last


# ------------------------------------------------------------------------- API

def _context(now: datetime, tz: ZoneInfo, purpose: Purpose) -> _Ctx:
    local = now.replace(tzinfo=tz) if now.tzinfo is None else now.astimezone(tz)
    return _Ctx(now=local, today=local.date(), tz=tz, purpose=purpose)


def find_all(text: str, *, now: datetime, tz: ZoneInfo, lang: str = "fr",
             purpose: Purpose = Purpose.FOLLOW_UP) -> list[Found]:
    """Every date phrase in ``text``, in order (none for a text over MAX_TEXT)."""
    if not text or len(text) > MAX_TEXT:
        return []
    ctx = _context(now, tz, purpose)
    norm = _normalize(text)
    out: list[Found] = []
    for cluster in _clusters(norm, _pieces(norm)):
        start, end = cluster[0].start, cluster[-1].end
        before = norm[max(0, start - 40):start]
        if _a_duration(cluster, norm, before):
            continue
        when = _resolve_cluster(cluster, ctx)
        if when is None:
            continue
        cue = bool(_CUE.search(" ".join(before.split()[-4:])))
        out.append(Found(when=when, start=start, end=end, text=text[start:end], cue=cue))
    return out


_AT = re.compile(r"(?:^|\W)(?:a|vers|at|des|pour|avant|apres|jusqu'\s*a|partir\s+de|around|"
                 r"about|by|before|after|until)\s*$")


def _a_duration(cluster: list[_Piece], norm: str, before: str) -> bool:
    """« trajet de 2 heures », "a 2 hour drive": "N heures" alone, with no « à », « vers »,
    "at"… before it, is a duration in a text, not a time of day."""
    if len(cluster) != 1 or cluster[0].kind != "time":
        return False
    said = norm[cluster[0].start:cluster[0].end]
    return "heure" in said and not _AT.search(before)


def find(text: str, *, now: datetime, tz: ZoneInfo, lang: str = "fr",
         purpose: Purpose = Purpose.FOLLOW_UP) -> Found | None:
    """The date phrase of ``text`` that matters.

    For a follow-up: the one right after a follow-up word (rappeler, relance,
    rendez-vous, envoyer…), not in the past, not an « until » (« contrat jusqu'en juin »);
    among equals the first. For the planning: the first.
    """
    found = find_all(text, now=now, tz=tz, lang=lang, purpose=purpose)
    if not found:
        return None
    if purpose is Purpose.PLANNING:
        return found[0]
    today = _context(now, tz, purpose).today

    def score(f: Found) -> int:
        until = f.when.bound is Bound.BEFORE and "jusqu" in _normalize(f.text)
        return 2 * f.cue - 3 * (f.when.last < today) - 2 * until

    return max(found, key=score)


def resolve(phrase: str, *, now: datetime, tz: ZoneInfo, lang: str = "fr",
            purpose: Purpose = Purpose.PLANNING) -> When | None:
    """A short phrase (a request, a typed date) → its meaning, or None.

    The phrase must be one date phrase, with at most a few other words around it
    (« planning du 3 décembre », « à rappeler jeudi prochain »). Over MAX_PHRASE
    characters: None at once.
    """
    if not phrase or len(phrase) > MAX_PHRASE or not phrase.strip():
        return None
    ctx = _context(now, tz, purpose)
    norm = _normalize(phrase)
    clusters = _clusters(norm, _pieces(norm))
    resolved = [(c, w) for c in clusters if (w := _resolve_cluster(c, ctx)) is not None]
    if len(resolved) == 1:
        cluster, when = resolved[0]
        rest = norm[:cluster[0].start] + " " + norm[cluster[-1].end:]
        words = re.findall(r"[\w']+", rest)
        unknown = [w for w in words if w.strip("'") not in _FILLER]
        if len(unknown) <= 4:
            return when
        return None
    if resolved:
        return None
    return _fallback(phrase, ctx, lang)


# -------------------------------------------------------------- dateparser side

_SETTINGS: dict[str, Any] = {"PREFER_DATES_FROM": "future", "RETURN_AS_TIMEZONE_AWARE": False,
                             "DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first"}
_FALLBACK_OK = re.compile(r"(?=.*\d)(?=.*(?:[^\W\d_]{3,}|\d{4}))", re.DOTALL)


def _fallback(phrase: str, ctx: _Ctx, lang: str) -> When | None:
    """dateparser for the absolute formats the grammar does not know ("Thu, 03 Dec 2026
    14:00", "2026-12-03T14:00"). Only phrases with figures: on words alone it reads "a"
    or "3" as dates."""
    if not _FALLBACK_OK.search(phrase):
        return None
    import dateparser

    base = ctx.now.replace(tzinfo=None, second=0, microsecond=0)
    languages = [lang, "en" if lang != "en" else "fr"]
    parsed = dateparser.parse(phrase, languages=languages,
                              settings={**_SETTINGS, "RELATIVE_BASE": base})
    if parsed is None:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(ctx.tz).replace(tzinfo=None)
    if abs(parsed.year - ctx.today.year) > 5:
        return None  # dateparser's "15 janvier 10h" is year 2110
    said_time = parsed.time() not in (time(0), base.time()) or bool(
        re.search(r"\d\s*(?:h|:)\s*\d|\d\s*[ap]\.?m", phrase, re.IGNORECASE))
    return When(start=parsed.date(), time=parsed.time().replace(second=0, microsecond=0)
                if said_time else None)


def warm_up(langs: tuple[str, ...] = ("fr", "en")) -> None:
    """Import dateparser and load its language data once (about half a second), so that
    the first rep does not pay for it. The grammar itself needs no warm-up."""
    import dateparser

    for lang in langs:
        dateparser.parse("03/12/2026 14:00", languages=[lang], settings=_SETTINGS)
