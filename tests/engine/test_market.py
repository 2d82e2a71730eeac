"""Benchmarks: plausibility flags (with counts), distributions, our position and the opportunity."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from parley.engine.market import (
    flag,
    flag_summary,
    payer_benchmark,
    payer_distribution,
    provider_values,
)
from parley.ingest.tic import MarketOptions
from parley.services.market import ingest_market
from parley.store.datasets import FileCommit, now_utc

NPIS = [1000000001 + i for i in range(10)]


def _tic(payer: str, plan: str, rates: dict[str, list[float]]) -> dict:
    """A TiC file: each code's i-th rate is paid to provider NPIS[i]."""
    items = []
    for code, values in rates.items():
        items.append(
            {
                "negotiation_arrangement": "ffs",
                "name": code,
                "billing_code_type": "CPT",
                "billing_code_type_version": "2025",
                "billing_code": code,
                "description": "x",
                "negotiated_rates": [
                    {
                        "provider_groups": [
                            {"npi": [NPIS[i]], "tin": {"type": "ein", "value": f"{i:02d}-0000000"}}
                        ],
                        "negotiated_prices": [
                            {
                                "negotiated_type": "negotiated",
                                "negotiated_rate": v,
                                "expiration_date": "9999-12-31",
                                "billing_class": "professional",
                                "service_code": ["11"],
                            }
                        ],
                    }
                    for i, v in enumerate(values)
                ],
            }
        )
    return {
        "reporting_entity_name": payer,
        "reporting_entity_type": "health insurance issuer",
        "plan_name": plan,
        "plan_id_type": "ein",
        "plan_id": "1",
        "plan_market_type": "group",
        "last_updated_on": "2025-07-01",
        "version": "1.0.0",
        "in_network": items,
    }


def _remits(workspace, payer: str, lines: list[tuple[str, str, str]]) -> None:
    """remit_claims + remit_lines rows: (code, allowed, units)."""
    commit = FileCommit(workspace.datasets, "remit00000000001")
    commit.write(
        "remit_claims",
        pl.DataFrame(
            {"claim_seq": [0], "claim_id": ["c1"], "payer_name": [payer], "payer_id": ["P1"]}
        ),
    )
    commit.write(
        "remit_lines",
        pl.DataFrame(
            {
                "claim_seq": [0] * len(lines),
                "line_seq": list(range(len(lines))),
                "procedure_code": [c for c, _, _ in lines],
                "allowed_amount": [Decimal(a) for _, a, _ in lines],
                "units": [Decimal(u) for _, _, u in lines],
            }
        ),
    )
    commit.commit(
        {
            "sha256": "remit00000000001" + "0" * 48,
            "source_path": "remits.835",
            "source_bytes": 1,
            "format": "x12-835",
            "version": None,
            "status": "loaded",
            "ingested_at": now_utc(),
            "problem_count": 0,
            "error_count": 0,
            "elapsed_seconds": 0.0,
        }
    )


@pytest.fixture
def market(workspace, tmp_path: Path):
    folder = tmp_path / "tic"
    folder.mkdir()
    acme = {"99213": [80, 90, 100, 110, 120, 5, 2000], "99214": [130, 140, 150]}
    (folder / "acme-ppo.json").write_text(json.dumps(_tic("Acme Health", "PPO", acme)))
    (folder / "acme-hmo.json").write_text(
        json.dumps(_tic("Acme Health", "HMO", acme))
    )  # same rates: duplicates
    (folder / "other.json").write_text(
        json.dumps(_tic("Other Insurer", "EPO", {"99213": [95, 105]}))
    )
    report = ingest_market(workspace=workspace, paths=[folder], options=MarketOptions(workers=1))
    assert report.ok
    _remits(
        workspace,
        "ACME HEALTH PLAN",
        [
            ("99213", "85.00", "1"),
            ("99213", "170.00", "2"),
            ("99213", "90.00", "1"),
            ("99214", "160.00", "1"),
        ],
    )
    return workspace


def test_plausibility_flags_and_counts(market) -> None:
    from parley.engine.market import load_rates, medicare_amounts

    rates = load_rates(market.connect())
    flagged = flag(rates, medicare_amounts(["99213", "99214"], year=2025, practice_zip=None))
    summary = flag_summary(flagged)
    assert summary["rows"] == 22
    assert summary["duplicate"] == 10  # the HMO file repeats every PPO rate
    assert summary["implausible_vs_medicare"] == 2  # $5 and $2000 for a ~$89 visit
    reasons = flagged.filter(pl.col("flag") == "implausible_vs_medicare")["flag_reason"].to_list()
    assert all("% of Medicare" in r for r in reasons)
    values = provider_values(flagged)
    assert (
        values.filter(pl.col("payer_name") == "Acme Health").height == 8
    )  # 5 + 3 plausible providers


def test_taxonomy_rule_flags_ghost_rates(market) -> None:
    from parley.engine.market import load_rates, medicare_amounts

    rates = load_rates(market.connect(), codes=["99214"])
    taxonomy = {
        NPIS[0]: "2085R0202X",
        NPIS[1]: "207Q00000X",
    }  # a radiologist does not bill E/M visits
    flagged = flag(
        rates, medicare_amounts(["99214"], year=2025, practice_zip=None), taxonomy=taxonomy
    )
    ghosts = flagged.filter(pl.col("flag") == "taxonomy_does_not_bill")
    assert set(ghosts["provider_npi"]) == {str(NPIS[0])}


def test_benchmark_position_and_opportunity(market) -> None:
    result = payer_benchmark(market.connect(), payer="acme", percentile=75)
    rows = {r["billing_code"]: r for r in result["codes"]}
    visit = rows["99213"]
    assert visit["providers"] == 5
    assert visit["p50"] == Decimal("100.00") and visit["p75"] == Decimal("110.00")
    assert visit["own_rate"] == Decimal("85.00")  # median of 85, 170/2, 90
    assert visit["own_percentile"] == pytest.approx(20.0)
    assert visit["opportunity"] == Decimal("100.00")  # (110 - 85) x 4 units
    assert visit["p50_pct_medicare"] == pytest.approx(
        112.4, abs=0.1
    )  # national 2025 99213 = $88.95
    assert rows["99214"]["opportunity"] == Decimal("0.00")  # already above p75
    assert result["total_opportunity"] == Decimal("100.00")
    assert {r["payer_name"] for r in result["by_payer"]} == {"Acme Health", "Other Insurer"}


def test_payer_distribution_for_a_basket(market) -> None:
    dist = payer_distribution(market.connect(), payer="Other", codes=["99213"])
    assert dist.height == 1 and dist["providers"][0] == 2
    assert dist["p50"][0] == pytest.approx(100.0)


def test_cli_benchmark_json(market) -> None:
    from typer.testing import CliRunner

    from parley.cli.app import app

    out = CliRunner().invoke(app, ["benchmark", "acme", "--json", "-w", str(market.root)])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["total_opportunity"] == "100.00"


def test_registry_gives_provider_types(market, tmp_path: Path) -> None:
    from parley.services.market import benchmark

    registry = tmp_path / "nppes.csv"
    rows = (
        ["npi,state,zip,taxonomy"]
        + [f"{n},NY,10001,2085R0202X" for n in NPIS[:2]]
        + [f"{n},NY,10001,207Q00000X" for n in NPIS[2:]]
    )
    registry.write_text("\n".join(rows) + "\n")
    result = benchmark(workspace=market, payer="acme", registry=registry)
    types = {(r["billing_code"], r["provider_type"]) for r in result["by_provider_type"]}
    assert ("99213", "207Q00000X") in types
    assert result["plausibility"].get("taxonomy_does_not_bill", 0) >= 1


def _hospital_rates(workspace, payer: str, code: str, rates: list[str]) -> None:
    """market_rates rows as a hospital standard-charge file gives them (source hpt)."""
    commit = FileCommit(workspace.datasets, "hpt0000000000001")
    commit.write(
        "market_rates",
        pl.DataFrame(
            {
                "rate_seq": list(range(len(rates))),
                "source": ["hpt"] * len(rates),
                "payer_name": [payer] * len(rates),
                "billing_code_type": ["CPT"] * len(rates),
                "billing_code": [code] * len(rates),
                "billing_class": ["professional"] * len(rates),
                "negotiated_type": ["negotiated"] * len(rates),
                "rate": [Decimal(r) for r in rates],
                "provider_npi": [str(2000000001 + i) for i in range(len(rates))],
                "hospital_name": ["General Hospital"] * len(rates),
            }
        ),
    )
    commit.commit(
        {
            "sha256": "hpt0000000000001" + "0" * 48,
            "source_path": "hospital.csv",
            "source_bytes": 1,
            "format": "hpt-csv",
            "version": None,
            "status": "loaded",
            "ingested_at": now_utc(),
            "problem_count": 0,
            "error_count": 0,
            "elapsed_seconds": 0.0,
        }
    )


def test_payer_aliases_join_tic_hospital_and_remit_names(workspace, tmp_path: Path) -> None:
    """UHC of New York (TiC), "UHC" (hospital) and "UnitedHealthcare" (remits) are one payer."""
    from parley.services.market import benchmark, payer_names

    folder = tmp_path / "tic"
    folder.mkdir()
    doc = _tic("UnitedHealthcare Insurance Company of New York", "PPO", {"99213": [90, 100, 110]})
    (folder / "uhc.json").write_text(json.dumps(doc))
    (folder / "other.json").write_text(json.dumps(_tic("Other Insurer", "EPO", {"99213": [70]})))
    assert ingest_market(workspace=workspace, paths=[folder], options=MarketOptions(workers=1)).ok
    _hospital_rates(workspace, "UHC", "99213", ["120.00", "130.00"])
    _remits(workspace, "UnitedHealthcare", [("99213", "95.00", "1")])
    con = workspace.connect()
    stored = dict(
        con.execute(
            "SELECT payer_name, payer FROM market_rates WHERE file_id NOT LIKE 'hpt%'"
        ).fetchall()
    )
    assert stored["UnitedHealthcare Insurance Company of New York"] == "UnitedHealthcare"
    for query in ("UHC", "United Healthcare", "unitedhealthcare"):
        result = benchmark(workspace=workspace, payer=query)
        assert result["payer_canonical"] == "UnitedHealthcare"
        assert result["payer_names_matched"] == [
            "UHC",
            "UnitedHealthcare Insurance Company of New York",
        ]
        visit = {r["billing_code"]: r for r in result["codes"]}["99213"]
        assert visit["providers"] == 5  # 3 TiC + 2 hospital, not Other Insurer's
        assert visit["own_rate"] == Decimal("95.00")  # the remits say "UnitedHealthcare"
        assert {r["payer_name"] for r in result["by_payer"]} == {
            "UnitedHealthcare",
            "Other Insurer",
        }
    names = {r["name"]: r for r in payer_names(workspace=workspace)["names"]}
    assert names["UHC"]["payer"] == "UnitedHealthcare" and names["UHC"]["alias"] == "uhc"
    assert names["Other Insurer"]["alias"] is None


def test_workspace_alias_file_changes_the_match(market) -> None:
    """'Acme' is nobody's alias; a workspace row maps the remit name and the TiC name together."""
    from parley.services.market import benchmark

    before = benchmark(workspace=market, payer="Acme Health")
    assert before["payer_canonical"] is None  # substring match, as published
    (market.refdata_dir / "payer_aliases.csv").write_text(
        "payer,alias\nAcme,acme health\nAcme,acme health plan\n", encoding="utf-8"
    )
    after = benchmark(workspace=market, payer="ACME HEALTH PLAN")
    assert after["payer_canonical"] == "Acme"
    rows = {r["billing_code"]: r for r in after["codes"]}
    assert rows["99213"]["own_rate"] == Decimal("85.00") and rows["99213"]["providers"] == 5


def test_institutional_rates_are_checked_against_their_own_market() -> None:
    """The PFS prices professional services only: a facility fee is not compared with it, nor
    with the professional fees of its code, but with the facility fees of its code."""
    prof = [100.0, 110.0, 95.0, 105.0]  # professional MRI reads, ~40% of the $250 PFS amount
    inst = [1500.0, 1400.0, 1600.0, 1550.0, 1450.0, 90000.0]  # facility fees, one absurd
    rows = [("professional", r, i) for i, r in enumerate(prof)] + [("institutional", r, 10 + i) for i, r in enumerate(inst)]
    rates = pl.DataFrame({
        "source": ["tic"] * len(rows), "payer_name": ["Acme"] * len(rows), "provider_npi": [str(NPIS[0] + n) for _, _, n in rows],
        "provider_tin": [""] * len(rows), "billing_code": ["70553"] * len(rows), "modifiers": [""] * len(rows),
        "billing_class": [c for c, _, _ in rows], "negotiated_type": ["negotiated"] * len(rows), "rate": [r for _, r, _ in rows],
    })
    medicare = pl.DataFrame({"billing_code": ["70553"], "medicare": [250.0]})
    flagged = flag(rates, medicare)
    got = dict(zip(flagged["rate"].to_list(), flagged["flag"].to_list(), strict=True))
    assert got[90000.0] == "outlier_vs_market"
    assert all(got[r] is None for r in inst[:-1])  # 6x Medicare, but facility fees
    assert all(got[r] is None for r in prof)
    assert flag_summary(flagged)["outlier_vs_market"] == 1


def test_professional_rates_for_facility_places_are_checked_against_the_facility_amount() -> None:
    """A professional rate published only for facility places of service (21 inpatient, 22
    outpatient hospital...) is compared with the PFS facility amount (lower practice expense);
    the same rate for the office (11), or for every place, with the non-facility amount."""
    places = ["21,22", "11", "CSTM-00", ""]
    rates = pl.DataFrame({
        "source": ["tic"] * 4, "payer_name": ["Acme"] * 4, "provider_npi": [str(NPIS[0] + i) for i in range(4)],
        "provider_tin": [""] * 4, "billing_code": ["99213"] * 4, "modifiers": [""] * 4,
        "billing_class": ["professional"] * 4, "negotiated_type": ["negotiated"] * 4, "rate": [25.0] * 4,
        "service_codes": places,
    })
    medicare = pl.DataFrame({"billing_code": ["99213"], "medicare": [88.95], "medicare_facility": [63.72]})
    flagged = flag(rates, medicare)
    got = dict(zip(flagged["service_codes"].to_list(), flagged["flag"].to_list(), strict=True))
    assert got["21,22"] is None  # 39% of the facility amount
    assert got["11"] == got["CSTM-00"] == got[""] == "implausible_vs_medicare"  # 28% of non-facility
    reasons = flagged.filter(pl.col("service_codes") == "11")["flag_reason"].to_list()
    assert reasons == ["28.0% of Medicare (outside 30%-1000%)"]
