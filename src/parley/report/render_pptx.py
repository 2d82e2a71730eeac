"""The brief as a 16:9 board deck (python-pptx), from the same model and the same chart PNGs.

Thirteen slides, one message each, every title an action title (the finding):

 1. title                      8. zone of agreement (walk-away, opening offer, payer maximum)
 2. executive summary          9. value-based sensitivity (distribution, probability of owing)
 3. rate position             10. payer exit impact
 4. performance               11. recommendation and playbook (objections, counterpoints)
 5. speed and burden          12. contracts and key dates
 6. value story               13. appendix: method notes
 7. scenarios side by side

A slide whose data is missing says what is missing (the section's notes) instead of
showing zeros.  Every slide has a source footer and a number; text uses DejaVu Sans
(the charts' font; PowerPoint falls back to a sans font where it is not installed) and
is measured before it is placed: :func:`fit` picks the largest size whose wrapped
lines fit the box with a conservative average glyph width, and shortens the text
(with an ellipsis) when even the smallest size does not fit.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from parley.report.charts import ChartSet
from parley.report.model import Brief, ChartData, Figure, Section, display, money, short

FONT = "DejaVu Sans"
INK = RGBColor(0x1F, 0x29, 0x33)
MUTED = RGBColor(0x7B, 0x87, 0x94)
ACCENT = RGBColor(0x00, 0x72, 0xB2)  # Okabe-Ito blue
GREEN = RGBColor(0x00, 0x9E, 0x73)
VERMILLION = RGBColor(0xD5, 0x5E, 0x00)
PALE = RGBColor(0xF3, 0xF5, 0xF7)
MISSING_FILL = RGBColor(0xFD, 0xF1, 0xE6)
WHITE = RGBColor(0xFF, 0xFF, 0xFF)
HIGHLIGHT = RGBColor(0xD6, 0xEA, 0xF5)

W, H = 13.333, 7.5
MARGIN = 0.6
BODY_TOP = 1.65
BODY_BOTTOM = 6.75
GLYPH_EM = 0.62  # conservative average glyph width of DejaVu Sans, in ems (bold: x 1.1; capitals widen it)
LINE_EM = 1.25
PAD = 0.05  # text frame inner margin (inches, each side)
CHART_ASPECT = 7.2 / 3.4
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --------------------------------------------------------------------------- text measurement


def glyph_em(paragraphs: Iterable[str], bold: bool = False) -> float:
    """Average glyph width in ems for this text: capitals and digits are wider than lower case."""
    text = "".join(paragraphs)
    wide = sum(1 for ch in text if ch.isupper() or ch.isdigit() or ch in "$%@MW") / max(len(text), 1)
    return GLYPH_EM * (1.1 if bold else 1.0) * (1 + 0.2 * wide)


def capacity(width_in: float, height_in: float, pt: float, em: float = GLYPH_EM) -> tuple[int, int]:
    """(characters per line, lines) a box holds at ``pt`` (inner margins excluded)."""
    cpl = int((width_in - 2 * PAD) * 72 / (pt * em))
    lines = int((height_in - 2 * PAD) * 72 / (pt * LINE_EM))
    return max(cpl, 1), max(lines, 0)


def lines_needed(paragraphs: Iterable[str], cpl: int) -> int:
    """Wrapped line count, word by word (a word longer than a line is split)."""
    total = 0
    for p in paragraphs:
        n, col = 1, 0
        for word in p.split():
            w = len(word)
            while w > cpl:
                n += 1 if col else 0
                w -= cpl
                col = 0
            need = w if col == 0 else col + 1 + w
            if need > cpl:
                n += 1
                col = w
            else:
                col = need
        total += n
    return total


def fits(paragraphs: list[str], width_in: float, height_in: float, pt: float, bold: bool = False) -> bool:
    cpl, lines = capacity(width_in, height_in, pt, glyph_em(paragraphs, bold))
    return lines_needed(paragraphs, cpl) <= lines


def fit(paragraphs: list[str], width_in: float, height_in: float, max_pt: float, min_pt: float,
        bold: bool = False) -> tuple[float, list[str]]:
    """The largest size (0.5 pt steps) at which the paragraphs fit; else shorten them at ``min_pt``."""
    pt = max_pt
    while pt >= min_pt:
        if fits(paragraphs, width_in, height_in, pt, bold):
            return pt, paragraphs
        pt -= 0.5
    cpl, lines = capacity(width_in, height_in, min_pt, glyph_em(paragraphs, bold))
    out: list[str] = []
    for p in paragraphs:
        room = lines - lines_needed(out, cpl) if out else lines
        if room <= 0:
            break
        if lines_needed([p], cpl) <= room:
            out.append(p)
            continue
        budget = max(room * cpl - cpl // 2, 1)  # word wrap wastes up to a word per line
        cut = p[:budget].rsplit(" ", 1)[0] if " " in p[:budget] else p[:budget]
        while cut and lines_needed([cut + "..."], cpl) > room:
            cut = cut[:-max(1, len(cut) // 10)]
        if cut:
            out.append(cut.rstrip(" ,;:") + "...")
        break
    return min_pt, out


# --------------------------------------------------------------------------- deck


def write(brief: Brief, charts: ChartSet, path: Path) -> Path:
    """Write the deck atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    prs = build_deck(brief, charts)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        prs.save(str(tmp))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def build_deck(brief: Brief, charts: ChartSet) -> Any:
    deck = _Deck(brief, charts)
    for make in (deck.title_slide, deck.summary, deck.rate_position, deck.performance, deck.speed, deck.value_story,
                 deck.scenarios, deck.zopa, deck.value_based, deck.exit, deck.playbook, deck.key_dates, deck.appendix):
        make()
    deck.number()
    return deck.prs


class _Deck:
    def __init__(self, brief: Brief, charts: ChartSet) -> None:
        self.brief, self.charts = brief, charts
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = Inches(W), Inches(H)
        self.layout = self.prs.slide_layouts[5]  # "Title Only": a real title placeholder on every slide
        self.used: set[str] = set()
        self.footers: list[Any] = []

    # ------------------------------------------------------------------ primitives

    def slide(self, title: str, source: str | None = None) -> Any:
        s = self.prs.slides.add_slide(self.layout)
        t = s.shapes.title
        t.left, t.top, t.width, t.height = Inches(MARGIN), Inches(0.35), Inches(W - 2 * MARGIN), Inches(1.1)
        self.fill(t.text_frame, [title], W - 2 * MARGIN, 1.1, 26, 16, bold=True, colour=INK, anchor=MSO_ANCHOR.BOTTOM)
        bar = s.shapes.add_shape(MSO_SHAPE.RECTANGLE, Inches(MARGIN), Inches(1.5), Inches(1.2), Inches(0.06))
        bar.fill.solid()
        bar.fill.fore_color.rgb = ACCENT
        bar.line.fill.background()
        foot = f"Source: {source}" if source else f"Source: Parley analysis of {self.brief.organization}'s data"
        self.text(s, [foot], MARGIN, 6.95, 7.0, 0.4, 9, 7, colour=MUTED)
        self.footers.append(s)
        return s

    def fill(self, tf: Any, paragraphs: list[str], w: float, h: float, max_pt: float, min_pt: float, *,
             bold: bool = False, colour: RGBColor = INK, align: Any = None, anchor: Any = MSO_ANCHOR.TOP,
             bullets: bool = False) -> float:
        clean = [" ".join(CONTROL.sub(" ", str(p)).split()) for p in paragraphs]  # one line of plain text each
        pt, paras = fit([("\u2022 " + p if bullets else p) for p in clean], w, h, max_pt, min_pt, bold)
        tf.clear()
        tf.word_wrap = True
        tf.auto_size = None
        tf.vertical_anchor = anchor
        for side in ("margin_left", "margin_right", "margin_top", "margin_bottom"):
            setattr(tf, side, Inches(PAD))
        for i, text in enumerate(paras or [""]):
            p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            if align is not None:
                p.alignment = align
            if bullets and i:
                p.space_before = Pt(pt * 0.4)
            run = p.add_run()
            run.text = text
            f = run.font
            f.name, f.size, f.bold = FONT, Pt(pt), bold
            f.color.rgb = colour
        return pt

    def text(self, s: Any, paragraphs: list[str], x: float, y: float, w: float, h: float, max_pt: float,
             min_pt: float, **kw: Any) -> Any:
        box = s.shapes.add_textbox(Inches(x), Inches(y), Inches(w), Inches(h))
        self.fill(box.text_frame, paragraphs, w, h, max_pt, min_pt, **kw)
        return box

    def panel(self, s: Any, x: float, y: float, w: float, h: float, fill: RGBColor = PALE) -> Any:
        box = s.shapes.add_shape(MSO_SHAPE.RECTANGLE, Inches(x), Inches(y), Inches(w), Inches(h))
        box.fill.solid()
        box.fill.fore_color.rgb = fill
        box.line.fill.background()
        box.shadow.inherit = False
        return box

    def missing(self, s: Any, notes: list[str], x: float = MARGIN, y: float = BODY_TOP + 0.2,
                w: float = W - 2 * MARGIN, h: float = 2.2) -> None:
        self.panel(s, x, y, w, h, MISSING_FILL)
        self.text(s, ["What is missing"], x + 0.25, y + 0.15, w - 0.5, 0.45, 16, 12, bold=True, colour=VERMILLION)
        self.text(s, notes or ["No data for this page yet."], x + 0.25, y + 0.65, w - 0.5, h - 0.8, 16, 10, bullets=True)

    def big_figures(self, s: Any, figures: list[Figure], x: float, y: float, w: float, h: float = 1.5) -> None:
        figures = figures[:5]
        if not figures:
            return
        gap = 0.2
        bw = (w - gap * (len(figures) - 1)) / len(figures)
        for i, f in enumerate(figures):
            bx = x + i * (bw + gap)
            self.panel(s, bx, y, bw, h)
            value, label = _big(f)
            self.text(s, [value], bx + 0.1, y + 0.1, bw - 0.2, 0.75, 30, 14, bold=True,
                      colour=ACCENT if f.value is not None else MUTED)
            self.text(s, [label], bx + 0.1, y + 0.85, bw - 0.2, h - 0.95, 12, 8, colour=INK)

    def chart(self, s: Any, c: ChartData | None, x: float, y: float, w: float, h: float) -> bool:
        chart = self.charts.get(c.key) if c is not None else None
        if chart is None:
            return False
        assert c is not None
        self.used.add(c.key)
        cw, ch = w, w / CHART_ASPECT
        if ch > h:
            cw, ch = h * CHART_ASPECT, h
        pic = s.shapes.add_picture(io.BytesIO(chart.png), Inches(x), Inches(y), Inches(cw), Inches(ch))
        pic.name = f"chart {c.key}"
        s.notes_slide.notes_text_frame.text = f"{chart.title}. {chart.alt} Source: {chart.source}"
        return True

    def table(self, s: Any, header: list[str], rows: list[list[str]], x: float, y: float, w: float,
              widths: list[float], align_right: set[int], max_h: float, bold_rows: set[int] | None = None,
              tallest: float = 0.4) -> None:
        rows = rows[: max(1, int(max_h / 0.4) - 1)]
        row_h = max(0.4, min(tallest, max_h / (len(rows) + 1)))
        shape = s.shapes.add_table(len(rows) + 1, len(header), Inches(x), Inches(y), Inches(w), Inches(row_h * (len(rows) + 1)))
        tbl = shape.table
        total = sum(widths)
        for i, wi in enumerate(widths):
            tbl.columns[i].width = Emu(int(Inches(w) * wi / total))
        for r, values in enumerate([header, *rows]):
            tbl.rows[r].height = Inches(row_h if r else 0.4)
            for ci, v in enumerate(values):
                cell = tbl.cell(r, ci)
                cw = w * widths[ci] / total
                cell.margin_left = cell.margin_right = Inches(0.06)
                cell.fill.solid()
                cell.fill.fore_color.rgb = INK if r == 0 else (PALE if r % 2 == 0 else WHITE)
                mine = r > 0 and r - 1 in (bold_rows or set())
                if mine:
                    cell.fill.fore_color.rgb = HIGHLIGHT
                self.fill(cell.text_frame, [v], cw, row_h if r else 0.4, 12 if r else 11, 8, bold=r == 0 or mine,
                          colour=WHITE if r == 0 else INK, align=PP_ALIGN.RIGHT if ci in align_right else PP_ALIGN.LEFT,
                          anchor=MSO_ANCHOR.MIDDLE)

    def bullets(self, s: Any, items: list[str], x: float, y: float, w: float, h: float, max_pt: float = 16) -> None:
        if items:
            self.text(s, items, x, y, w, h, max_pt, 10, bullets=True)

    def section_chart(self, section: Section, *words: str, kinds: tuple[str, ...] = ()) -> ChartData | None:
        for c in section.charts:
            if c.key in self.used:
                continue
            name = c.key.lower().split(".", 1)[-1]  # keys are "<section>.<name>"
            if any(w in name for w in words) or (kinds and c.kind in kinds):
                return c
        return None

    def number(self) -> None:
        n = len(self.footers)
        for i, s in enumerate(self.footers, start=1):
            self.text(s, [f"{i} / {n}"], W - MARGIN - 1.2, 6.95, 1.2, 0.4, 9, 7, colour=MUTED, align=PP_ALIGN.RIGHT)
            self.text(s, [self.brief.organization], W - MARGIN - 4.9, 6.95, 3.6, 0.4, 9, 7, colour=MUTED,
                      align=PP_ALIGN.RIGHT)

    # ------------------------------------------------------------------ slides

    def title_slide(self) -> None:
        b = self.brief
        s = self.prs.slides.add_slide(self.layout)
        self.panel(s, 0, 0, W, H, INK)
        t = s.shapes.title
        t.left, t.top, t.width, t.height = Inches(0.9), Inches(2.0), Inches(W - 1.8), Inches(1.6)
        self.fill(t.text_frame, [b.title], W - 1.8, 1.6, 40, 24, bold=True, colour=WHITE, anchor=MSO_ANCHOR.BOTTOM)
        bar = self.panel(s, 0.9, 3.75, 1.6, 0.08, ACCENT)
        del bar
        sub = [b.subtitle] if b.subtitle else []
        self.text(s, [*sub, f"{b.organization} - board briefing"], 0.9, 4.0, W - 1.8, 1.0, 20, 12,
                  colour=RGBColor(0xE4, 0xE7, 0xEB))
        period = (f"History {display(b.base_period[0], 'date')} to {display(b.base_period[1], 'date')}"
                  if b.base_period else "No claims history yet")
        self.text(s, [f"As of {display(b.as_of, 'date')}  |  {period}  |  Confidential"], 0.9, 6.3, W - 1.8, 0.5,
                  12, 9, colour=RGBColor(0xB8, 0xC4, 0xCE))
        self.footers.append(s)

    def summary(self) -> None:
        sec = self.brief.summary
        s = self.slide(sec.headline, _source(sec.figures))
        figs = _summary_figures(self.brief)
        y = BODY_TOP + 0.15
        if any(f.value is not None for f in figs):
            self.big_figures(s, figs, MARGIN, y, W - 2 * MARGIN)
            y += 1.75
        elif figs:
            self.missing(s, _grouped(figs, sec.missing)[:4], y=y, h=1.6)
            y += 1.8
        rec = (sec.decision or "").capitalize()
        z = self.brief.scenarios.zopa
        left = W - 2 * MARGIN
        if rec or z is not None:
            self.panel(s, MARGIN, y, 4.1, BODY_BOTTOM - y)
            lines = [f"Recommendation: {rec}" if rec else "Recommendation pending"]
            self.text(s, lines, MARGIN + 0.2, y + 0.15, 3.7, 0.6, 20, 12, bold=True, colour=ACCENT)
            if z is not None:
                self.text(s, _positions(z), MARGIN + 0.2, y + 0.85, 3.7, BODY_BOTTOM - y - 1.0, 15, 10, bullets=True)
            left = W - 2 * MARGIN - 4.4
        shown = {f.key for f in figs}
        rest = [m for m in sec.missing if not any(m.startswith(f"{f.label}:") for f in sec.figures if f.key in shown)]
        notes = sec.messages[:4] + [f"Missing: {m}" for m in rest[:2]]
        self.bullets(s, notes, W - MARGIN - left, y + 0.1, left, BODY_BOTTOM - y - 0.1)

    def rate_position(self) -> None:
        b = self.brief
        c = (self.section_chart(b.summary, "rate", "medicare", "market", "position")
             or self.section_chart(b.performance, "rate", "medicare", "market", "position"))
        pom = _find(b, "percent_of_medicare")
        market = [f for f in (_find(b, "percent_of_market_median"), _find(b, "market_median_percent_of_medicare"),
                              _find(b, "walk_away_percent_of_medicare")) if f is not None]
        figs = [f for f in [pom, *market] if f is not None and f.value is not None]
        peers = _rate_table(b)
        title = c.title if c else _rate_title(b, pom, peers)
        s = self.slide(title, c.source if c else (peers.source if peers and peers.source else _source(figs)))
        y = BODY_TOP + 0.1
        placed = self.chart(s, c, MARGIN, y, 8.2, BODY_BOTTOM - y)
        if not placed and peers is not None:
            col = next(i for i, x in enumerate(peers.columns) if x.unit == "percent_of_medicare")
            order = sorted(range(len(peers.rows)), key=lambda r: -(peers.rows[r][col] or 0))  # type: ignore[operator]
            rows = [[peers.cell_text(r, 0), peers.cell_text(r, col)] for r in order]
            mine = {order.index(r) for r in peers.highlight_rows}
            self.text(s, [f"By payer: {peers.columns[col].label}"], MARGIN, y, 7.6, 0.4, 14, 10, bold=True)
            self.table(s, ["Payer", "Paid, % of Medicare"], rows, MARGIN, y + 0.45, 7.6, [3.0, 1.2], {1}, BODY_BOTTOM - y - 0.45,
                       bold_rows=mine)
            placed = True
        x = MARGIN + 8.5 if placed else MARGIN
        w = W - MARGIN - x if placed else 3.8
        for i, f in enumerate(figs[:3]):
            self._stacked_figure(s, f, x, y + i * 1.6, w)
        why = [f"{f.label}: {f.missing}" for f in (pom, *market) if f is not None and f.value is None and f.missing]
        if not placed and not figs:
            self.missing(s, why + b.summary.missing[:2] or ["No rate position: no priced lines yet."])
        elif why:
            top = y + 1.6 * min(len(figs), 3)
            self.text(s, why[:2], x, top, w, BODY_BOTTOM - top, 11, 8, colour=VERMILLION)

    def _stacked_figure(self, s: Any, f: Figure, x: float, y: float, w: float) -> None:
        self.panel(s, x, y, w, 1.45)
        value, label = _big(f)
        self.text(s, [value], x + 0.15, y + 0.08, w - 0.3, 0.7, 28, 12, bold=True,
                  colour=ACCENT if f.value is not None else MUTED)
        self.text(s, [label], x + 0.15, y + 0.8, w - 0.3, 0.6, 12, 8)

    def _figure_slide(self, sec: Section, words: tuple[str, ...], chart_words: tuple[str, ...], fallback_title: str,
                      *, use_headline: bool) -> None:
        figs = [f for f in sec.figures if any(w in f.key.lower() for w in words)] or (sec.figures if use_headline else [])
        c = self.section_chart(sec, *chart_words)
        if c is None and use_headline:
            c = self.section_chart(sec, "")
        have = [f for f in figs if f.value is not None]
        if use_headline:
            title = sec.headline
        elif c is not None:
            title = c.title
        elif have:
            title = "; ".join(f"{f.label} {f.display}" for f in have[:3])
        else:
            title = f"{fallback_title} cannot be measured yet"
        s = self.slide(title, c.source if c else _source(figs))
        if not any(f.value is not None for f in figs) and c is None:
            self.missing(s, _grouped(figs, sec.missing) or [f"No {fallback_title.lower()} figures for this payer yet."])
            return
        y = BODY_TOP + 0.1
        if figs:
            self.big_figures(s, figs[:4], MARGIN, y, W - 2 * MARGIN, 1.45)
            y += 1.7
        placed = self.chart(s, c, MARGIN, y, 8.2, BODY_BOTTOM - y)
        x = MARGIN + 8.5 if placed else MARGIN
        msgs = [m for m in sec.messages if any(w in m.lower() for w in words + chart_words)] if not use_headline else sec.messages
        notes = msgs[:3] + [f"Missing: {m}" for m in sec.missing[:2]]
        self.bullets(s, notes, x, y, W - MARGIN - x, BODY_BOTTOM - y, 14)

    def performance(self) -> None:
        self._figure_slide(self.brief.performance, ("accuracy", "underpa", "denial"), ("denial", "underpa", "accuracy"),
                           "Payment accuracy", use_headline=True)

    def speed(self) -> None:
        self._figure_slide(self.brief.performance, ("days", "aging", "_ar", "burden", "cost", "prior", "touch", "late"),
                           ("days", "aging", "speed", "burden", "cost", "paid late", "prompt"), "Speed and administrative burden",
                           use_headline=False)

    def value_story(self) -> None:
        sec = self.brief.value
        s = self.slide(sec.headline, _source(sec.figures) if not sec.charts else sec.charts[0].source)
        charts = [c for c in sec.charts if c.key not in self.used][:2]
        if not charts and not any(f.value is not None for f in sec.figures):
            self.missing(s, _grouped(sec.figures, sec.missing) or ["No quality, experience or operations data loaded."])
            return
        y = BODY_TOP + 0.1
        if len(charts) == 2:
            w = (W - 2 * MARGIN - 0.3) / 2
            for i, c in enumerate(charts):
                self.text(s, [c.title], MARGIN + i * (w + 0.3), y, w, 0.5, 13, 9, bold=True)
                self.chart(s, c, MARGIN + i * (w + 0.3), y + 0.55, w, 3.2)
            self.bullets(s, sec.messages[:2] + [f"Missing: {m}" for m in sec.missing[:1]], MARGIN, y + 0.55 + w / CHART_ASPECT + 0.15,
                         W - 2 * MARGIN, BODY_BOTTOM - (y + 0.55 + w / CHART_ASPECT + 0.15), 13)
            return
        placed = self.chart(s, charts[0] if charts else None, MARGIN, y, 8.2, BODY_BOTTOM - y)
        x = MARGIN + 8.5 if placed else MARGIN
        for i, f in enumerate(sec.figures[:2]):
            self._stacked_figure(s, f, x, y + i * 1.6, W - MARGIN - x)
        top = y + 1.6 * min(len(sec.figures), 2)
        self.bullets(s, sec.messages[:3] + [f"Missing: {m}" for m in sec.missing[:2]], x, top, W - MARGIN - x,
                     BODY_BOTTOM - top, 13)

    def scenarios(self) -> None:
        sec = self.brief.scenarios
        vals = [v for v in sec.valuations if v.years]
        s = self.slide(sec.headline, "Parley valuation: the payer's base-period lines repriced under each year's terms")
        if not vals:
            self.missing(s, sec.missing or ["No proposals valued: give proposals in the strategy inputs."])
            return
        n = max(len(v.years) for v in vals)
        header = ["Proposal", *[f"Year {k}" for k in range(1, n + 1)], "Term total", "NPV"]
        rows = []
        for v in vals[:6]:
            by = {y.year: y.revenue_change for y in v.years}
            rows.append([v.proposal, *[_signed(by.get(k)) for k in range(1, n + 1)], _signed(v.revenue_change_total),
                         _signed(v.npv_revenue_change)])
        c = self.section_chart(sec, "proposal", "scenario", "compare", "side")
        tbl_h = 0.4 * (len(rows) + 1)
        self.text(s, ["Revenue change against current terms, by contract year"], MARGIN, BODY_TOP + 0.05,
                  W - 2 * MARGIN, 0.4, 14, 10, bold=True)
        self.table(s, header, rows, MARGIN, BODY_TOP + 0.5, W - 2 * MARGIN, [3.2] + [1.3] * n + [1.5, 1.4],
                   set(range(1, n + 3)), 2.8)
        y = BODY_TOP + 0.5 + tbl_h + 0.25
        if c is not None and BODY_BOTTOM - y > 1.5:
            placed = self.chart(s, c, MARGIN, y, 7.0, BODY_BOTTOM - y)
            x = MARGIN + 7.3 if placed else MARGIN
        else:
            x = MARGIN
        best = max(vals, key=lambda v: v.revenue_change_total)
        notes = [f"Best: '{best.proposal}' adds {money(best.revenue_change_total)} over {len(best.years)} years "
                 f"(NPV {money(best.npv_revenue_change)})", *sec.messages[:2]]
        self.bullets(s, notes, x, y, W - MARGIN - x, BODY_BOTTOM - y, 14)

    def zopa(self) -> None:
        sec = self.brief.scenarios
        z = sec.zopa
        c = self.section_chart(sec, "zopa", kinds=("range",))
        if z is None:
            s = self.slide("The zone of agreement needs a walk-away and a payer maximum")
            self.missing(s, [m for m in sec.missing if "zopa" in m.lower() or "walk" in m.lower() or "market" in m.lower()]
                         or ["No walk-away or payer maximum: give negotiation inputs or load market benchmarks."])
            return
        if z.exists:
            title = (f"A deal exists between {z.walk_away.display} and {z.payer_max.display} a year"
                     + (f": open at {z.opening_offer.display}" if z.opening_offer.value is not None else ""))
        elif z.exists is False:
            title = "No zone of agreement on today's figures: our walk-away is above what the payer can pay"
        elif z.walk_away.value is not None:
            title = (f"Walk away below {z.walk_away.display} a year; the payer's maximum is unknown, so the "
                     "zone of agreement cannot be sized yet")
        else:
            title = c.title if c is not None else "The zone of agreement cannot be sized yet"
        s = self.slide(title, c.source if c else _source([z.walk_away, z.payer_max]))
        placed = self.chart(s, c, MARGIN, BODY_TOP + 0.1, 8.2, BODY_BOTTOM - BODY_TOP - 0.1)
        x = MARGIN + 8.5 if placed else MARGIN
        figs = [z.opening_offer, z.walk_away, z.payer_max]
        for i, f in enumerate(figs):
            self._stacked_figure(s, f, x, BODY_TOP + 0.1 + i * 1.55, W - MARGIN - x if placed else 3.8)
        self.text(s, [z.note], x if placed else MARGIN + 4.2, BODY_TOP + 0.1 + 3 * 1.55 if placed else BODY_TOP + 0.1,
                  W - MARGIN - x if placed else W - 2 * MARGIN - 4.2, 0.6 if placed else 2.0, 12, 8, colour=MUTED)

    def value_based(self) -> None:
        sec = self.brief.scenarios
        c = self.section_chart(sec, "vbc", "value_based", "sensitivity", "distribution", "owing", kinds=("histogram",))
        p = sec.probability_owing
        if c is None and p is None:
            s = self.slide("Value-based terms: no downside risk modelled for this contract")
            self.missing(s, [m for m in sec.missing if "value-based" in m.lower() or "risk" in m.lower()]
                         or ["No value-based terms or population for this payer: the sensitivity is not modelled."])
            return
        title = c.title if c else f"{short(p, 'fraction')} chance of owing the payer money in some year"
        s = self.slide(title, c.source if c else "Parley Monte Carlo simulation of the value-based terms")
        placed = self.chart(s, c, MARGIN, BODY_TOP + 0.1, 8.2, BODY_BOTTOM - BODY_TOP - 0.1)
        x = MARGIN + 8.5 if placed else MARGIN
        f = sec.figure("probability_owing") or (
            Figure(key="probability_owing", label="Probability of owing money in some year", value=p, unit="fraction",
                   definition="Share of simulated draws owing money", source="Monte Carlo") if p is not None else None)
        if f is not None:
            self._stacked_figure(s, f, x, BODY_TOP + 0.1, W - MARGIN - x if placed else 4.0)
        self.bullets(s, [m for m in sec.messages if "value-based" in m.lower() or "owing" in m.lower()][:2], x,
                     BODY_TOP + 1.8, W - MARGIN - x if placed else W - 2 * MARGIN, BODY_BOTTOM - BODY_TOP - 1.8, 13)

    def exit(self) -> None:
        sec = self.brief.scenarios
        cases = sec.exit_cases
        c = self.section_chart(sec, "exit")
        if not cases and c is None:
            s = self.slide(f"Exit impact of leaving {self.brief.payer} is not available")
            self.missing(s, [m for m in sec.missing if "exit" in m.lower()] or ["No exit impact: no current revenue to put at risk."])
            return
        base = next((e for e in cases if e.case == "base"), cases[0] if cases else None)
        if c is not None:
            title = c.title
        elif base is not None:
            verb = "cost" if base.net_change_total < 0 else "gain"
            title = (f"Leaving {self.brief.payer} would {verb} {money(abs(base.net_change_total))} over "
                     f"{len(base.net_change_by_year)} years in the base case")
        else:
            title = "Payer exit impact"
        s = self.slide(title, c.source if c else "Parley exit model: revenue at risk, patients retained, back-fill")
        y = BODY_TOP + 0.1
        placed = self.chart(s, c, MARGIN, y, 7.6, BODY_BOTTOM - y)
        x = MARGIN + 7.9 if placed else MARGIN
        if cases:
            n = max(len(e.net_change_by_year) for e in cases)
            header = ["Case", "Revenue at risk", "Net change", *([f"Year {k}" for k in range(1, n + 1)] if not placed else [])]
            rows = [[e.case.capitalize(), money(e.revenue_at_risk_total), _signed(e.net_change_total),
                     *([_signed(v) for v in e.net_change_by_year] if not placed else [])] for e in cases]
            widths = [1.4, 1.8, 1.8] + ([1.4] * n if not placed else [])
            self.table(s, header, rows, x, y, W - MARGIN - x, widths, set(range(1, len(header))), 2.5)
            top = y + 0.4 * (len(rows) + 1) + 0.3
            notes = [m for m in sec.messages if "exit" in m.lower() or "leav" in m.lower()][:2] or [
                "Cases differ in how many patients stay (out of network or via another plan) and how much of the "
                "lost volume other payers back-fill; the assumptions are in the method notes."]
            self.bullets(s, notes, x, top, W - MARGIN - x, BODY_BOTTOM - top, 13)

    def playbook(self) -> None:
        b = self.brief
        sec = b.playbook
        s = self.slide(sec.headline, "Parley rubric and objection library, applied to this payer's figures")
        z = b.scenarios.zopa
        y = BODY_TOP + 0.1
        self.panel(s, MARGIN, y, 4.1, BODY_BOTTOM - y)
        dec = (b.summary.decision or (sec.rubric.decision if sec.rubric else "") or "pending").capitalize()
        self.text(s, [f"Recommendation: {dec}"], MARGIN + 0.2, y + 0.15, 3.7, 0.6, 20, 12, bold=True, colour=ACCENT)
        pos = []
        if z is not None:
            pos = _positions(z, payer_max=True)
        if sec.rubric is not None:
            pos.append(f"Rubric score {short(sec.rubric.total, 'score')} / 100 ({sec.rubric.decision})")
        if not pos:
            pos = ["No walk-away or opening offer yet: give negotiation inputs."]
        self.text(s, pos, MARGIN + 0.2, y + 0.85, 3.7, BODY_BOTTOM - y - 1.0, 15, 9, bullets=True)
        x = MARGIN + 4.4
        w = W - MARGIN - x
        objs = sorted(sec.objections, key=lambda o: not o.complete)[:3]
        if objs:
            self.text(s, ["What the payer will say, and our answer"], x, y, w, 0.45, 15, 10, bold=True)
            rows = [[o.objection, _counterpoint(o)] for o in objs]
            self.table(s, ["Objection", "Counterpoint"], rows, x, y + 0.5, w, [1.0, 1.6], set(), 2.0)
            # taller rows for prose
            tbl = s.shapes[-1].table
            room = (BODY_BOTTOM - y - 0.6) / (len(rows) + 1)
            for r in range(1, len(rows) + 1):
                tbl.rows[r].height = Inches(room)
                for ci, cw in enumerate((w * 1.0 / 2.6, w * 1.6 / 2.6)):
                    self.fill(tbl.cell(r, ci).text_frame, [rows[r - 1][ci]], cw, room, 12, 8, anchor=MSO_ANCHOR.TOP)
        else:
            notes = sec.issues[:4] or sec.missing or ["No objections prepared."]
            self.bullets(s, notes, x, y, w, BODY_BOTTOM - y, 14)

    def key_dates(self) -> None:
        b = self.brief
        inv = b.inventory
        dates = [f for f in b.summary.key_dates if f.value is not None]
        title = inv.headline if inv.contracts or not dates else f"Start renegotiating by {dates[-1].display}"
        s = self.slide(title, "Contracts on file in the Parley workspace")
        if not dates and not inv.contracts:
            self.missing(s, inv.missing or ["No contract on file: key dates are not available."])
            return
        y = BODY_TOP + 0.1
        if dates:
            self.big_figures(s, dates[:4], MARGIN, y, W - 2 * MARGIN, 1.35)
            y += 1.6
        if inv.contracts:
            header = ["Contract", "Product lines", "Expires", "Notice by", "Reimbursement", "Flags"]
            rows = [[c.contract_id, ", ".join(c.product_lines), display(c.expires, "date") if c.expires else "evergreen",
                     display(c.notice_deadline, "date") if c.notice_deadline else "n/a", c.reimbursement,
                     "; ".join(f.finding for f in c.flags[:2]) or "none"] for c in inv.contracts]
            self.table(s, header, rows, MARGIN, y, W - 2 * MARGIN, [1.3, 1.7, 1.2, 1.2, 2.2, 3.0], set(), BODY_BOTTOM - y,
                       tallest=1.0)

    def appendix(self) -> None:
        m = self.brief.method
        s = self.slide(f"Appendix: {m.headline}", "Parley method notes (docs/brief.md)")
        col_w = (W - 2 * MARGIN - 0.4) / 2
        defs = [f"{d.term}: {d.definition}" for d in m.definitions[:8]]
        srcs = [f"{x.name}: {x.description}" + (f" ({x.period})" if x.period else "") for x in m.sources[:5]]
        self.text(s, ["Definitions"], MARGIN, BODY_TOP, col_w, 0.4, 14, 10, bold=True)
        self.bullets(s, defs or ["See the method notes of the full brief."], MARGIN, BODY_TOP + 0.45, col_w,
                     BODY_BOTTOM - BODY_TOP - 0.45, 11)
        x = MARGIN + col_w + 0.4
        self.text(s, ["Data sources, exclusions and assumptions"], x, BODY_TOP, col_w, 0.4, 14, 10, bold=True)
        rest = srcs + [f"Excluded: {e}" for e in m.exclusions[:3]] + [f"Assumed: {a}" for a in m.assumptions[:3]] + \
            [f"Missing: {x}" for x in m.missing[:2]]
        self.bullets(s, rest or ["No sources recorded."], x, BODY_TOP + 0.45, col_w, BODY_BOTTOM - BODY_TOP - 0.45, 11)


# --------------------------------------------------------------------------- helpers


def _big(f: Figure) -> tuple[str, str]:
    """(big value, label) of a figure for a number panel."""
    if f.value is None:
        return "n/a", f"{f.label}: {f.missing or 'not available'}"
    if f.unit == "percent_of_medicare":
        return short(f.value, f.unit), f.label if "medicare" in f.label.lower() else f"{f.label} (% of Medicare)"
    return display(f.value, f.unit), f.label


ZOPA_KEYS = {"opening_offer", "walk_away", "batna_value", "batna", "payer_max", "zopa_current"}


def _summary_figures(b: Brief) -> list[Figure]:
    """3-5 key numbers for the summary slide: the summary's figures (not dates, not the negotiating
    positions shown beside them), those with a value first; a missing one still says why."""
    pool = [f for f in (b.summary.figures or b.headline_figures) if f.unit != "date" and f.key not in ZOPA_KEYS]
    have = [f for f in pool if f.value is not None]
    return (have + [f for f in pool if f.value is None])[:5] if len(have) < 3 else have[:5]


def _rate_table(b: Brief) -> Any:
    """A model table with a % of Medicare column and more than one row (the payer scorecard), if any."""
    for sec in b.sections():
        for t in sec.tables:
            if len(t.rows) > 1 and any(c.unit == "percent_of_medicare" for c in t.columns):
                return t
    return None


def _rate_title(b: Brief, pom: Figure | None, peers: Any) -> str:
    if pom is None or pom.value is None:
        why = f": {pom.missing}" if pom is not None and pom.missing else ""
        return f"Rate level against Medicare cannot be measured yet{why}"
    level = short(pom.value, "percent_of_medicare")
    if peers is not None and peers.highlight_rows:
        col = next(i for i, x in enumerate(peers.columns) if x.unit == "percent_of_medicare")
        vals = sorted((r[col] for r in peers.rows if r[col] is not None), reverse=True)  # type: ignore[type-var]
        mine = peers.rows[peers.highlight_rows[0]][col]
        if mine is not None and vals:
            # the ranking is on the scorecard's figure (paid, all history), never mixed with the contract rate level
            rank = vals.index(mine) + 1
            return (f"{_name(b)}'s contract rates are {level} of Medicare (base period); it paid "
                    f"{short(mine, 'percent_of_medicare')} over all history, {_ordinal(rank)} of {len(vals)} payers")
    return f"{_name(b)}'s contract rates are {level} of Medicare (base period)"


def _name(b: Brief) -> str:
    return b.payer.title() if b.payer.isupper() else b.payer


def _ordinal(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _positions(z: Any, *, payer_max: bool = False) -> list[str]:
    """The negotiating positions, each with its value or why it is missing."""
    items = [("Open at", z.opening_offer), ("Walk away below", z.walk_away), ("BATNA:", z.batna)]
    if payer_max:
        items.append(("Payer maximum:", z.payer_max))
    out = []
    for label, f in items:
        out.append(f"{label} {f.display}" if f.value is not None else f"{f.label}: {f.missing or 'not available'}")
    return out


def _counterpoint(o: Any) -> str:
    """The counterpoint without the library's internal list of missing figure names."""
    text = o.counterpoint.split("(needs:")[0].strip()
    return text if o.complete else (f"{text} (evidence still to gather)" if text else "Evidence still to gather.")


def _grouped(figs: list[Figure], notes: list[str]) -> list[str]:
    """What is missing, one line per reason: "No remittances for this payer: annual revenue, rate level, ..."."""
    reasons: dict[str, list[str]] = {}
    for f in figs:
        if f.value is None:
            reasons.setdefault((f.missing or "not available").strip(), []).append(f.label)
    out = [f"{r[0].upper()}{r[1:]}: {', '.join(labels)}" if len(labels) > 1 else f"{labels[0]}: {r}"
           for r, labels in reasons.items()]
    labels = {lab for ls in reasons.values() for lab in ls}
    return out + [n for n in notes if n.split(":", 1)[0] not in labels][:3]


def _signed(x: Decimal | None) -> str:
    if x is None:
        return "n/a"
    return ("+" if x > 0 else "") + money(x)


def _source(figs: list[Figure]) -> str | None:
    srcs = [f.source for f in figs if f is not None and f.source]
    return srcs[0] if srcs else None


def _find(b: Brief, key: str) -> Figure | None:
    for f in [*b.headline_figures, *(f for sec in b.sections() for f in sec.figures)]:
        if f.key == key:
            return f
    return None


def text_frames(prs: Any) -> list[tuple[int, Any, float, float]]:
    """Every text frame of the deck with its box size in inches (for checks)."""
    out = []
    for i, s in enumerate(prs.slides, start=1):
        for shape in s.shapes:
            if shape.has_text_frame:
                out.append((i, shape.text_frame, shape.width / 914400, shape.height / 914400))
            if getattr(shape, "has_table", False) and shape.has_table:
                tbl = shape.table
                for r, row in enumerate(tbl.rows):
                    for ci, col in enumerate(tbl.columns):
                        out.append((i, tbl.cell(r, ci).text_frame, col.width / 914400, row.height / 914400))
    return out


