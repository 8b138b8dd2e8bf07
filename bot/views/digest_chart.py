"""The manager's week as a chart: per rep, appointments planned and done and reports missing.

matplotlib is heavy (≈ 0.3 s and 40 MB to import): it is imported here, inside the function,
and this module is imported only by the digest job, never when the bot starts. Without the
``charts`` extra the digest goes out as text alone. Drawn on a bare ``Figure`` (no pyplot and
its global state), so two digests may draw at once in threads.
"""

from __future__ import annotations

import io

from bot.i18n import L10n
from bot.services.digests import Digest
from bot.views import Photo

WIDTH_IN = 8.0
DPI = 100
MAX_REPS = 40  # beyond, bars get unreadable: the text has every rep anyway


def week_chart(t: L10n, data: Digest) -> Photo | None:
    """A PNG bar chart of the week per rep; None without reps or without matplotlib."""
    reps = data.reps[:MAX_REPS]
    if not reps:
        return None
    try:
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return None
    names = [rep.name for rep in reps][::-1]  # first rep at the top
    series = [
        (t._("Appointments planned"), [r.week.rdv_planned for r in reps][::-1], "#9ecae1"),
        (t._("Appointments done"), [r.week.rdv_done for r in reps][::-1], "#3182bd"),
        (t._("Reports missing"), [r.week.reports_missing for r in reps][::-1], "#e6550d"),
    ]
    figure = Figure(figsize=(WIDTH_IN, 1.6 + 0.55 * len(reps)), dpi=DPI)
    axes = figure.add_subplot()
    height = 0.26
    for index, (label, values, colour) in enumerate(series):
        positions = [n + (1 - index) * height for n in range(len(names))]
        bars = axes.barh(positions, values, height=height, label=label, color=colour)
        axes.bar_label(bars, labels=[str(v) if v else "" for v in values], padding=2,
                       fontsize=8)
    axes.set_yticks(range(len(names)), names, fontsize=9)
    axes.set_title(t._("Week of {monday}", monday=t.date(data.week_start, "d MMMM")))
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncols=3, fontsize=8,
                frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return Photo(buffer.getvalue(), caption=t._("📊 Your team's week so far"))
