"""Contract terms: schema, YAML errors with file / line / field, CSVs, overlaps, amendments."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from parley.domain.contracts import Contract, FeeSchedule, PercentOfCharges, json_schema
from parley.domain.contracts_load import ContractError, load_contract_file, load_contracts

GOOD = """\
schema_version: 1
contract_id: T-PPO
payer: {name: TEST PLAN, payer_ids: [TP1]}
product_lines: [Commercial PPO]
claim_filing_indicators: ["12"]
effective: 2024-01-01
expires: 2025-12-31
renewal: {type: evergreen, termination_notice_days: 90}
timely_filing_days: 180
prompt_pay: {days: 30, interest_percent_annual: 12}
escalator: {amount: 3, anniversary: "07-01"}
professional:
  methodology:
    method: fee_schedule
    csv: fees.csv
    rates:
      - {code: "99213", amount: 126.50}
  default: {method: percent_of_charges, percent: 45}
  adjustments:
    bilateral_percent: 150
amendments:
  - effective: 2025-01-01
    changes:
      professional:
        default: {method: percent_of_charges, percent: 50.5}
"""
FEES = "code,modifier,site,amount\n99214,,any,182.00\n20610,,facility,88.00\n"


def _write(tmp: Path, text: str, fees: str = FEES, name: str = "t.yaml") -> Path:
    (tmp / "fees.csv").write_text(fees)
    p = tmp / name
    p.write_text(text)
    return p


def test_good_contract_loads_with_csv_rates_and_decimal_money(tmp_path: Path) -> None:
    c = load_contract_file(_write(tmp_path, GOOD))
    fs = c.professional.methodology
    assert isinstance(fs, FeeSchedule)
    assert {(r.code, r.amount) for r in fs.rates} == {("99213", Decimal("126.50")), ("99214", Decimal("182.00")), ("20610", Decimal("88.00"))}
    assert isinstance(fs.rates[0].amount, Decimal)


def test_amendment_applies_from_its_effective_date(tmp_path: Path) -> None:
    c = load_contract_file(_write(tmp_path, GOOD))
    before = c.terms_on(dt.date(2024, 12, 31)).professional.default
    after = c.terms_on(dt.date(2025, 1, 1)).professional.default
    assert isinstance(before, PercentOfCharges) and before.percent == 45
    assert isinstance(after, PercentOfCharges) and after.percent == Decimal("50.5")
    starts = [s.start for s in c.segments(dt.date(2025, 12, 31))]
    assert dt.date(2024, 7, 1) in starts and dt.date(2025, 1, 1) in starts and dt.date(2025, 7, 1) in starts


def test_periods_end_where_the_contract_says_not_at_the_date_asked(tmp_path: Path) -> None:
    """The last period runs to the day before the next cut (anniversary, amendment, January 1st)
    or the expiry, whatever date the periods are asked up to: their bounds (and the engine's
    period labels) do not move when later claims arrive."""
    c = load_contract_file(_write(tmp_path, GOOD))
    early = [(s.start, s.end) for s in c.segments(dt.date(2024, 8, 15))]
    later = [(s.start, s.end) for s in c.segments(dt.date(2025, 3, 1))]
    assert early[-1] == (dt.date(2024, 7, 1), dt.date(2024, 12, 31))
    assert later[: len(early)] == early
    assert later[-1] == (dt.date(2025, 1, 1), dt.date(2025, 6, 30))
    beyond = c.segments(dt.date(2030, 1, 1))
    assert beyond[-1].end == dt.date(2025, 12, 31)  # the expiry
    first = c.segments(dt.date(2024, 1, 1))
    assert [(s.start, s.end) for s in first] == [(dt.date(2024, 1, 1), dt.date(2024, 6, 30))]


def _error(tmp_path: Path, text: str, fees: str = FEES) -> str:
    with pytest.raises(ContractError) as info:
        load_contract_file(_write(tmp_path, text, fees))
    return str(info.value)


def test_unknown_field_names_file_line_and_field(tmp_path: Path) -> None:
    msg = _error(tmp_path, GOOD.replace("timely_filing_days: 180", "timely_filing_days: 180\nrenewel_type: fixed"))
    assert "t.yaml:10: renewel_type: unknown field" in msg


def test_percentage_of_1500_is_refused_with_line(tmp_path: Path) -> None:
    msg = _error(tmp_path, GOOD.replace("percent: 45", "percent: 1500"))
    assert "t.yaml:18: professional.default.percent" in msg and "1500" in msg


def test_percent_of_medicare_over_1000_is_refused(tmp_path: Path) -> None:
    text = GOOD.replace("""    method: fee_schedule
    csv: fees.csv
    rates:
      - {code: "99213", amount: 126.50}""", """    method: percent_of_medicare
    percent: 1500
    pfs_year: 2025""")
    msg = _error(tmp_path, text)
    assert "t.yaml:15: professional.methodology.percent" in msg and "less than or equal to 1000" in msg


def test_malformed_fee_schedule_amount_names_csv_row(tmp_path: Path) -> None:
    msg = _error(tmp_path, GOOD, fees="code,modifier,site,amount\n99214,,any,182.00\n20610,,facility,8x8.00\n")
    assert "fees.csv:3: amount: '8x8.00' is not a dollar amount" in msg


def test_missing_csv_is_reported(tmp_path: Path) -> None:
    msg = _error(tmp_path, GOOD.replace("csv: fees.csv", "csv: nothere.csv"))
    assert "t.yaml:15: professional.methodology.csv: CSV file" in msg and "not found" in msg


def test_amendment_outside_contract_and_duplicate_dates(tmp_path: Path) -> None:
    msg = _error(tmp_path, GOOD.replace("  - effective: 2025-01-01", "  - effective: 2027-01-01"))
    assert "outside the contract" in msg
    dup = GOOD + "  - effective: 2025-01-01\n    changes: {}\n"
    assert "two amendments take effect on 2025-01-01" in _error(tmp_path, dup)


def test_overlapping_contracts_refused_nothing_loaded(tmp_path: Path) -> None:
    a = _write(tmp_path, GOOD, name="a.yaml")
    b = _write(tmp_path, GOOD.replace("contract_id: T-PPO", "contract_id: T-PPO-2").replace("effective: 2024-01-01", "effective: 2025-06-01")
               .replace("expires: 2025-12-31", "expires: 2027-12-31").split("amendments:")[0], name="b.yaml")
    with pytest.raises(ContractError) as info:
        load_contracts([a, b])
    assert "b.yaml:6: effective: T-PPO-2" in str(info.value) and "overlaps T-PPO" in str(info.value)


def test_not_yaml_mapping_and_bad_yaml(tmp_path: Path) -> None:
    assert "a contract is a YAML mapping" in _error(tmp_path, "- 1\n- 2\n")
    assert "t.yaml:2: not valid YAML" in _error(tmp_path, "a: [1,\nb: }\n")


def test_missing_reference_year_is_refused(tmp_path: Path) -> None:
    from parley.services.contracts import check_contract

    text = GOOD.replace("""    method: fee_schedule
    csv: fees.csv
    rates:
      - {code: "99213", amount: 126.50}""", """    method: percent_of_medicare
    percent: 125
    pfs_year: 2019""")
    with pytest.raises(ContractError) as info:
        check_contract(path=_write(tmp_path, text))
    assert "t.yaml:16: pfs_year: Medicare PFS 2019 is not available" in str(info.value)


def test_json_schema_matches_docs() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "contract-schema.json"
    assert json.loads(docs.read_text()) == json.loads(json.dumps(json_schema())), "regenerate: parley contracts schema --out docs/contract-schema.json"


def test_examples_validate() -> None:
    folder = Path(__file__).resolve().parents[2] / "examples" / "contracts"
    contracts = load_contracts(sorted(folder.glob("*.yaml")))
    assert {c.contract_id for c in contracts} >= {"ACME-PPO-2024", "SUMMIT-MA"}
    assert all(isinstance(c, Contract) for c in contracts)


def test_plans_alone_do_not_separate_contracts(tmp_path: Path) -> None:
    """No claim field carries a plan / group number, so two contracts differing only by plans overlap."""
    import datetime as dt

    from parley.domain.contracts import contracts_overlap, select_contract

    def c(cid: str, plans: list[str]) -> Contract:
        return Contract.model_validate({
            "contract_id": cid, "payer": {"name": "P", "payer_ids": ["P1"]}, "product_lines": ["PPO"], "plans": plans,
            "effective": dt.date(2025, 1, 1), "renewal": {"type": "evergreen"},
            "professional": {"methodology": {"method": "percent_of_charges", "percent": 50}}})

    a, b = c("A", ["G1"]), c("B", ["G2"])
    assert contracts_overlap(a, b)
    on = dt.date(2025, 6, 1)
    assert select_contract([a], payer_id="P1", filing_indicator=None, on=on, plan="G2") is None
    assert select_contract([a], payer_id="P1", filing_indicator=None, on=on, plan="G1") is a
    assert select_contract([a], payer_id="P1", filing_indicator=None, on=on) is a
