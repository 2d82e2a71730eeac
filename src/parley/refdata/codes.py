"""Build the packaged code tables (place of service, HCPCS Level II, MS-DRG, X12 codes).

Licensing decisions (see NOTICE.refdata):

* Place of service, HCPCS Level II and MS-DRG come from CMS (public domain):
  shipped with CMS's short texts.  Dental D-codes (CDT, ADA copyright) and
  CPT descriptors (AMA) are never shipped.
* X12 code lists (CARC, RARC, group codes, PLB reasons): the code values are
  public, X12 maintains the description texts -> we ship codes with *our own*
  short category labels.  A user can add the full texts to a workspace with
  :func:`parley.refdata.loader.load_code_descriptions`.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import polars as pl

from parley.refdata.carc_rules import CATEGORY_LABELS, classify

# ---- group codes and PLB reasons: our own wording ---------------------------------

GROUP_CODES: list[tuple[str, str, str]] = [
    ("CO", "Contractual obligation", "provider writes off; not billable to patient"),
    ("PR", "Patient responsibility", "billable to the patient"),
    ("OA", "Other adjustment", "neither contractual nor patient responsibility"),
    ("PI", "Payer-initiated reduction", "payer reduction; not billable to patient"),
    ("CR", "Correction or reversal", "4010 only; not used from 005010 on"),
]

# code -> (category, our short label)
PLB_REASONS: dict[str, tuple[str, str]] = {
    "01": ("fee", "Card interchange fee"),
    "02": ("recoupment", "Advance payment recoupment"),
    "03": ("fee", "Claim transmission fee"),
    "04": ("timing", "Real-time adjudication, payment follows"),
    "05": ("penalty", "Penalty: reports not filed"),
    "06": ("penalty", "Penalty: reports filed incorrectly"),
    "07": ("withholding", "Third-party withholding (non-IRS)"),
    "08": ("penalty", "Bankruptcy/termination withholding"),
    "50": ("penalty", "Late charge / late filing penalty"),
    "51": ("penalty", "Late filing interest penalty"),
    "72": ("recoupment", "Provider refund received"),
    "90": ("fee", "Early payment allowance"),
    "AH": ("fee", "Claim transmission fee (origination)"),
    "AM": ("recoupment", "Loan repayment"),
    "AP": ("advance", "Advance or accelerated payment"),
    "B2": ("recoupment", "Rebate"),
    "B3": ("recoupment", "Recovery of overpayment"),
    "BD": ("other", "Bad debt"),
    "BN": ("incentive", "Bonus"),
    "CR": ("capitation", "Capitation interest"),
    "CS": ("other", "Adjustment, details sent separately"),
    "CT": ("capitation", "Capitation payment"),
    "E3": ("withholding", "Withholding"),
    "FB": ("balance_forward", "Balance forward (not claim related)"),
    "FC": ("advance", "Prepaid funds allocation"),
    "FR": ("balance_forward", "Balance forward (claim related)"),
    "HM": ("incentive", "Hemophilia clotting factor add-on"),
    "IP": ("incentive", "Incentive payment"),
    "IR": ("withholding", "IRS 1099 withholding"),
    "IS": ("advance", "Interim-rate lump sum"),
    "J1": ("other", "Not reimbursed: demonstration/limitation"),
    "L3": ("penalty", "Penalty"),
    "L6": ("interest", "Interest"),
    "LE": ("withholding", "IRS levy (non-1099)"),
    "OB": ("recoupment", "Affiliated provider offset"),
    "PI": ("advance", "Periodic interim payment"),
    "PL": ("settlement", "Final payment or settlement"),
    "RA": ("other", "Retroactive adjustment"),
    "SL": ("withholding", "Student loan garnishment"),
    "TL": ("other", "Third-party liability determination"),
    "WO": ("recoupment", "Overpayment recovery"),
    "WU": ("withholding", "Federal payment levy withholding"),
}


def _read_x12(path: Path) -> list[tuple[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    header = [h.strip().lower() for h in rows[0]]
    i_code = header.index("code")
    i_desc = header.index("description")
    return [(r[i_code].strip(), r[i_desc].strip()) for r in rows[1:] if r and r[i_code].strip()]


def build_carc(x12_dir: Path) -> pl.DataFrame:
    recs = []
    for code, desc in _read_x12(x12_dir / "claim_adjustment_reason_codes.csv"):
        cat, rec, rule = classify(code, desc)
        recs.append((code, cat, CATEGORY_LABELS[cat], rec, rule))
    return pl.DataFrame(
        recs,
        schema={"code": pl.String, "category": pl.String, "category_label": pl.String,
                "recoverable": pl.Boolean, "rule": pl.String},
        orient="row",
    )  # fmt: skip


_DATE = r"(\d{2})/(\d{2})/(\d{4})"


def _iso(m: re.Match[str] | None) -> str | None:
    return f"{m.group(3)}-{m.group(1)}-{m.group(2)}" if m else None


def build_rarc(x12_dir: Path) -> pl.DataFrame:
    """RARC: code, kind (alert / remark), category (keyword rules), start / stop dates."""
    recs = []
    for code, desc in _read_x12(x12_dir / "remittance_advice_remark_codes.csv"):
        kind = "alert" if desc.lower().startswith("alert") else "remark"
        body = re.split(r"Start:", desc)[0]
        cat, _rec, _rule = classify("RARC-" + code, body)
        start = _iso(re.search(r"Start:\s*" + _DATE, desc))
        stop = _iso(re.search(r"Stop:\s*" + _DATE, desc))
        recs.append((code, kind, cat, start, stop))
    return pl.DataFrame(
        recs,
        schema={"code": pl.String, "kind": pl.String, "category": pl.String,
                "start_date": pl.String, "stop_date": pl.String},
        orient="row",
    ).with_columns(pl.col("start_date").str.to_date(), pl.col("stop_date").str.to_date())  # fmt: skip


def build_group_codes() -> pl.DataFrame:
    return pl.DataFrame(
        GROUP_CODES, schema={"code": pl.String, "label": pl.String, "note": pl.String}, orient="row"
    )


def build_plb(x12_dir: Path) -> pl.DataFrame:
    codes = [c for c, _ in _read_x12(x12_dir / "provider_adjustment_reason_codes.csv")]
    recs = [(c, *PLB_REASONS.get(c, ("other", "Other provider-level adjustment"))) for c in codes]
    return pl.DataFrame(
        recs, schema={"code": pl.String, "category": pl.String, "label": pl.String}, orient="row"
    )


def build_pos(cms_codes: Path) -> pl.DataFrame:
    df = pl.read_csv(cms_codes / "place_of_service_codes.csv", infer_schema=False)
    return df.select(
        pl.col("pos_code").str.strip_chars().str.zfill(2).alias("pos"),
        pl.col("pos_name").str.strip_chars().alias("name"),
        (pl.col("pos_type").str.strip_chars().str.to_lowercase() == "facility").alias("facility"),
    ).sort("pos")


def build_hcpcs_level2(cms_codes: Path) -> pl.DataFrame:
    """HCPCS Level II codes and modifiers with CMS's short descriptor (public domain).

    Union of the 2020 CMS alpha-numeric file and the Level II rows of the
    2024 July PPRRVU (newer codes); dental D-codes (CDT) are excluded.
    """
    old = pl.read_csv(cms_codes / "hcpcs_level2_2020_parsed.csv", infer_schema=False).select(
        pl.col("code").str.strip_chars(),
        pl.col("kind"),
        pl.col("short_description").str.strip_chars(),
    )
    new = pl.read_csv(cms_codes / "hcpcs_level2_in_pprrvu_2024_jul.csv", infer_schema=False).select(
        pl.col("hcpcs").str.strip_chars().alias("code"),
        pl.lit("procedure").alias("kind"),
        pl.col("description").str.strip_chars().alias("short_description"),
        pl.col("status_code").alias("pfs_status_2024"),
    )
    merged = (
        new.join(old, on=["code", "kind"], how="full", coalesce=True, suffix="_2020")
        .with_columns(
            pl.coalesce("short_description", "short_description_2020").alias("short_description"),
            pl.col("code").is_in(old["code"].implode()).alias("in_2020_file"),
        )
        .select("code", "kind", "short_description", "pfs_status_2024", "in_2020_file")
    )
    is_cdt = pl.col("code").str.contains(r"^D\d{4}$")
    return merged.filter(~is_cdt).unique(["code", "kind"]).sort("kind", "code")


def build_ms_drg(cms_codes: Path) -> pl.DataFrame:
    df = pl.read_csv(cms_codes / "ms_drg.csv", infer_schema=False)
    return df.select(
        pl.col("ms_drg_code").str.zfill(3).alias("drg"),
        pl.col("mdc_code").alias("mdc"),
        pl.col("medical_surgical").alias("type"),
        pl.col("ms_drg_description").alias("description"),
        (pl.col("deprecated") == "1").alias("deprecated"),
        pl.col("deprecated_date"),
    ).sort("drg")
