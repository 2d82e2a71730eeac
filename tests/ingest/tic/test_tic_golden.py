"""Golden tests: the CMS example files give exactly the rates they contain.

"Exactly" is defined by a plain-Python reference flattener (tic_reference.py):
one row per negotiated price x provider NPI x TIN.  Provider groups defined
only by a remote URL (v1 ``location``) are not followed without --fetch, so
the reference leaves them out too (a warning says so).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from tic_helpers import TIC, read_all
from tic_reference import (
    allowed_rows,
    in_network_rows,
    load,
    reader_allowed_rows,
    reader_in_network_rows,
)

IN_NETWORK = sorted(p.name for p in TIC.glob("v*-in-network-rates-*.json"))
ALLOWED = sorted(p.name for p in TIC.glob("v*-allowed-amounts-*.json"))


@pytest.mark.parametrize("name", IN_NETWORK)
def test_in_network_examples_give_exactly_their_rates(name: str) -> None:
    frame, problems, fmt = read_all(TIC / name)
    assert fmt == "tic-in-network"
    expected = in_network_rows(load(TIC / name))
    assert sum(expected.values()) > 0
    assert reader_in_network_rows(frame) == expected
    assert not [p for p in problems if p.severity == "error"]


@pytest.mark.parametrize("name", ALLOWED)
def test_allowed_amount_examples_give_exactly_their_amounts(name: str) -> None:
    frame, problems, fmt = read_all(TIC / name)
    assert fmt == "tic-allowed-amounts"
    assert reader_allowed_rows(frame) == allowed_rows(load(TIC / name))
    assert set(frame["source"]) == {"tic-allowed-amounts"}


def test_fee_for_service_sample_by_hand() -> None:
    frame, _, _ = read_all(TIC / "v2-in-network-rates-fee-for-service-single-plan-sample.json")
    # 27447: (2 prices + 1 price) x group 1 (2 TINs x 5 NPIs) ; 27448: 2 rates x 1 price x 10
    assert frame.height == 50
    row = frame.filter((frame["billing_code"] == "27447") & (frame["modifiers"] == "AS")).row(
        0, named=True
    )
    assert row["rate"] == Decimal("123.45")
    assert row["payer_name"] == "medicare" and row["plan_name"] == "Plan A PPO"
    assert row["schema_version"] == "2.0.0" and str(row["last_updated_on"]) == "2020-08-27"
    assert row["service_codes"] == "18,19,11" and row["billing_class"] == "professional"
    assert set(frame["provider_tin"]) == {"111111111", "222222222"}


def test_v1_remote_provider_reference_is_reported_not_followed() -> None:
    frame, problems, _ = read_all(
        TIC / "v1-in-network-rates-fee-for-service-single-plan-sample.json"
    )
    codes = {p.code for p in problems}
    assert "tic.reference_not_fetched" in codes
    assert frame.height == sum(
        in_network_rows(
            load(TIC / "v1-in-network-rates-fee-for-service-single-plan-sample.json")
        ).values()
    )


def test_table_of_contents_lists_files_without_rates() -> None:
    frame, problems, fmt = read_all(TIC / "v2-table-of-contents-sample.json")
    assert fmt == "tic-toc"
    assert frame.height == 0
    assert any(p.code == "tic.toc" and "5 files" in p.message for p in problems)


def test_code_basket_and_market_filter() -> None:
    path = TIC / "v2-in-network-rates-fee-for-service-single-plan-sample.json"
    frame, _, _ = read_all(path, codes=frozenset({"27448"}))
    assert set(frame["billing_code"]) == {"27448"}
    from parley.ingest.tic import Market

    frame, _, _ = read_all(path, market=Market(npis=frozenset({2222222222})))
    assert set(frame["provider_npi"]) == {"2222222222"}
    assert frame.height == 10
    frame, _, _ = read_all(path, market=Market(tins=frozenset({"111111111"})))
    assert set(frame["provider_tin"]) == {"111111111"}


def test_provider_reference_file_is_recognised(tmp_path: Path) -> None:
    _, problems, fmt = read_all(TIC / "v1-provider-reference.json")
    assert fmt == "tic-provider-reference"
