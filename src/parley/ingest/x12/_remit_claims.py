"""The 835 reader's CLP / SVC / CAS loops to frames, column by column with numpy.

With numba, clean batches take ``_fused835`` (one compiled pass, same frames);
this builder handles the batches that have something to report, and every
batch when numba is absent.

Rows of one batch are picked by segment code and context, their elements
read from the byte buffer (``fields.FieldIndex``); amounts stay integer cents
until they become decimal columns, per-claim and per-line sums are exact
int64 scatter-adds, and "first DTM*472 of the line" style lookups are
position arrays.  Claims are whole within a batch (the tokenizer cuts before
CLP), lines and adjustments are keyed by the file-wide claim_seq/line_seq.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa

from parley.ingest.base import Severity
from parley.ingest.x12 import _frames as F
from parley.ingest.x12 import _kernels as K
from parley.ingest.x12.fields import (
    FieldIndex,
    Span,
    _bitmap,
    count_by,
    date_series,
    decimal_series,
    first_position,
    sum_by,
)
from parley.ingest.x12.tokenizer import Batch, C, isin

if TYPE_CHECKING:
    from parley.ingest.x12.x12_835 import Reader835

CLAIM, LINE = 2, 3
STATUS = [
    s.encode()
    for s in (
        "1",
        "2",
        "3",
        "4",
        "5",
        "10",
        "13",
        "15",
        "16",
        "17",
        "19",
        "20",
        "21",
        "22",
        "23",
        "25",
    )
]
GROUPS = [b"CO", b"PR", b"OA", b"PI", b"CR"]
_QUARANTINE = (
    "the claim was quarantined (left out of all tables): ask the payer for a corrected file"
)


class ClaimBuilder:
    def __init__(self, reader: Reader835, batch: Batch, cols: dict[str, np.ndarray]) -> None:
        self.r = reader
        self.b = batch
        self.fx = FieldIndex(
            batch.data, batch.starts, batch.ends, ord(reader.d.element), ord(reader.d.component)
        )
        self.claim = cols["claim_seq"]
        self.line = cols["line_seq"]
        self.remit = cols["remittance_seq"]
        self.ctx = cols["ctx"]
        self.valid = cols["_valid"]
        self.bad: set[int] = set()

    def rows(self, sid: str, ctx: tuple[int, ...] | None = None) -> np.ndarray:
        mask = (self.b.code == C[sid]) & self.valid
        if ctx is not None:
            mask &= isin(self.ctx, ctx)
        return np.flatnonzero(mask)

    def cells(
        self,
        rows: np.ndarray,
        mask: np.ndarray,
        severity: Severity,
        code: str,
        sid: str,
        loop: str,
        element: str,
        message: str,
        quarantine: bool = False,
    ) -> None:
        if not mask.any():
            return
        hit = rows[mask]
        frame = pl.DataFrame({"seg_no": self.b.seg_no[hit], "claim_seq": self.claim[hit]})
        frame = frame.with_columns(
            pl.when(pl.col("claim_seq") >= 0).then(pl.col("claim_seq")).alias("claim_seq")
        )
        self.r.sink.cells(
            frame,
            severity,
            code,
            sid,
            loop,
            element,
            message,
            quarantined=quarantine,
        )
        if quarantine:
            self.bad |= {int(c) for c in self.claim[hit] if c >= 0}

    def money(self, rows: np.ndarray, j: int, sid: str, loop: str) -> tuple[np.ndarray, np.ndarray]:
        span = self.fx.element(rows, j)
        value, ok, bad = self.fx.integers(span, 2)
        element = f"{sid}{j:02d}"
        self.cells(
            rows,
            bad,
            "error",
            "x12.bad_amount",
            sid,
            loop,
            element,
            f"{element} is not an amount (a number with at most two decimal places); {_QUARANTINE}",
            quarantine=True,
        )
        return value, ok

    def dates(
        self, rows: np.ndarray, span: Span, sid: str, loop: str, element: str
    ) -> tuple[np.ndarray, np.ndarray]:
        value, ok, bad = self.fx.dates(span)
        self.cells(
            rows,
            bad,
            "warning",
            "x12.bad_date",
            sid,
            loop,
            element,
            f"{element} is not a CCYYMMDD date; the date was left empty",
        )
        return value, ok

    def orphans(self, rows: np.ndarray, sid: str) -> np.ndarray:
        orphan = self.claim[rows] < 0
        self.cells(
            rows,
            orphan,
            "warning",
            "x12.orphan_segment",
            sid,
            "2110",
            f"{sid}01",
            f"{sid} outside any claim (no CLP before it in its transaction); ignored",
        )
        kept: np.ndarray = rows[~orphan]
        return kept

    # ------------------------------------------------------------------ build
    def build(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        clp = self.rows("CLP")
        svc = self.orphans(self.rows("SVC"), "SVC")
        cas = self.orphans(self.rows("CAS", (CLAIM, LINE)), "CAS")
        adjustments, adj = self.adjustments(cas)
        lines, line_cols = self.lines(svc, adj)
        claims = self.claims(clp, svc, adj, line_cols)
        return claims, lines, adjustments

    def adjustments(self, rows: np.ndarray) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
        fx = self.fx
        group = fx.element(rows, 1)
        first, count = fx.first[rows], fx.count[rows]
        parts: list[tuple[np.ndarray, Span, Span, Span]] = []
        for k in range(6):
            sub = np.flatnonzero(count > 2 + 3 * k) if k else np.arange(len(rows))
            if len(sub) == 0 and k:
                break
            f, c = first[sub], count[sub]
            spans = [fx.element(rows[sub], 2 + 3 * k + i, f, c) for i in range(3)]
            parts.append((sub, spans[0], spans[1], spans[2]))
        row_of = np.concatenate([p[0] for p in parts])
        order = np.argsort(row_of, kind="stable") if len(parts) > 1 else np.arange(len(row_of))
        row_of = row_of[order]
        reason, amount, qty = (_concat([p[i] for p in parts]).take(order) for i in (1, 2, 3))  # type: ignore[misc]
        keep = np.flatnonzero(reason.present | amount.present)
        reason, amount, qty, row_of = (
            reason.take(keep),
            amount.take(keep),
            qty.take(keep),
            row_of[keep],
        )
        cents, ok, bad = fx.integers(amount, 2)
        bad |= reason.present & ~amount.present
        seg_rows = rows[row_of]
        self.cells(
            seg_rows,
            bad,
            "error",
            "x12.bad_amount",
            "CAS",
            "2100/2110",
            "CAS03",
            f"a CAS adjustment amount is missing or not an amount (a number with at most two decimal places); {_QUARANTINE}",
            quarantine=True,
        )
        unknown = ~fx.isin(group, GROUPS)
        self.cells(
            rows,
            unknown,
            "warning",
            "x12.unknown_group_code",
            "CAS",
            "2100/2110",
            "CAS01",
            "CAS01 is not a known group code (CO, PR, OA, PI, CR); kept as sent",
        )
        qv, qok, _ = fx.integers(qty, 3)
        is_line = self.ctx[seg_rows] == LINE
        claim, line = self.claim[seg_rows], self.line[seg_rows]
        frame = pl.DataFrame(
            {
                "claim_seq": claim,
                "line_seq": pl.Series(line, dtype=pl.Int64).scatter(np.flatnonzero(~is_line), None)
                if (~is_line).any()
                else line,
                "level": pl.Series(is_line).replace_strict(
                    {True: "line", False: "claim"}, return_dtype=pl.Utf8
                ),
            }
        ).with_columns(
            fx.strings(group, "group_code").gather(row_of),
            fx.strings(reason, "reason_code"),
            decimal_series(cents, ok, 14, 2, "amount"),
            decimal_series(qv, qok, 12, 3, "quantity"),
        )
        info = {"claim": claim, "line": line, "is_line": is_line, "cents": np.where(ok, cents, 0)}
        return frame, info

    def lines(
        self, rows: np.ndarray, adj: dict[str, np.ndarray]
    ) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
        fx = self.fx
        keys, claims = self.line[rows], self.claim[rows]
        proc = fx.element(rows, 1)
        charge, charge_ok = self.money(rows, 2, "SVC", "2110")
        paid, paid_ok = self.money(rows, 3, "SVC", "2110")
        units, units_ok, _ = fx.integers(fx.element(rows, 5), 3)
        units = np.where(units_ok, units, 1000)
        sub_units, sub_ok, _ = fx.integers(fx.element(rows, 7), 3)
        submitted = fx.element(rows, 6)
        sub_mods = fx.component(submitted, 2)
        sub_mods = Span(
            sub_mods.start, np.where(sub_mods.present, submitted.end, 0), sub_mods.present
        )
        first = np.maximum.accumulate(
            np.where(
                np.r_[True, claims[1:] != claims[:-1]] if len(claims) else np.zeros(0, bool),
                np.arange(len(claims)),
                0,
            )
        )
        line_adj = sum_by(keys, adj["line"][adj["is_line"]], adj["cents"][adj["is_line"]])
        dates = self.line_dates(keys)
        diff = charge - paid - line_adj
        balanced_ok = charge_ok & paid_ok
        frame = pl.DataFrame(
            {
                "seg_no": self.b.seg_no[rows],
                "claim_seq": claims,
                "line_seq": keys,
                "line_number": (np.arange(len(rows)) - first + 1).astype(np.int32),
            }
        ).with_columns(
            fx.strings(fx.component(proc, 0), "procedure_qualifier"),
            fx.strings(fx.component(proc, 1), "procedure_code"),
            *[fx.strings(fx.component(proc, 2 + i), f"modifier_{1 + i}") for i in range(4)],
            decimal_series(charge, charge_ok, 14, 2, "charge_amount"),
            decimal_series(paid, paid_ok, 14, 2, "paid_amount"),
            fx.strings(fx.element(rows, 4), "revenue_code"),
            decimal_series(units, np.ones(len(rows), bool), 12, 3, "units"),
            fx.strings(fx.component(submitted, 1), "submitted_procedure_code"),
            fx.strings(sub_mods, "submitted_modifiers").str.replace_all(
                self.r.d.component, ",", literal=True
            ),
            decimal_series(sub_units, sub_ok, 12, 3, "submitted_units"),
            date_series(dates["from"], dates["from_ok"], "service_date_from"),
            date_series(dates["to"], dates["to_ok"], "service_date_to"),
            decimal_series(line_adj, np.ones(len(rows), bool), 14, 2, "adjustment_amount"),
            decimal_series(diff, balanced_ok, 14, 2, "balance_difference"),
            pl.Series("balanced", np.where(balanced_ok, diff == 0, False)).scatter(
                np.flatnonzero(~balanced_ok), None
            )
            if (~balanced_ok).any()
            else pl.Series("balanced", diff == 0),
        )
        frame = frame.hstack(self.line_refs(keys))
        info = {"keys": keys, "claims": claims, "line_adj": line_adj, **dates}
        return frame, info

    def line_dates(self, keys: np.ndarray) -> dict[str, np.ndarray]:
        rows = self.rows("DTM", (LINE,))
        q = self.fx.element(rows, 1)
        value, ok = self.dates(rows, self.fx.element(rows, 2), "DTM", "2110", "DTM02")
        out: dict[str, np.ndarray] = {}
        for name, quals in (("from", [b"472", b"150"]), ("to", [b"472", b"151"])):
            pick = self.fx.isin(q, quals) & ok
            pos = first_position(keys, self.line[rows[pick]])
            days = value.astype("datetime64[D]").astype(np.int64)[pick]
            out[name] = np.where(pos >= 0, days[np.maximum(pos, 0)] if len(days) else 0, 0)
            out[name + "_ok"] = pos >= 0
        return out

    def line_refs(self, keys: np.ndarray) -> pl.DataFrame:
        fx = self.fx
        amt = self.rows("AMT", (LINE,))
        amt = amt[fx.equals(fx.element(amt, 1), b"B6")]
        allowed, allowed_ok = self.money(amt, 2, "AMT", "2110")
        pos = first_position(keys, self.line[amt])
        hit = np.maximum(pos, 0)
        allowed_col = decimal_series(
            allowed[hit] if len(amt) else np.zeros(len(keys), np.int64),
            (pos >= 0) & (allowed_ok[hit] if len(amt) else False),
            14,
            2,
            "allowed_amount",
        )
        ref = self.rows("REF", (LINE,))
        ref = ref[fx.equals(fx.element(ref, 1), b"6R")]
        pos = first_position(keys, self.line[ref])
        ref_col = (
            fx.strings(_at(fx.element(ref, 2), pos), "line_control_number")
            if len(ref)
            else pl.Series("line_control_number", [None] * len(keys), dtype=pl.Utf8)
        )
        lq = self.rows("LQ", (LINE,))
        lq = lq[fx.equals(fx.element(lq, 1), b"HE")]
        remark_col = self._line_remarks(keys, lq)
        if remark_col is None:
            codes = pl.DataFrame({"line_seq": self.line[lq]}).with_columns(
                fx.strings(fx.element(lq, 2), "e2")
            )
            remarks = F.join_codes(codes, "line_seq", ["e2"], "remark_codes")
            pos = first_position(keys, remarks["line_seq"].to_numpy())
            remark_col = (
                remarks["remark_codes"].gather(pl.Series(pos).replace(-1, None))
                if remarks.height
                else pl.Series("remark_codes", [None] * len(keys), dtype=pl.Utf8)
            )
        return pl.DataFrame(
            [allowed_col, ref_col.alias("line_control_number"), remark_col.alias("remark_codes")]
        )

    def _line_remarks(self, keys: np.ndarray, lq: np.ndarray) -> pl.Series | None:
        """LQ*HE codes per line, comma separated, in one compiled pass (None: use Polars)."""
        if not K.ENABLED:
            return None
        line = self.line[lq]
        if (len(line) > 1 and (np.diff(line) < 0).any()) or (
            len(keys) > 1 and (np.diff(keys) <= 0).any()
        ):
            return None
        span = self.fx.element(lq, 2)
        views, chars, valid, ok = K.join_by_key(
            self.fx.data,
            np.ascontiguousarray(span.start, np.int64),
            np.ascontiguousarray(span.end, np.int64),
            np.ascontiguousarray(span.present, np.bool_),
            np.ascontiguousarray(line, np.int64),
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

    def claims(
        self,
        rows: np.ndarray,
        svc: np.ndarray,
        adj: dict[str, np.ndarray],
        lines: dict[str, np.ndarray],
    ) -> pl.DataFrame:
        fx = self.fx
        keys = self.claim[rows]
        charge, charge_ok = self.money(rows, 3, "CLP", "2100")
        paid, paid_ok = self.money(rows, 4, "CLP", "2100")
        resp, resp_ok = self.money(rows, 5, "CLP", "2100")
        status = fx.element(rows, 2)
        self.cells(
            rows,
            ~fx.isin(status, STATUS),
            "warning",
            "x12.unknown_status",
            "CLP",
            "2100",
            "CLP02",
            "CLP02 is not a known claim status code; the claim was kept as sent",
        )
        is_line = adj["is_line"]
        claim_adj = sum_by(keys, adj["claim"][~is_line], adj["cents"][~is_line])
        line_adj = sum_by(keys, adj["claim"][is_line], adj["cents"][is_line])
        diff = charge - paid - claim_adj - line_adj
        balanced_ok = charge_ok & paid_ok
        frame = pl.DataFrame(
            {
                "seg_no": self.b.seg_no[rows],
                "remittance_seq": self.remit[rows],
                "claim_seq": keys,
                "line_count": count_by(keys, lines["claims"]),
                "_paid_cents": np.where(paid_ok, paid, 0),
                "is_reversal": fx.equals(status, b"22"),
            }
        ).with_columns(
            fx.strings(fx.element(rows, 1), "claim_id").str.strip_chars(),
            fx.strings(status, "status_code"),
            decimal_series(charge, charge_ok, 14, 2, "charge_amount"),
            decimal_series(paid, paid_ok, 14, 2, "paid_amount"),
            decimal_series(resp, resp_ok, 14, 2, "patient_responsibility"),
            *[
                fx.strings(fx.element(rows, j), name)
                for j, name in (
                    (6, "filing_indicator"),
                    (7, "payer_claim_number"),
                    (8, "facility_code"),
                    (9, "frequency_code"),
                    (11, "drg_code"),
                )
            ],
            decimal_series(claim_adj, np.ones(len(rows), bool), 14, 2, "claim_adjustment_amount"),
            decimal_series(line_adj, np.ones(len(rows), bool), 14, 2, "line_adjustment_amount"),
            decimal_series(diff, balanced_ok, 14, 2, "balance_difference"),
            pl.Series("balanced", diff == 0).scatter(np.flatnonzero(~balanced_ok), None)
            if (~balanced_ok).any()
            else pl.Series("balanced", diff == 0),
        )
        return frame.hstack(self.claim_dates(keys, lines)).with_columns(self.patients(keys))

    def claim_dates(self, keys: np.ndarray, lines: dict[str, np.ndarray]) -> pl.DataFrame:
        rows = self.rows("DTM", (CLAIM,))
        q = self.fx.element(rows, 1)
        value, ok = self.dates(rows, self.fx.element(rows, 2), "DTM", "2100", "DTM02")
        cols = []
        line_from, line_to = _line_range(keys, lines)
        for qual, name, fallback in (
            (b"232", "service_date_from", line_from),
            (b"233", "service_date_to", line_to),
            (b"050", "received_date", None),
        ):
            pick = self.fx.equals(q, qual) & ok
            pos = first_position(keys, self.claim[rows[pick]])
            days = value.astype("datetime64[D]").astype(np.int64)[pick]
            got = days[np.maximum(pos, 0)] if len(days) else np.zeros(len(keys), np.int64)
            have = pos >= 0
            if fallback is not None:
                got = np.where(have, got, fallback[0])
                have = have | fallback[1]
            cols.append(date_series(got, have, name))
        return pl.DataFrame(cols)

    def patients(self, keys: np.ndarray) -> pl.Series:
        rows = self.rows("NM1", (CLAIM,))
        rows = rows[self.fx.equals(self.fx.element(rows, 1), b"QC")]
        pos = first_position(keys, self.claim[rows])
        member = (
            self.fx.strings(_at(self.fx.element(rows, 9), pos), "id")
            if len(rows)
            else pl.Series("id", [None] * len(keys), dtype=pl.Utf8)
        )
        return F.hash_ids(self.r.hasher, member).alias("patient_key")


def _at(span: Span, pos: np.ndarray) -> Span:
    """The span's rows at positions ``pos`` (-1 -> absent): a gather before building strings."""
    hit = np.maximum(pos, 0)
    return Span(span.start[hit], span.end[hit], span.present[hit] & (pos >= 0))


def _concat(spans: list[Span]) -> Span:
    return Span(
        np.concatenate([s.start for s in spans]),
        np.concatenate([s.end for s in spans]),
        np.concatenate([s.present for s in spans]),
    )


def _line_range(
    keys: np.ndarray, lines: dict[str, np.ndarray]
) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """Earliest line start and latest line end per claim (for claims without DTM*232/233)."""
    out = []
    for name, pick in (("from", np.minimum), ("to", np.maximum)):
        have = lines[name + "_ok"]
        days = lines[name]
        claims = lines["claims"][have]
        if len(keys) == 0 or len(claims) == 0:
            out.append((np.zeros(len(keys), np.int64), np.zeros(len(keys), bool)))
            continue
        lo = int(min(keys.min(), claims.min()))
        hi = int(max(keys.max(), claims.max()))
        init = np.iinfo(np.int64).max if pick is np.minimum else np.iinfo(np.int64).min
        acc = np.full(hi - lo + 1, init, dtype=np.int64)
        pick.at(acc, claims - lo, days[have])
        got = acc[keys - lo]
        found = got != init
        out.append((np.where(found, got, 0), found))
    return tuple(out)
