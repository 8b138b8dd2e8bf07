"""The artis CRM assistant's Telegram side."""

import os
import sys

# Cold start: the ``httpx`` package imports its command-line tool (click, and pygments and
# rich where installed) on every import, and the bot never runs it. Marked absent, httpx
# falls back to a stub ``main`` (its own ImportError path): 15 to 65 ms less per start.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

# python-telegram-bot 22 warns at every read of a duration (a voice note's, a 429's
# ``retry_after``, even inside its own ``RetryAfter``) until a process opts in to the
# ``timedelta`` values of its next major version. We read them as either
# (``bot.polling._seconds``, ``bot.ratelimit``; voice notes through ``to_dict()``), so
# we opt in: one behaviour now and after the upgrade, and no warning per 429 in the logs.
os.environ.setdefault("PTB_TIMEDELTA", "true")
