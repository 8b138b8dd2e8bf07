"""``crmbot pair``: one-time pairing links and QR codes, for one rep or a whole team.

``crmbot pair LOGIN [--png FILE]`` prints the rep's link and writes its QR code;
``crmbot pair --all-reps [--unit CODE] [--out FILE]`` writes one printable HTML
onboarding sheet (French, A4) for the reps of a unit — by default every
Commerce unit, the only ones the CRM takes into account.

The roster helpers (``commerce_units``, ``unit_reps``) are shared with the
admin page (``bot/admin.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Literal

from babel.dates import format_timedelta

from bot.i18n import L10n
from bot.pages import Page
from bot.qr import qr_data_url, qr_png
from bot.services.pairing import Invite, PairingService
from bot.settings import Settings
from integrations.artis.client import ArtisClient
from integrations.artis.errors import ArtisError, NotFound
from integrations.artis.models import OrgUnit, User

REPS_PER_PAGE = 4  # four QR codes of ~45 mm fit an A4 page with their instructions

INSTRUCTIONS = (
    "Ouvrez l'appareil photo de votre téléphone",
    "Scannez ce QR code : Telegram s'ouvre",
    "Appuyez sur DÉMARRER",
    "Saisissez votre mot de passe artis.net",
)


# -- roster (shared with the admin page) ------------------------------------------------
async def commerce_units(artis: ArtisClient) -> list[OrgUnit]:
    """The Commerce units, in artis.net's order (only they matter to the CRM)."""
    return [unit for unit in await artis.list_org_units() if unit.is_commerce]


async def unit_reps(artis: ArtisClient, unit: OrgUnit) -> list[User]:
    """The active users of ``unit``, head first, then by name.

    Members are looked up concurrently: a unit of 30 reps must not take 30
    round trips in a row.
    """
    users = await asyncio.gather(*(artis.find_user(login) for login in unit.member_logins))
    active = [user for user in users if user is not None and user.active]
    return sorted(active, key=lambda user: (user.login != unit.head_login,
                                            (user.last_name or "").casefold(),
                                            (user.first_name or "").casefold()))


# -- wording ------------------------------------------------------------------------------
_UNITS: tuple[tuple[Literal["day", "hour", "minute", "second"], int], ...] = (
    ("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def validity_fr(seconds: int) -> str:
    """``15 minutes``, ``2 heures``, ``90 minutes``, ``1 jour``: how long a link lasts, in
    French, exactly (Babel's own rounding would print 90 minutes as ``2 heures``)."""
    unit = next(name for name, size in _UNITS if seconds % size == 0)
    return format_timedelta(timedelta(seconds=seconds), granularity=unit, threshold=math.inf,
                            locale="fr")


def expiry_fr(l10n: L10n, expires_at: float) -> str:
    """``vendredi 28 nov. à 14:30`` in the bot's time zone."""
    moment = datetime.fromtimestamp(expires_at, tz=UTC)
    return f"{l10n.day(moment)} à {l10n.time(moment)}"


def safe_file_stem(login: str) -> str:
    """A login made safe as a file name (no path separators, no surprises)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", login).lstrip(".") or "qr"


# -- the command --------------------------------------------------------------------------
async def pair_command(settings: Settings, args: argparse.Namespace) -> int:
    """Entry point of ``crmbot pair``; returns the process exit code."""
    from bot.runtime import open_services

    if not args.all_reps and not args.login:
        print("crmbot pair: give a LOGIN, or --all-reps for a whole team", file=sys.stderr)
        return 2
    if args.all_reps and args.login:
        print("crmbot pair: give either a LOGIN or --all-reps, not both", file=sys.stderr)
        return 2
    try:
        async with open_services(settings) as services:
            if args.all_reps:
                return await _sheet(settings, services.artis, services.pairing,
                                    unit_code=args.unit, out=args.out)
            return await _one(settings, services.pairing, args.login, args.png)
    except ArtisError as exc:
        print(f"erreur : artis.net ne répond pas correctement ({exc.message})", file=sys.stderr)
        return 1


async def _one(settings: Settings, pairing: PairingService, login: str, png: Path | None) -> int:
    try:
        invite = await pairing.invite(login)
    except NotFound:
        print(f"erreur : aucun utilisateur artis.net avec l'identifiant « {login} »",
              file=sys.stderr)
        return 1
    path = png or Path(f"{safe_file_stem(invite.login)}.png")
    path.write_bytes(qr_png(invite.link))
    l10n = L10n("fr", settings.tz)
    print(f"{invite.display_name} ({invite.login})")
    print(f"Lien d'appairage à usage unique, valable {validity_fr(settings.pairing_token_ttl)} "
          f"(jusqu'au {expiry_fr(l10n, invite.expires_at)}) :")
    print(invite.link)
    print(f"QR code : {path}")
    return 0


async def _sheet(settings: Settings, artis: ArtisClient, pairing: PairingService, *,
                 unit_code: str | None, out: Path) -> int:
    if unit_code:
        try:
            units = [await artis.get_org_unit(unit_code)]
        except NotFound:
            print(f"erreur : aucune unité organisationnelle « {unit_code} » dans artis.net",
                  file=sys.stderr)
            return 1
    else:
        units = await commerce_units(artis)
        if not units:
            print("erreur : aucune unité de type Commerce dans artis.net", file=sys.stderr)
            return 1
    teams: list[Team] = []
    seen: set[str] = set()  # a rep in two units gets one link only: a second would be wasted
    for unit in units:
        invites = []
        for user in await unit_reps(artis, unit):
            if user.login in seen:
                continue
            seen.add(user.login)
            invites.append(await pairing.invite(user.login))
        teams.append(Team(unit, invites))
    count = sum(len(team.invites) for team in teams)
    if not count:
        print("erreur : aucun commercial actif dans cette unité", file=sys.stderr)
        return 1
    l10n = L10n("fr", settings.tz)
    out.write_text(onboarding_html(teams, l10n, ttl=settings.pairing_token_ttl,
                                   bot_username=settings.telegram_bot_username),
                   encoding="utf-8")
    expiry = expiry_fr(l10n, max(i.expires_at for t in teams for i in t.invites))
    print(f"{count} lien{'s' if count > 1 else ''} d'appairage écrit{'s' if count > 1 else ''} "
          f"dans {out} (valables {validity_fr(settings.pairing_token_ttl)}, "
          f"jusqu'au {expiry}).")
    print("Imprimez la feuille et distribuez-la pendant ce délai ; pour une séance plus longue, "
          "augmentez PAIRING_TOKEN_TTL.")
    return 0


# -- the printable sheet ------------------------------------------------------------------
@dataclass(frozen=True)
class Team:
    unit: OrgUnit
    invites: list[Invite]


ONBOARDING_PAGE = Page("onboarding.html", style="onboarding.css", images=True)


def onboarding_html(teams: Sequence[Team], l10n: L10n, *, ttl: int, bot_username: str) -> str:
    """The whole sheet as one self-contained HTML document (QR codes inlined as data: URLs),
    with its Content-Security-Policy in a ``<meta>``: it is a file, opened without headers."""
    return ONBOARDING_PAGE.render(teams=teams, per_page=REPS_PER_PAGE, instructions=INSTRUCTIONS,
                                  validity=validity_fr(ttl), bot_username=bot_username,
                                  qr_src=qr_data_url, expiry=partial(expiry_fr, l10n))
