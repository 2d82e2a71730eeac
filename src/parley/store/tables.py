"""The canonical tables of a workspace: one Parquet dataset per entity.

Every ingester (X12 835/837, tabular extracts) writes exactly these columns,
so every later capability (repricing, KPIs, briefs) reads one shape whatever
the source.  ``docs/tables.md`` is generated from this module
(``parley tables --markdown``); the descriptions here are the documentation.

Conventions
- Money is ``decimal128(14, 2)``; units and quantities ``decimal128(12, 3)``.
  Never binary floating point.
- Rows are keyed by ``file_id`` (the first 16 hex digits of the SHA-256 of the
  source file's bytes) plus an ``*_seq`` number unique within that file, so a
  re-ingested file is recognised and two files never collide.
- Patients appear only as ``patient_key``: a keyed hash (HMAC-SHA256 with the
  workspace's secret) of the payer member id, or of name + birth date when no
  id is present.  Names, member ids and full birth dates are never stored.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

MONEY = pa.decimal128(14, 2)
QUANTITY = pa.decimal128(12, 3)


def _f(name: str, type_: pa.DataType, doc: str) -> pa.Field:
    return pa.field(name, type_, metadata={"doc": doc})


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    schema: pa.Schema


_KEY = _f("file_id", pa.string(), "source file id (first 16 hex of the file's SHA-256)")

REMITTANCES = Table(
    "remittances",
    "One row per 835 transaction (ST..SE): one payment (check or EFT) from a payer to a payee.",
    pa.schema(
        [
            _KEY,
            _f("remittance_seq", pa.int64(), "transaction number within the file, from 0"),
            _f("interchange_control", pa.string(), "ISA13 interchange control number"),
            _f("transaction_control", pa.string(), "ST02 transaction set control number"),
            _f("version", pa.string(), "GS08 implementation guide, e.g. 005010X221A1"),
            _f("handling_code", pa.string(), "BPR01 (I remittance+payment, H notification only...)"),
            _f("payment_amount", MONEY, "BPR02 total actual provider payment"),
            _f("credit_debit", pa.string(), "BPR03 C credit / D debit"),
            _f("payment_method", pa.string(), "BPR04 ACH, CHK, BOP, FWT, NON"),
            _f("payment_date", pa.date32(), "BPR16 check issue or EFT effective date"),
            _f("trace_number", pa.string(), "TRN02 check or EFT trace number"),
            _f("payer_tax_id", pa.string(), "TRN03 payer identifier (1 + TIN)"),
            _f("production_date", pa.date32(), "DTM*405 production date"),
            _f("payer_name", pa.string(), "N1*PR name"),
            _f("payer_id", pa.string(), "payer identifier: REF*2U, else N1*PR04, else TRN03"),
            _f("payee_name", pa.string(), "N1*PE name"),
            _f("payee_npi", pa.string(), "N1*PE04 when qualifier XX"),
            _f("payee_tax_id", pa.string(), "REF*TJ, or N1*PE04 when qualifier FI"),
            _f("claim_count", pa.int64(), "number of CLP loops"),
            _f("sum_claim_paid", MONEY, "sum of CLP04"),
            _f("sum_provider_adjustments", MONEY, "sum of PLB amounts"),
            _f("balanced", pa.bool_(), "BPR02 = sum(CLP04) - sum(PLB)"),
            _f("balance_difference", MONEY, "BPR02 - (sum(CLP04) - sum(PLB))"),
        ]
    ),
)

REMIT_CLAIMS = Table(
    "remit_claims",
    "One row per 835 CLP loop: the payer's adjudication of one claim in one remittance. "
    "The same claim can appear in several remittances over time (denial, then payment on "
    "appeal; reversal status 22 then a corrected payment).",
    pa.schema(
        [
            _KEY,
            _f("remittance_seq", pa.int64(), "the remittance (transaction) it belongs to"),
            _f("claim_seq", pa.int64(), "CLP number within the file, from 0"),
            _f("claim_id", pa.string(), "CLP01 patient control number (the provider's claim id, = 837 CLM01)"),
            _f("status_code", pa.string(), "CLP02: 1 primary, 2 secondary, 3 tertiary, 4 denied, 19-23 forwarded, 22 reversal"),
            _f("charge_amount", MONEY, "CLP03 total claim charge"),
            _f("paid_amount", MONEY, "CLP04 claim payment"),
            _f("patient_responsibility", MONEY, "CLP05 patient responsibility"),
            _f("filing_indicator", pa.string(), "CLP06 claim filing indicator (12 PPO, HM HMO, MB Medicare B, MC Medicaid...)"),
            _f("payer_claim_number", pa.string(), "CLP07 payer claim control number"),
            _f("facility_code", pa.string(), "CLP08 place of service or type-of-bill facility code"),
            _f("frequency_code", pa.string(), "CLP09 claim frequency (1 original, 7 replacement, 8 void)"),
            _f("drg_code", pa.string(), "CLP11 DRG"),
            _f("is_reversal", pa.bool_(), "CLP02 = 22"),
            _f("patient_key", pa.string(), "keyed hash of the patient (NM1*QC member id)"),
            _f("payer_id", pa.string(), "copied from the remittance"),
            _f("payer_name", pa.string(), "copied from the remittance"),
            _f("payee_npi", pa.string(), "copied from the remittance"),
            _f("payment_date", pa.date32(), "copied from the remittance (BPR16)"),
            _f("received_date", pa.date32(), "DTM*050 claim received by payer"),
            _f("service_date_from", pa.date32(), "DTM*232 (or the earliest line date)"),
            _f("service_date_to", pa.date32(), "DTM*233 (or the latest line date)"),
            _f("remark_codes", pa.string(), "MOA/MIA remark codes (RARC), comma separated"),
            _f("line_count", pa.int64(), "number of SVC loops"),
            _f("claim_adjustment_amount", MONEY, "sum of claim-level CAS amounts"),
            _f("line_adjustment_amount", MONEY, "sum of line-level CAS amounts"),
            _f("balanced", pa.bool_(), "CLP03 - CLP04 = claim CAS + line CAS"),
            _f("balance_difference", MONEY, "CLP03 - CLP04 - (claim CAS + line CAS)"),
        ]
    ),
)

REMIT_LINES = Table(
    "remit_lines",
    "One row per 835 SVC loop: the payer's adjudication of one service line.",
    pa.schema(
        [
            _KEY,
            _f("claim_seq", pa.int64(), "the remitted claim it belongs to"),
            _f("line_seq", pa.int64(), "SVC number within the file, from 0"),
            _f("line_number", pa.int32(), "position within the claim, from 1"),
            _f("procedure_qualifier", pa.string(), "SVC01-1: HC (CPT/HCPCS), NU (revenue code), N4 (NDC)..."),
            _f("procedure_code", pa.string(), "SVC01-2 adjudicated procedure code"),
            _f("modifier_1", pa.string(), "SVC01-3"),
            _f("modifier_2", pa.string(), "SVC01-4"),
            _f("modifier_3", pa.string(), "SVC01-5"),
            _f("modifier_4", pa.string(), "SVC01-6"),
            _f("charge_amount", MONEY, "SVC02 line charge"),
            _f("paid_amount", MONEY, "SVC03 line payment"),
            _f("revenue_code", pa.string(), "SVC04 revenue code (institutional)"),
            _f("units", QUANTITY, "SVC05 units paid (1 when absent)"),
            _f("submitted_procedure_code", pa.string(), "SVC06-2 code as submitted, when the payer changed it"),
            _f("submitted_modifiers", pa.string(), "SVC06-3..6 as submitted, comma separated"),
            _f("submitted_units", QUANTITY, "SVC07 units as submitted, when different"),
            _f("service_date_from", pa.date32(), "DTM*472 or DTM*150"),
            _f("service_date_to", pa.date32(), "DTM*472 or DTM*151"),
            _f("allowed_amount", MONEY, "AMT*B6 allowed amount (null when not sent)"),
            _f("line_control_number", pa.string(), "REF*6R line item control number"),
            _f("remark_codes", pa.string(), "LQ*HE remark codes (RARC), comma separated"),
            _f("adjustment_amount", MONEY, "sum of line CAS amounts"),
            _f("balanced", pa.bool_(), "SVC02 - SVC03 = sum of line CAS"),
            _f("balance_difference", MONEY, "SVC02 - SVC03 - sum(line CAS)"),
        ]
    ),
)

ADJUSTMENTS = Table(
    "adjustments",
    "One row per CAS adjustment triplet, at claim level (line_seq null) or line level.",
    pa.schema(
        [
            _KEY,
            _f("claim_seq", pa.int64(), "the remitted claim"),
            _f("line_seq", pa.int64(), "the remitted line (null for a claim-level adjustment)"),
            _f("level", pa.string(), "claim or line"),
            _f("group_code", pa.string(), "CO contractual, PR patient responsibility, OA other, PI payer initiated, CR correction"),
            _f("reason_code", pa.string(), "CARC claim adjustment reason code"),
            _f("amount", MONEY, "adjustment amount (positive reduces payment)"),
            _f("quantity", QUANTITY, "adjustment quantity (units), when sent"),
        ]
    ),
)

PROVIDER_ADJUSTMENTS = Table(
    "provider_adjustments",
    "One row per PLB adjustment pair: interest, recoupments (WO, 72), forward balances...",
    pa.schema(
        [
            _KEY,
            _f("remittance_seq", pa.int64(), "the remittance"),
            _f("provider_id", pa.string(), "PLB01 provider identifier"),
            _f("fiscal_period_date", pa.date32(), "PLB02 last day of the provider's fiscal year"),
            _f("reason_code", pa.string(), "PLB03-1 adjustment reason (L6 interest, WO overpayment recovery, FB forward balance, 72 authorized return...)"),
            _f("reference", pa.string(), "PLB03-2 reference (often the payer claim number)"),
            _f("amount", MONEY, "adjustment amount; positive reduces the payment, negative (interest) increases it"),
        ]
    ),
)

CLAIMS = Table(
    "claims",
    "One row per billed claim (837P / 837I CLM loop, or a tabular claims row).",
    pa.schema(
        [
            _KEY,
            _f("claim_seq", pa.int64(), "claim number within the file, from 0"),
            _f("claim_id", pa.string(), "CLM01 patient control number (the provider's claim id)"),
            _f("claim_type", pa.string(), "professional (837P) or institutional (837I)"),
            _f("is_encounter", pa.bool_(), "BHT06 RP: an encounter reported under capitation, no payment expected"),
            _f("version", pa.string(), "GS08 implementation guide, or 'tabular'"),
            _f("submission_date", pa.date32(), "BHT04 (else GS04) creation date of the submission"),
            _f("charge_amount", MONEY, "CLM02 total claim charge"),
            _f("place_of_service", pa.string(), "CLM05-1 for professional claims"),
            _f("type_of_bill", pa.string(), "CLM05-1 + CLM05-3 for institutional claims (e.g. 131)"),
            _f("frequency_code", pa.string(), "CLM05-3 claim frequency (1 original, 7 replacement, 8 void)"),
            _f("original_claim_number", pa.string(), "REF*F8 payer claim control number being corrected"),
            _f("prior_authorization", pa.string(), "REF*G1 prior authorisation number"),
            _f("billing_npi", pa.string(), "2010AA NM1*85 NPI"),
            _f("billing_tax_id", pa.string(), "2010AA REF*EI"),
            _f("billing_name", pa.string(), "2010AA NM1*85 organisation name"),
            _f("rendering_npi", pa.string(), "NM1*82 rendering provider (837P 2310B, 837I 2310D), else the 837I 2310A NM1*71 attending"),
            _f("payer_name", pa.string(), "2010BB NM1*PR name"),
            _f("payer_id", pa.string(), "2010BB NM1*PR09 payer id"),
            _f("filing_indicator", pa.string(), "SBR09 claim filing indicator"),
            _f("group_number", pa.string(), "SBR03 the subscriber's group or policy number (employer group)"),
            _f("group_name", pa.string(), "SBR04 group or plan name"),
            _f("referring_npi", pa.string(), "2310A (837P) / 2310F (837I) NM1*DN referring provider NPI"),
            _f("patient_key", pa.string(), "keyed hash of the patient"),
            _f("patient_birth_year", pa.int32(), "year of birth only (for age bands)"),
            _f("patient_sex", pa.string(), "DMG03 F / M / U"),
            _f("service_date_from", pa.date32(), "earliest service date (claim DTP or lines)"),
            _f("service_date_to", pa.date32(), "latest service date"),
            _f("admission_date", pa.date32(), "DTP*435 (institutional)"),
            _f("drg_code", pa.string(), "HI*DR (institutional)"),
            _f("line_count", pa.int64(), "number of service lines"),
        ]
    ),
)

CLAIM_LINES = Table(
    "claim_lines",
    "One row per billed service line (SV1 / SV2 loop, or a tabular line row).",
    pa.schema(
        [
            _KEY,
            _f("claim_seq", pa.int64(), "the claim"),
            _f("line_seq", pa.int64(), "line number within the file, from 0"),
            _f("line_number", pa.int32(), "LX position within the claim, from 1"),
            _f("procedure_qualifier", pa.string(), "HC (CPT/HCPCS), ER, IV..."),
            _f("procedure_code", pa.string(), "CPT / HCPCS code (SV101-2 / SV202-2)"),
            _f("modifier_1", pa.string(), "first modifier"),
            _f("modifier_2", pa.string(), "second modifier"),
            _f("modifier_3", pa.string(), "third modifier"),
            _f("modifier_4", pa.string(), "fourth modifier"),
            _f("revenue_code", pa.string(), "SV201 revenue code (institutional)"),
            _f("charge_amount", MONEY, "SV102 / SV203 line charge"),
            _f("units", QUANTITY, "SV104 / SV205 units"),
            _f("unit_basis", pa.string(), "UN units, MJ minutes, DA days"),
            _f("place_of_service", pa.string(), "SV105, else the claim's"),
            _f("diagnosis_pointers", pa.string(), "SV107 pointers, comma separated"),
            _f("ndc", pa.string(), "LIN*N4 national drug code"),
            _f("ndc_quantity", QUANTITY, "CTP04 drug quantity"),
            _f("service_date_from", pa.date32(), "DTP*472"),
            _f("service_date_to", pa.date32(), "DTP*472 (range end)"),
            _f("rendering_npi", pa.string(), "line 2420A NM1*82, else the claim's"),
            _f("line_control_number", pa.string(), "REF*6R line item control number"),
        ]
    ),
)

DIAGNOSES = Table(
    "diagnoses",
    "One row per diagnosis code on a billed claim (HI segments).",
    pa.schema(
        [
            _KEY,
            _f("claim_seq", pa.int64(), "the claim"),
            _f("sequence", pa.int32(), "position on the claim, from 1"),
            _f("qualifier", pa.string(), "ABK principal / ABF other (ICD-10), BK / BF (ICD-9), ABJ admitting, APR reason for visit"),
            _f("code", pa.string(), "diagnosis code without the dot"),
            _f("is_principal", pa.bool_(), "principal diagnosis"),
        ]
    ),
)

MANIFEST = Table(
    "manifest",
    "One row per ingested file: the commit record. A dataset row is visible only when its "
    "file_id is in the manifest, so a crash between writes leaves nothing half-loaded.",
    pa.schema(
        [
            _KEY,
            _f("sha256", pa.string(), "full SHA-256 of the file's bytes (after decompression)"),
            _f("source_path", pa.string(), "path as given (inside an archive: archive!member)"),
            _f("source_bytes", pa.int64(), "size in bytes (after decompression)"),
            _f("format", pa.string(), "x12-835, x12-837p, x12-837i, tabular-claims, tabular-remittance..."),
            _f("version", pa.string(), "implementation guide or mapping name"),
            _f("status", pa.string(), "loaded, partial (some records quarantined), failed"),
            _f("ingested_at", pa.timestamp("us", tz="UTC"), "when"),
            _f("record_counts", pa.string(), "JSON object: rows per table"),
            _f("problem_count", pa.int64(), "number of problems recorded"),
            _f("error_count", pa.int64(), "problems of severity error"),
            _f("elapsed_seconds", pa.float64(), "wall time of the ingestion"),
        ]
    ),
)

PROBLEMS = Table(
    "problems",
    "Problems found while ingesting, as data: one row each, with where and why. "
    "Rows of severity 'error' mean records were quarantined; 'warning' means loaded with a caveat.",
    pa.schema(
        [
            _KEY,
            _f("source_path", pa.string(), "the file"),
            _f("severity", pa.string(), "error (records quarantined or file refused) or warning"),
            _f("code", pa.string(), "stable problem code, e.g. x12.se_count, x12.unbalanced_claim"),
            _f("message", pa.string(), "what is wrong and what to do (never PHI)"),
            _f("segment_number", pa.int64(), "1-based segment position in the file (X12)"),
            _f("segment_id", pa.string(), "the segment's id (X12)"),
            _f("loop", pa.string(), "the loop, e.g. 2110 (X12)"),
            _f("element", pa.string(), "element reference, e.g. CLP03"),
            _f("row", pa.int64(), "1-based row (tabular)"),
            _f("column", pa.string(), "column name (tabular)"),
            _f("transaction_control", pa.string(), "ST02 of the transaction concerned"),
            _f("claim_id", pa.string(), "the provider claim id concerned, if any"),
            _f("quarantined", pa.bool_(), "the record was kept out of the canonical tables"),
        ]
    ),
)

RATE = pa.decimal128(9, 6)

APPOINTMENTS = Table(
    "appointments",
    "One row per appointment of a practice-management scheduling extract (CSV / Excel, "
    "ingested by 'parley ingest', columns recognised by header or mapped; docs/kpi.md). "
    "Feeds the operations KPIs: visit volume, no-shows, scheduled vs billed, new patients, referrals.",
    pa.schema(
        [
            _KEY,
            _f("appointment_seq", pa.int64(), "data row number within the file, from 0"),
            _f("source_row", pa.int64(), "1-based row of the source file (header and preamble counted)"),
            _f("appointment_id", pa.string(), "the scheduling system's appointment id"),
            _f("appointment_date", pa.date32(), "date of the appointment slot"),
            _f("provider_npi", pa.string(), "NPI of the provider the slot belongs to"),
            _f("specialty", pa.string(), "provider specialty as the extract names it"),
            _f("payer", pa.string(), "payer or plan code of the patient's coverage, as the extract names it"),
            _f("payer_name", pa.string(), "payer name; the KPIs match it to the claims' payer name"),
            _f("product_line", pa.string(), "product line as the extract names it (HMO, PPO, Medicare Advantage...)"),
            _f("patient_key", pa.string(), "keyed hash (HMAC-SHA256) of the extract's patient identifier; never the identifier"),
            _f("status", pa.string(), "completed, no-show, cancelled, scheduled (normalised, lower case), else as sent"),
            _f("patient_type", pa.string(), "new or established (normalised), else as sent"),
            _f("visit_type", pa.string(), "visit type as the extract names it"),
            _f("place_of_service", pa.string(), "CMS place-of-service code (11 office, 02 / 10 telehealth...)"),
            _f("referral_source", pa.string(), "how a new patient came: 'provider referral', 'self', 'payer directory'... "
                                               "(blank = unknown); feeds the referral rate"),
        ]
    ),
)

QUALITY_MEASURES = Table(
    "quality_measures",
    "One row per quality measure x period x scope (all patients or one payer / product line): the "
    "organisation's rate with its baseline, peer benchmark and payer target (docs/quality.md).",
    pa.schema(
        [
            _KEY,
            _f("measure_seq", pa.int64(), "data row number within the file, from 0"),
            _f("source_row", pa.int64(), "1-based row of the source file"),
            _f("measure_id", pa.string(), "short measure id, e.g. READM-30, CDC-HBA1C-9, HCAHPS-TOP"),
            _f("measure_name", pa.string(), "measure name"),
            _f("period", pa.string(), "reporting period as sent: 2025Q3, 2025-07, 2025"),
            _f("scope", pa.string(), "ALL (the organisation) or a payer / product-line key"),
            _f("numerator", pa.int64(), "patients or events meeting the measure"),
            _f("denominator", pa.int64(), "eligible patients or events"),
            _f("rate", RATE, "rate as a fraction 0..1 (numerator / denominator when not sent)"),
            _f("baseline", RATE, "the organisation's baseline rate"),
            _f("peer_benchmark", RATE, "peer or national benchmark rate"),
            _f("payer_target", RATE, "the payer's (contract's) target rate"),
            _f("higher_is_better", pa.bool_(), "true when a higher rate is better (false for readmissions, complications)"),
        ]
    ),
)

ALL_TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        REMITTANCES,
        REMIT_CLAIMS,
        REMIT_LINES,
        ADJUSTMENTS,
        PROVIDER_ADJUSTMENTS,
        CLAIMS,
        CLAIM_LINES,
        DIAGNOSES,
        APPOINTMENTS,
        QUALITY_MEASURES,
        MANIFEST,
        PROBLEMS,
    )
}

# --- capability table modules: each defines TABLES (a tuple of Table) using the helpers above ---
# (one import + ALL_TABLES.update line per module, here)
from parley.store import tables_market  # noqa: E402

ALL_TABLES.update({t.name: t for t in tables_market.TABLES})

#: tables whose rows come from source files (everything but the bookkeeping)
DATA_TABLES = tuple(n for n in ALL_TABLES if n not in ("manifest", "problems"))


def schema(name: str) -> pa.Schema:
    return ALL_TABLES[name].schema


def markdown() -> str:
    """The tables as Markdown (docs/tables.md is this text)."""
    out = ["# Canonical tables", "", __doc__.split("\n\n", 1)[1].strip(), ""]
    for table in ALL_TABLES.values():
        out += [f"## {table.name}", "", table.doc, "", "| column | type | meaning |", "|---|---|---|"]
        for field in table.schema:
            doc = (field.metadata or {}).get(b"doc", b"").decode()
            out.append(f"| {field.name} | {field.type} | {doc} |")
        out.append("")
    return "\n".join(out)
