"""The home screen: indicators of the rep's day and the way to everything else.

Shown right after pairing, on /start when paired, /menu, a greeting (« bonjour »), the
🏠 Menu button, and as the fresh menu after an expired or foreign button.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.callbacks import CallbackData
from bot.context import BotContext
from bot.outbound import answer, answer_cards, toast, typing
from bot.services.planning import Rep
from bot.views import Reply, common
from bot.views import planning as views
from bot.views.planning import MenuCb, MenuTarget
from integrations.artis.errors import ArtisUnavailable

GREETING = re.compile(r"^\s*(bonjour|bonsoir|salut|coucou|hello|hi|hey|good morning|menu)"
                      r"\s*[!.]*\s*$", re.IGNORECASE)


def rep_of(context: BotContext) -> Rep:
    """The rep's login and artis.net token (the access guard let only an unlocked, paired
    rep by)."""
    link = context.session.link
    token = link.artis_token if link is not None else None
    if link is None or token is None:
        raise RuntimeError("no artis.net session past the access guard")
    return Rep(link.login, token, context.session.tz)


@asynccontextmanager
async def waiting(update: Update) -> AsyncIterator[None]:
    """"typing…" while artis.net answers a typed request (a pressed button spins already)."""
    if update.callback_query is not None:
        yield
        return
    async with typing(update):
        yield


async def artis_down(update: Update, context: BotContext, retry: CallbackData) -> None:
    """artis.net did not answer: say so, with a 🔄 button repeating the request."""
    await answer(update, views.unavailable(context.l10n, retry.pack()),
                 edit=update.callback_query is not None)


D = TypeVar("D", bound=CallbackData)
ButtonCallback = Callable[[Update, BotContext, D], Awaitable[None]]


def retry_when_artis_down(callback: ButtonCallback[D]) -> ButtonCallback[D]:
    """A button's handler that reads or writes artis.net: when artis.net does not answer,
    the rep gets « artis.net ne répond pas » and 🔄, a press of the same button."""
    @functools.wraps(callback)
    async def wrapped(update: Update, context: BotContext, data: D) -> None:
        try:
            await callback(update, context, data)
        except ArtisUnavailable:
            await artis_down(update, context, data)
    return wrapped


async def show_home(update: Update, context: BotContext, *, edit: bool = False,
                    welcome: Reply | None = None) -> None:
    """The home screen; right after pairing, below the ``welcome`` in the same message."""
    link = context.session.link
    try:
        async with waiting(update):
            data = await context.services.planning.home(rep_of(context))
    except ArtisUnavailable:
        if welcome is not None:
            await answer(update, welcome)
        await artis_down(update, context, MenuCb(MenuTarget.HOME))
        return
    name = link.display_name if link is not None else ""
    screen = views.home(context.l10n, name, data)
    if welcome is not None:
        screen = Reply(f"{welcome.text}\n\n{screen.text}", screen.keyboard)
    await answer(update, screen, edit=edit)


async def menu(update: Update, context: BotContext) -> None:
    await show_home(update, context)


async def menu_button(update: Update, context: BotContext, data: MenuCb) -> None:
    match data.target:
        case MenuTarget.HOME:
            await show_home(update, context, edit=True)
        case MenuTarget.NEARBY:
            await answer_cards(update, [views.ask_location(context.l10n)])
        case MenuTarget.HELP:
            await answer(update, views.help_screen(context.l10n, common.help_text(
                context.l10n, paired=True,
                support_contact=context.services.settings.support_contact)), edit=True)


async def location(update: Update, context: BotContext) -> None:
    """A location, sent any time: the rep's open actions nearby, nearest first."""
    message = update.effective_message
    if message is None or message.location is None:
        return
    point = message.location
    try:
        async with waiting(update):
            data = await context.services.planning.nearby(rep_of(context), point.latitude,
                                                          point.longitude)
    except ArtisUnavailable:
        await answer(update, views.unavailable(context.l10n, MenuCb(MenuTarget.NEARBY).pack()))
        return
    await answer(update, views.nearby(context.l10n, data))


async def stale(update: Update, context: BotContext) -> None:
    """An expired, forged or foreign button: the stale answer, then a fresh menu."""
    await toast(update, common.stale_button(context.l10n), alert=True)
    await show_home(update, context)


HANDLERS = [
    CommandHandler(["menu", "accueil", "home"], menu),
    MessageHandler(filters.TEXT & ~filters.COMMAND & filters.Regex(GREETING), menu),
    MenuCb.handler(menu_button),
    MessageHandler(filters.LOCATION, location),
]
