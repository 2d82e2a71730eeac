"""X12 envelopes (ISA/IEA, GS/GE, ST/SE): sniffing, and control checks as data.

Severity policy (problems are data, see ``parley.ingest.base.Problem``):

- control numbers or counts that disagree (ISA13/IEA02, IEA01, GS06/GE02,
  GE01, ST02/SE02, SE01): ``warning`` - the records are intact, the
  envelope is not; ask the sender for a corrected file if it matters.
- a trailer without its header (SE without ST...), a header opened again
  before its trailer (ST, ST): ``warning``.
- a missing SE at the end of the file (truncated): ``error``, reported by
  the transaction reader, which quarantines the incomplete trailing claim.
  Missing GE / IEA: ``warning``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from parley.ingest.base import Problem, Severity
from parley.ingest.x12.tokenizer import Batch, C, Delimiters, code_sid, detect, isin, split

ENVELOPE_CODES = frozenset(C[s] for s in ("ISA", "IEA", "GS", "GE", "ST", "SE"))
_ISA = C["ISA"]
_CLAIM_CODES = [C["CLP"], C["CLM"]]


def sniff_x12(head: bytes) -> str | None:
    """'x12-835' | 'x12-837p' | 'x12-837i' | None, from the first bytes of a file."""
    try:
        return _sniff(head)
    except Exception:  # noqa: BLE001 - sniffing must never raise
        return None


def why_not_x12(head: bytes) -> str | None:
    """Why a file that starts like X12 (ISA, GS or ST) is not read as an 835 or 837, or
    None when it does not start like X12 (or is one)."""
    body = head.lstrip(b" \t\r\n\x00\xef\xbb\xbf")  # blanks and a UTF-8 byte-order mark
    at = 3 if body[:3] == b"ISA" else (2 if body[:2] in (b"GS", b"ST") else 0)
    sep = body[at : at + 1]
    if not at or not sep or sep.isalnum() or sep.isspace():  # "STATUS,..." is no X12
        return None
    try:
        found = detect(head)
        if found is None:
            return (
                "it starts like X12 but its interchange header cannot be read: an ISA has "
                "16 elements, the element separator right after 'ISA', ISA16 (the component "
                "separator) then the segment terminator"
            )
        seen = _seen(head, found)
    except Exception:  # noqa: BLE001 - a diagnosis must never raise
        return None
    st01, version, has = seen
    if _kind(st01, version, has) is not None:
        return None
    ids = sorted(i for i in has - {"ISA", "IEA", ""} if 2 <= len(i) <= 3 and i.isalnum() and i.isupper())
    if not st01 and not version and ids:
        return f"it is X12 but holds no GS/ST transaction, only {', '.join(ids[:5])} segments"
    if not st01 and not version:
        return (
            f"it starts like X12 (element separator {found[0].element!r}, segment terminator "
            f"{found[0].terminator!r}) but no GS or ST segment follows with those delimiters: "
            "are the segments written with the separators the ISA declares?"
        )
    if _dental(st01, version, has):
        return (
            "it is an 837 dental claim file (SV3 service lines), which Parley does not read: "
            "it reads professional (837P) and institutional (837I) claims"
        )
    if not_billed(version):
        return (
            f"it is an 837 {not_billed(version)} ({version}), not a billed claim: Parley reads "
            "professional (837P) and institutional (837I) claims"
        )
    what = f"transaction set {st01 or '?'}" + (f" ({version})" if version else "")
    return f"it is X12 but holds {what}, not an 835 remittance or an 837 claim"


def _sniff(head: bytes) -> str | None:
    found = detect(head)
    if found is None:
        return None
    return _kind(*_seen(head, found))


def _seen(head: bytes, found: tuple[Delimiters, int]) -> tuple[str, str, set[str]]:
    """(ST01, the version, the segment ids) of the first bytes, read with ``found``'s delimiters."""
    delims, start = found
    text = head[start:].decode("latin-1")
    if delims.terminator != "\r":
        text = text.replace("\r", "")
    if delims.terminator != "\n":
        text = text.replace("\n", "")
    segments = [s.strip().split(delims.element) for s in text.split(delims.terminator)]
    version = st01 = st03 = ""
    has = set()
    for els in segments:
        sid = els[0]
        has.add(sid)
        if sid == "GS" and len(els) > 8:
            version = version or els[8]
        elif sid == "ST" and len(els) > 1:
            if not st01 and len(els) > 3:
                st03 = els[3]  # the first transaction's guide: overrides GS08
            st01 = st01 or els[1]
        elif sid == "CLM" and len(els) > 5 and st01 == "837":
            kind = els[5].split(delims.component)
            if len(kind) > 1 and kind[1] in ("A", "B"):
                has.add("CLM5" + kind[1])
    return st01, st03.strip() or version, has


def _dental(st01: str, version: str, has: set[str]) -> bool:
    """An 837D: its guide (X097 / X224), or dental service lines (SV3) and no other kind."""
    if st01 not in ("837", ""):
        return False
    guide = "X097" in version or "X224" in version
    return guide or (st01 == "837" and "SV3" in has and not {"SV1", "SV2"} & has)


#: 837 guides that are not billed claims: predeterminations of benefits and payer reporting
_NOT_BILLED = {"X291": "predetermination of benefits", "X292": "predetermination of benefits",
               "X298": "payer report"}


def not_billed(version: str | None) -> str | None:
    """What an 837 guide is when it is not a billed claim (X291/X292 predeterminations, X298
    payer reports), else None: their claims must not count as billed."""
    for guide, what in _NOT_BILLED.items():
        if version and guide in version:
            return what
    return None


def _kind(st01: str, version: str, has: set[str]) -> str | None:
    if _dental(st01, version, has) or not_billed(version):
        return None  # dental claims, predeterminations: not read (see why_not_x12)
    if st01 == "835" or (not st01 and ("X221" in version or "X091" in version)):
        return "x12-835"
    if st01 == "837" or (not st01 and any(x in version for x in ("X222", "X223", "X096", "X098"))):
        if any(x in version for x in ("X223", "X096")) or "SV2" in has or "CLM5A" in has:
            return "x12-837i"
        return "x12-837p"
    return None


@dataclass(slots=True)
class Transaction:
    seq: int
    interchange_control: str | None
    version: str | None
    group_date: str | None
    type_code: str | None
    control: str | None
    seg_no: int
    closed: bool = False


@dataclass(slots=True)
class _Open:
    control: str | None
    seg_no: int
    count: int = 0
    extra: dict[str, str | None] = field(default_factory=dict)


class EnvelopeChecker:
    """Walks the envelope segments (few) of every batch, keeping state across batches."""

    def __init__(self, element: str) -> None:
        self.sep = element
        self.isa: _Open | None = None
        self.gs: _Open | None = None
        self.st: Transaction | None = None
        self.n_st = 0
        self.saw_isa = False
        self.problems: list[Problem] = []
        self.transactions: list[Transaction] = []  # started in the current batch
        #: rows [first, end) of the current batch outside any transaction: no reader reads them
        self.stray: list[tuple[int, int]] = []

    def feed(self, batch: Batch) -> list[Transaction]:
        """Check one batch; returns the transactions started in it (in order)."""
        self.transactions = []
        self.stray = []
        mask = isin(batch.code, sorted(ENVELOPE_CODES))
        text, idx = batch.rows(mask)
        if len(idx) == 0:
            if len(batch) and self._outside():  # a whole batch after the last SE
                self._stray(batch, 0, len(batch))
            return []
        els = split(text, self.sep, 16)
        outside = self._outside()
        after = 0  # the first position not yet looked at
        for at, seg_no, code, row in zip(
            idx.tolist(), batch.seg_no[idx].tolist(), batch.code[idx].tolist(), els.rows(), strict=True
        ):
            if outside and at > after:
                self._stray(batch, after, at)
            if code == _ISA and row[16] is None:
                row = self._rejoined_isa(batch, at, int(seg_no), row)
                after = at + 2 if row[16] is not None else at + 1  # the ISA's second half is no stray
            else:
                after = at + 1
            getattr(self, "_" + code_sid(code).lower())(int(seg_no), row)
            outside = self._outside()
        if outside and after < len(batch):
            self._stray(batch, after, len(batch))
        return self.transactions

    def _outside(self) -> bool:
        """Between transactions of an envelope (a file that starts at a BPR has none)."""
        return self.st is None and (self.saw_isa or self.n_st > 0)

    def _stray(self, batch: Batch, first: int, end: int) -> None:
        """Segments between the envelope's own where no transaction is open (after a GS,
        an SE, an ISA...): no transaction reads them, so say so (one warning per run)."""
        self.stray.append((first, end))
        n = end - first
        sids = [code_sid(int(c)) for c in batch.code[[first, end - 1]]]
        what = f"{n} segments ({sids[0]} ... {sids[1]})" if n > 1 else f"a {sids[0]} segment"
        claims = int(np.isin(batch.code[first:end], _CLAIM_CODES).sum())
        said = f"{what} outside any transaction (not between an ST and its SE)"
        if claims:
            self._warn(
                "x12.orphan_segment",
                f"{said}, {claims} claim(s) among them: not read (no transaction holds them); a lost ST? "
                "Ask the sender for a corrected file",
                int(batch.seg_no[first]),
                sids[0],
                "envelope",
                severity="error",
            )
        else:
            self._warn("x12.orphan_segment", f"{said}: ignored", int(batch.seg_no[first]), sids[0], "envelope")

    def _rejoined_isa(
        self, batch: Batch, at: int, seg_no: int, row: tuple[str | None, ...]
    ) -> tuple[str | None, ...]:
        """An ISA broken over two lines of a newline-terminated file (a real Medicaid 835:
        "ISA*00* ...*ZZ*99999999" then "*180613*1230*^*00501*100000300*0*P*:"): its
        second half is the next segment, which starts with the element separator."""
        nxt = at + 1
        if nxt >= len(batch):
            return row
        second = batch.data[batch.starts[nxt] : batch.ends[nxt] + 1].tobytes().decode("latin-1")
        if not second.startswith(self.sep):
            return row
        first = batch.data[batch.starts[at] : batch.ends[at] + 1].tobytes().decode("latin-1")
        parts = (first + second[1:]).split(self.sep)[:-1]  # both end with the replaced terminator
        if len(parts) < 17:
            return row
        self._warn(
            "x12.split_isa",
            "the interchange header (ISA) is broken over two lines; read as one",
            seg_no,
            "ISA",
            "interchange",
        )
        return tuple((v or None) for v in parts[:17])

    def _warn(
        self,
        code: str,
        message: str,
        seg_no: int,
        sid: str | None,
        loop: str,
        element: str | None = None,
        severity: Severity = "warning",
    ) -> None:
        st = self.st.control if self.st else None
        self.problems.append(
            Problem(
                severity,
                code,
                message,
                seg_no,
                sid,
                loop,
                element,
                transaction_control=st,
            )
        )

    def _isa(self, seg_no: int, e: tuple[str | None, ...]) -> None:
        self._close_open(seg_no, "ISA")
        self.isa = _Open(_s(e[13]), seg_no)
        self.saw_isa = True

    def _gs(self, seg_no: int, e: tuple[str | None, ...]) -> None:
        if self.st is not None:
            self._missing_se(seg_no, "GS")
        if self.gs is not None:
            self._warn(
                "x12.missing_ge",
                "functional group ended without GE; check the file is complete",
                seg_no,
                "GS",
                "group",
            )
        self.gs = _Open(_s(e[6]), seg_no, extra={"version": _s(e[8]), "date": _s(e[4])})
        if self.isa is not None:
            self.isa.count += 1

    def _st(self, seg_no: int, e: tuple[str | None, ...]) -> None:
        if self.st is not None:
            self._missing_se(seg_no, "ST")
        gs = self.gs.extra if self.gs else {}
        # ST03 (5010) names the guide of this transaction and overrides GS08
        version = _s(e[3]) or gs.get("version")
        tx = Transaction(
            self.n_st,
            self.isa.control if self.isa else None,
            version,
            gs.get("date"),
            _s(e[1]),
            _s(e[2]),
            seg_no,
        )
        self.n_st += 1
        self.st = tx
        self.transactions.append(tx)
        if self.gs is not None:
            self.gs.count += 1

    def _missing_se(self, seg_no: int, sid: str) -> None:
        self._warn(
            "x12.missing_se",
            f"transaction started at segment {self.st.seg_no if self.st else '?'} "
            f"has no SE before this {sid}; its records are kept, check the file is complete",
            seg_no,
            sid,
            "transaction",
        )
        self.st = None

    def _se(self, seg_no: int, e: tuple[str | None, ...]) -> None:
        if self.st is None:
            self._warn(
                "x12.unexpected_se",
                "SE without a matching ST; ignored",
                seg_no,
                "SE",
                "transaction",
            )
            return
        actual = seg_no - self.st.seg_no + 1
        if not _same_number(_s(e[1]), str(actual)):
            self._warn(
                "x12.se_count",
                f"SE01 says {_s(e[1])!s} segments, the transaction has {actual}; "
                "records kept, ask the sender to check the file",
                seg_no,
                "SE",
                "transaction",
                "SE01",
            )
        if _s(e[2]) != self.st.control:
            self._warn(
                "x12.se_control",
                f"SE02 {_s(e[2])!s} differs from ST02 {self.st.control!s}; records kept",
                seg_no,
                "SE",
                "transaction",
                "SE02",
            )
        self.st.closed = True
        self.st = None

    def _ge(self, seg_no: int, e: tuple[str | None, ...]) -> None:
        if self.st is not None:
            self._missing_se(seg_no, "GE")
        if self.gs is None:
            self._warn(
                "x12.unexpected_ge", "GE without a matching GS; ignored", seg_no, "GE", "group"
            )
            return
        if not _same_number(_s(e[1]), str(self.gs.count)):
            self._warn(
                "x12.ge_count",
                f"GE01 says {_s(e[1])!s} transactions, the group has {self.gs.count}",
                seg_no,
                "GE",
                "group",
                "GE01",
            )
        if not _same_number(_s(e[2]), self.gs.control):
            self._warn(
                "x12.ge_control",
                f"GE02 {_s(e[2])!s} differs from GS06 {self.gs.control!s}",
                seg_no,
                "GE",
                "group",
                "GE02",
            )
        self.gs = None

    def _iea(self, seg_no: int, e: tuple[str | None, ...]) -> None:
        if self.st is not None:
            self._missing_se(seg_no, "IEA")
        if self.gs is not None:
            self._warn(
                "x12.missing_ge", "functional group ended without GE", seg_no, "IEA", "group"
            )
            self.gs = None
        if self.isa is None:
            self._warn(
                "x12.unexpected_iea",
                "IEA without a matching ISA; ignored",
                seg_no,
                "IEA",
                "interchange",
            )
            return
        if not _same_number(_s(e[1]), str(self.isa.count)):
            self._warn(
                "x12.iea_count",
                f"IEA01 says {_s(e[1])!s} groups, the interchange has {self.isa.count}",
                seg_no,
                "IEA",
                "interchange",
                "IEA01",
            )
        if not _same_number(_s(e[2]), self.isa.control):
            self._warn(
                "x12.iea_control",
                f"IEA02 {_s(e[2])!s} differs from ISA13 {self.isa.control!s}",
                seg_no,
                "IEA",
                "interchange",
                "IEA02",
            )
        self.isa = None

    def _close_open(self, seg_no: int, sid: str) -> None:
        if self.st is not None:
            self._missing_se(seg_no, sid)
        if self.gs is not None:
            self._warn("x12.missing_ge", "functional group ended without GE", seg_no, sid, "group")
            self.gs = None
        if self.isa is not None:
            self._warn(
                "x12.missing_iea", "interchange ended without IEA", seg_no, sid, "interchange"
            )
            self.isa = None

    def finish(self, last_seg_no: int) -> list[Problem]:
        """End-of-file checks (a missing SE is left to the reader)."""
        if self.gs is not None:
            self._warn(
                "x12.missing_ge",
                "the file ends inside a functional group (no GE); it may be truncated",
                last_seg_no,
                None,
                "group",
            )
        if self.isa is not None:
            self._warn(
                "x12.missing_iea",
                "the file ends inside an interchange (no IEA); it may be truncated",
                last_seg_no,
                None,
                "interchange",
            )
        return self.take()

    def take(self) -> list[Problem]:
        out, self.problems = self.problems, []
        return out


def _same_number(a: str | None, b: str | None) -> bool:
    """Two numeric (N0) envelope values are equal as numbers ("02" is 2); others as text."""
    if a is not None and b is not None and a.strip().isdigit() and b.strip().isdigit():
        return int(a) == int(b)
    return a == b


def _s(value: str | None) -> str | None:
    return value.strip() if value is not None else None


def cut_short(batch: Batch, envelope: list[Problem]) -> list[Problem]:
    """x12.truncated when the file's last segment has no terminator, unless that segment is
    a whole trailer (an IEA, or an SE / GE whose counts the envelope checker found right)."""
    if not (batch.truncated and len(batch)):
        return []
    last, at = int(batch.code[-1]), int(batch.seg_no[-1])
    if last == C["IEA"] or (last in (C["SE"], C["GE"]) and not any(p.segment_number == at for p in envelope)):
        return []
    sid = code_sid(last)
    return [
        Problem(
            "warning",
            "x12.truncated",
            f"the file does not end with a segment terminator: its last segment ({sid}) was probably cut "
            "short; read as it is",
            at,
            sid,
            "interchange" if last in ENVELOPE_CODES else "transaction",
        )
    ]
