"""The terminal demo triggers a digest and a reminder on demand (``:digest``, ``:reminder``)."""

from __future__ import annotations

import io

from bot.terminal import TerminalChat
from tests.harness import BotHarness, new_user


async def _chat(bot: BotHarness, login: str) -> tuple[TerminalChat, io.StringIO]:
    user = new_user()
    await bot.pair(user, login)
    out = io.StringIO()
    return TerminalChat(bot.runtime, bot.api, out, user=user), out


async def test_digest_on_demand_shows_the_text_and_the_chart(bot: BotHarness) -> None:
    chat, out = await _chat(bot, "demo.manager")
    assert await chat.handle_line(":digest")
    shown = out.getvalue()
    assert "La journée de votre équipe" in shown and "Lucie Mercier" in shown
    assert "📄 Fichier : " in shown and "La semaine de votre équipe" in shown


async def test_a_rep_asking_for_a_digest_is_told_who_gets_one(bot: BotHarness) -> None:
    chat, out = await _chat(bot, "demo.commercial")
    await chat.handle_line(":digest")
    assert "n'est responsable d'aucune équipe" in out.getvalue()


async def test_reminders_on_demand(bot: BotHarness) -> None:
    chat, out = await _chat(bot, "demo.commercial")
    await chat.handle_line(":reminder briefing")
    assert "Dans un instant" in out.getvalue()
    assert "[1] 🗺 Google Maps" in out.getvalue()
    await chat.handle_line(":reminder nudge")
    assert "Pas encore de compte rendu" in out.getvalue()
    assert "✍️ Compte rendu" in out.getvalue()
