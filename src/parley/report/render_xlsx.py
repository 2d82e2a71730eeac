"""The brief as an Excel workbook: one sheet per section, and a live scenario model.

Sheets: ``Contents`` (cover, links to every sheet with its action title, the colour
convention), then one sheet per section in the brief's order.  Each section sheet has
the section name, its action title, the key messages, a "What is missing" box when the
section lacks data, the figures (real numbers with number formats: $, %, days), the
tables, and the charts as images (the PNGs of the brief's :class:`ChartSet`).

The ``Scenarios`` sheet is a small financial model.  Inputs are blue on a pale
fill, formulas black:

* global inputs (also defined names, for the Name Box and the analyst's own formulas; the
  sheet's formulas use absolute references so any formula engine evaluates them): ``VolumeChange`` (a volume change applied to every
  code and year) and ``RateAdjustment`` (an extra change to every proposal rate);
* per proposal: ``Trend_<i>`` (volume trend per year) and ``Discount_<i>`` (NPV rate),
  then one row per procedure code: base-period units and the rate per unit under the
  current contract and under the proposal for every contract year (Parley's engine
  valuation, :attr:`parley.engine.scenarios.Valuation.by_code`: expected allowed / units);
* formulas: volume factor per year ``(1 + Trend)^year x (1 + VolumeChange)``, revenue per
  row ``units x factor x rate`` (proposal rates x ``(1 + RateAdjustment)``), totals per
  year rounded to cents, change, cumulative change over the term, NPV of the change.

With the default inputs the totals equal Parley's valuation to the cent (a column
shows Parley's figure and the difference).  ``ROUND(ROUND(x, 6), 2)``: the inner round
removes binary floating-point noise so that half cents round up, as Parley rounds.
"""

from __future__ import annotations

import datetime as dt
import io
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments import Comment
from openpyxl.drawing.image import Image
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from parley.engine.scenarios import Valuation
from parley.report.charts import ChartSet
from parley.report.model import Brief, Figure, Section, Table, Unit, display, money

FONT = "DejaVu Sans"
INK = "1F2933"
MUTED = "7B8794"
ACCENT = "0072B2"  # Okabe-Ito blue
INPUT_BLUE = "0000FF"
INPUT_FILL = PatternFill("solid", fgColor="FFF8DC")
HEADER_FILL = PatternFill("solid", fgColor="1F2933")
TOTAL_FILL = PatternFill("solid", fgColor="EEF2F6")
MISSING_FILL = PatternFill("solid", fgColor="FDF1E6")
THIN = Side(style="thin", color="C9D1D9")
RULE = Side(style="medium", color=INK)

SHEET_NAMES = {"summary": "Summary", "inventory": "Contracts", "performance": "Performance", "value": "Value story",
               "scenarios": "Scenarios", "playbook": "Playbook", "method": "Method notes"}

FORMATS: dict[str, str] = {
    "dollars": '"$"#,##0;-"$"#,##0', "percent": '0.0"%"', "percent_of_medicare": '0"%"', "fraction": "0.0%",
    "days": "0.0", "count": "#,##0", "score": "0", "ratio": '0.00"x"', "per_100": "0.0", "date": "d mmm yyyy",
}
FIGURE_FORMATS = {**FORMATS, "percent_of_medicare": '0"% of Medicare"', "days": '0.0" days"', "per_100": '0.0" per 100"'}
CENTS = '"$"#,##0.00;-"$"#,##0.00'
RATE = '"$"#,##0.00'
PCT_INPUT = "0.0%"

TITLE_FONT = Font(name=FONT, size=16, bold=True, color=INK)
HEADLINE_FONT = Font(name=FONT, size=12, bold=True, color=ACCENT)
BODY = Font(name=FONT, size=10, color=INK)
BOLD = Font(name=FONT, size=10, bold=True, color=INK)
SMALL = Font(name=FONT, size=8, italic=True, color=MUTED)
HEADER_FONT = Font(name=FONT, size=10, bold=True, color="FFFFFF")
INPUT_FONT = Font(name=FONT, size=10, color=INPUT_BLUE)
LINK_FONT = Font(name=FONT, size=11, color=ACCENT, underline="single")
WRAP = Alignment(wrap_text=True, vertical="top")
IMAGE_SCALE = 0.42  # the 200 dpi PNGs shown at about 600 px wide


def write(brief: Brief, charts: ChartSet, path: Path) -> Path:
    """Write the workbook atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    wb = build_workbook(brief, charts)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def build_workbook(brief: Brief, charts: ChartSet) -> Workbook:
    wb = Workbook()
    contents = wb.active
    assert contents is not None
    contents.title = "Contents"
    sheets: list[tuple[Section, Worksheet]] = []
    for section in brief.sections():
        ws = wb.create_sheet(SHEET_NAMES[section.id])
        sheets.append((section, ws))
    for section, ws in sheets:
        if section.id == "scenarios":
            _ScenarioSheet(wb, ws, brief).write(charts)
        else:
            _section_sheet(ws, brief, section, charts)
        _print_setup(ws)
    _contents(contents, brief, sheets)
    _print_setup(contents)
    return wb


# --------------------------------------------------------------------------- shared pieces


class _Cursor:
    """Writes rows top to bottom on one sheet; ``row`` is the next free row."""

    def __init__(self, ws: Worksheet, row: int = 1) -> None:
        self.ws = ws
        self.row = row

    def put(self, col: int, value: Any, font: Font = BODY, fmt: str | None = None, align: Alignment | None = None,
            fill: PatternFill | None = None) -> Cell:
        cell = self.ws.cell(row=self.row, column=col, value=_xl(value))
        cell.font = font
        if fmt:
            cell.number_format = fmt
        if align:
            cell.alignment = align
        if fill:
            cell.fill = fill
        return cell

    def text(self, value: str, font: Font = BODY, col: int = 1, span: int = 8, height: float | None = None) -> None:
        cell = self.put(col, value, font, align=WRAP)
        if span > 1:
            self.ws.merge_cells(start_row=self.row, start_column=col, end_row=self.row, end_column=col + span - 1)
        lines = max(1, -(-len(value) // (span * 14)))
        self.ws.row_dimensions[self.row].height = height or max(15.0, 14.0 * lines)
        del cell
        self.row += 1

    def skip(self, n: int = 1) -> None:
        self.row += n


def _xl(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 10**15 else float(value)
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _header(cur: _Cursor, labels: list[str], aligns: list[str] | None = None) -> None:
    for i, label in enumerate(labels, start=1):
        a = (aligns or [])[i - 1] if aligns and i - 1 < len(aligns) else "left"
        cur.put(i, label, HEADER_FONT, fill=HEADER_FILL, align=Alignment(horizontal=a, vertical="center", wrap_text=True))
    cur.ws.row_dimensions[cur.row].height = 30
    cur.row += 1


def _title(cur: _Cursor, brief: Brief, section: Section) -> None:
    cur.text(f"{section.title}  |  {brief.payer}", TITLE_FONT, height=24)
    cur.text(section.headline, HEADLINE_FONT, height=34)
    cur.put(1, f"{brief.title} - as of {display(brief.as_of, 'date')}", SMALL)
    cur.skip(2)


def _missing(cur: _Cursor, notes: list[str]) -> None:
    if not notes:
        return
    cur.put(1, "What is missing", BOLD, fill=MISSING_FILL)
    for c in range(2, 9):
        cur.ws.cell(row=cur.row, column=c).fill = MISSING_FILL
    cur.skip()
    for note in notes:
        cur.text(f"- {note}", BODY)
        for c in range(1, 9):
            cur.ws.cell(row=cur.row - 1, column=c).fill = MISSING_FILL
    cur.skip()


def _messages(cur: _Cursor, messages: list[str]) -> None:
    for m in messages:
        cur.text(f"- {m}", BODY)
    if messages:
        cur.skip()


def _figures(cur: _Cursor, figures: list[Figure], title: str = "Key figures") -> None:
    if not figures:
        return
    cur.put(1, title, BOLD)
    cur.skip()
    _header(cur, ["Measure", "Value", "Definition", "Source", "Note"], ["left", "right", "left", "left", "left"])
    for f in figures:
        cur.put(1, f.label, BODY, align=WRAP)
        if f.value is None:
            cur.put(2, "n/a", SMALL, align=Alignment(horizontal="right", vertical="top"))
        elif f.unit == "text" or isinstance(f.value, str):
            cur.put(2, str(f.value), BODY, align=Alignment(horizontal="right", vertical="top", wrap_text=True))
        else:
            cur.put(2, f.value, BODY, fmt=FIGURE_FORMATS.get(f.unit), align=Alignment(horizontal="right", vertical="top"))
        cur.put(3, f.definition, BODY, align=WRAP)
        cur.put(4, f.source, SMALL, align=WRAP)
        note = f.missing if f.value is None and f.missing else (f.note or "")
        cur.put(5, note, SMALL, align=WRAP)
        _row_border(cur.ws, cur.row, 5)
        cur.ws.row_dimensions[cur.row].height = _height(max(len(f.definition) / 40, len(f.source) / 30, len(note) / 30))
        cur.skip()
    cur.skip()


def _height(lines: float) -> float:
    return max(15.0, 13.0 * (int(lines) + 1))


def _row_border(ws: Worksheet, row: int, ncols: int, side: Side = THIN) -> None:
    for c in range(1, ncols + 1):
        ws.cell(row=row, column=c).border = Border(bottom=side)


def _table(cur: _Cursor, t: Table) -> None:
    cur.put(1, t.title, BOLD)
    cur.skip()
    _header(cur, [c.label for c in t.columns], [c.align for c in t.columns])
    for r, row in enumerate(t.rows):
        for i, col in enumerate(t.columns, start=1):
            v = row[i - 1] if i - 1 < len(row) else None
            align = Alignment(horizontal=col.align, vertical="top", wrap_text=col.unit == "text")
            if v is None:
                cur.put(i, "n/a" if col.unit != "text" else "", SMALL, align=align)
            elif col.unit == "text" or isinstance(v, str):
                cur.put(i, str(v), BOLD if r in t.highlight_rows else BODY, align=align)
            else:
                cur.put(i, v, BOLD if r in t.highlight_rows else BODY, fmt=FORMATS.get(col.unit), align=align)
            if r in t.highlight_rows:
                cur.ws.cell(row=cur.row, column=i).fill = TOTAL_FILL
        _row_border(cur.ws, cur.row, len(t.columns))
        cur.skip()
    for extra in (t.note, f"Source: {t.source}" if t.source else None):
        if extra:
            cur.put(1, extra, SMALL)
            cur.skip()
    cur.skip()


def _charts(cur: _Cursor, section: Section, charts: ChartSet) -> None:
    """The section's charts, one under the other below the tables (titles above, alt text below)."""
    ws = cur.ws
    for c in section.charts:
        chart = charts.get(c.key)
        if chart is None:
            continue
        img = Image(io.BytesIO(chart.png))
        img.width, img.height = int(img.width * IMAGE_SCALE), int(img.height * IMAGE_SCALE)
        cur.put(1, chart.title, BOLD)
        cur.skip()
        ws.add_image(img, f"A{cur.row}")
        rows = -(-img.height // 20) + 1  # default rows are 15 pt = 20 px
        for r in range(cur.row, cur.row + rows):
            ws.row_dimensions[r].height = 15
        cur.skip(rows)
        cur.put(1, f"Chart: {chart.alt}", SMALL)
        cur.skip(2)


def _widths(ws: Worksheet, widths: dict[int, float]) -> None:
    for col, w in widths.items():
        ws.column_dimensions[get_column_letter(col)].width = w


def _print_setup(ws: Worksheet) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_LETTER
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.right.text = "Page &P of &N"
    ws.sheet_view.showGridLines = False


# --------------------------------------------------------------------------- contents and section sheets


def _contents(ws: Worksheet, brief: Brief, sheets: list[tuple[Section, Worksheet]]) -> None:
    cur = _Cursor(ws)
    cur.text(brief.title, Font(name=FONT, size=20, bold=True, color=INK), span=4, height=30)
    if brief.subtitle:
        cur.text(brief.subtitle, Font(name=FONT, size=12, color=MUTED), span=4)
    cur.skip()
    facts = [("Organisation", brief.organization), ("Payer", brief.payer),
             ("Contracts", ", ".join(brief.contracts) or "none on file"),
             ("Product lines", ", ".join(brief.product_lines) or "all"),
             ("As of", display(brief.as_of, "date")),
             ("Base period", f"{display(brief.base_period[0], 'date')} to {display(brief.base_period[1], 'date')}"
              if brief.base_period else "no history yet"),
             ("Generated", brief.generated_at.strftime("%d %b %Y %H:%M"))]
    for k, v in facts:
        cur.put(1, k, BOLD)
        cur.put(2, v, BODY)
        cur.skip()
    cur.skip()
    cur.put(1, "Contents", Font(name=FONT, size=13, bold=True, color=INK))
    cur.skip()
    _header(cur, ["Sheet", "Finding"])
    for section, sheet in sheets:
        cell = cur.put(1, sheet.title, LINK_FONT)
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"{quote_sheetname(sheet.title)}!A1",
                                   tooltip=f"Go to {sheet.title}")
        cur.put(2, section.headline, BODY, align=WRAP)
        ws.row_dimensions[cur.row].height = _height(len(section.headline) / 90)
        _row_border(ws, cur.row, 2)
        cur.skip()
    cur.skip()
    cur.put(1, "Conventions", BOLD)
    cur.skip()
    cur.put(1, "Input", INPUT_FONT, fill=INPUT_FILL)
    cur.put(2, "Blue on a pale fill: an input you can change (Scenarios sheet).", BODY)
    cur.skip()
    cur.put(1, "Formula", BODY)
    cur.put(2, "Black: computed from the inputs; do not overwrite.", BODY)
    cur.skip()
    cur.put(1, "n/a", SMALL)
    cur.put(2, "Not available: the sheet's 'What is missing' box says why.", BODY)
    _widths(ws, {1: 22, 2: 110})


def _section_sheet(ws: Worksheet, brief: Brief, section: Section, charts: ChartSet) -> None:
    cur = _Cursor(ws)
    _title(cur, brief, section)
    ws.freeze_panes = "A4"
    _missing(cur, section.missing)
    if section.id == "summary":
        decision = getattr(section, "decision", None)
        if decision:
            cur.put(1, "Recommendation", BOLD)
            cur.put(2, decision.capitalize(), Font(name=FONT, size=12, bold=True, color=ACCENT))
            cur.skip(2)
    _messages(cur, section.messages)
    _figures(cur, section.figures)
    if section.id == "summary":
        _figures(cur, list(getattr(section, "key_dates", [])), "Key dates")
    if section.id == "inventory":
        _inventory(cur, section)
    if section.id == "playbook":
        _playbook(cur, section)
    if section.id == "method":
        _method(cur, section)
    for t in section.tables:
        if t.key not in _covered(section):
            _table(cur, t)
    _charts(cur, section, charts)
    wide = {k: 40 for k in range(2, 2 + len(getattr(section, "contracts", [])))} if section.id == "inventory" else {}
    _widths(ws, {1: 30, 2: 18, 3: 46, 4: 30, 5: 30, 6: 16, 7: 16, 8: 16, **wide})


def _covered(section: Section) -> set[str]:
    """Keys of the section's tables that the sheet already shows from structured data (not repeated)."""
    out: set[str] = set()
    if getattr(section, "contracts", None):
        out |= {"inventory.terms", "inventory.flags"}
    if getattr(section, "rubric", None) is not None:
        out.add("playbook.rubric")
    vals = [v for v in getattr(section, "valuations", []) if v.years]
    if vals and all(v.by_code for v in vals):
        out.add("scenarios.proposals")
    if getattr(section, "exit_cases", None):
        out.add("scenarios.exit")
    return out


def _inventory(cur: _Cursor, section: Section) -> None:
    cards = list(getattr(section, "contracts", []))
    if not cards:
        return
    cur.put(1, "Terms in force", BOLD)
    cur.skip()
    _header(cur, ["Term", *[c.contract_id for c in cards]])

    def window(c: Any) -> str:
        w = c.renegotiation_window
        return f"{display(w[0], 'date')} to {display(w[1], 'date')}" if w else "n/a"

    rows: list[tuple[str, Any]] = [
        ("Payer", lambda c: c.payer), ("Product lines", lambda c: ", ".join(c.product_lines)),
        ("Effective", lambda c: c.effective), ("Expires", lambda c: c.expires or "evergreen"),
        ("Renewal", lambda c: c.renewal), ("Termination notice (days)", lambda c: c.termination_notice_days),
        ("Notice deadline", lambda c: c.notice_deadline or "n/a"), ("Renegotiation window", window),
        ("Reimbursement", lambda c: c.reimbursement), ("Escalator", lambda c: c.escalator),
        ("Lesser of billed charges", lambda c: {True: "yes", False: "no", None: "n/a"}[c.lesser_of_billed]),
        ("Timely filing (days)", lambda c: c.timely_filing_days if c.timely_filing_days is not None else "n/a"),
        ("Prompt pay", lambda c: c.prompt_pay),
        ("Prior authorisation codes", lambda c: ", ".join(c.prior_authorization_codes) or "none"),
        ("Value-based terms", lambda c: "; ".join(c.value_based) or "none"),
        ("Amendments", lambda c: "; ".join(c.amendments) or "none"),
    ]
    for label, get in rows:
        cur.put(1, label, BOLD, align=WRAP)
        longest = 0
        for i, c in enumerate(cards, start=2):
            v = get(c)
            cur.put(i, v, BODY, fmt="d mmm yyyy" if isinstance(v, dt.date) else None,
                    align=Alignment(horizontal="left", vertical="top", wrap_text=True))
            longest = max(longest, len(str(v)))
        cur.ws.row_dimensions[cur.row].height = _height(longest / 40)
        _row_border(cur.ws, cur.row, 1 + len(cards))
        cur.skip()
    cur.skip()
    flags = [(c.contract_id, f) for c in cards for f in c.flags]
    cur.put(1, "Risky terms", BOLD)
    cur.skip()
    if not flags:
        cur.put(1, "No risky terms flagged.", BODY)
        cur.skip(2)
        return
    _header(cur, ["Contract", "Severity", "Term", "Finding", "Rule"])
    order = {"high": 0, "medium": 1, "low": 2}
    for cid, f in sorted(flags, key=lambda x: order[x[1].severity]):
        colour = {"high": "D55E00", "medium": "E69F00", "low": MUTED}[f.severity]
        cur.put(1, cid, BODY)
        cur.put(2, f.severity, Font(name=FONT, size=10, bold=True, color=colour))
        cur.put(3, f.term, BODY, align=WRAP)
        cur.put(4, f.finding, BODY, align=WRAP)
        cur.put(5, f.rule, SMALL, align=WRAP)
        cur.ws.row_dimensions[cur.row].height = _height(len(f.finding) / 40)
        _row_border(cur.ws, cur.row, 5)
        cur.skip()
    cur.skip()


def _playbook(cur: _Cursor, section: Section) -> None:
    objections = list(getattr(section, "objections", []))
    if objections:
        cur.put(1, "Anticipated objections", BOLD)
        cur.skip()
        _header(cur, ["Objection", "", "Counterpoint", "", "Evidence complete"])
        for o in objections:
            cur.put(1, o.objection, BODY, align=WRAP)
            cur.ws.merge_cells(start_row=cur.row, start_column=1, end_row=cur.row, end_column=2)
            cur.put(3, o.counterpoint, BODY, align=WRAP)
            cur.ws.merge_cells(start_row=cur.row, start_column=3, end_row=cur.row, end_column=4)
            cur.put(5, "yes" if o.complete else "needs data", BODY if o.complete else SMALL)
            cur.ws.row_dimensions[cur.row].height = _height(max(len(o.counterpoint) / 70, len(o.objection) / 45))
            _row_border(cur.ws, cur.row, 5)
            cur.skip()
        cur.skip()
    issues = list(getattr(section, "issues", []))
    if issues:
        cur.put(1, "Outstanding issues", BOLD)
        cur.skip()
        for i in issues:
            cur.text(f"- {i}", BODY)
        cur.skip()
    rubric = getattr(section, "rubric", None)
    if rubric is not None:
        cur.put(1, f"Rubric: {rubric.name}", BOLD)
        cur.skip()
        cur.put(1, "Score", BODY)
        cur.put(2, rubric.total, BOLD, fmt="0")
        cur.put(3, f"{rubric.decision} (accept at {rubric.accept_at}, negotiate at {rubric.negotiate_at})", BODY)
        cur.skip()
        cur.text(rubric.explanation, BODY)
        _header(cur, ["Criterion", "Weight", "Value", "Score", "Points", "Explanation"],
                ["left", "right", "right", "right", "right", "left"])
        for c in rubric.criteria:
            cur.put(1, c.label, BODY, align=WRAP)
            cur.put(2, c.weight, BODY, fmt="0%" if c.weight <= 1 else "0")
            cur.put(3, c.value if c.value is not None else "n/a", BODY, fmt="General",
                    align=Alignment(horizontal="right"))
            cur.put(4, c.score, BODY, fmt="0")
            cur.put(5, c.points, BODY, fmt="0.0")
            cur.put(6, c.explanation, BODY, align=WRAP)
            cur.ws.merge_cells(start_row=cur.row, start_column=6, end_row=cur.row, end_column=8)
            cur.ws.row_dimensions[cur.row].height = _height(len(c.explanation) / 45)
            _row_border(cur.ws, cur.row, 8)
            cur.skip()
        cur.skip()


def _method(cur: _Cursor, section: Section) -> None:
    defs = list(getattr(section, "definitions", []))
    if defs:
        cur.put(1, "Definitions", BOLD)
        cur.skip()
        _header(cur, ["Term", "Definition"])
        for d in defs:
            cur.put(1, d.term, BOLD, align=WRAP)
            cur.put(2, d.definition, BODY, align=WRAP)
            cur.ws.merge_cells(start_row=cur.row, start_column=2, end_row=cur.row, end_column=5)
            cur.ws.row_dimensions[cur.row].height = _height(len(d.definition) / 110)
            _row_border(cur.ws, cur.row, 5)
            cur.skip()
        cur.skip()
    sources = list(getattr(section, "sources", []))
    if sources:
        cur.put(1, "Data sources", BOLD)
        cur.skip()
        _header(cur, ["Source", "Description", "", "Period", "As of"])
        for s in sources:
            cur.put(1, s.name, BOLD, align=WRAP)
            cur.put(2, s.description, BODY, align=WRAP)
            cur.ws.merge_cells(start_row=cur.row, start_column=2, end_row=cur.row, end_column=3)
            cur.put(4, s.period or "", BODY, align=WRAP)
            cur.put(5, s.as_of or "", BODY, align=WRAP)
            cur.ws.row_dimensions[cur.row].height = _height(len(s.description) / 60)
            _row_border(cur.ws, cur.row, 5)
            cur.skip()
        cur.skip()
    for title, items in (("Excluded, and why", getattr(section, "exclusions", [])),
                         ("Assumptions", getattr(section, "assumptions", []))):
        if items:
            cur.put(1, title, BOLD)
            cur.skip()
            for i in items:
                cur.text(f"- {i}", BODY)
            cur.skip()


# --------------------------------------------------------------------------- the scenario model


class _ScenarioSheet:
    """The Scenarios sheet: section content, the results table (formulas) and one input block per proposal."""

    COL_CODE, COL_LINES, COL_UNITS = 1, 2, 3

    def __init__(self, wb: Workbook, ws: Worksheet, brief: Brief) -> None:
        self.wb, self.ws, self.brief = wb, ws, brief
        self.section = brief.scenarios
        self.sheet = quote_sheetname(ws.title)

    def name(self, name: str, cell: Cell) -> None:
        ref = f"{self.sheet}!${cell.column_letter}${cell.row}"
        self.wb.defined_names[name] = DefinedName(name, attr_text=ref)

    def write(self, charts: ChartSet) -> None:
        ws, s = self.ws, self.section
        cur = _Cursor(ws)
        _title(cur, self.brief, s)
        _missing(cur, s.missing)
        _messages(cur, s.messages)
        vals = [v for v in s.valuations if v.years and v.by_code]
        flat = [v for v in s.valuations if v.years and not v.by_code]
        if flat:  # a valuation without its per-code detail cannot be modelled: show Parley's figures, say so
            _missing(cur, [f"'{v.proposal}': no per-code detail in this valuation, so it is not in the live model; "
                           f"Parley's revenue change {money(v.revenue_change_total, exact=True)} over {len(v.years)} "
                           "years" for v in flat])
        if vals:
            cur.put(1, "Global inputs", BOLD)
            cur.skip()
            self.volume = self._input(cur, "Volume change, every code and year", Decimal(0), "VolumeChange",
                                      "on top of each proposal's volume trend")
            self.rate_adj = self._input(cur, "Extra change to every proposal rate", Decimal(0), "RateAdjustment",
                                        "e.g. 2% = proposal rates x 1.02")
            cur.skip()
            # the results table (first) refers to the per-code blocks (last): reserve its rows
            results_row = cur.row
            cur.row = results_row + 3 + sum(len(v.years) + 3 for v in vals) + 2
        self._zopa(cur)
        _figures(cur, list(s.figures))
        for t in s.tables:
            if t.key not in _covered(s):
                _table(cur, t)
        _charts(cur, s, charts)
        if vals:
            cur.put(1, "Model detail: rates and volumes per procedure code (inputs in blue)",
                    Font(name=FONT, size=13, bold=True, color=INK))
            cur.skip()
            cur.text("Rates per unit are Parley's expected allowed per unit on the base-period volume, under the "
                     "current contract (with its escalator) and under each proposal, for every contract year. "
                     "Change a rate or a volume and the results above follow.", SMALL, span=10)
            cur.skip()
            blocks = [self._block(cur, i, v) for i, v in enumerate(vals, start=1)]
            end = cur.row
            cur.row = results_row
            self._results(cur, vals, blocks)
            cur.row = end
        ws.freeze_panes = "B4"
        nyears = max((len(v.years) for v in vals), default=1)
        _widths(ws, {1: 34, 2: 16, 3: 16, **{c: 15 for c in range(4, 4 + 4 * nyears + 2)}})

    def _input(self, cur: _Cursor, label: str, value: Decimal, name: str, note: str) -> Cell:
        cur.put(1, label, BODY)
        cell = cur.put(2, float(value / 100), INPUT_FONT, fmt=PCT_INPUT, fill=INPUT_FILL,
                       align=Alignment(horizontal="right"))
        cur.put(3, f"{name}: {note}", SMALL)
        self.name(name, cell)
        cur.skip()
        return cell

    def _block(self, cur: _Cursor, i: int, v: Valuation) -> dict[str, Any]:
        """One proposal's input rows; returns where its yearly totals are."""
        ws = self.ws
        n = len(v.years)
        cur.put(1, f"Proposal {i}: {v.proposal}", Font(name=FONT, size=12, bold=True, color=INK))
        cur.put(4, f"contracts {', '.join(v.contracts)}; base period {display(v.base_period[0], 'date')} to "
                   f"{display(v.base_period[1], 'date')}", SMALL)
        cur.skip()
        trend = self._input(cur, "Volume trend per year", v.volume_trend_percent, f"Trend_{i}", "(1 + trend)^year")
        disc = self._input(cur, "Discount rate (NPV)", v.discount_rate_percent, f"Discount_{i}", "year k / (1 + rate)^k")
        # column layout: code, lines, units | current rate y1..n | proposal rate y1..n | current rev y1..n | proposal rev y1..n
        c_cur, c_new = 4, 4 + n
        r_cur, r_new = 4 + 2 * n, 4 + 3 * n
        groups = [(c_cur, "Current rate per unit"), (c_new, "Proposal rate per unit"),
                  (r_cur, "Current revenue"), (r_new, "Proposal revenue")]
        for col, label in groups:
            cur.put(col, label, BOLD, align=Alignment(horizontal="center"))
            ws.merge_cells(start_row=cur.row, start_column=col, end_row=cur.row, end_column=col + n - 1)
        cur.skip()
        labels = ["Code", "Lines", "Base units"] + [f"Year {y.year}" for y in v.years] * 4
        _header(cur, labels, ["left"] + ["right"] * (len(labels) - 1))
        vf_row = cur.row
        cur.put(1, "Volume factor: (1 + trend)^year x (1 + volume change)", SMALL)
        for k, y in enumerate(v.years):
            for base in (r_cur, r_new):
                cur.put(base + k, f"=(1+{self._abs(trend)})^{y.year}*(1+{self._abs(self.volume)})", BODY, fmt="0.000000")
        cur.skip()
        rows = _code_table(v)
        first = cur.row
        for code, lines, units, rates_cur, rates_new, note in rows:
            cur.put(self.COL_CODE, code or "(no code)", BODY)
            cur.put(self.COL_LINES, lines, BODY, fmt="#,##0")
            ucell = cur.put(self.COL_UNITS, units, INPUT_FONT, fmt="#,##0.###", fill=INPUT_FILL)
            if note:
                ucell.comment = Comment(note, "Parley")
            for k in range(n):
                cur.put(c_cur + k, rates_cur[k], INPUT_FONT, fmt=RATE, fill=INPUT_FILL)
                cur.put(c_new + k, rates_new[k], INPUT_FONT, fmt=RATE, fill=INPUT_FILL)
                u = f"$C{cur.row}"
                vf_cur = f"{get_column_letter(r_cur + k)}${vf_row}"
                vf_new = f"{get_column_letter(r_new + k)}${vf_row}"
                cur.put(r_cur + k, f"={u}*{vf_cur}*{get_column_letter(c_cur + k)}{cur.row}", BODY, fmt=CENTS)
                cur.put(r_new + k, f"={u}*{vf_new}*{get_column_letter(c_new + k)}{cur.row}*(1+{self._abs(self.rate_adj)})",
                        BODY, fmt=CENTS)
            cur.skip()
        last = cur.row - 1
        if rows:
            self.wb.defined_names[f"Units_{i}"] = DefinedName(
                f"Units_{i}", attr_text=f"{self.sheet}!$C${first}:$C${last}")
        cur.put(1, "Total (rounded to cents)", BOLD, fill=TOTAL_FILL)
        for c in range(2, r_new + n):
            ws.cell(row=cur.row, column=c).fill = TOTAL_FILL
        totals: dict[str, list[str]] = {"cur": [], "new": []}
        for k in range(n):
            for key, base in (("cur", r_cur), ("new", r_new)):
                col = get_column_letter(base + k)
                rng = f"{col}{first}:{col}{last}" if rows else None
                cell = cur.put(base + k, f"=ROUND(ROUND(SUM({rng}),6),2)" if rng else 0, BOLD, fmt=CENTS, fill=TOTAL_FILL)
                cell.border = Border(top=RULE)
                totals[key].append(f"{self.sheet}!${col}${cur.row}")
        cur.skip(3)
        return {"totals": totals, "discount": self._abs(disc)}

    def _abs(self, cell: Cell) -> str:
        return f"${cell.column_letter}${cell.row}"

    def _results(self, cur: _Cursor, vals: list[Valuation], blocks: list[dict[str, Any]]) -> None:
        ws = self.ws
        cur.put(1, "Results: revenue under each proposal (live formulas over the inputs below)",
                Font(name=FONT, size=12, bold=True, color=INK))
        cur.skip()
        heads = ["Proposal / contract year", "Start", "Current terms", "Proposal", "Change", "Cumulative change",
                 "Parley at default inputs", "Difference"]
        _header(cur, heads, ["left", "left", "right", "right", "right", "right", "right", "right"])
        for i, (v, b) in enumerate(zip(vals, blocks, strict=True), start=1):
            cur.put(1, v.proposal, BOLD)
            cur.skip()
            first = cur.row
            for k, y in enumerate(v.years):
                cur.put(1, f"Year {y.year}", BODY)
                cur.put(2, y.start, BODY, fmt="d mmm yyyy", align=Alignment(horizontal="left"))
                cur.put(3, f"={b['totals']['cur'][k]}", BODY, fmt=CENTS)
                cur.put(4, f"={b['totals']['new'][k]}", BODY, fmt=CENTS)
                cur.put(5, f"=ROUND(D{cur.row}-C{cur.row},2)", BODY, fmt=CENTS)
                cur.put(6, f"=E{cur.row}" if k == 0 else f"=ROUND(F{cur.row - 1}+E{cur.row},2)", BODY, fmt=CENTS)
                cur.put(7, y.revenue_change, SMALL, fmt=CENTS)
                cur.put(8, f"=ROUND(E{cur.row}-G{cur.row},2)", SMALL, fmt=CENTS)
                _row_border(ws, cur.row, 8)
                cur.skip()
            last = cur.row - 1
            cur.put(1, f"Contract term ({len(v.years)} years)", BOLD, fill=TOTAL_FILL)
            cur.put(2, "", BODY, fill=TOTAL_FILL)
            for col, key in ((3, "C"), (4, "D"), (5, "E")):
                cur.put(col, f"=ROUND(SUM({key}{first}:{key}{last}),2)", BOLD, fmt=CENTS, fill=TOTAL_FILL)
            cur.put(6, f"=F{last}", BOLD, fmt=CENTS, fill=TOTAL_FILL)
            cur.put(7, v.revenue_change_total, SMALL, fmt=CENTS, fill=TOTAL_FILL)
            cur.put(8, f"=ROUND(E{cur.row}-G{cur.row},2)", SMALL, fmt=CENTS, fill=TOTAL_FILL)
            for c in range(1, 9):
                ws.cell(row=cur.row, column=c).border = Border(top=RULE)
            self.name(f"Change_{i}", ws.cell(row=cur.row, column=5))
            cur.skip()
            npv = "+".join(f"E{first + k}/(1+{b['discount']})^{y.year}" for k, y in enumerate(v.years))
            cur.put(1, "NPV of the change", BODY)
            cur.put(5, f"=ROUND(ROUND({npv},6),2)", BODY, fmt=CENTS)
            cur.put(7, v.npv_revenue_change, SMALL, fmt=CENTS)
            cur.put(8, f"=ROUND(E{cur.row}-G{cur.row},2)", SMALL, fmt=CENTS)
            cur.skip()
        cur.put(1, "Parley's figures are the engine's valuation (expected allowed on the base-period volume, "
                   "repriced under each year's terms); the difference is 0 at the default inputs.", SMALL)
        cur.skip(2)

    def _zopa(self, cur: _Cursor) -> None:
        s = self.section
        figs: list[Figure] = []
        if s.zopa is not None:
            z = s.zopa
            figs += [z.current, z.opening_offer, z.walk_away, z.payer_max, z.batna]
        if figs:
            _figures(cur, figs, "Zone of agreement (annual revenue on our volume)")
            if s.zopa is not None:
                cur.text(s.zopa.note, SMALL)
                cur.skip()
        if s.exit_cases:
            n = max(len(e.net_change_by_year) for e in s.exit_cases)
            cur.put(1, "Payer exit impact", BOLD)
            cur.skip()
            _header(cur, ["Case", "Revenue at risk", "Net change", *[f"Year {k}" for k in range(1, n + 1)]],
                    ["left"] + ["right"] * (2 + n))
            for e in s.exit_cases:
                cur.put(1, e.case, BODY)
                cur.put(2, e.revenue_at_risk_total, BODY, fmt=FORMATS["dollars"])
                cur.put(3, e.net_change_total, BODY, fmt=FORMATS["dollars"])
                for k, x in enumerate(e.net_change_by_year):
                    cur.put(4 + k, x, BODY, fmt=FORMATS["dollars"])
                _row_border(cur.ws, cur.row, 3 + n)
                cur.skip()
            cur.skip()
        if s.probability_owing is not None and not s.figure("probability_owing"):
            cur.put(1, "Value-based: probability of owing money in some year", BODY)
            cur.put(2, s.probability_owing, BODY, fmt="0.0%")
            cur.skip(2)


def _code_table(v: Valuation) -> list[tuple[str, int, Any, list[float], list[float], str | None]]:
    """Per code: lines, base units and the rate per unit of each year (allowed / units), in revenue order.

    A code without positive units gets units 1 and its whole allowed amount as the rate (noted)."""
    years = [y.year for y in v.years]
    by: dict[str, dict[int, Any]] = {}
    for r in v.by_code:
        by.setdefault(r.code, {})[r.year] = r
    out = []
    for code in sorted(by, key=lambda c: (-sum(x.allowed_current for x in by[c].values()), c)):
        rows = by[code]
        any_row = next(iter(rows.values()))
        units, note = any_row.units, None
        if units <= 0:
            units, note = Decimal(1), f"no positive units reported (base units {any_row.units}): the rate is the code's total"
        cur = [float(rows[y].allowed_current / units) if y in rows else 0.0 for y in years]
        new = [float(rows[y].allowed_proposal / units) if y in rows else 0.0 for y in years]
        out.append((code, any_row.lines, units, cur, new, note))
    return out


def expected_totals(v: Valuation, *, volume_change: Decimal = Decimal(0), rate_adjustment: Decimal = Decimal(0)
                    ) -> list[tuple[Decimal, Decimal]]:
    """What the sheet's formulas give per year (current, proposal), in exact decimal arithmetic:
    round_half_up(sum(allowed) x (1 + trend)^year x (1 + volume change) [x (1 + rate adjustment)], cents)."""
    from decimal import ROUND_HALF_UP

    out = []
    for y in v.years:
        vf = (1 + v.volume_trend_percent / 100) ** y.year * (1 + volume_change)
        cur = sum((r.allowed_current for r in v.by_code if r.year == y.year), Decimal(0)) * vf
        new = sum((r.allowed_proposal for r in v.by_code if r.year == y.year), Decimal(0)) * vf * (1 + rate_adjustment)
        out.append((cur.quantize(Decimal("0.01"), ROUND_HALF_UP), new.quantize(Decimal("0.01"), ROUND_HALF_UP)))
    return out


def unit_format(unit: Unit) -> str | None:
    return FORMATS.get(unit)
