"""Charts drawn once per brief and reused by every format.

:func:`draw_charts` turns each :class:`~parley.report.model.ChartData` of a brief into a
:class:`Chart`: an SVG string (vector, text kept as text, for HTML and PDF) and a
high-dpi PNG (PowerPoint, Excel).  One visual style: the Okabe-Ito colour-blind-safe
palette, DejaVu Sans (shipped with matplotlib, embedded in the HTML and given to
Typst), labelled axes with units, the source under every chart.

Matplotlib is used through the object API (``matplotlib.figure.Figure`` on the Agg
canvas), never ``pyplot``, so no global state leaks between charts or threads.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from parley.report.model import Brief, ChartData, Unit, short

# Okabe & Ito (2008), "Color Universal Design"
OKABE_ITO = {
    "black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9", "bluish_green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "reddish_purple": "#CC79A7",
}
INK = "#1F2933"
MUTED = "#7B8794"
GRID = "#E4E7EB"
ROLE_COLOURS = {"primary": OKABE_ITO["blue"], "baseline": MUTED, "peer": OKABE_ITO["orange"],
                "target": OKABE_ITO["bluish_green"], "other": OKABE_ITO["sky_blue"],
                "low": OKABE_ITO["vermillion"], "high": OKABE_ITO["bluish_green"]}
SEQUENCE = [OKABE_ITO[k] for k in ("blue", "orange", "bluish_green", "vermillion", "sky_blue", "reddish_purple", "yellow")]
FONT = "DejaVu Sans"
WIDTH_IN, HEIGHT_IN = 7.2, 3.4
PNG_DPI = 200


class Chart(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    title: str
    alt: str
    source: str
    note: str | None
    svg: str
    png: bytes


class ChartSet(BaseModel):
    """Every chart of one brief, by key (drawn once)."""

    model_config = ConfigDict(frozen=True)

    charts: dict[str, Chart]

    def get(self, key: str) -> Chart | None:
        return self.charts.get(key)

    def __iter__(self) -> Any:  # type: ignore[override]
        return iter(self.charts.values())

    def __len__(self) -> int:
        return len(self.charts)


def font_dir() -> Path:
    """The folder holding DejaVu Sans inside matplotlib (shared by HTML and PDF)."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def _rc() -> dict[str, Any]:
    return {
        "font.family": FONT, "font.size": 8.5, "axes.edgecolor": MUTED, "axes.labelcolor": INK,
        "axes.titlesize": 9, "xtick.color": INK, "ytick.color": INK, "axes.spines.top": False,
        "axes.spines.right": False, "svg.fonttype": "none", "axes.axisbelow": True,
        "svg.hashsalt": "parley", "legend.frameon": False, "legend.fontsize": 8,
    }


def _num(v: Decimal | None) -> float:
    return float("nan") if v is None else float(v)


def _tick_formatter(unit: Unit) -> Callable[[float, Any], str]:
    def fmt(x: float, _pos: Any) -> str:
        if unit in ("dollars",):
            if abs(x) >= 1_000_000:
                text = f"{abs(x) / 1_000_000:.2f}".rstrip("0").rstrip(".")
                return f"{'-' if x < 0 else ''}${text}M"
            return short(Decimal(str(round(x, 2))), "dollars")
        if unit in ("percent", "percent_of_medicare"):
            return f"{x:,.0f}%" if float(x).is_integer() or abs(x) >= 100 else f"{x:,.1f}%"
        if unit == "fraction":
            return f"{x * 100:,.0f}%"
        return f"{x:,.0f}" if abs(x) >= 10 else f"{x:,.1f}".rstrip("0").rstrip(".")
    return fmt


def _bar(ax: Any, c: ChartData, horizontal: bool) -> None:
    import numpy as np

    n = len(c.series)
    idx = np.arange(len(c.categories))
    width = 0.8 / max(n, 1)
    for i, s in enumerate(c.series):
        vals = [_num(v) for v in s.values]
        colours = [_colour(c, s, i, cat) for cat in c.categories]
        pos = idx + (i - (n - 1) / 2) * width
        bars = (ax.barh(pos, vals, height=width * 0.92, color=colours, label=s.name) if horizontal
                else ax.bar(pos, vals, width=width * 0.92, color=colours, label=s.name))
        if len(c.categories) <= 12 and n <= 2:
            ax.bar_label(bars, labels=[short(v, c.unit) if v is not None else "" for v in s.values],
                         padding=2, fontsize=7, color=INK)
    (ax.set_yticks if horizontal else ax.set_xticks)(idx, c.categories)
    if horizontal:
        ax.invert_yaxis()
    elif max((len(x) for x in c.categories), default=0) > 10:
        ax.tick_params(axis="x", labelrotation=30)
        for lab in ax.get_xticklabels():
            lab.set_horizontalalignment("right")


def _colour(c: ChartData, s: Any, i: int, cat: str) -> str:
    if c.highlight and len(c.series) == 1:
        return OKABE_ITO["blue"] if cat in c.highlight else "#B8C4CE"
    if len(c.series) == 1 and c.kind in ("bar", "hbar"):
        v = s.values[c.categories.index(cat)] if cat in c.categories else None
        return OKABE_ITO["vermillion"] if v is not None and v < 0 else OKABE_ITO["blue"]
    return ROLE_COLOURS.get(s.role, SEQUENCE[i % len(SEQUENCE)]) if s.role != "primary" or i == 0 else SEQUENCE[i % len(SEQUENCE)]


def _line(ax: Any, c: ChartData) -> None:
    styles = {"baseline": ":", "peer": "--", "target": "-."}
    for i, s in enumerate(c.series):
        ax.plot(c.categories, [_num(v) for v in s.values], linestyle=styles.get(s.role, "-"),
                marker="o" if s.role == "primary" else None, markersize=3.5, linewidth=2 if s.role == "primary" else 1.4,
                color=_colour(c, s, i, ""), label=s.name)
    if len(c.categories) > 8:
        step = max(1, len(c.categories) // 8)
        ax.set_xticks(range(0, len(c.categories), step), c.categories[::step])


def _stacked(ax: Any, c: ChartData) -> None:
    import numpy as np

    bottom = np.zeros(len(c.categories))
    for i, s in enumerate(c.series):
        vals = np.array([_num(v) for v in s.values])
        vals = np.nan_to_num(vals)
        ax.bar(c.categories, vals, bottom=bottom, color=SEQUENCE[i % len(SEQUENCE)], label=s.name, width=0.7)
        bottom += vals


def _histogram(ax: Any, c: ChartData) -> None:
    s = c.series[0]
    vals = [_num(v) for v in s.values]
    centres = [float(x) for x in c.categories]
    width = (centres[1] - centres[0]) * 0.95 if len(centres) > 1 else 1.0
    colours = [OKABE_ITO["vermillion"] if x < 0 else OKABE_ITO["blue"] for x in centres]
    ax.bar(centres, vals, width=width, color=colours)
    ax.xaxis.set_major_formatter(_tick_formatter(c.unit))
    ax.yaxis.set_major_formatter(_tick_formatter("percent"))


def _range(ax: Any, c: ChartData) -> None:
    """Horizontal bars from low to high per category (the ZOPA picture), point markers for the rest."""
    low = next((s for s in c.series if s.role == "low"), None)
    high = next((s for s in c.series if s.role == "high"), None)
    for i in range(len(c.categories)):
        lo = _num(low.values[i]) if low else float("nan")
        hi = _num(high.values[i]) if high else float("nan")
        if lo == lo and hi == hi:
            ax.barh(i, hi - lo, left=lo, height=0.55, color=OKABE_ITO["bluish_green"] if hi >= lo else OKABE_ITO["vermillion"],
                    alpha=0.35)
            ax.text(hi, i, f"  {short(Decimal(str(round(hi, 2))), c.unit)}", va="center", fontsize=7, color=INK)
    ax.set_yticks(range(len(c.categories)), c.categories)
    ax.set_ylim(len(c.categories) - 0.5, -0.5)
    values = [float(v) for s in c.series for v in s.values if v is not None] + [float(v) for v in c.markers.values()]
    if values:
        lo, hi = min(values), max(values)
        pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0
        ax.set_xlim(lo - pad, hi + pad * 2.5)


def _waterfall(ax: Any, c: ChartData) -> None:
    s = c.series[0]
    total = 0.0
    for i, v in enumerate(s.values):
        x = _num(v)
        last = i == len(s.values) - 1
        bottom, height = (0.0, x) if (i == 0 or last) else (total, x)
        colour = OKABE_ITO["blue"] if (i == 0 or last) else (OKABE_ITO["bluish_green"] if x >= 0 else OKABE_ITO["vermillion"])
        ax.bar(i, height, bottom=bottom, color=colour, width=0.6)
        ax.text(i, bottom + height if height >= 0 else bottom, short(v, c.unit), ha="center", va="bottom", fontsize=7, color=INK)
        total = x if i == 0 else total + (0 if last else x)
    ax.set_xticks(range(len(c.categories)), c.categories)


def _markers(ax: Any, c: ChartData, horizontal: bool) -> None:
    for i, (name, value) in enumerate(c.markers.items()):
        colour = [OKABE_ITO["vermillion"], OKABE_ITO["bluish_green"], INK, OKABE_ITO["orange"]][i % 4]
        v = float(value)
        if horizontal or c.kind == "range":
            ax.axvline(v, color=colour, linestyle="--", linewidth=1)
            ax.annotate(f"{name}: {short(value, c.unit)}", (v, 1.0), xycoords=("data", "axes fraction"), rotation=0,
                        fontsize=7, color=colour, ha="left", va="bottom", xytext=(2, 2 + 9 * i), textcoords="offset points")
        else:
            ax.axhline(v, color=colour, linestyle="--", linewidth=1)
            ax.annotate(f"{name}: {short(value, c.unit)}", (1.0, v), xycoords=("axes fraction", "data"), fontsize=7,
                        color=colour, ha="right", va="bottom", xytext=(0, 2), textcoords="offset points")


def _layout(fig: Any, c: ChartData, horizontal: bool) -> None:
    """Fixed margins from the label lengths (tight_layout costs a full extra draw per chart)."""
    w, h = fig.get_size_inches()
    char = 8.5 / 72 * 0.6  # inches per character at the tick font size
    if horizontal:
        longest = max((len(x) for x in c.categories), default=4)
        left = min(0.5, (longest * char + (0.35 if c.y_label else 0.15)) / w)
    else:
        left = (max(len(_tick_formatter(c.unit)(v, None)) for v in (0.0, 1e6 if c.unit == "dollars" else 100.0)) * char + 0.45) / w
    rotated = not horizontal and c.kind in ("bar", "stacked_bar") and max((len(x) for x in c.categories), default=0) > 10
    legend = len(c.series) > 1 and c.kind != "range"
    bottom = (0.62 + (0.55 if rotated else 0) + (0.3 if legend else 0)) / h
    top = 1 - (0.15 + 0.14 * len(c.markers) if c.markers and horizontal else 0.12) / h
    fig.subplots_adjust(left=left, right=0.96 if not horizontal else 0.93, bottom=bottom, top=top)


def draw_chart(c: ChartData) -> Chart:
    """One chart: SVG (vector, text as text) and PNG at 200 dpi, in the brief's style."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_rc()):
        tall = c.kind in ("hbar", "range") and len(c.categories) > 6
        height = 1.5 + 0.45 * len(c.categories) if c.kind == "range" else HEIGHT_IN + (0.18 * (len(c.categories) - 6) if tall else 0)
        fig = Figure(figsize=(WIDTH_IN, height))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        horizontal = c.kind in ("hbar", "range")
        {"bar": lambda: _bar(ax, c, False), "hbar": lambda: _bar(ax, c, True), "line": lambda: _line(ax, c),
         "stacked_bar": lambda: _stacked(ax, c), "histogram": lambda: _histogram(ax, c),
         "range": lambda: _range(ax, c), "waterfall": lambda: _waterfall(ax, c)}[c.kind]()
        value_axis = ax.xaxis if horizontal else ax.yaxis
        if c.kind != "histogram":
            value_axis.set_major_formatter(_tick_formatter(c.unit))
        (ax.xaxis if horizontal else ax.yaxis).grid(True, color=GRID, linewidth=0.8)
        ax.set_xlabel(c.x_label)
        ax.set_ylabel(c.y_label)
        _markers(ax, c, horizontal)
        if len(c.series) > 1 and c.kind not in ("range",):
            ax.legend(loc="upper left", bbox_to_anchor=(0, -0.17), ncol=min(len(c.series), 4))
        fig.text(0.01, 0.01, f"Source: {c.source}", fontsize=6.5, color=MUTED, ha="left", va="bottom")
        _layout(fig, c, horizontal)
        svg = io.StringIO()
        fig.savefig(svg, format="svg", metadata={"Date": None})
        png = io.BytesIO()
        fig.savefig(png, format="png", dpi=PNG_DPI)
    text = _unique_ids(svg.getvalue(), c.key)
    text = text[text.index("<svg"):]
    return Chart(key=c.key, title=c.title, alt=c.alt, source=c.source, note=c.note, svg=text, png=png.getvalue())


def _unique_ids(svg: str, key: str) -> str:
    """Prefix every id (and its references) with the chart key: several charts share one HTML page."""
    import re

    prefix = re.sub(r"[^A-Za-z0-9]", "-", key) + "-"
    svg = re.sub(r'id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)
    return re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', svg)


def draw_charts(brief: Brief) -> ChartSet:
    """Every chart of the brief, drawn once."""
    return ChartSet(charts={c.key: draw_chart(c) for c in brief.charts()})
