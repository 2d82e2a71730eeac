"""835 remittance reader (005010X221A1, 004010X091A1), columnar.

Hierarchy by running counts over the segment-id array (no per-segment
Python): remittance_seq = count of ST so far, claim_seq = count of CLP,
line_seq = count of SVC, and a forward-filled context (header / claim /
line / trailer) tells a claim-level CAS (before the first SVC of its claim)
from a line-level one.  The tokenizer cuts batches just before a CLP, so a
claim is whole within a batch; remittance totals are carried across batches
until the SE.

Problems (severity: meaning):
- x12.bad_amount (error): an amount of a claim, line or adjustment does not
  parse; the whole claim is quarantined (its rows left out of every table).
  In BPR02 or PLB: warning, the value is left null.
- x12.bad_date (warning): a date does not parse; the value is left null.  An
  empty BPR16 is warned too; a plausible date in BPR15 (the elements shifted by
  one) is then read as the payment date.
- x12.missing_se (error): the file ends inside a transaction; its last claim
  is quarantined (it may be cut short), the rest is kept.
- x12.unbalanced_line / _claim / _remittance (warning): the balancing rule
  does not hold; data kept, balanced=false with the difference.
- x12.unknown_status, x12.unknown_group_code (warning): code not in the guide.
- x12.orphan_segment (warning): a service line or adjustment outside a claim.
- x12.wrong_transaction (error): a transaction that is not an 835; skipped (the
  ingest service reads 837 transactions with the 837 reader).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

import numpy as np
import polars as pl
import pyarrow as pa

from parley.domain.identifiers import npi_is_valid
from parley.ingest.base import ParsedChunk, PatientHasher, Problem
from parley.ingest.x12 import _frames as F
from parley.ingest.x12 import _fused835
from parley.ingest.x12 import _kernels as K
from parley.ingest.x12._driver import run, wrong_transaction
from parley.ingest.x12._remit_claims import ClaimBuilder
from parley.ingest.x12.envelope import EnvelopeChecker, Transaction, cut_short
from parley.ingest.x12.fields import FieldIndex, _bitmap
from parley.ingest.x12.tokenizer import Batch, C, Delimiters, claimless, ffill, isin, sid_code

OUT, HEADER, CLAIM, LINE = 0, 1, 2, 3
LOOP = {OUT: "envelope", HEADER: "1000", CLAIM: "2100", LINE: "2110"}

_MARKERS = {
    "ST": HEADER,
    "LX": HEADER,
    "CLP": CLAIM,
    "SVC": LINE,
    "PLB": OUT,
    "SE": OUT,
    "GE": OUT,
    "IEA": OUT,
    "GS": OUT,
    "ISA": OUT,
}
_MARKER_CODES = np.array([C[s] for s in _MARKERS], dtype=np.int64)
_MARKER_VALUES = np.array(list(_MARKERS.values()), dtype=np.int64)
_HEADER_CODES = [C[s] for s in ("BPR", "TRN", "DTM", "N1", "REF")]


def read_835(
    stream: BinaryIO, *, file_id: str, hasher: PatientHasher, chunk_bytes: int = 32 << 20
) -> Iterator[ParsedChunk]:
    """Stream an 835 file as canonical-table chunks (remittances, remit_claims,
    remit_lines, adjustments, provider_adjustments) and problems.

    Never raises on bad input: unreadable stretches become problems.
    """
    return run(stream, Reader835, file_id=file_id, chunk_bytes=chunk_bytes, hasher=hasher)


class Reader835:
    boundaries = frozenset(C[s] for s in ("CLP", "ST", "SE", "GS", "GE", "ISA", "IEA", "LX", "PLB"))

    def __init__(self, *, delims: Delimiters, file_id: str, hasher: PatientHasher) -> None:
        self.d = delims
        self.file_id = file_id
        self.hasher = hasher
        self.env = EnvelopeChecker(delims.element)
        self.sink = F.ProblemSink()
        self.tx: dict[int, Transaction] = {}
        self.foreign: set[int] = set()
        self.pending: dict[int, dict[str, Any]] = {}
        self.n_st = self.n_clp = self.n_svc = 0
        self.ctx = OUT
        self.has_claim = False  # the open transaction has had a CLP
        self._ends_in_claim = True  # the last batch ends inside a claim loop
        self.open_claim_lines = 0
        self.last_seg = 0
        self.npis_seen: set[str] = set()  # payee NPIs already checked (x12.bad_npi)

    # ------------------------------------------------------------------ batch
    def use_delimiters(self, delims: Delimiters) -> None:
        """A later interchange with other delimiters: read on with those."""
        self.d = delims
        self.env.sep = delims.element

    def process(self, batch: Batch) -> ParsedChunk:
        for tx in self.env.feed(batch):
            self._start_transaction(tx)
        envelope = self.env.take()
        self.sink.extend(envelope)
        self.sink.extend(cut_short(batch, envelope))
        cols = self._hierarchy(batch)
        tables: dict[str, pl.DataFrame] = {}
        if len(batch):
            self.last_seg = int(batch.seg_no[-1])
            self._header(batch, cols)
            tables = self._claims(batch, cols)
        tables["remittances"] = self._remittances(final=batch.final)
        if batch.final:
            self.sink.extend(self.env.finish(self.last_seg))
        tables = {
            k: v.hstack(
                [pl.repeat(self.file_id, v.height, dtype=pl.Utf8, eager=True).alias("file_id")]
            )
            for k, v in tables.items()
        }
        return ParsedChunk(tables=tables, problems=self.sink.take(), bytes_done=batch.bytes_done)

    def _start_transaction(self, tx: Transaction) -> None:
        self.tx[tx.seq] = tx
        if tx.type_code != "835":
            self.foreign.add(tx.seq)
            self.sink.add(wrong_transaction(tx, "835"))
            return
        self.pending[tx.seq] = {
            "remittance_seq": tx.seq,
            "interchange_control": tx.interchange_control,
            "transaction_control": tx.control,
            "version": tx.version,
            "claim_count": 0,
            "sum_claim_paid": Decimal(0),
            "sum_provider_adjustments": Decimal(0),
            "_seg": tx.seg_no,
        }

    def _hierarchy(self, batch: Batch) -> dict[str, np.ndarray]:
        code = batch.code
        if K.ENABLED:
            remit, claim, line, ctx, state = K.hierarchy(
                np.ascontiguousarray(code, dtype=np.int64),
                C["ST"],
                C["CLP"],
                C["SVC"],
                _MARKER_CODES,
                _MARKER_VALUES,
                self.n_st,
                self.n_clp,
                self.n_svc,
                self.ctx,
                self.has_claim,
            )
            self.n_st, self.n_clp, self.n_svc, self.ctx, self.has_claim = (
                int(state[0]), int(state[1]), int(state[2]), int(state[3]), bool(state[4])
            )
            return self._columns(remit, claim, line, ctx)
        is_st, is_clp, is_svc = code == C["ST"], code == C["CLP"], code == C["SVC"]
        remit = self.n_st + np.cumsum(is_st) - 1
        claim = self.n_clp + np.cumsum(is_clp) - 1
        line = self.n_svc + np.cumsum(is_svc) - 1
        before = claimless(is_st, is_clp, self.has_claim)
        claim[before] = -1  # before the transaction's first CLP: no claim of the one before
        if len(code):
            self.has_claim = not bool(before[-1])
        self.n_st += int(is_st.sum())
        self.n_clp += int(is_clp.sum())
        self.n_svc += int(is_svc.sum())
        marker = np.full(len(code), -1, dtype=np.int64)
        hit = isin(code, _MARKER_CODES)
        if hit.any():
            lookup = dict(zip(_MARKER_CODES.tolist(), _MARKER_VALUES.tolist(), strict=True))
            marker[hit] = pl.Series(code[hit]).replace_strict(lookup).to_numpy()
        ctx = ffill(marker, self.ctx)
        if len(ctx):
            self.ctx = int(ctx[-1])
        return self._columns(remit, claim, line, ctx)

    def _columns(
        self, remit: np.ndarray, claim: np.ndarray, line: np.ndarray, ctx: np.ndarray
    ) -> dict[str, np.ndarray]:
        valid = (
            np.ones(len(remit), dtype=bool)
            if not self.foreign
            else ~np.isin(remit, list(self.foreign))
        )
        for first, end in self.env.stray:  # outside any transaction: read by no one
            valid[first:end] = False
        return {
            "remittance_seq": remit,
            "claim_seq": claim,
            "line_seq": line,
            "ctx": ctx,
            "_valid": valid,
        }

    # ----------------------------------------------------------------- header
    def _header(self, batch: Batch, cols: dict[str, np.ndarray]) -> None:
        """BPR, TRN, DTM*405, N1, REF of transaction headers, and PLB: few rows, plain Python."""
        mask = cols["_valid"] & (cols["ctx"] == HEADER) & isin(batch.code, _HEADER_CODES)
        frame = F.segment_frame(
            batch, mask, 16, self.d.element, {"remittance_seq": cols["remittance_seq"]}
        )
        for row in frame.iter_rows(named=True):
            head = self.pending.get(row["remittance_seq"])
            if head is not None:
                self._header_row(head, row)
        plb = F.segment_frame(
            batch,
            cols["_valid"] & (batch.code == C["PLB"]),
            14,
            self.d.element,
            {"remittance_seq": cols["remittance_seq"]},
        )
        self._plb_rows = [r for row in plb.iter_rows(named=True) for r in self._plb(row)]

    def _header_row(self, head: dict[str, Any], row: dict[str, Any]) -> None:
        sid, q, seg = row["e0"], row["e1"], row["seg_no"]
        if sid == "BPR" and "handling_code" not in head:
            head.update(handling_code=q, credit_debit=row["e3"], payment_method=row["e4"])
            head["payment_amount"] = self._decimal(row["e2"], seg, "BPR", "BPR02")
            if row["e2"] is None:
                self.sink.add(
                    Problem(
                        "warning",
                        "x12.missing_amount",
                        "BPR02 (the payment amount) is empty; kept empty, so the payment cannot "
                        "be balanced: ask the payer",
                        seg,
                        "BPR",
                        "header",
                        "BPR02",
                    )
                )
            head["payment_date"] = self._payment_date(row, seg)
        elif sid == "TRN" and "trace_number" not in head:
            head.update(trace_number=row["e2"], payer_tax_id=row["e3"])
        elif sid == "DTM" and q == "405":
            head["production_date"] = self._date(row["e2"], seg, "DTM", "DTM02")
        elif sid == "N1" and q == "PR":
            head.update(payer_name=row["e2"], _pr_id=row["e4"])
        elif sid == "N1" and q == "PE":
            head["payee_name"] = row["e2"]
            if row["e3"] == "XX":
                head["payee_npi"] = row["e4"]
                self._check_npi(row["e4"] or "", seg)
            elif row["e3"] == "FI":
                head.setdefault("payee_tax_id", row["e4"])
        elif sid == "REF" and q == "2U":
            head["_ref_2u"] = row["e2"]
        elif sid == "REF" and q == "TJ":
            head["payee_tax_id"] = row["e2"]

    def _check_npi(self, npi: str, seg: int) -> None:
        """Warn once per file about a payee NPI whose check digit fails."""
        if npi in self.npis_seen:
            return
        self.npis_seen.add(npi)
        if not npi_is_valid(npi):
            message = F.bad_npi_message(npi, F.NPI_ROLES["PE"])
            self.sink.add(Problem("warning", "x12.bad_npi", message, seg, "N1", "1000B", "N104"))

    def _plb(self, row: dict[str, Any]) -> list[dict[str, Any]]:
        head = self.pending.get(row["remittance_seq"])
        if head is None:
            return []
        seg = row["seg_no"]
        fiscal = self._date(row["e2"], seg, "PLB", "PLB02")
        out = []
        for k in range(6):
            composite, raw = row[f"e{3 + 2 * k}"], row[f"e{4 + 2 * k}"]
            if composite is None and raw is None:
                continue
            amount = self._decimal(raw, seg, "PLB", f"PLB{4 + 2 * k:02d}")
            if raw is None:
                self.sink.add(
                    Problem(
                        "warning",
                        "x12.bad_amount",
                        f"PLB{4 + 2 * k:02d} is empty: the adjustment {composite} has no amount "
                        "(kept with an empty amount, left out of the BPR balance): ask the payer",
                        seg,
                        "PLB",
                        "header",
                        f"PLB{4 + 2 * k:02d}",
                    )
                )
            parts = (composite or "").split(self.d.component)
            if parts[0].strip() not in PLB_REASONS:
                self.sink.add(
                    Problem(
                        "warning",
                        "x12.unknown_plb_reason",
                        f"PLB{3 + 2 * k:02d} reason {parts[0].strip() or '(empty)'!r} is not a provider "
                        "adjustment reason code (WO, L6, FB, 72...): the elements may be misplaced; "
                        "kept as sent: check the adjustment with the payer",
                        seg,
                        "PLB",
                        "header",
                        f"PLB{3 + 2 * k:02d}",
                    )
                )
            out.append(
                {
                    "remittance_seq": row["remittance_seq"],
                    "provider_id": row["e1"],
                    "fiscal_period_date": fiscal,
                    "reason_code": parts[0] or None,
                    "reference": parts[1] if len(parts) > 1 and parts[1] else None,
                    "amount": amount,
                }
            )
            if amount is not None:
                head["sum_provider_adjustments"] += amount
        return out

    def _decimal(self, raw: str | None, seg: int, sid: str, element: str) -> Decimal | None:
        if raw is None:
            return None
        try:
            value = Decimal(raw.strip()).quantize(Decimal("0.01"))
            if not value.is_finite() or abs(value) >= Decimal("1e12"):
                raise InvalidOperation
            return value
        except (InvalidOperation, ValueError):
            self.sink.add(
                Problem(
                    "warning",
                    "x12.bad_amount",
                    f"{element} is not an amount; left empty: ask the payer for a corrected file",
                    seg,
                    sid,
                    "header",
                    element,
                )
            )
            return None

    def _payment_date(self, row: dict[str, Any], seg: int) -> Any:
        """BPR16; when it is empty, the one element of BPR06..BPR15 that is a plausible date
        (a sender that left out or moved bank elements shifts the date left) is read, with
        a warning.  Two candidates (an account number can look like a date): none."""
        if row["e16"] is not None:
            return self._date(row["e16"], seg, "BPR", "BPR16")
        found = []
        for k in range(6, 16):
            raw = (row[f"e{k}"] or "").strip()
            day = F.ccyymmdd(raw) if len(raw) == 8 and raw.isdigit() else None
            if day is not None and 1980 <= day.year <= 2099:
                found.append((day, f"BPR{k:02d}"))
        shifted, where = found[0] if len(found) == 1 else (None, "")
        message = (
            f"BPR16 (the payment date) is empty and {where} holds {row[f'e{int(where[3:])}']}, a date: "
            f"the elements look shifted; the payment date was read from {where}"
            if shifted is not None
            else "BPR16 (the payment date) is missing; left empty: the days-to-pay of this "
            "payment cannot be measured"
        )
        self.sink.add(Problem("warning", "x12.bad_date", message, seg, "BPR", "header", "BPR16"))
        return shifted

    def _date(self, raw: str | None, seg: int, sid: str, element: str) -> Any:
        if raw is None:
            return None
        parsed = F.ccyymmdd(raw.strip())
        if parsed is None:
            self.sink.add(
                Problem(
                    "warning",
                    "x12.bad_date",
                    f"{element} is not a CCYYMMDD date; left empty",
                    seg,
                    sid,
                    "header",
                    element,
                )
            )
        return parsed

    # ----------------------------------------------------------------- claims
    def _claims(self, batch: Batch, cols: dict[str, np.ndarray]) -> dict[str, pl.DataFrame]:
        fused = _fused835.build(self, batch, cols)
        if fused is not None:  # a clean batch, in one compiled pass
            claims, lines, adjustments = fused
            self._bad_claims = set()
        else:  # something to report (or no numba): column by column
            builder = ClaimBuilder(self, batch, cols)
            claims, lines, adjustments = builder.build()
            self._bad_claims = builder.bad
            fast = _remarks_compiled(batch, cols, claims, builder.fx)
            claims = (
                claims.hstack([fast]) if fast is not None else self._remarks(batch, cols, claims)
            )
        claims = self._copy_header(claims)
        self._totals(claims)
        # a file cut short after its last claim's loop (in a PLB, an LX header) cut no claim
        self._ends_in_claim = bool(len(batch)) and int(cols["ctx"][-1]) in (CLAIM, LINE)
        quarantine = self._quarantine(claims, batch.final)
        if quarantine:
            claims, lines, adjustments = (
                t.filter(~pl.col("claim_seq").is_in(quarantine))
                for t in (claims, lines, adjustments)
            )
        claims = self._claim_level_lq(batch, cols, claims)
        odd, repeated = self._loop_scan(batch, cols)
        claims, lines = self._stray_segments(batch, cols, odd, claims, lines)
        lines = self._repeated_procedures(cols["line_seq"][repeated], lines, claims)
        self._missing_amounts(claims, lines)
        self._missing_dates(claims)
        self._missing_codes(claims, lines)
        self._misplaced(claims, lines, adjustments)
        self._balance_problems(claims, lines)
        out = {
            "remit_claims": claims.select(_CLAIM_COLUMNS),
            "remit_lines": lines.select(_LINE_COLUMNS),
            "adjustments": adjustments.select(_ADJ_COLUMNS),
        }
        if self._plb_rows:
            out["provider_adjustments"] = pl.DataFrame(
                self._plb_rows, schema=_PLB_SCHEMA, orient="row"
            )
        return out

    def _remarks(
        self, batch: Batch, cols: dict[str, np.ndarray], claims: pl.DataFrame
    ) -> pl.DataFrame:
        """MOA / MIA remark codes (few segments: plain Polars)."""
        in_claim = cols["_valid"] & (cols["ctx"] == CLAIM)
        context = {"claim_seq": cols["claim_seq"]}
        moa = F.segment_frame(
            batch, in_claim & (batch.code == C["MOA"]), 7, self.d.element, context
        )
        mia = F.segment_frame(
            batch, in_claim & (batch.code == C["MIA"]), 23, self.d.element, context, 5
        )
        if moa.height + mia.height == 0:
            return claims.with_columns(pl.lit(None, pl.Utf8).alias("remark_codes"))
        remarks = (
            pl.concat(
                [
                    moa.select(
                        "seg_no",
                        "claim_seq",
                        pl.concat_list([f"e{i}" for i in range(3, 8)]).alias("r"),
                    ),
                    mia.select(
                        "seg_no",
                        "claim_seq",
                        pl.concat_list(["e5", "e20", "e21", "e22", "e23"]).alias("r"),
                    ),
                ]
            )
            .sort("seg_no")
            .with_columns(
                [pl.col("r").list.get(i, null_on_oob=True).alias(f"r{i}") for i in range(5)]
            )
        )
        remarks = F.join_codes(remarks, "claim_seq", [f"r{i}" for i in range(5)], "remark_codes")
        return claims.hstack(_aligned(claims["claim_seq"].to_numpy(), remarks, "claim_seq"))

    def _copy_header(self, claims: pl.DataFrame) -> pl.DataFrame:
        seqs = claims["remittance_seq"].unique().to_list()
        rows = [_header_values(self.pending[s]) for s in seqs if s in self.pending]
        head = (
            pl.DataFrame(rows, schema=_COPY_SCHEMA, orient="row") if rows else _empty(_COPY_SCHEMA)
        )
        return claims.join(head, on="remittance_seq", how="left")

    def _totals(self, claims: pl.DataFrame) -> None:
        remit = claims["remittance_seq"].to_numpy()
        if len(remit) == 0:
            return
        edges = np.flatnonzero(np.r_[True, remit[1:] != remit[:-1]])
        paid = claims["_paid_cents"].to_numpy()
        sums = np.add.reduceat(paid, edges)
        counts = np.diff(np.r_[edges, len(remit)])
        for seq, n, cents in zip(
            remit[edges].tolist(), counts.tolist(), sums.tolist(), strict=True
        ):
            paid_sum = Decimal(cents).scaleb(-2)
            head = self.pending.get(seq)
            if head is not None:
                head["claim_count"] += n
                head["sum_claim_paid"] += paid_sum

    def _quarantine(self, claims: pl.DataFrame, final: bool) -> list[int]:
        bad = set(self._bad_claims)
        open_tx = self.env.st
        if final and open_tx is not None and open_tx.seq in self.pending:
            self.pending[open_tx.seq]["_incomplete"] = True
            last = claims.filter(pl.col("remittance_seq") == open_tx.seq).tail(1 if self._ends_in_claim else 0)
            claim_id = last["claim_id"][0] if last.height else None
            self.sink.add(
                Problem(
                    "error",
                    "x12.missing_se",
                    f"the file ends inside transaction {open_tx.control!s} (no SE): it is probably truncated; "
                    + (
                        "its last claim was quarantined as it may be cut short, the others were kept"
                        if last.height
                        else "no claim was affected"
                    ),
                    self.last_seg,
                    None,
                    "transaction",
                    None,
                    transaction_control=open_tx.control,
                    claim_id=claim_id,
                    quarantined=bool(last.height),
                )
            )
            if last.height:
                bad.add(int(last["claim_seq"][0]))
        refs = self._claim_refs(bad)
        if not refs:
            self.sink.resolve({}, {})
            return []
        ids = dict(
            claims.filter(pl.col("claim_seq").is_in(list(refs)))
            .select("claim_seq", "claim_id")
            .iter_rows()
        )
        tx = {
            c: self.tx[r].control if r in self.tx else None
            for c, r in claims.select("claim_seq", "remittance_seq")
            .filter(pl.col("claim_seq").is_in(list(ids)))
            .iter_rows()
        }
        self.sink.resolve(ids, tx)
        return sorted(bad)

    def _claim_refs(self, bad: set[int]) -> set[int]:
        refs = set(bad)
        for cell in self.sink.pending:
            refs |= {c for c in cell.frame["claim_seq"].to_list() if c is not None}
        return refs

    def _claim_level_lq(self, batch: Batch, cols: dict[str, np.ndarray], claims: pl.DataFrame) -> pl.DataFrame:
        """LQ belongs to a service line (2110); some payers send it in the claim loop (2100),
        for a claim without lines.  Its codes are the claim's remarks: added to remark_codes
        (after MOA / MIA), with a warning."""
        at = cols["_valid"] & (cols["ctx"] == CLAIM) & (batch.code == C["LQ"])
        if not at.any():
            return claims  # the usual case
        lq = F.segment_frame(batch, at, 2, self.d.element, {"claim_seq": cols["claim_seq"]})
        lq = lq.filter(pl.col("claim_seq").is_in(claims["claim_seq"].implode()))
        extra = F.join_codes(lq, "claim_seq", ["e2"], "_lq")
        self._per_claim(
            lq.unique("claim_seq", keep="first", maintain_order=True),
            "x12.misplaced_segment",
            "LQ",
            "2100",
            "LQ02",
            lambda _row: (
                "remark codes (LQ) in the claim loop, where the guide has none (LQ belongs to a "
                "service line): read as the claim's remark codes"
            ),
            claims,
        )
        joined = claims.join(extra, on="claim_seq", how="left", maintain_order="left")
        both = pl.concat_str([pl.col("remark_codes"), pl.col("_lq")], separator=",", ignore_nulls=True)
        return joined.with_columns(
            pl.when(pl.col("_lq").is_null()).then(pl.col("remark_codes")).otherwise(both).alias("remark_codes")
        ).drop("_lq")

    def _loop_scan(self, batch: Batch, cols: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(rows out of place in a claim or line loop, SVC rows whose SVC01 repeats): what
        :meth:`_stray_segments` and :meth:`_repeated_procedures` look at.  One compiled pass
        (a few ms per 50 MB); the numpy path gives the same rows."""
        rep = self.d.repetition
        if rep in (None, self.d.element, self.d.component):
            rep = None
        if K.ENABLED:
            found: tuple[np.ndarray, np.ndarray] = K.loop_scan(
                batch.data, batch.starts, batch.ends, batch.code, cols["ctx"], cols["_valid"],
                ord(self.d.element), ord(rep) if rep else -1, _LOOP_CODES, C["DTM"], C["SVC"],
                CLAIM, _CLAIM_DATES, LINE, _LINE_DATES, HEADER, _HEADER_LOOP_CODES,
            )
            return found
        code, ctx, data = batch.code, cols["ctx"], batch.data
        in_loop = cols["_valid"] & ((ctx == CLAIM) | (ctx == LINE))
        odd = in_loop & ~isin(code, _LOOP_CODES)
        odd |= cols["_valid"] & (ctx == HEADER) & ~isin(code, _HEADER_LOOP_CODES)
        dtm = np.flatnonzero(in_loop & (code == C["DTM"]))
        at = batch.starts[dtm]
        qual = (data[at + 4].astype(np.int64) << 16) | (data[at + 5].astype(np.int64) << 8) | data[at + 6]
        fits = (data[at + 7] == ord(self.d.element)) & np.where(
            ctx[dtm] == LINE, isin(qual, _LINE_DATES), isin(qual, _CLAIM_DATES)
        )
        odd[dtm[~fits]] = True
        repeated = np.zeros(0, np.int64)
        if rep is not None:
            text, svc = batch.rows(in_loop & (code == C["SVC"]))
            svc01 = text.str.split(self.d.element).list.get(1, null_on_oob=True)
            repeated = svc[svc01.str.contains(rep, literal=True).fill_null(False).to_numpy()]
        return np.flatnonzero(odd), repeated

    def _stray_segments(
        self, batch: Batch, cols: dict[str, np.ndarray], odd: np.ndarray, claims: pl.DataFrame, lines: pl.DataFrame
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Segments in a claim or service-line loop that the guide does not put there, and
        DTM qualifiers that are not dates of their loop (x12.misplaced_segment).

        Service dates sent where the 835 has none are read, with the warning: 837-style
        DTP*472 / 150 / 151 after a line, DTM or DTP*232 / 233 / 050 after the claim's first
        line, DTP*232 / 233 / 050 in the claim loop.  Anything else is ignored, with the
        warning (its data would otherwise vanish unsaid).  ``odd``: the rows found by
        :meth:`_loop_scan` (rows are built for them only).
        """
        if not len(odd):
            return claims, lines  # the usual case
        mask = np.zeros(len(batch), dtype=bool)
        mask[odd] = True
        frame = F.segment_frame(
            batch, mask, 3, self.d.element,
            {"claim_seq": cols["claim_seq"], "line_seq": cols["line_seq"], "ctx": cols["ctx"]},
        )
        header = pl.col("ctx") == HEADER
        frame = frame.filter(header | pl.col("claim_seq").is_in(claims["claim_seq"].implode())).with_columns(
            pl.when(header).then(pl.lit(None, pl.Int64)).otherwise(pl.col("claim_seq")).alias("claim_seq")
        )
        line_dates: list[dict[str, Any]] = []
        claim_dates: list[dict[str, Any]] = []
        warned = []
        for row in frame.iter_rows(named=True):
            message, reads = _stray_reading(row)
            for level, field, day in reads:
                if level == "line":
                    line_dates.append({"line_seq": row["line_seq"], "field": field, "day": day})
                else:
                    claim_dates.append({"claim_seq": row["claim_seq"], "field": field, "day": day})
            warned.append({"seg_no": row["seg_no"], "claim_seq": row["claim_seq"], "_sid": row["e0"],
                           "_loop": LOOP[row["ctx"]], "_m": message})
        if warned:
            found = pl.DataFrame(warned, schema_overrides={"claim_seq": pl.Int64})
            for (sid, loop), rows in found.group_by("_sid", "_loop", maintain_order=True):
                element = f"{sid}01" if sid in ("DTM", "DTP") else None  # the qualifier, for dates
                self._per_claim(rows, "x12.misplaced_segment", sid, loop, element, lambda row: row["_m"], claims)
        lines = _fill_dates(lines, "line_seq", line_dates)
        claims = _fill_dates(claims, "claim_seq", claim_dates)
        if line_dates:
            claims = _dates_from_lines(claims, lines, {d["line_seq"] for d in line_dates})
        return claims, lines

    def _repeated_procedures(self, line_seqs: np.ndarray, lines: pl.DataFrame, claims: pl.DataFrame) -> pl.DataFrame:
        """SVC01 does not repeat, but some senders list several codes in it with the ISA11
        repetition separator ("HC:99213^99214"): the line is read as its first code, with
        x12.misplaced_element (kept whole, the code would match no fee schedule).
        ``line_seqs``: the lines found by :meth:`_loop_scan`."""
        if not len(line_seqs):
            return lines  # the usual case
        rep, comp = str(self.d.repetition), self.d.component
        hit = pl.col("line_seq").is_in(pl.Series(line_seqs).implode())
        svc01 = pl.concat_str([pl.col(c).fill_null("") for c in _SVC01], separator=comp).str.strip_chars_end(comp)
        first = svc01.str.split(rep).list.first().str.split(comp)
        fixed = lines.filter(hit).with_columns(svc01.alias("_sent")).with_columns(
            [first.list.get(i, null_on_oob=True).replace("", None).alias(c) for i, c in enumerate(_SVC01)]
            + [pl.col("submitted_procedure_code").str.split(rep).list.first()]
        )
        self._per_claim(
            fixed,
            "x12.misplaced_element",
            "SVC",
            "2110",
            "SVC01",
            lambda row: (
                f"SVC01 {row['_sent']!r} repeats ({rep!r}, the ISA11 repetition separator), which SVC01 "
                f"may not: read as its first code, {row['procedure_code']!r}"
            ),
            claims,
        )
        return lines.update(fixed.drop("_sent"), on="line_seq", include_nulls=True)

    def _missing_amounts(self, claims: pl.DataFrame, lines: pl.DataFrame) -> None:
        """CLP03 / CLP04 and SVC02 / SVC03 (charge, paid) are required: an empty one is kept
        empty, and the claim or line cannot be balanced, so say so (an unparseable one
        quarantines the claim)."""
        checks = [
            (claims, "charge_amount", "CLP", "2100", "CLP03", "the charge", "claim"),
            (claims, "paid_amount", "CLP", "2100", "CLP04", "the amount paid", "claim"),
            (lines, "charge_amount", "SVC", "2110", "SVC02", "the line charge", "line"),
            (lines, "paid_amount", "SVC", "2110", "SVC03", "the line paid amount", "line"),
        ]
        for frame, column, sid, loop, element, what, level in checks:
            if not frame[column].null_count():
                continue  # the usual case
            self._per_claim(
                frame.filter(pl.col(column).is_null()).drop("claim_id", "remittance_seq", strict=False),
                "x12.missing_amount",
                sid,
                loop,
                element,
                lambda _row, e=element, w=what, lv=level: (
                    f"{e} ({w}) is empty; kept empty, so the {lv} cannot be balanced: ask the payer"
                ),
                claims,
            )

    def _missing_codes(self, claims: pl.DataFrame, lines: pl.DataFrame) -> None:
        """A claim with no CLP01 (its id), a service line whose SVC01 has no procedure code
        ("SVC*HC*100*80"): kept, and said; neither can be matched to what was billed."""
        if claims["claim_id"].null_count():
            self._per_claim(
                claims.filter(pl.col("claim_id").is_null()),
                "x12.missing_element",
                "CLP",
                "2100",
                "CLP01",
                lambda _row: "CLP01 (the claim id) is empty: the claim cannot be matched to its 837; kept",
            )
        if not lines["procedure_code"].null_count():
            return  # the usual case
        self._per_claim(
            lines.filter(pl.col("procedure_code").is_null()),
            "x12.missing_element",
            "SVC",
            "2110",
            "SVC01",
            lambda _row: (
                "SVC01-2 (the procedure code) is empty: the line matches no billed line and no fee "
                "schedule; kept: ask the payer"
            ),
            claims,
        )

    def _missing_dates(self, claims: pl.DataFrame) -> None:
        """A claim with no service date anywhere (X221 wants DTM*232 on the claim unless every
        line has its DTM*472 / 150 / 151) is kept, and said."""
        if claims["service_date_from"].null_count() and claims["service_date_to"].null_count():
            self._per_claim(
                claims.filter(pl.col("service_date_from").is_null() & pl.col("service_date_to").is_null()),
                "x12.missing_segment",
                "CLP",
                "2100",
                "DTM01",
                lambda _row: (
                    "the claim has no service date (no DTM*232 / 233 in the claim, no DTM*472 / 150 / 151 on "
                    "its lines): left empty, so it cannot be tied to a contract period or fee schedule year"
                ),
            )

    def _misplaced(self, claims: pl.DataFrame, lines: pl.DataFrame, adjustments: pl.DataFrame) -> None:
        """Values that cannot belong to their element, kept as sent and warned: the sender
        left out or added an element, so the ones after it moved (x12.misplaced_element).
        Checked on each column's distinct values (a few per batch), not per row."""
        checks = [
            (claims, "filing_indicator", "CLP06", "a claim filing indicator (12, MB, MC, HM...)",
             lambda v: v.strip() in FILING_INDICATORS),
            (claims, "facility_code", "CLP08", "a place of service or facility type (1-2 digits)",
             lambda v: len(v.strip()) <= 2 and v.strip().isdigit()),
            (claims, "frequency_code", "CLP09", "a claim frequency (one digit: 1, 7, 8...)",
             lambda v: len(v.strip()) == 1 and v.strip().isdigit()),
            (lines, "revenue_code", "SVC04", "a revenue code (four digits)",
             lambda v: len(v.strip()) in (3, 4) and v.strip().isdigit()),
        ]
        found = []
        for frame, column, element, what, fits in checks:
            values = frame[column]
            if values.null_count() == len(values):
                continue  # not sent (the usual case for most of them)
            wrong = [v for v in values.drop_nulls().unique().to_list() if not fits(v)]
            if wrong:
                rows = frame.filter(pl.col(column).is_in(wrong))
                found.append((element, what, rows.select("seg_no", "claim_seq", pl.col(column).alias("_v"))))
        # one odd CLP code among fitting neighbours is just a bad code; two or more, a shift
        clp = [rows["claim_seq"] for element, _, rows in found if element.startswith("CLP")]
        counts = pl.concat(clp).value_counts() if clp else None
        shifted = set(counts.filter(pl.col("count") > 1)["claim_seq"].to_list()) if counts is not None else set()
        for element, what, rows in found:
            self._per_claim(
                rows,
                "x12.misplaced_element",
                element[:3],
                "2100" if element[:3] == "CLP" else "2110",
                element,
                lambda row, e=element, w=what: (
                    f"{e} {row['_v']!r} is not {w}"
                    + (
                        ": an element before it is probably missing or extra"
                        if not e.startswith("CLP") or row["claim_seq"] in shifted
                        else ""
                    )
                    + "; kept as sent: check the claim with the payer"
                ),
                claims,
            )
        if not adjustments["reason_code"].null_count():
            return  # the usual case
        reasonless = adjustments.filter(pl.col("reason_code").is_null() & pl.col("amount").is_not_null())
        if reasonless.height:
            self._per_claim(
                reasonless.join(claims.select("claim_seq", "seg_no"), on="claim_seq"),
                "x12.misplaced_element",
                "CAS",
                "2100/2110",
                "CAS02",
                lambda row: (
                    f"a {row['group_code']} adjustment of {row['amount']} has no reason code (CAS02, 05, 08...): "
                    "an element is probably missing; kept without a reason: check the claim with the payer"
                ),
                claims,
            )

    def _balance_problems(self, claims: pl.DataFrame, lines: pl.DataFrame) -> None:
        if not (_any_false(lines["balanced"]) or _any_false(claims["balanced"])):
            return  # the usual case: every claim and line balances
        self._per_claim(
            lines.filter(~pl.col("balanced")),  # noqa: E712
            "x12.unbalanced_line",
            "SVC",
            "2110",
            "SVC02",
            lambda row: (
                f"line {row['line_number']}: charge {row['charge_amount']} - paid {row['paid_amount']} "
                f"differs from its adjustments {row['adjustment_amount']} by {row['balance_difference']}; "
                "kept: check the remittance with the payer"
            ),
            claims,
        )
        self._per_claim(
            claims.filter(~pl.col("balanced")),  # noqa: E712
            "x12.unbalanced_claim",
            "CLP",
            "2100",
            "CLP03",
            lambda row: (
                f"charge {row['charge_amount']} - paid {row['paid_amount']} differs from claim + line "
                f"adjustments ({row['claim_adjustment_amount']} + {row['line_adjustment_amount']}) by "
                f"{row['balance_difference']}; kept: check the remittance with the payer"
            ),
        )

    def _per_claim(
        self,
        rows: pl.DataFrame,
        code: str,
        sid: str,
        loop: str,
        element: str | None,
        message: Callable[[dict[str, Any]], str],
        claims: pl.DataFrame | None = None,
    ) -> None:
        """One warning per row (a claim or line, with seg_no, claim_id, remittance_seq), up to
        the cap and its notice; the rest only counted.  Rows of lines or adjustments give
        ``claims``, whose claim_id and remittance_seq are joined on claim_seq (the warned
        rows only)."""
        room = self.sink.room(code)
        shown = rows.head(room)
        if claims is not None:
            keys = claims.select("claim_seq", "claim_id", "remittance_seq")
            shown = shown.join(keys, on="claim_seq", how="left", maintain_order="left")
        for row in shown.iter_rows(named=True):
            self.sink.add(
                Problem(
                    "warning",
                    code,
                    message(row),
                    row["seg_no"],
                    sid,
                    loop,
                    element,
                    transaction_control=self._st02(row["remittance_seq"]),
                    claim_id=row["claim_id"],
                )
            )
        self.sink.skipped(code, rows.height - room)

    def _st02(self, seq: int | None) -> str | None:
        tx = self.tx.get(seq) if seq is not None else None
        return tx.control if tx else None

    # ------------------------------------------------------------ remittances
    def _remittances(self, *, final: bool) -> pl.DataFrame:
        open_seq = self.env.st.seq if self.env.st is not None else None
        done = [s for s in self.pending if final or s != open_seq]
        rows = []
        for seq in done:
            head = self.pending.pop(seq)
            if self._header_complete(head):
                rows.append(self._remittance_row(head))
        if not rows:
            return _empty(_REMIT_SCHEMA)
        return pl.DataFrame(rows, schema=_REMIT_SCHEMA, orient="row")

    def _header_complete(self, head: dict[str, Any]) -> bool:
        """Warn about each required header segment the transaction lacks (x12.missing_segment);
        False for an empty transaction (no payment, no trace, no claim): no remittance row."""
        if head.get("_incomplete"):  # cut short: already an error
            return True
        where = (head["_seg"], "ST", "header")
        control = head["transaction_control"]
        if not any(k in head for k in ("handling_code", "trace_number")) and not head["claim_count"]:
            self.sink.add(
                Problem(
                    "warning",
                    "x12.empty_transaction",
                    f"transaction {control!s} has no payment (BPR), trace (TRN) or claim; skipped",
                    *where,
                    transaction_control=control,
                )
            )
            return False
        missing = [
            ("BPR", "the payment: its amount, method and date", "handling_code" not in head),
            (
                "TRN",
                "the check or EFT trace number: without it a re-sent copy of this payment is not "
                "recognised and would count twice",
                "trace_number" not in head,
            ),
            ("N1*PR", "the payer", "payer_name" not in head and "_pr_id" not in head),
            ("N1*PE", "the payee", "payee_name" not in head),
        ]
        for segment, what, absent in missing:
            if absent:
                self.sink.add(
                    Problem(
                        "warning",
                        "x12.missing_segment",
                        f"transaction {control!s} has no {segment} ({what}); the remittance is kept "
                        "without it: ask the payer",
                        *where,
                        transaction_control=control,
                    )
                )
        return True

    def _remittance_row(self, head: dict[str, Any]) -> dict[str, Any]:
        row = {k: head.get(k) for k in _REMIT_SCHEMA}
        row["payer_id"] = _header_values(head)["payer_id"]
        pay = head.get("payment_amount")
        expected = head["sum_claim_paid"] - head["sum_provider_adjustments"]
        if pay is not None and not head.get("_incomplete"):
            row["balance_difference"] = pay - expected
            row["balanced"] = pay == expected
            if pay != expected:
                self.sink.add(
                    Problem(
                        "warning",
                        "x12.unbalanced_remittance",
                        f"BPR02 {pay} differs from claim payments {head['sum_claim_paid']} - provider adjustments "
                        f"{head['sum_provider_adjustments']} by {pay - expected}; kept: check with the payer",
                        head["_seg"],
                        "ST",
                        "header",
                        "BPR02",
                        transaction_control=head["transaction_control"],
                    )
                )
        return row


#: SVC01's components: the procedure code and its modifiers
_SVC01 = ["procedure_qualifier", "procedure_code", "modifier_1", "modifier_2", "modifier_3", "modifier_4"]
#: segments of the claim payment (2100) and service payment (2110) loops (the most frequent first)
_LOOP_CODES = np.array(
    [sid_code(s) for s in ("CAS", "SVC", "CLP", "AMT", "REF", "NM1", "MOA", "LQ", "DTM", "MIA", "PER", "QTY")],
    dtype=np.int64,
)
#: segments of the header (1000A / 1000B) and provider summary (2000) loops
_HEADER_LOOP_CODES = np.array(
    [sid_code(s) for s in ("N1", "N3", "N4", "REF", "PER", "LX", "TS3", "TS2", "DTM", "ST", "BPR", "TRN", "CUR", "N2", "RDM")],
    dtype=np.int64,
)
#: DTM01 qualifiers of each loop, packed as segment ids are
_CLAIM_QUALIFIERS = {"036": None, "050": "received_date", "232": "service_date_from", "233": "service_date_to"}
_LINE_QUALIFIERS = {"150": ("service_date_from",), "151": ("service_date_to",), "472": ("service_date_from", "service_date_to")}
_CLAIM_DATES = np.array([sid_code(q) for q in _CLAIM_QUALIFIERS], dtype=np.int64)
_LINE_DATES = np.array([sid_code(q) for q in _LINE_QUALIFIERS], dtype=np.int64)
_CLAIM_DATE_NAMES = {"050": "received date", "232": "service start date", "233": "service end date"}


def _stray_reading(row: dict[str, Any]) -> tuple[str, list[tuple[str, str, Any]]]:
    """What to say of a segment out of place (a row of e0..e3, ctx), and the dates it gives:
    [(level 'line' | 'claim', column, date)]."""
    sid, ctx = row["e0"], row["ctx"]
    if ctx == HEADER:
        return f"{sid} is not a segment of the payment header or of a provider summary (LX): ignored", []
    where = "service payment loop (2110)" if ctx == LINE else "claim payment loop (2100)"
    if sid not in ("DTM", "DTP"):
        return f"{sid} is not a segment of the {where}: ignored", []
    q = (row["e1"] or "").strip()
    shape = (row["e2"] or "").strip()
    raw = row["e3"] if sid == "DTP" and shape in ("D8", "RD8") else row["e2"]
    first, _, last = (raw or "").strip().partition("-")
    days = (F.ccyymmdd(first) if first else None, F.ccyymmdd(last or first) if first else None)
    if ctx == LINE and sid == "DTP" and q in _LINE_QUALIFIERS:
        what = "line's service date"
        reads = [("line", c, days[0] if c == "service_date_from" else days[1]) for c in _LINE_QUALIFIERS[q]]
        said = f"DTP*{q} is an 837 segment (the 835 sends DTM*{q})"
    elif q in _CLAIM_DATE_NAMES and (ctx == LINE or sid == "DTP"):
        what = f"claim's {_CLAIM_DATE_NAMES[q]}"
        reads = [("claim", str(_CLAIM_QUALIFIERS[q]), days[0])]
        said = (
            f"{sid}*{q} after a service line (the guide has it before the claim's first SVC)"
            if ctx == LINE
            else f"DTP*{q} is an 837 segment (the 835 sends DTM*{q})"
        )
    else:
        allowed = ", ".join(_LINE_QUALIFIERS if ctx == LINE else _CLAIM_QUALIFIERS)
        return f"{sid}*{q} is not a date of the {where}, which has DTM*{allowed}: ignored", []
    if any(day is None for _, _, day in reads):
        return f"{said}, and its date {raw!r} does not parse: ignored", []
    return f"{said}: read as the {what}", reads


def _fill_dates(frame: pl.DataFrame, key: str, reads: list[dict[str, Any]]) -> pl.DataFrame:
    """Dates found out of place, into the rows' empty date columns (a date read in its
    place wins; of two out of place, the first)."""
    if not reads:
        return frame
    found = pl.DataFrame(reads, schema={key: pl.Int64, "field": pl.Utf8, "day": pl.Date}, orient="row")
    for (field,), rows in found.group_by("field", maintain_order=True):
        day = rows.unique(key, keep="first", maintain_order=True).select(
            pl.col(key).cast(frame.schema[key]), pl.col("day").alias("_day")
        )
        frame = (
            frame.join(day, on=key, how="left", maintain_order="left")
            .with_columns(pl.coalesce(str(field), "_day").alias(str(field)))
            .drop("_day")
        )
    return frame


def _dates_from_lines(claims: pl.DataFrame, lines: pl.DataFrame, touched: set[int]) -> pl.DataFrame:
    """Claims without their own service dates take their lines' range (as the kernel does),
    again for the claims whose lines just got a date."""
    span = (
        lines.filter(pl.col("line_seq").is_in(list(touched)))
        .select("claim_seq")
        .unique()
        .join(lines, on="claim_seq")
        .group_by("claim_seq")
        .agg(pl.col("service_date_from").min().alias("_lo"), pl.col("service_date_to").max().alias("_hi"))
    )
    return (
        claims.join(span, on="claim_seq", how="left", maintain_order="left")
        .with_columns(
            pl.coalesce("service_date_from", "_lo").alias("service_date_from"),
            pl.coalesce("service_date_to", "_hi").alias("service_date_to"),
        )
        .drop("_lo", "_hi")
    )


def _any_false(flags: pl.Series) -> bool:
    """Whether a boolean column has a False (nulls do not count)."""
    return len(flags) > 0 and flags.null_count() < len(flags) and not bool(flags.all())


#: CLP06 claim filing indicator codes (X12 element 1032, 5010 and 4010)
FILING_INDICATORS = frozenset(
    ["09", "10", "11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS", "FI", "HM", "LI", "LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ"]
)

#: PLB03-1 / 05-1 ... provider adjustment reason codes (835 5010 code list)
PLB_REASONS = frozenset(
    ["50", "51", "72", "90", "AH", "AM", "AP", "B2", "B3", "BD", "BN", "C5", "CR", "CS", "CT", "CV", "CW", "DM", "E3", "FB", "FC", "GO", "HM", "IP", "IR", "IS", "J1", "L3", "L6", "LE", "LS", "OA", "OB", "PI", "PL", "RA", "RE", "SL", "TL", "WO", "WU"]
)


_MOA_ELEMENTS = (3, 4, 5, 6, 7)
_MIA_ELEMENTS = (5, 20, 21, 22, 23)


def _remarks_compiled(
    batch: Batch, cols: dict[str, np.ndarray], claims: pl.DataFrame, fx: FieldIndex
) -> pl.Series | None:
    """``Reader835._remarks`` in one compiled pass: MOA03-07 and MIA05/20-23 codes per claim,
    stripped, non-empty, comma separated in file order (None: use the Polars path)."""
    if not K.ENABLED:
        return None
    keys = claims["claim_seq"].to_numpy()
    in_claim = cols["_valid"] & (cols["ctx"] == CLAIM)
    is_moa = in_claim & (batch.code == C["MOA"])
    is_mia = in_claim & (batch.code == C["MIA"])
    rows = np.flatnonzero(is_moa | is_mia)
    seq = cols["claim_seq"][rows]
    if (len(seq) > 1 and (np.diff(seq) < 0).any()) or (
        len(keys) > 1 and (np.diff(keys) <= 0).any()
    ):
        return None
    n = len(rows)
    start = np.zeros((n, 5), np.int64)
    end = np.zeros((n, 5), np.int64)
    present = np.zeros((n, 5), bool)
    moa = is_moa[rows]
    limit = batch.ends[rows]
    for which, elements in ((moa, _MOA_ELEMENTS), (~moa, _MIA_ELEMENTS)):
        sub = np.flatnonzero(which)
        if len(sub) == 0:
            continue
        for i, j in enumerate(elements):
            span = fx.element(rows[sub], j)
            start[sub, i] = span.start
            end[sub, i] = span.end
            # only the segment's own elements (not blanks of a dropped segment after it)
            present[sub, i] = span.present & (span.end <= limit[sub])
    views, chars, valid, ok = K.join_by_key(
        fx.data,
        start.ravel(),
        end.ravel(),
        present.ravel(),
        np.repeat(seq, 5).astype(np.int64),
        np.ascontiguousarray(keys, np.int64),
        ord(","),
    )
    if not ok:
        return None
    array = pa.Array.from_buffers(
        pa.string_view(),
        len(keys),
        [_bitmap(valid), pa.py_buffer(views), pa.py_buffer(chars)],
        int(len(keys) - np.count_nonzero(valid)),
    )
    series = pl.from_arrow(array)
    assert isinstance(series, pl.Series)
    return series.alias("remark_codes")


def _header_values(head: dict[str, Any]) -> dict[str, Any]:
    payer_id = head.get("_ref_2u") or head.get("_pr_id") or head.get("payer_tax_id")
    return {
        "remittance_seq": head["remittance_seq"],
        "payer_id": payer_id,
        "payer_name": head.get("payer_name"),
        "payee_npi": head.get("payee_npi"),
        "payment_date": head.get("payment_date"),
    }


def _aligned(target: np.ndarray, frame: pl.DataFrame, key: str) -> pl.DataFrame:
    """``frame``'s non-key columns placed on the ``target`` keys (first row per key)."""
    return F.align(target, frame[key].to_numpy(), frame.drop(key))


def _empty(schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


_COPY_SCHEMA: dict[str, Any] = {
    "remittance_seq": pl.Int64,
    "payer_id": pl.Utf8,
    "payer_name": pl.Utf8,
    "payee_npi": pl.Utf8,
    "payment_date": pl.Date,
}
_REMIT_SCHEMA: dict[str, Any] = {
    "remittance_seq": pl.Int64,
    "interchange_control": pl.Utf8,
    "transaction_control": pl.Utf8,
    "version": pl.Utf8,
    "handling_code": pl.Utf8,
    "payment_amount": F.MONEY,
    "credit_debit": pl.Utf8,
    "payment_method": pl.Utf8,
    "payment_date": pl.Date,
    "trace_number": pl.Utf8,
    "payer_tax_id": pl.Utf8,
    "production_date": pl.Date,
    "payer_name": pl.Utf8,
    "payer_id": pl.Utf8,
    "payee_name": pl.Utf8,
    "payee_npi": pl.Utf8,
    "payee_tax_id": pl.Utf8,
    "claim_count": pl.Int64,
    "sum_claim_paid": F.MONEY,
    "sum_provider_adjustments": F.MONEY,
    "balanced": pl.Boolean,
    "balance_difference": F.MONEY,
}
_PLB_SCHEMA: dict[str, Any] = {
    "remittance_seq": pl.Int64,
    "provider_id": pl.Utf8,
    "fiscal_period_date": pl.Date,
    "reason_code": pl.Utf8,
    "reference": pl.Utf8,
    "amount": F.MONEY,
}
_ADJ_SCHEMA: dict[str, Any] = {
    "claim_seq": pl.Int64,
    "line_seq": pl.Int64,
    "level": pl.Utf8,
    "group_code": pl.Utf8,
    "reason_code": pl.Utf8,
    "amount": F.MONEY,
    "quantity": F.QUANTITY,
}
_ADJ_COLUMNS = list(_ADJ_SCHEMA)
_CLAIM_COLUMNS = [
    "remittance_seq",
    "claim_seq",
    "claim_id",
    "status_code",
    "charge_amount",
    "paid_amount",
    "patient_responsibility",
    "filing_indicator",
    "payer_claim_number",
    "facility_code",
    "frequency_code",
    "drg_code",
    "is_reversal",
    "patient_key",
    "payer_id",
    "payer_name",
    "payee_npi",
    "payment_date",
    "received_date",
    "service_date_from",
    "service_date_to",
    "remark_codes",
    "line_count",
    "claim_adjustment_amount",
    "line_adjustment_amount",
    "balanced",
    "balance_difference",
]
_LINE_COLUMNS = [
    "claim_seq",
    "line_seq",
    "line_number",
    "procedure_qualifier",
    "procedure_code",
    "modifier_1",
    "modifier_2",
    "modifier_3",
    "modifier_4",
    "charge_amount",
    "paid_amount",
    "revenue_code",
    "units",
    "submitted_procedure_code",
    "submitted_modifiers",
    "submitted_units",
    "service_date_from",
    "service_date_to",
    "allowed_amount",
    "line_control_number",
    "remark_codes",
    "adjustment_amount",
    "balanced",
    "balance_difference",
]
