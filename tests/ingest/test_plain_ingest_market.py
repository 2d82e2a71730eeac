"""`parley ingest` and `parley market ingest` read price-transparency files through one path:
the same rows, the same canonical payer from the payer-alias table (packaged and workspace file)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parents[1] / "data"
FILES = (DATA / "hpt" / "v3-tall.csv", DATA / "tic" / "v2-in-network-rates-fee-for-service-single-plan-sample.json")
ALIASES = "payer,alias\nAcme Health,platform health insurance\n"


def _rows(ws) -> list[tuple]:
    con = ws.connect()
    try:
        return con.execute("""SELECT source, payer_name, payer, billing_code, rate, provider_npi FROM market_rates
                              ORDER BY ALL""").fetchall()
    finally:
        con.close()


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for f in FILES:
        shutil.copy(f, folder / f.name)
    return folder


def _workspace(root: Path):
    from parley.store.workspace import init_workspace

    ws = init_workspace(root, organization="Test Group")
    ws.refdata_dir.mkdir(parents=True, exist_ok=True)
    (ws.refdata_dir / "payer_aliases.csv").write_text(ALIASES, encoding="utf-8")
    return ws


def test_plain_ingest_resolves_payers_like_market_ingest(inputs: Path, tmp_path: Path) -> None:
    from parley.ingest.tic import MarketOptions, shoppable_codes
    from parley.refdata.payer_aliases import load_payer_aliases
    from parley.services.ingest import ingest_paths
    from parley.services.market import ingest_market

    plain, market = _workspace(tmp_path / "plain"), _workspace(tmp_path / "market")
    report = ingest_paths(workspace=plain, paths=[inputs], workers=1)
    assert all(f.status == "loaded" for f in report.files), report.as_dict()
    # the basket plain ingest reads with (shoppable services, no market filter), so the rows are comparable
    ingest_market(workspace=market, paths=[inputs], options=MarketOptions(codes=shoppable_codes(), workers=1))
    rows = _rows(plain)
    assert rows and rows == _rows(market)
    aliases = load_payer_aliases(plain.refdata_dir)
    assert all(payer == aliases.canonical(name) for _, name, payer, *_ in rows)
    by_name = {name: payer for _, name, payer, *_ in rows}
    assert by_name["Platform Health Insurance"] == "Acme Health"  # the workspace's own alias file
    assert all(payer is not None for payer in by_name.values())
