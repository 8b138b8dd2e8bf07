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
import html
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.i18n import L10n
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
def validity_fr(seconds: int) -> str:
    """``15 minutes``, ``2 heures``, ``1 jour``: how long a link lasts, in French."""
    if seconds >= 86400 and seconds % 86400 == 0:
        days = seconds // 86400
        return f"{days} jour{'s' if days > 1 else ''}"
    if seconds >= 3600 and seconds % 3600 == 0:
        hours = seconds // 3600
        return f"{hours} heure{'s' if hours > 1 else ''}"
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'s' if minutes > 1 else ''}"


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


_CSS = """
@page { size: A4; margin: 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Arial, Helvetica, sans-serif; color: #111; margin: 0;
       font-size: 11pt; line-height: 1.35; }
.page { width: 186mm; margin: 0 auto 10mm; padding: 4mm 0; }
header { border-bottom: 2px solid #1f4e79; margin-bottom: 4mm; padding-bottom: 2mm; }
header h1 { font-size: 15pt; margin: 0; color: #1f4e79; }
header p { margin: 1mm 0 0; font-size: 9.5pt; color: #444; }
.cards { display: grid; grid-template-columns: 1fr 1fr; gap: 5mm; }
.card { border: 1px solid #999; border-radius: 3mm; padding: 4mm; break-inside: avoid;
        page-break-inside: avoid; display: flex; flex-direction: column; align-items: center;
        text-align: center; }
.card h2 { font-size: 13pt; margin: 0; }
.card .login { font-family: "DejaVu Sans Mono", monospace; font-size: 10pt; color: #333;
               margin: 0.5mm 0 2mm; }
.card img { width: 45mm; height: 45mm; image-rendering: pixelated; }
.card .link { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; word-break: break-all;
              margin: 1.5mm 0; color: #333; }
.card ol { text-align: left; font-size: 9.5pt; margin: 1mm 0; padding-left: 5mm; }
.card .expiry { font-size: 9pt; font-weight: bold; margin: 1mm 0 0; }
.warning { font-size: 8.5pt; color: #7a1f1f; margin-top: 4mm; }
@media print {
  body { font-size: 10.5pt; }
  .page { margin: 0; padding: 0; width: auto; break-after: page; page-break-after: always; }
  .page:last-child { break-after: auto; page-break-after: auto; }
  .card { border-color: #555; }
}
"""


def onboarding_html(teams: Sequence[Team], l10n: L10n, *, ttl: int, bot_username: str) -> str:
    """The whole sheet as one self-contained HTML document (QR codes inlined as data: URLs)."""
    e = html.escape
    steps = [e(step) for step in INSTRUCTIONS]
    pages: list[str] = []
    for team in teams:
        chunks = [team.invites[i:i + REPS_PER_PAGE]
                  for i in range(0, len(team.invites), REPS_PER_PAGE)]
        for number, chunk in enumerate(chunks, start=1):
            cards = "\n".join(_card(invite, l10n, steps) for invite in chunk)
            part = f" ({number}/{len(chunks)})" if len(chunks) > 1 else ""
            pages.append(f"""<section class="page">
<header>
<h1>Assistant CRM sur Telegram — {e(team.unit.name)}{e(part)}</h1>
<p>Unité {e(team.unit.code)} · bot @{e(bot_username)} · chaque lien est personnel, à usage
unique et valable {e(validity_fr(ttl))}.</p>
</header>
<div class="cards">
{cards}
</div>
<p class="warning">Document confidentiel : un QR code permet d'appairer un compte. Remettez
chaque carte à son titulaire et détruisez les cartes non utilisées.</p>
</section>""")
    return f"""<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Appairage de l'assistant CRM — feuille d'accueil</title>
<style>{_CSS}</style>
</head>
<body>
{"".join(pages)}
</body>
</html>
"""


def _card(invite: Invite, l10n: L10n, steps: list[str]) -> str:
    e = html.escape
    items = "".join(f"<li>{step}</li>" for step in steps)
    return f"""<article class="card" data-login="{e(invite.login)}">
<h2>{e(invite.display_name)}</h2>
<p class="login">{e(invite.login)}</p>
<img class="qr" src="{qr_data_url(invite.link)}"
     alt="QR code d'appairage de {e(invite.display_name)}">
<p class="link">{e(invite.link)}</p>
<ol>{items}</ol>
<p class="expiry">Valable jusqu'au {e(expiry_fr(l10n, invite.expires_at))}</p>
</article>"""
