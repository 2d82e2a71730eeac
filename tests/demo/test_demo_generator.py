"""The synthetic demo organisation: determinism, X12 validity, balancing, planted truth."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from demo_checks import check_balancing, reprice_all
from demo_x12_reader import read_835, read_837, segments

from parley.demo import DemoManifest, DemoSpec, generate_demo
from parley.demo.catalog import PAYERS, PRACTICE, PROVIDERS, make_npi, npi_is_valid

SMALL = DemoSpec(lines=3000)


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoManifest]:
    out = tmp_path_factory.mktemp("demo")
    calls: list[tuple[int, int]] = []
    man = generate_demo(out, SMALL, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (SMALL.lines, SMALL.lines) and len(calls) == SMALL.months
    return out, man


def test_same_seed_same_bytes(demo: tuple[Path, DemoManifest], tmp_path: Path) -> None:
    out, _ = demo
    again = generate_demo(tmp_path / "again", SMALL)
    assert _digest(out) == _digest(again.out_dir)
    other = generate_demo(tmp_path / "other", DemoSpec(seed=7, lines=3000))
    assert (
        _digest(out)["837/837P_KNH-PPO_2025-06.837"]
        != _digest(other.out_dir)["837/837P_KNH-PPO_2025-06.837"]
    )


def test_manifest_and_files(demo: tuple[Path, DemoManifest]) -> None:
    out, man = demo
    assert man.seed == SMALL.seed
    assert man.files_837 and man.files_835
    for p in (
        man.appointments_csv,
        man.quality_csv,
        man.ground_truth_csv,
        man.contracts_json,
        man.manifest_json,
        *man.files_837,
        *man.files_835,
    ):
        assert p is not None and p.exists()
    assert not (out / ".spool").exists()
    c = man.counts
    assert 6 <= c["product_lines"] <= 8 and c["payers"] >= 5
    assert 25 <= c["providers"] <= 40
    assert 0.97 * SMALL.lines <= c["lines"] <= SMALL.lines
    assert c["planted_underpayments"] > 0 and c["reversals"] > 0 and c["appeals_overturned"] > 0
    assert json.loads(man.manifest_json.read_text())["counts"] == c  # type: ignore[union-attr]
    n_lines = sum(len(read_837(f)) for f in man.files_837)
    assert n_lines == c["lines"]


def test_contracts_json_product_lines(demo: tuple[Path, DemoManifest]) -> None:
    out, _ = demo
    doc = json.loads((out / "contracts.json").read_text())
    contracts = doc["contracts"]
    assert 6 <= len(contracts) <= 8
    assert {c["method"] for c in contracts} == {
        "fee_schedule",
        "percent_of_medicare",
        "percent_of_charges",
    }
    assert any(c["escalator"] for c in contracts)
    for c in contracts:
        assert c["timely_filing_days"] > 0 and c["prompt_pay_days"] > 0
        assert c["periods"][0]["start"] <= "2024-11-01" and c["periods"][-1]["end"] == "2026-10-31"


def test_every_835_balances(demo: tuple[Path, DemoManifest]) -> None:
    n = check_balancing(demo[0])
    assert n["transactions"] > 100 and n["claims"] > 1000


def test_835_joins_837(demo: tuple[Path, DemoManifest]) -> None:
    out, man = demo
    billed = {b.lcn: b for f in man.files_837 for b in read_837(f)}
    assert len(billed) == man.counts["lines"]
    statuses: Counter[str] = Counter()
    for f in man.files_835:
        for tx in read_835(f):
            for c in tx.claims:
                statuses[c.status] += 1
                for ln in c.lines:
                    b = billed[ln.lcn]
                    assert b.claim_id == c.claim_id and ln.submitted_code == b.code
    assert set(statuses) == {"1", "4", "22"}


def test_ground_truth_matches_contract_repricing(demo: tuple[Path, DemoManifest]) -> None:
    r = reprice_all(demo[0])
    assert r["inexact"] == []  # every other paid line is paid to the cent
    assert r["found"] == set(r["truth"])  # precision and recall 1.0
    for row in r["truth"].values():
        exp, act = Decimal(row["expected_allowed"]), Decimal(row["actual_allowed"])
        assert exp - act == Decimal(row["underpaid_amount"]) > max(Decimal(1), exp / 100)
        assert row["reason"]
    planted_payers = {row["contract_id"] for row in r["truth"].values()}
    assert 2 <= len(planted_payers) <= 3


def _pyx12_errors(path: Path) -> list[str]:
    from pyx12 import params
    from pyx12.x12n_document import x12n_document

    records: list[str] = []

    class Grab(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            msg = record.getMessage()
            # pyx12 cannot build a 999 for an 835 (ST03 is "not used" there); not a data error
            if record.levelno >= logging.ERROR and "999 response" not in msg:
                records.append(msg)

    logger = logging.getLogger("pyx12")
    h = Grab()
    logger.addHandler(h)
    try:
        ok = x12n_document(params.params(), str(path), None, None)
    finally:
        logger.removeHandler(h)
    return records if records or ok else ["x12n_document returned False"]


def _pick(files: list[Path], *needles: str) -> Path:
    scored = [(sum(n in f.read_text() for n in needles), f.stat().st_size, f) for f in files]
    return max(scored)[2]


def test_pyx12_validates_837_and_835(demo: tuple[Path, DemoManifest]) -> None:
    _, man = demo
    f837 = _pick(man.files_837, "LIN**N4", "NM1*77", "REF*G1")
    f835 = _pick(man.files_835, "*22*-", "PLB*", "MOA*", "**1**2", "*HC:99")
    assert _pyx12_errors(f837) == []
    assert _pyx12_errors(f835) == []


def test_npis_pass_luhn() -> None:
    assert npi_is_valid("1234567893")  # CMS's published example
    assert not npi_is_valid("1234567890")
    npis = [PRACTICE.npi] + [p.npi for p in PROVIDERS]
    assert all(npi_is_valid(n) for n in npis) and len(set(npis)) == len(npis)
    assert make_npi(123456789) == "1234567893"


def test_appointments_extract(demo: tuple[Path, DemoManifest]) -> None:
    out, _ = demo
    with (out / "appointments.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    status = Counter(r["status"] for r in rows)
    assert set(status) == {"completed", "no-show", "cancelled", "scheduled"}
    assert len({r["appointment_id"] for r in rows}) == len(rows)
    by_payer: dict[str, Counter[str]] = {}
    for r in rows:
        by_payer.setdefault(r["payer"], Counter())[r["status"]] += 1
    for key, c in by_payer.items():
        rate = c["no-show"] / (c["no-show"] + c["completed"])
        assert 0.02 < rate < 0.22, key
    assert all(r["patient_key"].startswith("PT") for r in rows)
    assert max(r["appointment_date"] for r in rows) > SMALL.end_date.isoformat()


def test_quality_measures(demo: tuple[Path, DemoManifest]) -> None:
    out, _ = demo
    with (out / "quality_measures.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    periods = sorted({r["period"] for r in rows})
    assert len(periods) == 8 and periods[-1] == "2026Q3"
    assert {r["scope"] for r in rows} >= {"ALL"} | {p.key for p in PAYERS}
    for r in rows:
        assert abs(int(r["numerator"]) / int(r["denominator"]) - float(r["rate"])) < 1e-4


def test_x12_envelopes(demo: tuple[Path, DemoManifest]) -> None:
    _, man = demo
    seen = set()
    for f in man.files_837[:10] + man.files_835[:10]:
        segs = segments(f)
        isa, iea = segs[0], segs[-1]
        assert iea[0] == "IEA" and isa[13] == iea[2] and isa[13] not in seen
        seen.add(isa[13])
        ge = segs[-2]
        assert ge[0] == "GE" and int(ge[1]) == sum(s[0] == "ST" for s in segs)
        assert ge[2] == segs[1][6]


def test_money_format() -> None:
    from parley.demo.x12_writer import money

    assert [money(c) for c in (0, 5, 50, 12345, 12340, 12300, -1205)] == [
        "0",
        "0.05",
        "0.5",
        "123.45",
        "123.4",
        "123",
        "-12.05",
    ]


def test_service_dates_in_window(demo: tuple[Path, DemoManifest]) -> None:
    _, man = demo
    dates = {b.service_date for f in man.files_837 for b in read_837(f)}
    assert min(dates) >= "20241101" and max(dates) <= "20261031"
    assert date(2026, 10, 31) == SMALL.end_date


def test_project_x12_readers_accept_demo(demo: tuple[Path, DemoManifest]) -> None:
    """The product's own columnar readers parse the demo without problems (when present)."""
    x12 = pytest.importorskip("parley.ingest.x12")
    from parley.ingest.base import PatientHasher

    _, man = demo
    hasher = PatientHasher(b"demo-test-secret-0123456789")
    f835 = [f for f in man.files_835 if "_LSA-MA_" in f.name or "_SUM-PPO_" in f.name]
    f837 = [f for f in man.files_837 if "_LSA-MA_" in f.name or "_SUM-PPO_" in f.name]
    rows: Counter[str] = Counter()
    for reader, files in ((x12.read_835, f835), (x12.read_837, f837)):
        for f in files:
            with f.open("rb") as fh:
                for chunk in reader(fh, file_id=f.name, hasher=hasher):
                    assert chunk.problems == [], (f.name, chunk.problems[:3])
                    for name, frame in chunk.tables.items():
                        rows[name] += frame.height
    assert rows["claim_lines"] == sum(len(read_837(f)) for f in f837)
    assert rows["remit_claims"] == sum(len(tx.claims) for f in f835 for tx in read_835(f))


def test_spilling_spool_does_not_change_output(
    demo: tuple[Path, DemoManifest], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bounded memory: forcing the spool to disk every few records gives the same bytes."""
    from parley.demo import spool

    monkeypatch.setattr(spool, "SPOOL_MEMORY_RECORDS", 40)
    again = generate_demo(tmp_path / "spilled", SMALL)
    assert _digest(demo[0]) == _digest(again.out_dir)


def test_writer_with_other_delimiters() -> None:
    import io

    from parley.demo.x12_writer import Delimiters, InterchangeWriter

    d = Delimiters(element="|", component=">", repetition="^", segment="\n", suffix="")
    buf = io.StringIO()
    w = InterchangeWriter(
        buf,
        sender="S",
        receiver="R",
        functional_id="HP",
        version="005010X221A1",
        control_number=42,
        when=date(2026, 1, 2),
        delimiters=d,
    )
    w.transaction("835", "LX*1~\nSVC*HC:99213*100*80**1~\n")
    w.close()
    text = buf.getvalue()
    assert len(text.split("\n")[0]) == 105 and text[103] == "|" and text[104] == ">"
    assert "SVC|HC>99213|100|80||1\n" in text and "SE|4|0001\n" in text
    assert text.endswith("GE|1|42\nIEA|1|000000042\n")
