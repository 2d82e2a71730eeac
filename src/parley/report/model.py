"""The negotiation brief's one report model (pure data: every renderer reads only this).

A :class:`Brief` holds seven sections in a fixed order (executive summary, contract
inventory, performance, value story, scenarios, playbook, method notes).  Every
section has an *action title* (``headline``: the finding, stated as a sentence), key
messages, :class:`Figure` s, :class:`Table` s and :class:`ChartData` (the numbers
behind each chart, drawn once by :mod:`parley.report.charts`), and a list of
``missing`` notes: what could not be shown and why (no remits yet, no quality data,
no benchmarks...).  A renderer shows the notes instead of zeros.

Every figure carries its value (``Decimal`` for money and rates, ``int`` for counts,
``date`` for dates, ``str`` for a short text such as a decision; ``None`` when not
available), its unit, a label, a definition and a source.  :func:`display` is the one
place numbers are formatted ($1.2M, 142% of Medicare, 18.4 days), so HTML, PDF, Excel
and PowerPoint print the same strings.

The models are frozen pydantic v2 models; money is ``Decimal``.  Extensions are
additive only (new optional fields), so renderers written against this file keep working.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from parley.engine.scenarios import Valuation

Unit = Literal[
    "dollars",  # money, Decimal
    "percent",  # 12.5 = 12.5%
    "percent_of_medicare",  # 142 = 142% of Medicare
    "fraction",  # 0.125 = 12.5% (shown as a percent)
    "days",
    "count",
    "score",  # 0-100
    "ratio",  # e.g. 1.05x
    "per_100",  # e.g. prior authorisations per 100 claims
    "date",
    "text",
]
Value = Decimal | int | dt.date | str | None
Cell = Decimal | int | dt.date | str | None
Severity = Literal["high", "medium", "low"]
SectionId = Literal["summary", "inventory", "performance", "value", "scenarios", "playbook", "method"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=False)


class Figure(_Frozen):
    """One number (or date / short text) with what it means and where it comes from."""

    key: str = Field(description="stable machine name, e.g. 'percent_of_medicare'")
    label: str = Field(description="short human label, e.g. 'Rate level'")
    value: Value
    unit: Unit
    definition: str = Field(description="what the figure measures, in one sentence")
    source: str = Field(description="where it comes from: dataset, period, service")
    note: str | None = Field(default=None, description="derivation detail or caveat")
    missing: str | None = Field(default=None, description="why value is None (shown instead of the number)")

    @property
    def display(self) -> str:
        return display(self.value, self.unit) if self.value is not None else "n/a"


class Column(_Frozen):
    key: str
    label: str
    unit: Unit = "text"
    align: Literal["left", "right", "center"] = "right"


class Table(_Frozen):
    """A small formatted table (renderers align numerals right; cells formatted by :func:`display`)."""

    key: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = Field(default_factory=list)
    note: str | None = None
    source: str | None = None
    highlight_rows: list[int] = Field(default_factory=list, description="row indexes to emphasise (e.g. this payer)")

    def cell_text(self, row: int, col: int) -> str:
        v = self.rows[row][col]
        return "" if v is None else short(v, self.columns[col].unit)


class Series(_Frozen):
    name: str
    values: list[Decimal | None]
    role: Literal["primary", "baseline", "peer", "target", "other", "low", "high"] = "primary"


class ChartData(_Frozen):
    """The numbers behind one chart; :mod:`parley.report.charts` draws it once for every format."""

    key: str = Field(description="stable key, e.g. 'performance.denials'")
    kind: Literal["bar", "hbar", "line", "stacked_bar", "histogram", "range", "waterfall"]
    title: str = Field(description="action title of the chart")
    categories: list[str] = Field(description="x categories (bar/line) or bin edges labels (histogram)")
    series: list[Series]
    x_label: str
    y_label: str
    unit: Unit
    source: str
    alt: str = Field(description="alt text: what the chart shows, in words")
    note: str | None = None
    markers: dict[str, Decimal] = Field(default_factory=dict, description="named reference lines (value axis)")
    highlight: list[str] = Field(default_factory=list, description="categories to emphasise")


class RiskFlag(_Frozen):
    term: str
    severity: Severity
    finding: str
    rule: str = Field(description="the rule that raised it (docs/brief.md)")


class ContractCard(_Frozen):
    """One contract's terms in force, as the inventory shows them."""

    contract_id: str
    payer: str
    product_lines: list[str]
    effective: dt.date
    expires: dt.date | None
    renewal: str
    termination_notice_days: int
    notice_deadline: dt.date | None
    renegotiation_window: tuple[dt.date, dt.date] | None
    reimbursement: str
    escalator: str
    lesser_of_billed: bool | None
    timely_filing_days: int | None
    prompt_pay: str
    prior_authorization_codes: list[str]
    value_based: list[str]
    amendments: list[str]
    flags: list[RiskFlag]


class ExitCaseRow(_Frozen):
    case: str
    revenue_at_risk_total: Decimal
    net_change_total: Decimal
    net_change_by_year: list[Decimal]


class Zopa(_Frozen):
    """Walk-away, payer maximum, opening offer and current terms (yearly revenue on our volume)."""

    current: Figure
    walk_away: Figure
    payer_max: Figure
    opening_offer: Figure
    batna: Figure
    exists: bool | None
    note: str


class Objection(_Frozen):
    objection: str
    counterpoint: str
    complete: bool


class CriterionRow(_Frozen):
    label: str
    weight: Decimal
    value: Decimal | None
    score: Decimal
    points: Decimal
    explanation: str


class Rubric(_Frozen):
    name: str
    total: Decimal
    decision: str
    accept_at: Decimal
    negotiate_at: Decimal
    criteria: list[CriterionRow]
    explanation: str


class Definition(_Frozen):
    term: str
    definition: str


class DataSource(_Frozen):
    name: str
    description: str
    period: str | None = None
    as_of: str | None = None


class Section(_Frozen):
    """One section: an action title, key messages, figures, tables, charts and what is missing."""

    id: SectionId
    title: str = Field(description="short section name, e.g. 'Performance'")
    headline: str = Field(description="action title: the finding as a sentence")
    messages: list[str] = Field(default_factory=list, description="key messages (2-5 bullets)")
    figures: list[Figure] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    charts: list[ChartData] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list, description="what could not be shown, and why")

    def figure(self, key: str) -> Figure | None:
        return next((f for f in self.figures if f.key == key), None)


class ExecutiveSummary(Section):
    id: Literal["summary"] = "summary"
    decision: str | None = Field(default=None, description="the rubric's recommendation: accept / negotiate / decline")
    key_dates: list[Figure] = Field(default_factory=list)


class ContractInventory(Section):
    id: Literal["inventory"] = "inventory"
    contracts: list[ContractCard] = Field(default_factory=list)


class Performance(Section):
    id: Literal["performance"] = "performance"


class ValueStory(Section):
    id: Literal["value"] = "value"


class Scenarios(Section):
    id: Literal["scenarios"] = "scenarios"
    valuations: list[Valuation] = Field(default_factory=list, description="engine valuations (with per-code detail)")
    zopa: Zopa | None = None
    exit_cases: list[ExitCaseRow] = Field(default_factory=list)
    probability_owing: Decimal | None = Field(default=None, description="value-based: P(owing money in some year)")


class Playbook(Section):
    id: Literal["playbook"] = "playbook"
    objections: list[Objection] = Field(default_factory=list)
    issues: list[str] = Field(default_factory=list)
    rubric: Rubric | None = None


class MethodNotes(Section):
    id: Literal["method"] = "method"
    definitions: list[Definition] = Field(default_factory=list)
    sources: list[DataSource] = Field(default_factory=list)
    exclusions: list[str] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)


class Brief(_Frozen):
    """The negotiation brief for one payer (optionally some product lines), as of a date."""

    payer: str
    organization: str
    title: str
    subtitle: str
    contracts: list[str]
    product_lines: list[str]
    as_of: dt.date
    base_period: tuple[dt.date, dt.date] | None
    generated_at: dt.datetime
    summary: ExecutiveSummary
    inventory: ContractInventory
    performance: Performance
    value: ValueStory
    scenarios: Scenarios
    playbook: Playbook
    method: MethodNotes
    headline_figures: list[Figure] = Field(default_factory=list, description="the few figures --json prints")

    def sections(self) -> list[Section]:
        return [self.summary, self.inventory, self.performance, self.value, self.scenarios, self.playbook, self.method]

    def charts(self) -> list[ChartData]:
        return [c for s in self.sections() for c in s.charts]


# --------------------------------------------------------------------------- formatting (shared by every format)


def _q(x: Decimal, places: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money(x: Decimal | int, *, exact: bool = False) -> str:
    """$1.2M, $845K, $12,340 (exact: $12,340.56); negatives as -$1.2M."""
    d = Decimal(x)
    sign = "-" if d < 0 else ""
    a = abs(d)
    if exact:
        return f"{sign}${_q(a, 2):,.2f}"
    if a >= 1_000_000_000:
        return f"{sign}${_q(a / 1_000_000_000, 1)}B"
    if a >= 1_000_000:
        return f"{sign}${_q(a / 1_000_000, 1)}M"
    if a >= 10_000:
        return f"{sign}${_q(a / 1_000, 0):,}K"
    return f"{sign}${_q(a, 0):,}"


def display(value: Value, unit: Unit) -> str:
    """The one formatting of a value for every format."""
    if value is None:
        return "n/a"
    if isinstance(value, (dt.date, str)) or unit in ("date", "text"):
        return value.strftime("%d %b %Y") if isinstance(value, dt.date) else str(value)
    d = Decimal(value)
    if unit == "dollars":
        return money(d)
    if unit == "percent":
        return f"{_q(d, 1)}%"
    if unit == "fraction":
        return f"{_q(d * 100, 1)}%"
    if unit == "percent_of_medicare":
        return f"{_q(d, 0)}% of Medicare"
    if unit == "days":
        return f"{_q(d, 1)} days"
    if unit == "count":
        return f"{int(d):,}"
    if unit == "score":
        return f"{_q(d, 0)}"
    if unit == "ratio":
        return f"{_q(d, 2)}x"
    if unit == "per_100":
        return f"{_q(d, 1)} per 100"
    return str(value)


def short(value: Value, unit: Unit) -> str:
    """Compact form for table cells and axis labels (no unit words): 142%, 18.4, $1.2M."""
    if value is None:
        return "n/a"
    if unit == "percent_of_medicare" and not isinstance(value, (str, dt.date)):
        return f"{_q(Decimal(value), 0)}%"
    if unit == "days" and not isinstance(value, (str, dt.date)):
        return f"{_q(Decimal(value), 1)}"
    return display(value, unit)
