"""The column-mapping file of a tabular (CSV / Excel) extract.

A mapping is a small YAML file that says what kind of records the extract
holds (``claims`` or ``remittance``), how to read it (``format``), and which
source column feeds which Parley field (``columns``, ``diagnoses``,
``adjustments``).  ``docs/tabular-mapping.md`` documents the format; the
field registry below (:data:`FIELDS`) is the list of mappable fields.

Loading validates everything that can be known without the data: unknown
keys, unknown fields, a field of the wrong kind, missing required fields.
Every error names the mapping file, the YAML line and the field.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from parley.errors import MappingError

Kind = Literal["claims", "remittance", "appointments", "quality_measures"]
Level = Literal["claim", "line"]
ValueType = Literal["text", "money", "quantity", "date", "integer", "patient", "birth_date", "rate", "flag"]


@dataclass(frozen=True)
class FieldDef:
    """One mappable field: where it lands and how its cells are parsed."""

    name: str
    level: Level
    type: ValueType
    doc: str


def _defs(level: Level, spec: str) -> list[FieldDef]:
    out = []
    for line in spec.strip().splitlines():
        name, type_, doc = (part.strip() for part in line.split("|", 2))
        out.append(FieldDef(name, level, type_, doc))  # type: ignore[arg-type]
    return out


_CLAIM_FIELDS = _defs(
    "claim",
    """
    claim_id | text | the provider's claim id (patient control number); rows are grouped into claims by it
    claim_type | text | professional or institutional (P / I accepted); default professional
    is_encounter | flag | an encounter reported under capitation, no payment expected (Y / N); default N
    submission_date | date | date the claim was submitted
    claim_charge_amount | money | total claim charge; default the sum of the line charges
    place_of_service | text | place of service (professional)
    type_of_bill | text | type of bill (institutional), e.g. 131
    frequency_code | text | claim frequency (1 original, 7 replacement, 8 void)
    original_claim_number | text | payer claim number being corrected
    prior_authorization | text | prior authorisation number
    billing_npi | text | billing provider NPI
    billing_tax_id | text | billing provider tax id
    billing_name | text | billing provider name
    rendering_npi | text | rendering provider NPI
    payer_name | text | payer name
    payer_id | text | payer id
    filing_indicator | text | claim filing indicator (12 PPO, HM HMO, MB Medicare B...)
    group_number | text | the subscriber's group or policy number (employer group)
    group_name | text | group or plan name
    referring_npi | text | referring provider NPI
    patient_id | patient | patient identifier (member id); hashed, never stored
    patient_birth_date | birth_date | birth date; only the year is kept
    patient_birth_year | integer | birth year, when the extract has only the year
    patient_sex | text | F / M / U
    claim_service_date_from | date | claim service start; default the earliest line date
    claim_service_date_to | date | claim service end; default the latest line date
    admission_date | date | admission date (institutional)
    drg_code | text | DRG (institutional)
    """,
)

_CLAIM_LINE_FIELDS = _defs(
    "line",
    """
    line_number | integer | line position within the claim; default the row order
    procedure_qualifier | text | HC (CPT/HCPCS) by default
    procedure_code | text | CPT / HCPCS code
    modifier_1 | text | first modifier
    modifier_2 | text | second modifier
    modifier_3 | text | third modifier
    modifier_4 | text | fourth modifier
    modifiers | text | all modifiers in one cell ("25,59" or "25 59"); fills modifier_1..4
    revenue_code | text | revenue code (institutional)
    charge_amount | money | line charge
    units | quantity | units (default 1)
    unit_basis | text | UN units, MJ minutes, DA days (default UN)
    line_place_of_service | text | line place of service; default the claim's
    diagnosis_pointers | text | diagnosis pointers, comma separated
    ndc | text | national drug code
    ndc_quantity | quantity | drug quantity
    service_date_from | date | line service date (start)
    service_date_to | date | line service date (end); default the start
    line_rendering_npi | text | line rendering NPI; default the claim's
    line_control_number | text | line item control number
    """,
)

_REMIT_CLAIM_FIELDS = _defs(
    "claim",
    """
    claim_id | text | the provider's claim id (patient control number)
    status_code | text | claim status: 1 primary, 2 secondary, 4 denied, 22 reversal...
    claim_charge_amount | money | total claim charge; default the sum of the line charges
    claim_paid_amount | money | claim payment; default the sum of the line payments
    patient_responsibility | money | patient responsibility; default the sum of PR adjustments
    filing_indicator | text | claim filing indicator
    payer_claim_number | text | payer claim control number
    facility_code | text | place of service or facility code
    frequency_code | text | claim frequency code
    drg_code | text | DRG
    patient_id | patient | patient identifier (member id); hashed, never stored
    payer_id | text | payer id (part of the payment key)
    payer_name | text | payer name (part of the payment key)
    payer_tax_id | text | payer tax id
    payee_name | text | payee name
    payee_npi | text | payee NPI
    payee_tax_id | text | payee tax id
    payment_date | date | check or EFT date (part of the payment key)
    payment_method | text | ACH, CHK...
    trace_number | text | check or EFT trace number (part of the payment key)
    payment_amount | money | the whole payment's amount (check total), repeated on every row
    received_date | date | date the payer received the claim
    claim_service_date_from | date | claim service start; default the earliest line date
    claim_service_date_to | date | claim service end; default the latest line date
    claim_remark_codes | text | claim remark codes (RARC), comma separated
    """,
)

_REMIT_LINE_FIELDS = _defs(
    "line",
    """
    line_number | integer | line position within the claim; default the row order
    procedure_qualifier | text | HC (CPT/HCPCS) by default
    procedure_code | text | adjudicated procedure code
    modifier_1 | text | first modifier
    modifier_2 | text | second modifier
    modifier_3 | text | third modifier
    modifier_4 | text | fourth modifier
    modifiers | text | all modifiers in one cell ("25,59" or "25 59"); fills modifier_1..4
    charge_amount | money | line charge
    paid_amount | money | line payment
    allowed_amount | money | allowed amount
    revenue_code | text | revenue code
    units | quantity | units paid (default 1)
    submitted_procedure_code | text | procedure code as submitted, when the payer changed it
    service_date_from | date | service date (start)
    service_date_to | date | service date (end); default the start
    line_control_number | text | line item control number
    remark_codes | text | line remark codes (RARC), comma separated
    """,
)

_APPOINTMENT_FIELDS = _defs(
    "line",
    """
    appointment_id | text | the scheduling system's appointment id
    appointment_date | date | date of the appointment slot
    provider_npi | text | provider NPI
    specialty | text | provider specialty
    payer | text | payer or plan code
    payer_name | text | payer name (matched to the claims' payer name)
    product_line | text | product line
    patient_id | patient | patient identifier (MRN or member id); hashed, never stored
    status | text | completed / no-show / cancelled / scheduled (common spellings normalised)
    patient_type | text | new / established (N / E accepted)
    visit_type | text | visit type
    place_of_service | text | place of service code
    referral_source | text | referral source of a new patient ("provider referral", "self"...)
    """,
)

_QUALITY_FIELDS = _defs(
    "line",
    """
    measure_id | text | measure id
    measure_name | text | measure name
    period | text | reporting period (2025Q3, 2025-07, 2025)
    scope | text | ALL or a payer / product-line key
    numerator | integer | numerator
    denominator | integer | denominator
    rate | rate | rate as a fraction 0..1 (a percentage like 62% or 62.0 with % is divided by 100); default numerator / denominator
    baseline | rate | baseline rate
    peer_benchmark | rate | peer benchmark rate
    payer_target | rate | payer target rate
    higher_is_better | flag | true / false (yes / no, 1 / 0)
    """,
)

FIELDS: dict[Kind, dict[str, FieldDef]] = {
    "claims": {f.name: f for f in _CLAIM_FIELDS + _CLAIM_LINE_FIELDS},
    "remittance": {f.name: f for f in _REMIT_CLAIM_FIELDS + _REMIT_LINE_FIELDS},
    "appointments": {f.name: f for f in _APPOINTMENT_FIELDS},
    "quality_measures": {f.name: f for f in _QUALITY_FIELDS},
}
"""kind -> field name -> definition: every name a ``columns:`` key may use."""

REQUIRED: dict[Kind, list[tuple[str, ...]]] = {
    "claims": [("claim_id",), ("charge_amount", "claim_charge_amount")],
    "remittance": [("claim_id",), ("payment_date",), ("paid_amount", "claim_paid_amount")],
    "appointments": [("appointment_date",), ("status",), ("payer_name", "payer")],
    "quality_measures": [("measure_id",), ("period",), ("rate", "denominator")],
}
"""Per kind, groups of fields of which at least one must be mapped.  A mapped
required field must also have a value in every row (else tabular.missing_value)."""

ADJUSTMENT_GROUPS = frozenset({"CO", "PR", "OA", "PI", "CR"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """Where one field's value comes from: a column, a constant, or a concatenation."""

    column: str | None = None
    value: str | None = None
    concat: list[str] | None = None
    separator: str = ""

    @model_validator(mode="after")
    def _exactly_one(self) -> Source:
        given = [k for k in ("column", "value", "concat") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of column, value or concat")
        if self.concat is not None and not self.concat:
            raise ValueError("concat needs at least one column")
        return self

    @field_validator("value", mode="before")
    @classmethod
    def _value_as_text(cls, v: Any) -> Any:
        return None if v is None else str(v)

    def source_columns(self) -> list[str]:
        if self.column is not None:
            return [self.column]
        return list(self.concat or [])


class Format(_Strict):
    """How to read the file."""

    delimiter: str | None = Field(None, description="default ',' (tab for .tsv)")
    quote_char: str | None = '"'
    encoding: str = "utf-8"
    header_row: int = Field(
        1, ge=1, description="1-based row of the header; rows above are skipped"
    )
    sheet: str | None = Field(None, description="Excel sheet name; default the first sheet")
    date_formats: list[str] = Field(default_factory=lambda: ["%m/%d/%Y", "%Y-%m-%d"], min_length=1)
    decimal_comma: bool = False

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, v: str | None) -> str | None:
        if v is not None and len(v) != 1:
            raise ValueError('the delimiter must be a single character (write a tab as "\\t")')
        return v

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        try:
            return codecs.lookup(v).name
        except LookupError:
            raise ValueError(f"unknown encoding {v!r} (try utf-8, cp1252 or latin-1)") from None


class AdjustmentPair(_Strict):
    group: str | None = None
    reason: str
    amount: str
    quantity: str | None = None


class Adjustments(_Strict):
    """Adjustment columns: group/reason/amount column triplets, and/or one list column."""

    level: Level | None = Field(
        None, description="default: line for layout lines, claim for layout claims"
    )
    pairs: list[AdjustmentPair] = Field(default_factory=list)
    list_column: str | None = Field(None, alias="list", description='"CO-45:12.50;PR-2:10.00"')
    list_separator: str = Field(";", min_length=1)
    default_group: str | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Diagnoses(_Strict):
    """Diagnosis columns: one column per position (dx1..dx12) and/or one list column."""

    columns: list[str] = Field(default_factory=list)
    list_column: str | None = Field(None, alias="list")
    separator: str = ","
    code_system: Literal["icd10", "icd9"] = "icd10"

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Mapping(_Strict):
    """A validated column mapping (see docs/tabular-mapping.md)."""

    name: str | None = None
    description: str | None = None
    kind: Kind
    layout: Literal["lines", "claims"] = "lines"
    format: Format = Field(default_factory=Format)  # type: ignore[arg-type]
    columns: dict[str, Source]
    diagnoses: Diagnoses | None = None
    adjustments: Adjustments | None = None
    #: the file the mapping was loaded from (for messages)
    path: str | None = None

    @field_validator("columns", mode="before")
    @classmethod
    def _shorthand(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {
                k: ({"column": str(s)} if isinstance(s, str | int) else s) for k, s in v.items()
            }
        return v

    @model_validator(mode="after")
    def _known_fields(self) -> Mapping:
        known = FIELDS[self.kind]
        for name in self.columns:
            if name not in known:
                raise ValueError(f"columns.{name}: not a {self.kind} field")
        for group in REQUIRED[self.kind]:
            if not any(g in self.columns for g in group):
                raise ValueError(
                    f"columns: {' or '.join(group)} must be mapped for kind {self.kind}"
                )
        if self.diagnoses is not None and self.kind != "claims":
            raise ValueError("diagnoses: only for kind claims")
        if self.adjustments is not None and self.kind != "remittance":
            raise ValueError("adjustments: only for kind remittance")
        return self

    @property
    def adjustment_level(self) -> Level:
        explicit = self.adjustments.level if self.adjustments else None
        return explicit or ("line" if self.layout == "lines" else "claim")

    def field(self, name: str) -> FieldDef:
        return FIELDS[self.kind][name]

    def source_columns(self) -> list[str]:
        """Every source column the mapping reads, in first-use order."""
        cols: list[str] = []
        for src in self.columns.values():
            cols += src.source_columns()
        if self.diagnoses:
            cols += self.diagnoses.columns + (
                [self.diagnoses.list_column] if self.diagnoses.list_column else []
            )
        if self.adjustments:
            for p in self.adjustments.pairs:
                cols += [c for c in (p.group, p.reason, p.amount, p.quantity) if c]
            if self.adjustments.list_column:
                cols.append(self.adjustments.list_column)
        return list(dict.fromkeys(cols))

    def has_lines(self) -> bool:
        """Whether rows produce line records (layout lines, or a claims layout mapping line fields)."""
        if self.layout == "lines":
            return True
        return any(n in self.columns for n in ("procedure_code", "revenue_code"))


# --------------------------------------------------------------------------- loading and saving


def dump_mapping(mapping: Mapping) -> str:
    """The mapping as YAML that :func:`load_mapping` reads back to an equal mapping."""
    data = mapping.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"path"})
    data["columns"] = {name: _source_yaml(src) for name, src in data["columns"].items()}
    text: str = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return text


def _source_yaml(src: dict[str, Any]) -> Any:
    if "column" in src:
        return src["column"]
    if "value" in src:
        return {"value": src["value"]}
    return {"concat": src["concat"], "separator": src.get("separator", "")}


def load_mapping(path: Path) -> Mapping:
    """Read and validate a mapping file; MappingError names file, line and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: cannot read the mapping file ({exc})") from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise MappingError(
            f"{path}{where}: not valid YAML ({problem})", hint="check indentation and quoting"
        ) from None
    if not isinstance(data, dict):
        raise MappingError(
            f"{path}: a mapping file must be a YAML mapping with kind: and columns:",
            hint="see docs/tabular-mapping.md and examples/mappings/",
        )
    try:
        mapping = Mapping.model_validate({**data, "path": str(path)})
    except ValidationError as exc:
        raise _mapping_error(path, node, exc) from None
    return mapping


def _mapping_error(path: Path, node: yaml.Node | None, exc: ValidationError) -> MappingError:
    lines = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        msg = err["msg"].removeprefix("Value error, ")
        if "." in msg.split(":", 1)[0] and ":" in msg:  # a model-level error naming its own field
            field_path, msg = msg.split(":", 1)
            loc = [*loc, *field_path.split(".")]
            msg = msg.strip()
        elif msg.startswith("columns:"):
            loc, msg = [*loc, "columns"], msg.removeprefix("columns:").strip()
        elif msg.split(":", 1)[0] in ("diagnoses", "adjustments"):
            head, msg = msg.split(":", 1)
            loc, msg = [*loc, head], msg.strip()
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        line = _line_of(node, loc)
        field = ".".join(str(p) for p in loc) or "(top level)"
        lines.append(f"{path}, line {line}, field {field}: {msg}")
    return MappingError(
        "the mapping file is wrong:\n  " + "\n  ".join(lines),
        hint="fix the mapping file; docs/tabular-mapping.md lists the keys and fields",
    )


def _line_of(node: yaml.Node | None, loc: list[Any]) -> int:
    """The 1-based YAML line of the deepest node along ``loc`` that exists."""
    line = 1
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(
                (kv for kv in node.value if getattr(kv[0], "value", None) == str(key)), None
            )
            if match is None:
                break
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            break
    return line
