"""Contract terms: one documented schema for a payer agreement (pure: no I/O).

A contract is a YAML document (see ``docs/contracts.md``; the JSON Schema is
``docs/contract-schema.json``, exported from :class:`Contract`).  It names the
payer and product lines it covers, its dates and administrative terms, its
professional and facility reimbursement terms, escalators, effective-dated
amendments and value-based overlays (kept as data for later modeling).

Reading a contract (from YAML, with file / line / field errors) lives in
:mod:`parley.domain.contracts_load`; this module holds the models and the
date logic: :meth:`Contract.terms_on` gives the terms in force on a date of
service (base terms with every amendment effective on or before it applied)
and :meth:`Contract.segments` cuts the contract's life into periods within
which nothing changes (amendments, escalator anniversaries and, for "current
year" Medicare terms, 1 January), so the engine can compile one rate table
per period.

Percentages are written as percents (``125`` = 125%) with at most three
decimals and never above 1000; money has at most two decimals.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = 1

Percent = Annotated[Decimal, Field(ge=0, le=1000, decimal_places=3, description="a percentage: 125 = 125%")]
ChargePercent = Annotated[
    Decimal, Field(ge=0, le=100, decimal_places=3, description="percent of billed charges (0-100)")
]
Money = Annotated[Decimal, Field(ge=0, decimal_places=2, description="dollars and cents")]
Code = Annotated[str, Field(min_length=1, max_length=7, pattern=r"^[A-Za-z0-9]+$", description="CPT / HCPCS code")]

PRICING_MODIFIERS = ("26", "TC")
ASSISTANT_MODIFIERS = ("80", "81", "82", "AS")
BILATERAL_MODIFIER = "50"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- selectors


class CodeSelector(_Model):
    """Which codes a term applies to: explicit codes, ranges and / or prefixes."""

    codes: list[Code] = Field(default_factory=list, description="explicit codes")
    ranges: list[tuple[Code, Code]] = Field(
        default_factory=list, description="inclusive code ranges, e.g. [['80047', '89398']]"
    )
    prefixes: list[str] = Field(default_factory=list, description="code prefixes, e.g. ['J'] for drugs")

    def matches(self, code: str) -> bool:
        c = code.upper()
        return (
            c in {x.upper() for x in self.codes}
            or any(lo.upper() <= c <= hi.upper() and len(c) == len(lo) for lo, hi in self.ranges)
            or any(c.startswith(p.upper()) for p in self.prefixes)
        )

    def is_empty(self) -> bool:
        return not (self.codes or self.ranges or self.prefixes)


# --------------------------------------------------------------------------- rate methods


class FeeRow(_Model):
    """One fee-schedule rate."""

    code: Code
    modifier: str = Field(default="", max_length=2, description="'' (global), '26' or 'TC'")
    site: Literal["any", "facility", "non_facility"] = Field(
        default="any", description="place-of-service setting the rate applies to"
    )
    pos: str | None = Field(default=None, pattern=r"^\d{2}$", description="a specific place of service")
    amount: Money = Field(description="allowed amount per unit")

    @field_validator("modifier")
    @classmethod
    def _mod(cls, v: str) -> str:
        v = v.strip().upper()
        if v not in ("", *PRICING_MODIFIERS):
            raise ValueError(f"fee-schedule modifier must be '', '26' or 'TC', not {v!r}")
        return v


class FeeSchedule(_Model):
    """An explicit rate per code (optionally by modifier and place of service)."""

    method: Literal["fee_schedule"] = "fee_schedule"
    rates: list[FeeRow] = Field(default_factory=list, description="inline rates")
    csv: str | None = Field(
        default=None,
        description="CSV file (relative to the YAML) with columns code, amount and optional modifier, site, pos; "
        "its rows are added to the inline rates when the contract is loaded",
    )

    @functools.cached_property
    def _by_code(self) -> dict[tuple[str, str], list[FeeRow]]:
        index: dict[tuple[str, str], list[FeeRow]] = {}
        for row in self.rates:
            index.setdefault((row.code.upper(), row.modifier), []).append(row)
        return index

    def lookup(self, code: str, modifier: str, pos: str, facility: bool) -> FeeRow | None:
        """Most specific row: exact POS, then setting, then any setting."""
        site = "facility" if facility else "non_facility"
        best: tuple[int, FeeRow] | None = None
        for row in self._by_code.get((code, modifier), ()):
            if row.pos is not None:
                rank = 0 if row.pos == pos else -1
            else:
                rank = 1 if row.site == site else (2 if row.site == "any" else -1)
            if rank >= 0 and (best is None or rank < best[0]):
                best = (rank, row)
        return best[1] if best else None


class PercentOfMedicare(_Model):
    """X% of the Medicare Physician Fee Schedule for a year (or the service's year) and locality."""

    method: Literal["percent_of_medicare"] = "percent_of_medicare"
    percent: Percent
    pfs_year: int | Literal["current"] = Field(
        default="current", description="a PFS year (pinned) or 'current' (the year of the date of service)"
    )
    quarter: Literal[1, 2, 3, 4] | None = Field(
        default=None, description="PFS quarterly release (1 = January 'A' ... 4 = October 'D'); default the year's default release"
    )
    if_year_unavailable: Literal["not_priceable", "latest_available"] = Field(
        default="not_priceable",
        description="for 'current': when the service year's PFS is not loaded, refuse to price or use the newest loaded year",
    )
    locality: str | None = Field(default=None, description="Medicare carrier-locality, e.g. '13202-01'")
    zip: str | None = Field(default=None, pattern=r"^\d{5}$", description="practice ZIP (selects the locality)")

    @field_validator("pfs_year")
    @classmethod
    def _year(cls, v: int | str) -> int | str:
        if isinstance(v, int) and not 1992 <= v <= 2100:
            raise ValueError(f"pfs_year {v} is not a plausible PFS year")
        return v

    @model_validator(mode="after")
    def _one_place(self) -> PercentOfMedicare:
        if self.locality and self.zip:
            raise ValueError("give locality or zip, not both")
        return self


class PercentOfCharges(_Model):
    """X% of the billed line charge."""

    method: Literal["percent_of_charges"] = "percent_of_charges"
    percent: ChargePercent


class PercentOfReference(_Model):
    """X% of a user-supplied reference price list per code (ASP for drugs, the CLFS for labs...).

    ASP + 6% is ``percent: 106`` of the ASP list.  The list is a CSV (columns
    code, amount and optional effective date ``from``) read at load time.
    """

    method: Literal["percent_of_reference"] = "percent_of_reference"
    reference: str = Field(description="name of the list, e.g. 'ASP' or 'CLFS'")
    percent: Percent
    csv: str | None = Field(default=None, description="CSV file (relative to the YAML): code, amount[, from]")
    prices: list[ReferencePrice] = Field(default_factory=list, description="inline reference prices")

    def price_on(self, code: str, on: dt.date) -> ReferencePrice | None:
        best: ReferencePrice | None = None
        for p in self.prices:
            applies = p.code.upper() == code and (p.from_date is None or p.from_date <= on)
            if applies and (best is None or (p.from_date or dt.date.min) >= (best.from_date or dt.date.min)):
                best = p
        return best


class ReferencePrice(_Model):
    code: Code
    amount: Money
    from_date: dt.date | None = Field(default=None, alias="from", description="effective from")

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class NotCovered(_Model):
    """The codes are not paid (expected allowed 0)."""

    method: Literal["not_covered"] = "not_covered"


Method = Annotated[
    FeeSchedule | PercentOfMedicare | PercentOfCharges | PercentOfReference | NotCovered,
    Field(discriminator="method"),
]


class CarveOut(_Model):
    """Codes priced by their own method, before the main methodology."""

    name: str = Field(description="e.g. 'drugs', 'labs'")
    select: CodeSelector
    pricing: Method
    escalate: bool = Field(default=False, description="the contract's escalator applies to this carve-out")
    reductions: bool = Field(default=False, description="multiple-procedure and other reductions apply")


# --------------------------------------------------------------------------- adjustments


class MultipleProcedure(_Model):
    """Multiple-procedure reduction for codes whose PFS MPPR indicator is in ``indicators``.

    The CMS rule: each unit is a procedure.  Within a claim, the procedures
    subject to it are ranked by their unit rate (highest first; ties by line
    number); the first is paid at ``schedule[0]``%, the second at
    ``schedule[1]``%..., the last percentage repeating.  A line with 2 units
    ranked first earns ``schedule[0] + schedule[1]`` percent of its unit rate.
    """

    indicators: list[str] = Field(default_factory=lambda: ["2"], description="PFS MULT PROC indicators reduced")
    schedule: list[Percent] = Field(default_factory=lambda: [Decimal(100), Decimal(50)], min_length=1)


class Adjustments(_Model):
    """Professional payment adjustments (applied in this order, each rounded to cents half up)."""

    multiple_procedure: MultipleProcedure | None = None
    bilateral_percent: Percent | None = Field(default=None, description="modifier 50 (e.g. 150)")
    assistant_at_surgery_percent: Percent | None = Field(default=None, description="modifiers 80/81/82/AS (e.g. 16)")
    npp_percent: Percent | None = Field(default=None, description="non-physician practitioner (e.g. 85)")
    npp_npis: list[str] = Field(default_factory=list, description="rendering NPIs billed as non-physician practitioners")
    professional_component_percent: Percent | None = Field(
        default=None, description="modifier 26 share of the global rate when no 26 rate exists"
    )
    technical_component_percent: Percent | None = Field(
        default=None, description="modifier TC share of the global rate when no TC rate exists"
    )


class Anesthesia(_Model):
    """Anesthesia: (base units + time units) x the contract's anesthesia conversion factor."""

    conversion_factor: Money
    base_units: dict[str, Decimal] = Field(default_factory=dict, description="ASA base units per code")
    time_unit_minutes: int = Field(default=15, ge=1, le=60)
    rounding: Literal["tenth", "whole_up", "exact"] = "tenth"
    select: CodeSelector = Field(
        default_factory=lambda: CodeSelector(ranges=[("00100", "01999")]),
        description="anesthesia codes (default 00100-01999)",
    )


class Professional(_Model):
    """Professional (837P) reimbursement terms."""

    methodology: Method = Field(description="the main rate methodology")
    carve_outs: list[CarveOut] = Field(default_factory=list)
    default: Method | None = Field(default=None, description="rule for codes the methodology does not price")
    lesser_of_billed: bool = Field(default=True, description="pay the lesser of the contract amount and billed charge")
    adjustments: Adjustments = Field(default_factory=Adjustments)
    anesthesia: Anesthesia | None = None


# --------------------------------------------------------------------------- facility


RevenueCode = Annotated[str, Field(pattern=r"^\d{3,4}$", description="UB-04 revenue code, e.g. '0200' (3 digits are zero-padded)")]


def revenue_code(code: str) -> str:
    """Revenue codes compare as 4 digits ('120' and '0120' are the same code)."""
    return code.strip().zfill(4)


class DrgCaseRate(_Model):
    """Inpatient DRG case rate = round(base rate x the MS-DRG relative weight), cents half up.

    Weights are always the user's (a CMS Table 5 extract): inline ``weights`` and / or a
    ``weights_csv`` with columns drg, weight and optional gmlos, amlos.
    """

    base_rate: Money
    weights: dict[str, Annotated[Decimal, Field(gt=0, le=100, decimal_places=4)]] = Field(
        default_factory=dict, description="MS-DRG (3 digits) -> relative weight (at most 4 decimals)"
    )
    weights_csv: str | None = Field(default=None, description="CSV drg, weight[, gmlos, amlos] (relative to the YAML)")

    @field_validator("weights")
    @classmethod
    def _drgs(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        out = {}
        for k, w in v.items():
            key = str(k).strip().zfill(3)
            if not key.isdigit() or len(key) != 3:
                raise ValueError(f"MS-DRG {k!r} is not a 3-digit code")
            out[key] = w
        return out


class PerDiem(_Model):
    """A daily rate for a level of care, selected by the accommodation revenue codes billed."""

    level_of_care: str = Field(description="e.g. medical, surgical, ICU")
    revenue_codes: list[RevenueCode] = Field(default_factory=list)
    revenue_code_ranges: list[tuple[RevenueCode, RevenueCode]] = Field(
        default_factory=list, description="inclusive ranges, e.g. [['0200', '0219']] for intensive care"
    )
    amount: Money = Field(description="per covered day")

    @model_validator(mode="after")
    def _some_code(self) -> PerDiem:
        if not (self.revenue_codes or self.revenue_code_ranges):
            raise ValueError(f"per diem {self.level_of_care!r} needs revenue_codes or revenue_code_ranges")
        return self

    def matches(self, rev: str) -> bool:
        r = revenue_code(rev)
        return r in {revenue_code(c) for c in self.revenue_codes} or any(
            revenue_code(lo) <= r <= revenue_code(hi) for lo, hi in self.revenue_code_ranges
        )


class Outlier(_Model):
    """Stop-loss / outlier: applies when the claim's billed charges exceed ``threshold``.

    ``excess``: the base payment plus ``percent`` of the charges above the threshold;
    ``all_charges``: the whole claim is paid at ``percent`` of its charges instead.
    """

    threshold: Money
    percent: ChargePercent
    applies_to: Literal["excess", "all_charges"] = "excess"
    claims: Literal["inpatient", "outpatient", "all"] = Field(default="inpatient", description="claims it applies to")


class Facility(_Model):
    """Facility (837I) reimbursement terms, priced per claim (see docs/contracts.md)."""

    inpatient_drg: DrgCaseRate | None = None
    per_diems: list[PerDiem] = Field(default_factory=list, description="in priority order: the first whose codes are billed")
    percent_of_charges: ChargePercent | None = Field(default=None, description="outpatient / default")
    outlier: Outlier | None = None
    revenue_code_carve_outs: dict[str, Money] = Field(
        default_factory=dict, description="revenue code -> amount per unit, paid on top and removed from the charges base"
    )
    lesser_of_billed: bool = Field(default=False, description="pay the lesser of the claim amount and its billed charges")

    @field_validator("revenue_code_carve_outs")
    @classmethod
    def _revs(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        bad = [k for k in v if not (str(k).strip().isdigit() and 3 <= len(str(k).strip()) <= 4)]
        if bad:
            raise ValueError(f"revenue codes are 3 or 4 digits, not {bad}")
        return {revenue_code(str(k)): a for k, a in v.items()}


# --------------------------------------------------------------------------- escalators, VBC


class Escalator(_Model):
    """A yearly increase on each anniversary after the effective date.

    ``percent``: compounding; a fee-schedule rate becomes round(rate x (1 + p)^n),
    a percent-of-Medicare percentage becomes pct x (1 + p)^n (exact).
    ``percentage_points``: a percent-of-charges / -Medicare percentage grows by p points a year.
    """

    amount: Percent
    unit: Literal["percent", "percentage_points"] = "percent"
    anniversary: str = Field(pattern=r"^\d{2}-\d{2}$", description="MM-DD")

    def anniversaries(self, start: dt.date, end: dt.date) -> list[dt.date]:
        m, d = (int(x) for x in self.anniversary.split("-"))
        return [dt.date(y, m, d) for y in range(start.year, end.year + 1) if start < dt.date(y, m, d) <= end]


class ValueBased(_Model):
    """Value-based overlay terms, kept as data for modeling (not used by repricing)."""

    kind: Literal[
        "shared_savings", "downside_risk", "risk_corridor", "withhold", "capitation",
        "pay_for_performance", "care_management_fee", "infrastructure_payment",
    ]
    description: str | None = None
    benchmark_pmpm: Money | None = None
    minimum_savings_rate_percent: Percent | None = None
    sharing_rate_percent: Percent | None = None
    minimum_loss_rate_percent: Percent | None = None
    loss_rate_percent: Percent | None = None
    cap_percent: Percent | None = None
    corridor_percent: Percent | None = None
    withhold_percent: Percent | None = None
    pmpm: Money | None = None
    amount: Money | None = None
    years: int | None = Field(default=None, ge=1, le=20)
    quality_gate: dict[str, Any] = Field(default_factory=dict)
    measures: list[dict[str, Any]] = Field(default_factory=list)


# --------------------------------------------------------------------------- contract


class Renewal(_Model):
    type: Literal["evergreen", "fixed"]
    term_years: int | None = Field(default=None, ge=1, le=20)
    termination_notice_days: int = Field(default=90, ge=0, le=730)


class PromptPay(_Model):
    days: int = Field(ge=1, le=365)
    interest_percent_annual: Percent | None = None


class Payer(_Model):
    name: str
    payer_ids: list[str] = Field(min_length=1, description="835 payer ids (REF*2U / N1*PR04 / TRN03) and 837 NM1*PR09")


class Terms(_Model):
    """The reimbursement part of a contract (what amendments may replace)."""

    professional: Professional | None = None
    facility: Facility | None = None
    escalator: Escalator | None = None
    value_based: list[ValueBased] = Field(default_factory=list)


class Amendment(_Model):
    """Effective-dated change: its sections replace the contract's from ``effective`` on.

    Mappings are merged key by key (so ``professional: {methodology: {percent: 130}}``
    changes only the percentage); lists and scalars replace.
    """

    effective: dt.date
    description: str | None = None
    changes: dict[str, Any] = Field(description="partial terms: professional / facility / escalator / value_based")


class Contract(Terms):
    """One payer agreement."""

    schema_version: Literal[1] = 1
    contract_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    payer: Payer
    product_lines: list[str] = Field(min_length=1, description="e.g. Commercial PPO, Medicare Advantage HMO")
    claim_filing_indicators: list[str] = Field(
        default_factory=list, description="CLP06 / SBR09 codes covered (empty = any)"
    )
    plans: list[str] = Field(
        default_factory=list,
        description="plan / group numbers covered (empty = all); kept as data: the claims carry no plan or group "
        "number yet (837 SBR03 / 835 REF*1L are not captured), so repricing cannot match on it and two contracts "
        "may not differ by plans alone",
    )
    effective: dt.date
    expires: dt.date | None = Field(default=None, description="None = evergreen with no end date")
    renewal: Renewal
    timely_filing_days: int | None = Field(default=None, ge=1, le=730)
    prompt_pay: PromptPay | None = None
    prior_authorization_codes: list[Code] = Field(default_factory=list)
    amendments: list[Amendment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _dates(self) -> Contract:
        if self.expires is not None and self.expires < self.effective:
            raise ValueError(f"expires {self.expires} is before effective {self.effective}")
        seen: set[dt.date] = set()
        for a in self.amendments:
            if a.effective in seen:
                raise ValueError(f"two amendments take effect on {a.effective}: their terms overlap")
            seen.add(a.effective)
            if a.effective <= self.effective or (self.expires and a.effective > self.expires):
                raise ValueError(
                    f"amendment effective {a.effective} is outside the contract ({self.effective} .. {self.expires or 'open'})"
                )
            bad = set(a.changes) - set(Terms.model_fields)
            if bad:
                raise ValueError(f"amendment {a.effective} changes unknown sections {sorted(bad)}")
        if self.professional is None and self.facility is None:
            raise ValueError("a contract needs professional and / or facility terms")
        return self

    @property
    def key(self) -> str:
        return self.contract_id

    def covers(self, on: dt.date) -> bool:
        return self.effective <= on and (self.expires is None or on <= self.expires)

    def ordered_amendments(self) -> list[Amendment]:
        return sorted(self.amendments, key=lambda a: a.effective)

    def terms_on(self, on: dt.date) -> Terms:
        """The terms in force on a date (base + amendments effective on or before it)."""
        data = self.model_dump(include=set(Terms.model_fields), by_alias=True)
        for a in self.ordered_amendments():
            if a.effective <= on:
                data = deep_merge(data, a.changes)
        return Terms.model_validate(data)

    def segments(self, until: dt.date) -> list[Segment]:
        """Periods [start, end] within which the terms, the escalation step and the PFS year are fixed,
        every one that starts by ``until``.

        A period ends where it ends in the contract (the day before the next cut, or the expiry),
        not at ``until``: the periods, their labels and the rate table's rows do not depend on
        how far the data goes (cuts come at least every January 1st, so the last period looks at
        most a year past ``until``)."""
        end = min(self.expires or until, until)
        horizon = min(self.expires or dt.date.max, dt.date(min(end.year + 1, dt.MAXYEAR), 12, 31))
        cuts = {self.effective, *(a.effective for a in self.amendments if a.effective <= horizon)}
        for a in self.ordered_amendments():
            cuts.add(a.effective)
        terms_cache: dict[dt.date, Terms] = {}
        for d in sorted(cuts):
            if d <= end:
                terms_cache[d] = self.terms_on(d)
        for t in terms_cache.values():
            if t.escalator:
                cuts.update(t.escalator.anniversaries(self.effective, horizon))
            cuts.update(d for d in _reference_dates(t) if self.effective < d)
        cuts.update(dt.date(y, 1, 1) for y in range(self.effective.year + 1, horizon.year + 1))
        ordered = sorted(c for c in cuts if c <= horizon)
        out = []
        for i, start in enumerate(ordered):
            if start > end:
                break
            stop = ordered[i + 1] - dt.timedelta(days=1) if i + 1 < len(ordered) else horizon
            out.append(Segment(self, i, start, stop))
        return out

    def escalation_step(self, on: dt.date, escalator: Escalator | None) -> int:
        if escalator is None:
            return 0
        return len(escalator.anniversaries(self.effective, on))


class Segment:
    """A period of a contract within which nothing changes."""

    __slots__ = ("contract", "index", "start", "end", "_terms")

    def __init__(self, contract: Contract, index: int, start: dt.date, end: dt.date) -> None:
        self.contract, self.index, self.start, self.end = contract, index, start, end
        self._terms: Terms | None = None

    @property
    def terms(self) -> Terms:
        if self._terms is None:
            self._terms = self.contract.terms_on(self.start)
        return self._terms

    def __repr__(self) -> str:
        return f"Segment({self.contract.contract_id}#{self.index} {self.start}..{self.end})"


def _reference_dates(terms: Terms) -> set[dt.date]:
    """Dates a reference price list changes (ASP quarters ...): a rate period starts on each."""
    prof = terms.professional
    if prof is None:
        return set()
    methods = [prof.methodology, prof.default, *(c.pricing for c in prof.carve_outs)]
    return {p.from_date for m in methods if isinstance(m, PercentOfReference) for p in m.prices if p.from_date}


def deep_merge(base: Any, patch: Any) -> Any:
    """Merge mappings key by key; anything else in ``patch`` replaces."""
    if isinstance(base, dict) and isinstance(patch, dict):
        if "method" in patch and patch.get("method") != base.get("method"):
            return patch  # a different rate method replaces the old one entirely
        out = dict(base)
        for k, v in patch.items():
            out[k] = deep_merge(base.get(k), v) if k in base else v
        return out
    return patch


def contracts_overlap(a: Contract, b: Contract) -> bool:
    """Two contracts cover the same payer id, product line / filing indicator and some common date."""
    if not set(a.payer.payer_ids) & set(b.payer.payer_ids):
        return False
    fa, fb = set(a.claim_filing_indicators), set(b.claim_filing_indicators)
    if fa and fb and not fa & fb:
        return False
    # plans do not separate two contracts: no claim or remittance field carries the plan / group
    # number (837 SBR03, 835 2100 REF*1L / REF*CE are not captured), so a line could not be told apart
    if not fa and not fb and not set(a.product_lines) & set(b.product_lines):
        return False
    a_end, b_end = a.expires or dt.date.max, b.expires or dt.date.max
    return a.effective <= b_end and b.effective <= a_end


def select_contract(
    contracts: list[Contract], *, payer_id: str | None, filing_indicator: str | None, on: dt.date | None,
    plan: str | None = None,
) -> Contract | None:
    """The contract covering a claim: payer id, filing indicator (specific beats any) and date.

    ``plan`` (a plan / group number, when a caller has one) excludes contracts whose ``plans``
    list does not name it; an unknown plan (None) matches any contract."""
    if payer_id is None or on is None:
        return None
    best: tuple[int, Contract] | None = None
    for c in contracts:
        if payer_id not in c.payer.payer_ids or not c.covers(on):
            continue
        if plan is not None and c.plans and plan not in c.plans:
            continue
        if c.claim_filing_indicators:
            if filing_indicator not in c.claim_filing_indicators:
                continue
            rank = 0
        else:
            rank = 1
        if best is None or rank < best[0]:
            best = (rank, c)
    return best[1] if best else None


def json_schema() -> dict[str, Any]:
    """The contract schema as JSON Schema (docs/contract-schema.json)."""
    schema = Contract.model_json_schema(by_alias=True)
    schema["$id"] = "https://parley.example/contract-schema.json"
    schema["title"] = "Parley contract terms (schema_version 1)"
    return schema


PercentOfReference.model_rebuild()
