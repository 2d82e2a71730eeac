"""A deliberately simple, independent X12 reader used to check the demo's output."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path


def segments(path: Path) -> list[list[str]]:
    text = path.read_text()
    assert text.startswith("ISA")
    elem, seg_term = text[3], text[105]
    return [s.strip().split(elem) for s in text.split(seg_term) if s.strip()]


def D(x: str) -> Decimal:
    return Decimal(x) if x else Decimal(0)


@dataclass
class RLine:
    code: str
    modifiers: list[str]
    charge: Decimal
    paid: Decimal
    units_paid: int
    units_billed: int
    submitted_code: str
    cas: list[tuple[str, str, Decimal]] = field(default_factory=list)
    allowed: Decimal | None = None
    lcn: str = ""
    service_date: str = ""
    rarc: str = ""


@dataclass
class RClaim:
    claim_id: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_resp: Decimal
    pos: str
    cas: list[tuple[str, str, Decimal]] = field(default_factory=list)
    lines: list[RLine] = field(default_factory=list)


@dataclass
class RTransaction:
    bpr_amount: Decimal
    claims: list[RClaim] = field(default_factory=list)
    plb: list[tuple[str, Decimal]] = field(default_factory=list)
    se_count: int = 0
    counted: int = 0


def _cas(seg: list[str]) -> list[tuple[str, str, Decimal]]:
    out = []
    for k in range(2, len(seg), 3):
        if seg[k]:
            out.append((seg[1], seg[k], D(seg[k + 1])))
    return out


def read_835(path: Path) -> list[RTransaction]:
    txs: list[RTransaction] = []
    tx: RTransaction | None = None
    claim: RClaim | None = None
    line: RLine | None = None
    n = 0
    for seg in segments(path):
        tag = seg[0]
        n += 1
        if tag == "ST":
            n = 1
        elif tag == "BPR":
            tx = RTransaction(D(seg[2]))
            txs.append(tx)
            claim = line = None
        elif tag == "CLP":
            assert tx is not None
            claim = RClaim(seg[1], seg[2], D(seg[3]), D(seg[4]), D(seg[5]), seg[8])
            tx.claims.append(claim)
            line = None
        elif tag == "SVC":
            assert claim is not None
            comp = seg[1].split(":")
            units_paid = int(seg[5]) if len(seg) > 5 and seg[5] else 1
            billed = int(seg[7]) if len(seg) > 7 and seg[7] else units_paid
            sub = seg[6].split(":")[1] if len(seg) > 6 and seg[6] else comp[1]
            line = RLine(comp[1], comp[2:], D(seg[2]), D(seg[3]), units_paid, billed, sub)
            claim.lines.append(line)
        elif tag == "CAS":
            if line is not None:
                line.cas.extend(_cas(seg))
            else:
                assert claim is not None
                claim.cas.extend(_cas(seg))
        elif tag == "AMT" and seg[1] == "B6":
            assert line is not None
            line.allowed = D(seg[2])
        elif tag == "REF" and seg[1] == "6R" and line is not None:
            line.lcn = seg[2]
        elif tag == "DTM" and seg[1] == "472" and line is not None:
            line.service_date = seg[2]
        elif tag == "LQ" and line is not None:
            line.rarc = seg[2]
        elif tag == "PLB":
            assert tx is not None
            for k in range(3, len(seg), 2):
                tx.plb.append((seg[k], D(seg[k + 1])))
        elif tag == "SE":
            assert tx is not None
            tx.se_count, tx.counted = int(seg[1]), n
    return txs


@dataclass
class BilledLine:
    claim_id: str
    lcn: str
    code: str
    modifiers: list[str]
    charge: Decimal
    units: int
    pos: str
    service_date: str


def read_837(path: Path) -> list[BilledLine]:
    out: list[BilledLine] = []
    claim_id = pos = ""
    pending: BilledLine | None = None
    for seg in segments(path):
        tag = seg[0]
        if tag == "CLM":
            claim_id, pos = seg[1], seg[5].split(":")[0]
        elif tag == "SV1":
            comp = seg[1].split(":")
            pending = BilledLine(claim_id, "", comp[1], comp[2:], D(seg[2]), int(seg[4]), pos, "")
        elif tag == "DTP" and seg[1] == "472" and pending is not None:
            pending.service_date = seg[3]
        elif tag == "REF" and seg[1] == "6R" and pending is not None:
            pending.lcn = seg[2]
            out.append(pending)
            pending = None
    return out
