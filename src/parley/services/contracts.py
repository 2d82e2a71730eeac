"""Use cases around contract terms: check a file, list / show the terms in force, the
reference-data context the pricing rules use, and the demo's contracts as YAML.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from parley.domain.contracts import Contract, PercentOfMedicare
from parley.domain.contracts_load import (
    ContractError,
    contract_files,
    find_key_line,
    load_contract_file,
    load_contracts,
)
from parley.domain.pricing import MissingReference
from parley.errors import InputError, ParleyError, ReferenceDataError
from parley.store.workspace import Workspace

PRICE_QUARTER_RELEASE = {1: "A", 2: "B", 3: "C", 4: "D"}


class RefdataContext:
    """:class:`parley.domain.pricing.ReferenceContext` over packaged + workspace reference data."""

    def __init__(self, extra_dir: Path | None = None) -> None:
        self.extra_dir = extra_dir if extra_dir and extra_dir.is_dir() else None
        self._medicare = functools.lru_cache(maxsize=200_000)(self._medicare_uncached)
        self._facility = functools.lru_cache(maxsize=512)(self._facility_uncached)
        self._mppr = functools.lru_cache(maxsize=100_000)(self._mppr_uncached)
        self._years: list[int] | None = None

    def pfs_years(self) -> list[int]:
        if self._years is None:
            from parley import refdata

            self._years = sorted(refdata.available_years(self.extra_dir))
        return self._years

    def medicare(self, code: str, modifier: str, *, year: int, quarter: int | None, locality: str | None,
                 zip: str | None, facility: bool) -> Any:  # noqa: A002
        return self._medicare(code, modifier, year, quarter, locality, zip, facility)

    def _medicare_uncached(self, code: str, modifier: str, year: int, quarter: int | None,
                           locality: str | None, zip_code: str | None, facility: bool) -> Any:
        from parley import refdata
        from parley.refdata.fees import PAYABLE_STATUS

        if year not in self.pfs_years():
            raise MissingReference(f"Medicare PFS {year} is not loaded")
        release = None
        if quarter is not None:
            wanted = PRICE_QUARTER_RELEASE[quarter]
            have = refdata.releases(year, self.extra_dir)
            earlier = [r for r in have if r <= wanted]
            if not earlier:
                raise MissingReference(f"no PFS {year} release for quarter {quarter} (have {', '.join(have)})")
            release = earlier[-1]
        try:
            row = refdata.rvu_row(code, year=year, modifier=modifier or None, release=release, extra_dir=self.extra_dir)
            if row["status_code"] not in PAYABLE_STATUS:
                return None
            return refdata.medicare_fee(code, year=year, modifier=modifier or None, locality=locality, zip=zip_code,
                                        facility=facility, release=release, extra_dir=self.extra_dir)
        except InputError as exc:
            if (locality or zip_code) and ("locality" in str(exc).lower() or "zip" in str(exc).lower()):
                raise MissingReference(str(exc)) from None
            return None
        except ReferenceDataError as exc:
            if "not in the" in str(exc):
                return None
            raise MissingReference(str(exc)) from None

    def is_facility(self, pos: str | None) -> bool:
        return self._facility(pos)

    def _facility_uncached(self, pos: str | None) -> bool:
        from parley import refdata

        if not pos:
            return False
        try:
            return bool(refdata.pos_is_facility(pos, self.extra_dir))
        except InputError:
            return False

    def mppr_indicator(self, code: str, year: int) -> str | None:
        return self._mppr(code, year)

    def _mppr_uncached(self, code: str, year: int) -> str | None:
        from parley import refdata

        try:
            row = refdata.rvu_row(code, year=year, extra_dir=self.extra_dir)
        except (InputError, ReferenceDataError):
            return None
        v = row.get("mult_proc_ind")
        return None if v is None else str(v)


def reference_problems(contract: Contract, path: Path, ctx: RefdataContext) -> list[str]:
    """Reference data a contract names but Parley does not have (a PFS year, a locality, a ZIP)."""
    out = []
    years = ctx.pfs_years()
    terms = [contract.terms_on(contract.effective)] + [contract.terms_on(a.effective) for a in contract.amendments]
    for t in terms:
        if t.professional is None:
            continue
        methods = [t.professional.methodology, t.professional.default, *(c.pricing for c in t.professional.carve_outs)]
        for m in methods:
            if not isinstance(m, PercentOfMedicare):
                continue
            if m.pfs_year != "current" and int(m.pfs_year) not in years:
                out.append(f"{path}:{find_key_line(path, 'pfs_year', m.pfs_year)}: pfs_year: Medicare PFS {m.pfs_year} is not available "
                           f"(loaded: {', '.join(map(str, years))}); load it with 'parley refdata load'")
                continue
            year = int(m.pfs_year) if m.pfs_year != "current" else max(years)
            try:
                from parley import refdata

                if m.locality:
                    c, loc = refdata.parse_locality(m.locality)
                    refdata.locality_info(c, loc, year, extra_dir=ctx.extra_dir)
                if m.zip:
                    refdata.locality_for_zip(m.zip, year, extra_dir=ctx.extra_dir)
            except ParleyError as exc:
                key = "locality" if m.locality else "zip"
                out.append(f"{path}:{find_key_line(path, key)}: {key}: {str(exc).splitlines()[0]}")
    return sorted(set(out))


def check_contract(*, path: Path, workspace: Workspace | None = None) -> dict[str, Any]:
    """Validate one contract file (schema, CSVs, reference data); raises ContractError."""
    contract = load_contract_file(path)
    ctx = RefdataContext(workspace.refdata_dir if workspace else None)
    problems = reference_problems(contract, path, ctx)
    if problems:
        raise ContractError(problems)
    return summary(contract, path=path)


def summary(contract: Contract, *, path: Path | None = None) -> dict[str, Any]:
    return {
        "contract_id": contract.contract_id, "file": str(path) if path else None, "payer": contract.payer.name,
        "payer_ids": contract.payer.payer_ids, "product_lines": contract.product_lines,
        "effective": contract.effective.isoformat(), "expires": contract.expires.isoformat() if contract.expires else None,
        "renewal": contract.renewal.type, "amendments": len(contract.amendments),
    }


def workspace_contracts(workspace: Workspace, *, check_reference: bool = True) -> list[Contract]:
    """Every contract in the workspace's contracts/ folder, validated as a set (all or nothing)."""
    files = contract_files(workspace.contracts_dir)
    contracts = load_contracts(files)
    if check_reference:
        ctx = RefdataContext(workspace.refdata_dir)
        problems = [p for f, c in zip(files, contracts, strict=True) for p in reference_problems(c, f, ctx)]
        if problems:
            raise ContractError(problems)
    return contracts


def show_contract(*, workspace: Workspace, payer: str, on: dt.date | None = None) -> list[dict[str, Any]]:
    """The terms in force on a date for contracts whose id, payer name or payer id matches."""
    on = on or dt.date.today()
    needle = payer.lower()
    out = []
    for c in workspace_contracts(workspace, check_reference=False):
        names = [c.contract_id, c.payer.name, *c.payer.payer_ids, *c.product_lines]
        if not any(needle in n.lower() for n in names):
            continue
        terms = c.terms_on(on).model_dump(mode="json", exclude_none=True, by_alias=True)
        for section in terms.get("professional", {}).values():
            if isinstance(section, dict) and len(section.get("rates", [])) > 20:
                section["rates"] = section["rates"][:20] + [f"... {len(section['rates']) - 20} more rates"]
        out.append({**summary(c), "on": on.isoformat(), "in_force": c.covers(on), "terms": terms})
    if not out:
        raise InputError(f"no contract matches {payer!r}", hint="'parley contracts show' takes a contract id, payer name or payer id")
    return out


# --------------------------------------------------------------------------- demo contracts


def _money(d: Decimal) -> str:
    return f"{d:.2f}"


def demo_contract_yaml(doc: dict[str, Any], *, end: dt.date, folder: Path) -> tuple[str, list[tuple[str, str]]]:
    """One demo contract (an entry of contracts.json) as YAML text plus CSV side files (name, text).

    Fee-schedule payers: the first period's rates as a CSV + a compounding escalator.
    Percent-of-Medicare payers: the percentage, PFS year basis, practice ZIP, escalator, and
    carve-outs (drugs as a percentage of the ASP list, labs of the CLFS, preventive codes)
    from the first period's carve-out rates.  Percent-of-charges: percentage + escalator in points.
    Every later period is checked against the YAML's semantics by the caller (tests).
    """
    cid = doc["contract_id"]
    first = doc["periods"][0]
    out: dict[str, Any] = {
        "schema_version": 1,
        "contract_id": cid,
        "payer": {"name": doc["payer_name"], "payer_ids": [doc["payer_id"]]},
        "product_lines": [doc["product_line"]],
        "claim_filing_indicators": [doc["claim_filing_indicator"]],
        "effective": dt.date.fromisoformat(doc["effective_date"]),
        "renewal": {"type": "evergreen", "term_years": 1, "termination_notice_days": doc.get("termination_notice_days", 90)},
        "timely_filing_days": doc["timely_filing_days"],
        "prompt_pay": {"days": doc["prompt_pay_days"], **({"interest_percent_annual": Decimal(str(doc["prompt_pay_interest_annual_pct"]))}
                                                          if doc.get("prompt_pay_interest_annual_pct") else {})},
        "prior_authorization_codes": doc.get("prior_auth_codes", []),
    }
    esc = doc.get("escalator")
    if esc:
        out["escalator"] = {"amount": Decimal(str(esc["amount"])), "unit": esc["unit"], "anniversary": esc["anniversary"]}
    files: list[tuple[str, str]] = []
    method = doc["method"]
    prof: dict[str, Any] = {"lesser_of_billed": bool(doc.get("lesser_of_billed_charges"))}
    if method == "percent_of_charges":
        prof["methodology"] = {"method": "percent_of_charges", "percent": Decimal(str(doc["base_percent"]))}
    elif method == "fee_schedule":
        name = f"{cid.lower()}-fee-schedule.csv"
        files.append((name, _fee_csv(first["fee_schedule"])))
        prof["methodology"] = {"method": "fee_schedule", "csv": name}
    else:
        basis = doc["medicare_basis"]
        pyear = basis["pfs_year_basis"]
        prof["methodology"] = {
            "method": "percent_of_medicare", "percent": Decimal(str(doc["base_percent"])),
            "pfs_year": int(pyear) if str(pyear).isdigit() else "current",
            **({} if str(pyear).isdigit() else {"if_year_unavailable": "latest_available"}),
            "locality": f"{basis['carrier']}-{basis['locality']}",
        }
        prof["carve_outs"], carve_files = _demo_carve_outs(cid, first, Decimal(str(doc["base_percent"])), doc["claim_filing_indicator"])
        files += carve_files
    out["professional"] = prof
    out["value_based"] = _demo_value_based(doc)
    return _dump(out, doc), files


def _fee_csv(rows: list[dict[str, Any]]) -> str:
    lines = ["code,modifier,site,amount"]
    lines += [f"{r['code']},{r['modifier']},{r['site']},{r['rate']}" for r in rows]
    return "\n".join(lines) + "\n"


def _demo_carve_outs(cid: str, period: dict[str, Any], base_pct: Decimal, filing: str) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Carve-outs of a percent-of-Medicare demo payer, as percentages of reference lists.

    Drugs: ASP + 6% (Medicare Advantage) or + 15%; labs: 100% / 140% of the clinical lab fee
    schedule; preventive visits (not priced by Medicare): the contract percentage of the
    payer's preventive price list, escalated with the contract.  The reference lists are the
    demo catalogue's (CARVE_OUT_REFERENCE_CENTS), written as CSV files next to the YAML.
    """
    from parley.demo.catalog import CARVE_OUT_REFERENCE_CENTS

    listed = {r["code"] for r in period.get("fee_schedule", []) if r.get("basis") == "carve_out"}
    groups: dict[str, list[str]] = {"drugs": [], "labs": [], "preventive": []}
    for code in sorted(listed):
        g = "drugs" if code.startswith("J") else ("preventive" if code.startswith("99") else "labs")
        groups[g].append(code)
    ma = filing == "16"
    spec = {
        "drugs": ("ASP", Decimal(106) if ma else Decimal(115), False),
        "labs": ("CLFS", Decimal(100) if ma else Decimal(140), False),
        "preventive": ("preventive price list", base_pct, True),
    }
    carve, files = [], []
    for g, codes in groups.items():
        if not codes:
            continue
        reference, pct, escalate = spec[g]
        name = f"{cid.lower()}-{g}-reference.csv"
        body = "code,amount\n" + "".join(
            f"{c},{Decimal(CARVE_OUT_REFERENCE_CENTS[c]) / 100:.2f}\n" for c in codes)
        files.append((name, body))
        carve.append({"name": g, "select": {"codes": codes},
                      "pricing": {"method": "percent_of_reference", "reference": reference,
                                  "percent": pct, "csv": name},
                      "escalate": escalate})
    return carve, files


def _demo_value_based(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if "Medicare Advantage" in doc["product_line"]:
        return [{"kind": "shared_savings", "description": "MA shared savings overlay (modeling only)",
                 "benchmark_pmpm": Decimal("1050.00"), "minimum_savings_rate_percent": Decimal(2),
                 "sharing_rate_percent": Decimal(50), "cap_percent": Decimal(10),
                 "quality_gate": {"min_quality_score_percent": 70}},
                {"kind": "care_management_fee", "pmpm": Decimal("4.00")}]
    if doc["method"] == "fee_schedule" and "Blue" in doc["product_line"]:
        return [{"kind": "pay_for_performance", "description": "quality incentive per measure",
                 "measures": [{"measure": "HbA1c control", "amount": "15000.00"}]}]
    return []


def _dump(out: dict[str, Any], doc: dict[str, Any]) -> str:
    class _D(yaml.SafeDumper):  # type: ignore[misc]
        pass

    def _dec(dumper: yaml.SafeDumper, v: Decimal) -> yaml.Node:
        if v == v.to_integral_value():
            return dumper.represent_int(int(v))
        return dumper.represent_scalar("tag:yaml.org,2002:float", format(v, "f"))

    _D.add_representer(Decimal, _dec)
    head = (f"# {doc['payer_name']} - {doc['product_line']} ({doc['method']})\n"
            "# Generated from the demo's contracts.json by parley.services.contracts.write_demo_contracts.\n")
    return head + str(yaml.dump(out, Dumper=_D, sort_keys=False, allow_unicode=True))


def write_demo_contracts(*, contracts_json: Path, dest: Path) -> list[Path]:
    """Write the demo's contracts (contracts.json) as YAML (+ CSV side files) into ``dest``.

    Written aside and renamed; existing demo files of the same name are replaced.
    """
    data = json.loads(contracts_json.read_text())
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for doc in data["contracts"]:
        text, files = demo_contract_yaml(doc, end=dt.date.today(), folder=dest)
        for name, body in files:
            _atomic(dest / name, body)
        target = dest / f"{doc['contract_id'].lower()}.yaml"
        _atomic(target, text)
        written.append(target)
    return written


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
