"""The ingest use case end to end: dedupe, archives, quarantine, interruption, status."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import pytest

from parley.services import ingest as ingest_service
from parley.services.ingest import ingest_paths

SAMPLES = Path(__file__).parents[1] / "data" / "x12"
MANAGED_CARE = SAMPLES / "LinuxForHealth__x12__src_tests_resources_835_005010X221A1_managed-care.835"
CLAIMS_837 = SAMPLES / "LinuxForHealth__x12__demo-file_demo.837"


def count(ws, table: str) -> int:
    con = ws.connect()
    try:
        return con.execute(f"select count(*) from {table}").fetchone()[0]
    finally:
        con.close()


def test_same_file_twice_is_a_no_op(workspace) -> None:
    first = ingest_paths(workspace=workspace, paths=[MANAGED_CARE], workers=1)
    assert first.ok and first.files[0].status == "loaded"
    lines = count(workspace, "remit_lines")
    assert lines > 0
    again = ingest_paths(workspace=workspace, paths=[MANAGED_CARE], workers=1)
    assert [f.status for f in again.files] == ["duplicate"]
    assert count(workspace, "remit_lines") == lines


def test_gzip_and_zip_members_load_like_plain_files(workspace, tmp_path: Path) -> None:
    with gzip.open(tmp_path / "remit.835.gz", "wb") as out:
        out.write(MANAGED_CARE.read_bytes())
    with zipfile.ZipFile(tmp_path / "batch.zip", "w") as archive:
        archive.write(CLAIMS_837, "claims/demo.837")
    report = ingest_paths(workspace=workspace, paths=[tmp_path / "remit.835.gz", tmp_path / "batch.zip"], workers=1)
    assert [(f.format, f.status) for f in report.files] == [("x12-835", "loaded"), ("x12-837p", "loaded")]
    assert count(workspace, "claims") > 0 and count(workspace, "remit_claims") > 0


def test_utf16_file_loads_like_its_utf8_original(workspace, tmp_path: Path) -> None:
    """A remittance saved as UTF-16 by a Windows tool, its segments indented and on CRLF
    lines, loads every claim, line and adjustment of the original, balanced."""
    text = MANAGED_CARE.read_text().replace("~", "~\r\n        ")
    (tmp_path / "remit-unicode.txt").write_bytes(text.encode("utf-16"))
    report = ingest_paths(workspace=workspace, paths=[tmp_path / "remit-unicode.txt"], workers=1)
    assert [(f.format, f.status) for f in report.files] == [("x12-835", "loaded")]
    utf16 = {t: count(workspace, t) for t in ("remit_claims", "remit_lines", "adjustments")}
    con = workspace.connect()
    assert con.execute("select count(*) from remit_lines where not balanced").fetchone()[0] == 0
    con.close()
    ingest_paths(workspace=workspace, paths=[MANAGED_CARE], workers=1)
    assert {t: count(workspace, t) for t in utf16} == {t: 2 * n for t, n in utf16.items()}
    assert utf16["remit_lines"] > 0


def test_parallel_workers_give_the_same_rows(workspace, tmp_path: Path) -> None:
    report = ingest_paths(workspace=workspace, paths=[MANAGED_CARE, CLAIMS_837], workers=2)
    assert report.ok and len(report.files) == 2
    assert count(workspace, "remit_lines") > 0 and count(workspace, "claim_lines") > 0


def test_bad_claim_is_quarantined_and_the_rest_kept(workspace, tmp_path: Path) -> None:
    text = MANAGED_CARE.read_text()
    first_clp = text.index("CLP*")
    fields = text[first_clp:].split("~", 1)[0].split("*")
    bad_segment = "*".join([*fields[:3], "12X.5", *fields[4:]])
    broken = tmp_path / "broken.835"
    broken.write_text(text[:first_clp] + bad_segment + text[first_clp + len("*".join(fields)):])
    good = ingest_paths(workspace=workspace, paths=[MANAGED_CARE], workers=1)
    report = ingest_paths(workspace=workspace, paths=[broken], workers=1)
    result = report.files[0]
    assert not report.ok and result.status == "partial"
    assert any("quarantin" in line or "amount" in line for line in result.first_problems)
    con = workspace.connect()
    quarantined = con.execute("select count(*) from problems where quarantined and code = 'x12.bad_amount'").fetchone()[0]
    kept = con.execute("select count(*) from remit_claims where file_id = ?", [result.file_id]).fetchone()[0]
    assert quarantined == 1
    assert kept == good.files[0].counts["remit_claims"] - 1


def test_interrupted_ingestion_leaves_nothing(workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    real_read = ingest_service.read

    def read_then_interrupt(*args, **kwargs):
        for chunk in real_read(*args, **kwargs):
            yield chunk
            raise KeyboardInterrupt

    monkeypatch.setattr(ingest_service, "read", read_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        ingest_paths(workspace=workspace, paths=[MANAGED_CARE], workers=1)
    assert count(workspace, "remit_claims") == 0 and count(workspace, "manifest") == 0
    assert not any((workspace.datasets / ".staging").iterdir())
    monkeypatch.setattr(ingest_service, "read", real_read)
    assert ingest_paths(workspace=workspace, paths=[MANAGED_CARE], workers=1).files[0].status == "loaded"


def test_truncated_gzip_fails_cleanly_and_others_load(workspace, tmp_path: Path) -> None:
    packed = gzip.compress(MANAGED_CARE.read_bytes())
    (tmp_path / "cut.835.gz").write_bytes(packed[: len(packed) // 2])
    shutil.copy(MANAGED_CARE, tmp_path / "ok.835")
    report = ingest_paths(workspace=workspace, paths=[tmp_path], workers=1)
    statuses = {Path(f.source).name: f.status for f in report.files}
    assert statuses == {"cut.835.gz": "failed", "ok.835": "loaded"}
    assert not report.ok
    assert "cannot be read" in report.files[0].first_problems[0]
