"""The ingest use case end to end: dedupe, archives, quarantine, interruption, status."""

from __future__ import annotations

import gzip
import shutil
import zipfile
from pathlib import Path

import pytest

from parley.services import ingest as ingest_service
from parley.services.ingest import ingest_paths
from parley.store.workspace import init_workspace

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
    original = init_workspace(tmp_path / "utf8", organization="Test Group")
    ingest_paths(workspace=original, paths=[MANAGED_CARE], workers=1)
    assert {t: count(original, t) for t in utf16} == utf16
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
    broken_text = text[:first_clp] + bad_segment + text[first_clp + len("*".join(fields)):]
    broken.write_text(broken_text.replace("7170066655", "7170066657"))  # another payment (TRN02)
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


def _resaved(text: str) -> bytes:
    """The same ERA saved by another tool: "|" elements, "^" components, one segment a line."""
    segments = [s.strip() for s in text.replace("\n", "").split("~") if s.strip()]
    out = []
    for seg in segments:
        els = seg.split("*")
        if els[0] == "ISA":
            els[16] = "^"
            out.append("|".join(els))
        else:
            out.append("|".join(e.replace(":", "^") for e in els))
    return ("\n".join(out) + "\n").encode()


def _paid(ws) -> str:
    con = ws.connect()
    try:
        return str(con.execute("select sum(paid_amount) from remit_claims").fetchone()[0])
    finally:
        con.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_a_payment_resaved_in_other_bytes_is_not_counted_twice(workspace, tmp_path: Path, workers: int) -> None:
    """A re-sent or re-saved ERA (other delimiters, other line breaks: another content hash)
    pays what is already loaded: the copy is a duplicate, nothing of it lands, even when both
    copies are read at once by two workers."""
    (tmp_path / "copy.txt").write_bytes(_resaved(MANAGED_CARE.read_text()))
    report = ingest_paths(workspace=workspace, paths=[MANAGED_CARE, tmp_path / "copy.txt"], workers=workers)
    assert sorted(f.status for f in report.files) == ["duplicate", "loaded"]
    assert report.ok
    duplicate = next(f for f in report.files if f.status == "duplicate")
    assert "already loaded from" in duplicate.first_problems[0] and "7170066655" in duplicate.first_problems[0]
    assert count(workspace, "remittances") == 1
    assert _paid(workspace) == "945.00"


def test_only_the_repeated_transactions_of_a_file_are_skipped(workspace, tmp_path: Path) -> None:
    """A file with a payment already loaded and a new one: the new one loads, the repeated
    one (and a transaction repeated within the file) is skipped with a warning per transaction."""
    ingest_paths(workspace=workspace, paths=[MANAGED_CARE], workers=1)
    text = MANAGED_CARE.read_text()
    start, end = text.index("ST*835"), text.index("GE*")
    repeated = text[start:end]
    new = repeated.replace("7170066655", "7170066656").replace("ST*835*112233", "ST*835*112234").replace(
        "SE*26*112233", "SE*26*112234")
    mixed = text[:start] + repeated + new + new.replace("112234", "112235") + text[end:].replace("GE*1*", "GE*3*")
    (tmp_path / "mixed.835").write_text(mixed)
    report = ingest_paths(workspace=workspace, paths=[tmp_path / "mixed.835"], workers=1)
    assert [f.status for f in report.files] == ["partial"]
    con = workspace.connect()
    try:
        rows = con.execute(
            "select p.transaction_control, p.code, p.severity from problems p join manifest m using (file_id) "
            "where m.source_path like '%mixed.835' and p.code = 'x12.duplicate_remittance' order by 1").fetchall()
        traces = con.execute("select trace_number, count(*) from remittances group by 1 order by 1").fetchall()
        claims = con.execute("select count(*) from remit_claims").fetchone()[0]
        lines = con.execute("select count(*) from remit_lines").fetchone()[0]
    finally:
        con.close()
    assert rows == [("112233", "x12.duplicate_remittance", "warning"), ("112235", "x12.duplicate_remittance", "warning")]
    assert traces == [("7170066655", 1), ("7170066656", 1)]
    assert claims == 4 and lines == 4


@pytest.mark.parametrize("first", ["837", "835"])
def test_835_and_837_groups_in_one_interchange_load_both(workspace, tmp_path: Path, first: str) -> None:
    """A real sample (Query-farm vgi-x12 multi_group.edi) holds a GS*HC group of claims and a
    GS*HP group of remittances in one interchange: valid X12.  Both load, into their own
    tables, with no x12.wrong_transaction (before: the second kind was skipped as an error)."""
    claims = (SAMPLES / "LinuxForHealth__x12__src_tests_resources_837_005010X222A2_demo.example1.837").read_text()
    remits = MANAGED_CARE.read_text()

    def group(text: str) -> str:  # GS..GE of a one-group sample
        return text[text.index("GS*") : text.index("IEA*")]

    isa = remits[: remits.index("GS*")]
    groups = [group(claims), group(remits)] if first == "837" else [group(remits), group(claims)]
    groups[1] = groups[1].replace("*1*X*", "*2*X*", 1).replace("GE*1*1~", "GE*1*2~")
    (tmp_path / "mixed.x12").write_text(isa + "".join(groups) + "IEA*2*000000907~")
    report = ingest_paths(workspace=workspace, paths=[tmp_path / "mixed.x12"], workers=1)
    (result,) = report.files
    assert result.status == "loaded", result.first_problems
    assert count(workspace, "claims") == 1 and count(workspace, "claim_lines") == 4
    assert count(workspace, "remit_claims") == 2 and count(workspace, "remit_lines") == 2
    con = workspace.connect()
    codes = [r[0] for r in con.execute("select code from problems").fetchall()]
    con.close()
    assert "x12.wrong_transaction" not in codes
    assert codes.count("x12.bad_date") == 1  # the 835's own BPR16, reported once
