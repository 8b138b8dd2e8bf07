"""/planning, the planning buttons and typed dates: a day, a week or a month of actions.

« demain », « jeudi prochain », « semaine prochaine », « planning du 3 décembre »,
"tomorrow": read by ``bot/services/dates.py`` in the rep's time zone.
"""

from __future__ import annotations

import re
from datetime import datetime

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.outbound import answer
from bot.services import dates
from bot.services.planning import View
from bot.views import common
from bot.views import planning as views
from bot.views.planning import PlanCb
from handlers.home import rep_of, retry_when_artis_down, waiting


@retry_when_artis_down
async def show(update: Update, context: BotContext, data: PlanCb) -> None:
    async with waiting(update):
        shown = await context.services.planning.planning(rep_of(context), data.view, data.day)
    await answer(update, views.planning(context.l10n, shown, data.page),
                 edit=update.callback_query is not None)


#: A text that asks for a planning even when its date cannot be read.
ASKS_PLANNING = re.compile(r"^\s*(/?planning|agenda|schedule|calendar)\b", re.IGNORECASE)

_VIEWS = {dates.Span.DAY: View.DAY, dates.Span.PART_OF_DAY: View.DAY,
          dates.Span.WEEK: View.WEEK, dates.Span.MONTH: View.MONTH}


def read_date(context: BotContext, text: str) -> PlanCb | None:
    """The planning a typed phrase asks for, or None when it says no date."""
    session = context.session
    when = dates.resolve(text, now=datetime.now(session.tz), tz=session.tz, lang=session.lang)
    if when is None:
        return None
    view = _VIEWS.get(when.span)
    if view is None:  # a run of days: the week it starts, or its month when longer
        view = View.WEEK if (when.last - when.start).days < 7 else View.MONTH
    return PlanCb(view, when.start)


async def command(update: Update, context: BotContext) -> None:
    """/planning, or /planning PHRASE (« /planning jeudi prochain »)."""
    said = " ".join(context.args or [])
    if not said:
        await show(update, context, PlanCb(View.DAY))
        return
    wanted = read_date(context, said)
    if wanted is None:
        await answer(update, views.unreadable_date(context.l10n))
        return
    await show(update, context, wanted)


async def typed(update: Update, context: BotContext) -> None:
    """Free text: a date phrase opens that planning; anything else is not understood."""
    text = update.effective_message.text if update.effective_message else None
    wanted = read_date(context, text or "")
    if wanted is not None:
        await show(update, context, wanted)
    elif text and ASKS_PLANNING.match(text):
        if ASKS_PLANNING.sub("", text).strip(" ?!.:"):
            await answer(update, views.unreadable_date(context.l10n))
        else:  # « planning » alone: today's
            await show(update, context, PlanCb(View.DAY))
    else:
        await answer(update, common.not_understood(context.l10n))


HANDLERS = [
    CommandHandler(["planning", "agenda"], command),
    PlanCb.handler(show),
    MessageHandler(filters.TEXT & ~filters.COMMAND, typed),
]
