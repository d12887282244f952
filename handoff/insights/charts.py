"""Charts for the HTML report, drawn with matplotlib (the optional `report` extra).

Only the CLI draws charts; the monthly email from the Lambda carries the same figures as
tables, so the layer never ships a plotting library.
"""

from __future__ import annotations

import base64
import io
from collections import Counter
from collections.abc import Sequence
from typing import Any

from handoff.config import HandoffConfig
from handoff.insights.analysis import Analysis
from handoff.insights.kpis import Kpis

INK, ACCENT, MUTED = "#1f2933", "#2f6fde", "#9aa5b1"


def _figure(title: str) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")  # no display: render straight to PNG
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(6.4, 3.4), dpi=110)
    axes.set_title(title, loc="left", fontsize=12, color=INK)
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _png(figure: Any) -> bytes:
    from matplotlib import pyplot

    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()


def speed_to_lead(seconds: Sequence[float]) -> bytes:
    figure, axes = _figure("Speed to lead: received to brief sent (seconds)")
    axes.hist(seconds, bins=30, color=ACCENT)
    axes.set_xlabel("seconds")
    axes.set_ylabel("handoffs")
    return _png(figure)


def funnel(kpis: Kpis) -> bytes:
    stages = {"received": kpis.received, "qualified": kpis.qualified, "handed off": kpis.handed_off,
              "contacted": kpis.contacted, "meeting set": kpis.meetings}  # fmt: skip
    if kpis.deals:
        # Where the handoff ends in pipeline: deals, not leads (a lead may open more than one).
        stages |= {"deals at stage 1": kpis.stage_1, "deals at stage 2": kpis.stage_2, "deals won": kpis.won}
    figure, axes = _figure("Funnel")
    bars = axes.barh(list(stages)[::-1], list(stages.values())[::-1], color=ACCENT)
    axes.bar_label(bars, padding=3, color=INK)
    return _png(figure)


def meeting_rate_by_fit(totals: Counter[int], hits: Counter[int], config: HandoffConfig) -> bytes:
    """On the axis the threshold proposal moves (qualify.min_fit), with today's line drawn in:
    handoffs and meetings per fit band of 10."""
    bands = sorted(totals)
    figure, axes = _figure("Meeting rate by fit band")
    axes.bar([b + 5 for b in bands], [hits[b] / totals[b] for b in bands], width=9, color=ACCENT)
    min_fit = config.qualify.min_fit
    axes.axvline(min_fit, color=INK, linestyle="--", linewidth=1)
    axes.annotate(f"min_fit {min_fit:g}", (min_fit, axes.get_ylim()[1]), xytext=(4, -12),
                  textcoords="offset points", ha="left", color=INK, fontsize=8)  # fmt: skip
    low = int(min([*bands, min_fit]) // 10) * 10
    axes.set_xlim(low - 2, 102)
    axes.set_xticks(range(low, 101, 10))
    axes.yaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
    axes.set_xlabel("fit (0-100)")
    return _png(figure)


def rep_load(kpis: Kpis) -> bytes:
    figure, axes = _figure("Handoffs routed to each rep")
    bars = axes.bar(list(kpis.rep_load), list(kpis.rep_load.values()), color=MUTED)
    axes.bar_label(bars, padding=2, color=INK)
    axes.tick_params(axis="x", rotation=30)
    return _png(figure)


def all_charts(analysis: Analysis, kpis: Kpis, config: HandoffConfig) -> dict[str, bytes]:
    """From the one pass over history (the analysis keeps speeds and fit bands, never rows)."""
    return {
        "Speed to lead": speed_to_lead(analysis.kpis.speeds),
        "Funnel": funnel(kpis),
        "Meeting rate by fit band": meeting_rate_by_fit(
            analysis.fit_band_totals, analysis.fit_band_meetings, config
        ),
        "Handoffs routed to each rep": rep_load(kpis),
    }


def data_uris(charts: dict[str, bytes]) -> dict[str, str]:
    return {name: "data:image/png;base64," + base64.b64encode(png).decode() for name, png in charts.items()}
