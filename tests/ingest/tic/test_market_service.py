"""`parley market ingest`: batches with bad files, atomic commits, re-runs, process pool and Dask."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from tic_helpers import TIC
from tic_reference import in_network_rows, load, reader_in_network_rows

from parley.ingest.tic import MarketOptions
from parley.services.market import ingest_market

HPT = Path(__file__).parents[2] / "data" / "hpt"


def _batch(folder: Path) -> Path:
    folder.mkdir()
    for name in (
        "v2-in-network-rates-fee-for-service-single-plan-sample.json",
        "v2-allowed-amounts-single-plan-sample.json",
        "v1-in-network-rates-multiple-plans-sample.json",
        "v2-table-of-contents-sample.json",
    ):
        shutil.copy(TIC / name, folder / name)
    shutil.copy(HPT / "v3-tall.csv", folder / "hospital.csv")
    doc = load(TIC / "v2-in-network-rates-multiple-plans-sample.json")
    doc["in_network"] = doc["in_network"] * 200
    cut = gzip.compress(json.dumps(doc).encode())
    (folder / "truncated.json.gz").write_bytes(cut[: len(cut) // 2])
    (folder / "notjson.json").write_text("this is not json")
    (folder / "other.json").write_text('{"hello": "world"}')
    bad = load(TIC / "v2-in-network-rates-no-npi.json")
    bad["version"] = "7.0"
    (folder / "v7.json").write_text(json.dumps(bad))
    (folder / "bad-hospital.csv").write_text(
        (HPT / "v3-tall.csv").read_text(encoding="utf-8-sig").replace("description,", "desc,")
    )
    return folder


def test_batch_continues_past_bad_files(workspace, tmp_path: Path) -> None:
    folder = _batch(tmp_path / "in")
    report = ingest_market(workspace=workspace, paths=[folder], options=MarketOptions(workers=1))
    status = {Path(f.source).name: f.status for f in report.files}
    assert status["v2-in-network-rates-fee-for-service-single-plan-sample.json"] == "loaded"
    assert status["hospital.csv"] == "loaded"
    for bad in ("truncated.json.gz", "notjson.json", "other.json", "v7.json", "bad-hospital.csv"):
        assert status[bad] == "failed", bad
    con = workspace.connect()
    by_source = dict(con.execute("SELECT source, count(*) FROM market_rates GROUP BY 1").fetchall())
    assert by_source["hpt"] == 53 and by_source["tic-allowed-amounts"] > 0
    codes = {r[0] for r in con.execute("SELECT DISTINCT code FROM problems").fetchall()}
    assert {
        "market.not_json",
        "market.not_tic",
        "tic.unknown_version",
        "hpt.missing_columns",
    } <= codes
    truncated = con.execute(
        "SELECT element, message FROM problems WHERE source_path LIKE '%truncated.json.gz'"
    ).fetchall()
    assert truncated and truncated[0][0].startswith("byte ") and "truncated" in truncated[0][1]
    nothing = con.execute(
        "SELECT count(*) FROM market_rates r JOIN manifest m USING (file_id) WHERE m.status = 'failed'"
    ).fetchone()
    assert nothing == (0,)
    again = ingest_market(workspace=workspace, paths=[folder], options=MarketOptions(workers=1))
    assert {f.status for f in again.files if f.status != "failed"} == {"duplicate"}


def _rows(workspace, name: str):
    con = workspace.connect()
    import polars as pl

    return pl.from_arrow(
        con.sql(
            "SELECT r.* FROM market_rates r JOIN manifest m USING (file_id) WHERE m.source_path LIKE ?",
            params=[f"%{name}"],
        ).to_arrow_table()
    )


def test_process_pool_gives_the_same_rows(workspace, tmp_path: Path) -> None:
    src = TIC / "v2-in-network-rates-fee-for-service-single-plan-sample.json"
    doc = load(src)
    doc["in_network"] = doc["in_network"] * 50
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    opts = MarketOptions(workers=2, block_bytes=4096, batch_bytes=8192)
    report = ingest_market(workspace=workspace, paths=[path], options=opts)
    assert report.ok
    assert reader_in_network_rows(_rows(workspace, "big.json")) == in_network_rows(doc)


def test_process_pool_gives_the_same_rows_from_a_gzip_stream(workspace, tmp_path: Path) -> None:
    doc = load(TIC / "v2-in-network-rates-multiple-plans-sample.json")
    doc["in_network"] = doc["in_network"] * 60
    path = tmp_path / "big.json.gz"
    path.write_bytes(gzip.compress(json.dumps(doc).encode()))
    opts = MarketOptions(workers=2, block_bytes=4096, batch_bytes=8192)
    report = ingest_market(workspace=workspace, paths=[path], options=opts)
    assert report.ok
    assert reader_in_network_rows(_rows(workspace, "big.json.gz")) == in_network_rows(doc)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_rows(workspace, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    doc = load(TIC / "v2-in-network-rates-fee-for-service-single-plan-sample.json")
    doc["in_network"] = doc["in_network"] * 40
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(doc))
    gz = tmp_path / "zipped.json.gz"
    gz.write_bytes(gzip.compress(json.dumps({**doc, "plan_name": "gz"}).encode()))
    with distributed.LocalCluster(
        processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None
    ) as cluster:
        opts = MarketOptions(
            scheduler=cluster.scheduler_address, block_bytes=4096, batch_bytes=8192
        )
        report = ingest_market(workspace=workspace, paths=[plain, gz], options=opts)
    assert report.ok, report.as_dict()
    assert reader_in_network_rows(_rows(workspace, "plain.json")) == in_network_rows(doc)
    assert reader_in_network_rows(_rows(workspace, "zipped.json.gz")) == in_network_rows(doc)


def test_table_of_contents_is_followed_with_fetch(workspace, tmp_path: Path) -> None:
    files = tmp_path / "payer"
    files.mkdir()
    shutil.copy(
        TIC / "v2-in-network-rates-fee-for-service-single-plan-sample.json",
        files / "in-network.json",
    )
    shutil.copy(TIC / "v2-allowed-amounts-single-plan-sample.json", files / "allowed.json")
    toc = load(TIC / "v2-table-of-contents-sample.json")
    toc["reporting_structure"] = [
        {
            "reporting_plans": toc["reporting_structure"][0]["reporting_plans"],
            "in_network_files": [
                {"description": "in-network", "location": (files / "in-network.json").as_uri()},
                {"description": "gone", "location": (files / "missing.json").as_uri()},
            ],
            "allowed_amount_file": {
                "description": "allowed",
                "location": (files / "allowed.json").as_uri(),
            },
        }
    ]
    (tmp_path / "toc.json").write_text(json.dumps(toc))
    report = ingest_market(
        workspace=workspace,
        paths=[tmp_path / "toc.json"],
        options=MarketOptions(workers=1, fetch_urls=True),
    )
    status = {Path(f.source).name: f.status for f in report.files}
    assert status["in-network.json"] == "loaded" and status["allowed.json"] == "loaded"
    assert status["missing.json"] == "failed"
    assert report.totals()["market_rates"] == 50 + 8


def test_cli_market_ingest(workspace, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from parley.cli.app import app

    path = TIC / "v2-in-network-rates-fee-for-service-single-plan-sample.json"
    out = CliRunner().invoke(
        app,
        [
            "market",
            "ingest",
            str(path),
            "--basket",
            "all",
            "--npi",
            "1111111111",
            "--workers",
            "1",
            "--json",
            "-w",
            str(workspace.root),
        ],
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["totals"]["market_rates"] == 10 and data["basket"] == "every code (no basket)"


def _staging_left(workspace) -> list[Path]:
    root = workspace.datasets / ".staging"
    return list(root.iterdir()) if root.exists() else []


def test_pool_workers_write_the_rows_hashed_while_read(workspace, tmp_path: Path) -> None:
    """A big TiC file is hashed while it is read and its rows are written by the pool's
    processes: the same rows, the payer, unique rate_seq, a second copy is a duplicate
    (in the batch and on a re-run), nothing left in staging."""
    doc = load(TIC / "v2-in-network-rates-fee-for-service-single-plan-sample.json")
    doc["in_network"] = doc["in_network"] * 50
    path = tmp_path / "big.json"
    path.write_text(json.dumps(doc))
    shutil.copy(path, tmp_path / "copy.json")
    opts = MarketOptions(workers=2, block_bytes=4096, batch_bytes=8192)
    report = ingest_market(
        workspace=workspace, paths=[path, tmp_path / "copy.json"], options=opts
    )
    status = {Path(f.source).name: f.status for f in report.files}
    assert status == {"big.json": "loaded", "copy.json": "duplicate"}
    rows = _rows(workspace, "big.json")
    assert reader_in_network_rows(rows) == in_network_rows(doc)
    assert rows["rate_seq"].n_unique() == rows.height == report.totals()["market_rates"]
    assert rows["payer"].null_count() == 0 or doc.get("reporting_entity_name") is None
    parts = list((workspace.datasets / "market_rates").glob("*/part-w*.parquet"))
    assert len(parts) > 1  # written by the workers, one part per batch
    assert not _staging_left(workspace)
    again = ingest_market(workspace=workspace, paths=[tmp_path / "copy.json"], options=opts)
    assert [f.status for f in again.files] == ["duplicate"]
    assert not _staging_left(workspace)


def test_truncated_plain_file_with_a_pool_leaves_nothing(workspace, tmp_path: Path) -> None:
    doc = load(TIC / "v2-in-network-rates-fee-for-service-single-plan-sample.json")
    doc["in_network"] = doc["in_network"] * 50
    text = json.dumps(doc)
    path = tmp_path / "cut.json"
    path.write_text(text[: len(text) * 2 // 3])
    opts = MarketOptions(workers=2, block_bytes=4096, batch_bytes=8192)
    report = ingest_market(workspace=workspace, paths=[path], options=opts)
    assert [f.status for f in report.files] == ["failed"]
    assert not list((workspace.datasets / "market_rates").glob("*/part-*.parquet"))
    assert not _staging_left(workspace)
