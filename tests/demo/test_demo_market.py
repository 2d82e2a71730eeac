"""The demo market (parley.demo.market): files, ingestion counts, planted ghosts, benchmark, strategy."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import statistics
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

#: the spec of the session's demo (tests/demo/conftest.py KPI_DEMO)
KPI_DEMO = {"seed": 20261123, "lines": 12_000, "months": 24}

BELOW = ("KEYSTONE NATIONAL HEALTH", "SUMMIT MUTUAL INSURANCE CO", "HARBORVIEW COMMUNITY HEALTH PLAN")
ABOVE = ("HUDSON BLUE CROSS BLUE SHIELD", "LIBERTY SENIOR ADVANTAGE", "ATLAS FREIGHT EMPLOYEE HEALTH PLAN")


@pytest.fixture(scope="module")
def market_ws(demo_workspace: tuple[Any, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A copy of the session's demo workspace with the demo step's market loaded (services.demo._market)."""
    from parley.demo import DemoSpec
    from parley.services.demo import _market
    from parley.store.workspace import open_workspace

    ws0, _inputs = demo_workspace
    root = tmp_path_factory.mktemp("demo-market")
    shutil.copytree(ws0.root, root / "ws", ignore=shutil.ignore_patterns("reports"))
    ws = open_workspace(root / "ws")
    inputs = root / "inputs"
    inputs.mkdir()
    result = _market(ws, inputs, DemoSpec(**KPI_DEMO))
    tally = json.loads((inputs / "market" / "market_tally.json").read_text())
    yield {"ws": ws, "inputs": inputs, "result": result, "tally": tally}


def test_files_are_deterministic_small_and_valid(tmp_path: Path) -> None:
    from parley.demo import DemoSpec
    from parley.demo.catalog import npi_is_valid
    from parley.demo.market import write_demo_market

    a = write_demo_market(tmp_path / "a", DemoSpec(**KPI_DEMO))
    b = write_demo_market(tmp_path / "b", DemoSpec(**KPI_DEMO))
    digest = [{p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in m.files} for m in (a, b)]
    assert digest[0] == digest[1]
    assert sum(p.stat().st_size for p in a.files) < 2_000_000
    assert 15 <= a.tally["peers"] <= 30
    doc = json.loads(gzip.decompress(next(p for p in a.files if p.name == "tic_knh-ppo.json.gz").read_bytes()))
    assert doc["version"] == "2.0.0" and doc["reporting_entity_name"].startswith("Keystone National Health")
    npis = {str(n) for ref in doc["provider_references"] for g in ref["provider_groups"] for n in g["npi"]}
    assert len(npis) > 20 and all(npi_is_valid(n) for n in npis)
    assert a.registry is not None and a.registry.read_text().count("\n") > len(npis) // 2


def test_ingest_counts_equal_the_generator_tally(market_ws: dict[str, Any]) -> None:
    tally, report = market_ws["tally"], market_ws["result"]["ingest"]
    by_file = {Path(f["source"]).name: f for f in report["files"]}
    assert set(by_file) == set(tally["files"])
    for name, expected in tally["files"].items():
        assert by_file[name]["status"] == "loaded", by_file[name]
        assert by_file[name]["counts"].get("market_rates", 0) == expected["rows"], name
    con = market_ws["ws"].connect()
    try:
        (total,) = con.execute("SELECT count(*) FROM market_rates").fetchone()
        outside = con.execute("SELECT count(*) FROM market_rates WHERE billing_code IN ('27447', '70551', '99283', '0320')").fetchone()
    finally:
        con.close()
    assert total == tally["rows"] and outside == (0,)
    assert tally["rows_outside_basket"] > 0


def test_plausibility_flags_the_planted_ghosts(market_ws: dict[str, Any]) -> None:
    import polars as pl

    from parley.engine.market import flag, load_rates, medicare_amounts
    from parley.ingest.tic.options import registry_market
    from parley.refdata.payer_aliases import load_payer_aliases

    ws, tally = market_ws["ws"], market_ws["tally"]
    aliases = load_payer_aliases(ws.refdata_dir)
    taxonomy = registry_market(market_ws["inputs"] / "market" / "npi_registry.csv").taxonomy
    con = ws.connect()
    try:
        rates = load_rates(con, aliases=aliases)
    finally:
        con.close()
    medicare = medicare_amounts(rates["billing_code"].unique().to_list(), year=2025, practice_zip=None)
    flagged = flag(rates, medicare, taxonomy=taxonomy)
    ghosts = tally["ghosts"]
    assert {g["expect"] for g in ghosts} == {"implausible_vs_medicare", "outlier_vs_market", "taxonomy_does_not_bill"}
    for g in ghosts:
        row = flagged.filter((pl.col("payer_name_published") == g["payer_name"])
                             & (pl.col("provider_npi") == g["npi"]) & (pl.col("billing_code") == g["code"])
                             & ((pl.col("rate") - float(g["rate"])).abs() < 0.005))
        assert row.height == 1, g
        assert row["flag"][0] == g["expect"], (g, row["flag_reason"][0])
    # the planted duplicates (Keystone's two plans, a group listed twice, a hospital's two plans) and nothing else
    assert flagged.filter(pl.col("flag") == "duplicate").height == tally["duplicates"]
    planted = {(g["npi"], g["code"]) for g in ghosts}
    others = flagged.filter(pl.col("flag").is_in(["implausible_vs_medicare", "outlier_vs_market", "taxonomy_does_not_bill"]))
    assert {(n, c) for n, c in others.select("provider_npi", "billing_code").iter_rows()} <= planted


def test_benchmark_places_the_group_below_or_above_each_payers_market(market_ws: dict[str, Any]) -> None:
    from parley.services.market import benchmark

    ws = market_ws["ws"]
    for payer in BELOW + ABOVE:
        out = benchmark(workspace=ws, payer=payer)
        assert len(out["payer_names_matched"]) >= 2, out["payer_names_matched"]  # TiC entity + hospital spelling
        rows = [r for r in out["codes"] if r["own_percentile"] is not None]
        assert len(rows) >= 20 and all(r["p50"] is not None for r in rows)
        assert sum(r["providers"] >= 3 for r in rows) >= 0.75 * len(rows)  # a distribution, not a point
        position = statistics.median(r["own_percentile"] for r in rows)
        if payer in BELOW:
            assert position < 50 and out["total_opportunity"] > 0, (payer, position)
        else:
            assert position > 50, (payer, position)


def test_strategy_has_a_zopa_and_an_opening_offer(market_ws: dict[str, Any]) -> None:
    from parley.services.strategy import strategy

    result = strategy(workspace=market_ws["ws"], payer="KEYSTONE NATIONAL HEALTH")
    assert result.figures["market_p75_revenue"]["value"] is not None
    assert Decimal(result.figures["percent_of_market_median"]["value"]) < 100
    neg = result.negotiation
    assert neg is not None and neg.zopa_exists and neg.zopa is not None
    assert neg.opening_offer.value is not None and neg.zopa[0] <= neg.opening_offer.value <= neg.zopa[1]
