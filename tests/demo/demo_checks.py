"""Whole-output checks shared by the tests (and handy from a shell on a big demo)."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from demo_reprice import Repricer
from demo_x12_reader import read_835, read_837


def contract_of(path: Path) -> str:
    return path.stem.split("_")[1]


def check_balancing(out: Path) -> Counter[str]:
    """Assert line, claim and transaction balancing of every 835; return counts."""
    n: Counter[str] = Counter()
    for f in sorted((out / "835").glob("*.835")):
        for tx in read_835(f):
            assert tx.se_count == tx.counted, (f, "SE count")
            total = sum((c.paid for c in tx.claims), Decimal(0))
            assert tx.bpr_amount == total - sum((a for _, a in tx.plb), Decimal(0)), f
            n["transactions"] += 1
            for c in tx.claims:
                n["claims"] += 1
                line_cas = sum((a for ln in c.lines for _, _, a in ln.cas), Decimal(0))
                claim_cas = sum((a for _, _, a in c.cas), Decimal(0))
                assert c.charge - c.paid == line_cas + claim_cas, (f, c.claim_id)
                assert c.charge == sum((ln.charge for ln in c.lines), Decimal(0))
                pr = sum((a for ln in c.lines for g, _, a in ln.cas if g == "PR"), Decimal(0))
                assert c.patient_resp == pr, (f, c.claim_id, "CLP05")
                for ln in c.lines:
                    n["lines"] += 1
                    assert ln.charge - ln.paid == sum((a for _, _, a in ln.cas), Decimal(0)), (
                        f,
                        ln.lcn,
                    )
    return n


def reprice_all(out: Path) -> dict[str, Any]:
    doc = json.loads((out / "contracts.json").read_text())
    rp = Repricer(doc)
    billed = {}
    for f in (out / "837").glob("*.837"):
        for b in read_837(f):
            billed[b.lcn] = (contract_of(f), b)
    found: set[tuple[str, str]] = set()
    stats: Counter[str] = Counter()
    mismatched_exact: list[Any] = []
    for f in sorted((out / "835").glob("*.835")):
        rel = str(f.relative_to(out))
        for tx in read_835(f):
            for c in tx.claims:
                if c.status == "22":
                    continue
                for ln in c.lines:
                    if ln.allowed is None:
                        continue
                    contract, b = billed[ln.lcn]
                    assert contract == contract_of(f)
                    assert b.code == ln.submitted_code and b.charge == ln.charge
                    d = b.service_date
                    exp = rp.expected(
                        contract,
                        code=ln.code,
                        modifiers=ln.modifiers,
                        units=b.units,
                        charge=b.charge,
                        pos=c.pos,
                        service_date=date(int(d[:4]), int(d[4:6]), int(d[6:])),
                    )
                    stats["paid_lines"] += 1
                    stats[f"paid_lines:{contract}"] += 1
                    under = exp - ln.allowed
                    if under > max(Decimal(1), exp / 100):
                        found.add((rel, ln.lcn))
                        stats[f"underpaid:{contract}"] += 1
                    elif under != 0:
                        mismatched_exact.append((rel, ln.lcn, exp, ln.allowed))
    with (out / "ground_truth_underpayments.csv").open() as fh:
        truth = {(r["file"], r["ref_6r_line_control"]): r for r in csv.DictReader(fh)}
    return {"found": found, "truth": truth, "stats": stats, "inexact": mismatched_exact}
