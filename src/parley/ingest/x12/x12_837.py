"""837 claims reader: professional (005010X222A1/A2, 004010X098A1) and
institutional (005010X223A2/A3, 004010X096A1), columnar like the 835 reader.

Hierarchy: the HL segments give levels 20 (billing provider), 22
(subscriber) and 23 (patient); every segment is tagged with the seg_no of
the last HL of each level (forward fill), a claim (CLM) takes the attributes
of those HLs by join.  claim_seq = count of CLM, line_seq = count of LX.  The
tokenizer cuts batches before CLM / HL / ST, so a claim is whole within a
batch; the attributes of the open HLs and transaction are carried over.

Patient key: the patient's member id (2010CA NM1*QC NM109 when the patient
is not the subscriber, else 2010BA NM1*IL NM109); with no id, a hash of
last name + first name + birth date.  Only birth year and sex are kept.

Problems: x12.bad_amount (error, claim quarantined), x12.bad_date (warning,
value left null), x12.missing_se (error, last claim quarantined),
x12.orphan_segment (warning), x12.wrong_transaction (error, skipped),
x12.unbalanced_claim (warning: CLM02 is not the sum of the line charges),
x12.missing_lx (warning: an SV1/SV2 with no LX before it is read as a line of
its own), x12.empty_transaction (warning: no CLM), x12.missing_hl (warning:
claims with no HL hierarchy or no HL 22 of their own), x12.shifted_element /
x12.missing_element (warning: CLM05 found in CLM03/04/06 or empty, SV2 without
revenue code, empty CLM01, a claim with no line), x12.misplaced_element
(warning: a unit basis that is none), x12.bad_npi, and the envelope checks of
``envelope``.

Loop 2320 (an SBR after the CLM) and its 2330 loops describe the other payer:
their REF, DTP and NM1 are not read as the claim's own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np
import polars as pl

from parley.domain.identifiers import npi_is_valid
from parley.ingest.base import ParsedChunk, PatientHasher, Problem
from parley.ingest.x12 import _frames as F
from parley.ingest.x12._driver import run, wrong_transaction
from parley.ingest.x12.envelope import EnvelopeChecker, Transaction, cut_short, not_billed
from parley.ingest.x12.tokenizer import (
    Batch,
    C,
    Delimiters,
    claimless,
    code_sid,
    ffill,
    isin,
    split,
)

OUT, HEADER, L20, L22, L23, CLAIM, COB, LINE = 0, 1, 20, 22, 23, 30, 35, 40
LOOP = {CLAIM: "2300", LINE: "2400"}
#: SV103 (837P: MJ minutes, UN units) and SV204 (837I: DA days, UN units); F2 in 4010
UNIT_BASES = frozenset({"UN", "MJ", "DA", "F2"})
#: NM108 identification code qualifiers (payer id, NPI, member id, tax id...)
_ID_QUALIFIERS = {"PI", "XV", "XX", "MI", "II", "24", "34", "46", "FI", "SV"}
DIAGNOSIS_QUALIFIERS = {"ABK", "ABF", "ABJ", "APR", "ABN", "BK", "BF", "BJ", "PR", "BN"}
PRINCIPAL = {"ABK", "BK"}

_MARKERS = {
    "ST": HEADER,
    "CLM": CLAIM,
    "LX": LINE,
    "SE": OUT,
    "GE": OUT,
    "IEA": OUT,
    "GS": OUT,
    "ISA": OUT,
}
#: segments that open or close a claim or line: an SV1/SV2 right after a CLM or another
#: SV1/SV2 (no LX between) starts a line of its own
_LINE_MARKERS = np.array([C[s] for s in ("ST", "SE", "HL", "CLM", "LX", "SV1", "SV2")], np.int64)
_SV_CODES = np.array([C["SV1"], C["SV2"]], np.int64)
_OPENS_LINE_SV = np.array([C["CLM"], C["SV1"], C["SV2"]], np.int64)
_MARKER_CODES = np.array([C[s] for s in _MARKERS], dtype=np.int64)
_MARKER_VALUES = np.array(list(_MARKERS.values()), dtype=np.int64)


def read_837(
    stream: BinaryIO, *, file_id: str, hasher: PatientHasher, chunk_bytes: int = 32 << 20
) -> Iterator[ParsedChunk]:
    """Stream an 837P/837I file as canonical-table chunks (claims, claim_lines,
    diagnoses) and problems.  Never raises on bad input."""
    return run(stream, Reader837, file_id=file_id, chunk_bytes=chunk_bytes, hasher=hasher)


class Reader837:
    boundaries = frozenset(C[s] for s in ("CLM", "HL", "ST", "SE", "GS", "GE", "ISA", "IEA"))

    def __init__(self, *, delims: Delimiters, file_id: str, hasher: PatientHasher) -> None:
        self.d = delims
        self.file_id = file_id
        self.hasher = hasher
        self.env = EnvelopeChecker(delims.element)
        self.sink = F.ProblemSink()
        self.tx: dict[int, dict[str, Any]] = {}
        self.foreign: set[int] = set()
        self.n_st = self.n_clm = self.n_lx = 0
        self.has_claim = False  # the open transaction has had a CLM
        self._ends_in_claim = True  # the last batch ends inside a claim loop
        self.ctx = OUT
        self.hl = {L20: -1, L22: -1, L23: -1}
        self.carried: dict[str, pl.DataFrame] = {}
        self.last_seg = 0
        self.last_marker = C["ST"]  # the last of _LINE_MARKERS seen
        self.npis_seen: set[str] = set()  # provider NPIs already checked (x12.bad_npi)

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
        tables: dict[str, pl.DataFrame] = {}
        if len(batch):
            self.last_seg = int(batch.seg_no[-1])
            cols = self._hierarchy(batch)
            self._bht(batch, cols)
            tables = self._tables(batch, cols)
        if batch.final:
            self.sink.extend(self.env.finish(self.last_seg))
            self._transaction_checks()
        tables = {
            k: v.with_columns(pl.lit(self.file_id).alias("file_id")) for k, v in tables.items()
        }
        return ParsedChunk(tables=tables, problems=self.sink.take(), bytes_done=batch.bytes_done)

    def _transaction_checks(self) -> None:
        """At the end of the file: transactions with no claim, claims with no HL hierarchy."""
        for seq, tx in self.tx.items():
            if seq in self.foreign:
                continue
            if not tx["claims"]:
                self._transaction_warning(
                    tx,
                    "x12.empty_transaction",
                    "holds no claim (no CLM): nothing was loaded from it; check the export that "
                    "produced it",
                )
            elif not tx["hl"]:
                self._transaction_warning(
                    tx,
                    "x12.missing_hl",
                    "has claims but no HL segments (the billing provider / subscriber / patient "
                    "hierarchy): their provider, payer and patient are unknown; claims kept",
                )

    def _transaction_warning(self, tx: dict[str, Any], code: str, what: str) -> None:
        self.sink.add(
            Problem(
                "warning",
                code,
                f"transaction {tx['control']!s} {what}",
                tx["seg_no"],
                "ST",
                "transaction",
                transaction_control=tx["control"],
            )
        )

    def _start_transaction(self, tx: Transaction) -> None:
        if tx.type_code != "837":
            self.foreign.add(tx.seq)
            self.sink.add(wrong_transaction(tx, "837"))
        elif what := not_billed(tx.version):
            self.foreign.add(tx.seq)
            self.sink.add(
                Problem(
                    "error",
                    "x12.not_a_claim",
                    f"transaction {tx.control!s} is a {what} ({tx.version}), not a billed claim; "
                    "skipped, so that it does not count as billed",
                    tx.seg_no,
                    "ST",
                    "transaction",
                    "ST03",
                    transaction_control=tx.control,
                    quarantined=True,
                )
            )
        self.tx[tx.seq] = {
            "control": tx.control,
            "version": tx.version,
            "gs_date": tx.group_date,
            "bht_date": None,
            "encounter": False,
            "seg_no": tx.seg_no,
            "claims": 0,
            "hl": 0,
        }

    # -------------------------------------------------------------- hierarchy
    def _hierarchy(self, batch: Batch) -> dict[str, np.ndarray]:
        code = batch.code
        is_st, is_clm, is_lx, is_hl = (
            code == C["ST"],
            code == C["CLM"],
            code == C["LX"],
            code == C["HL"],
        )
        implicit = self._implicit_lines(code)
        if implicit is not None:
            is_lx = is_lx | implicit
        tx = self.n_st + np.cumsum(is_st) - 1
        claim = self.n_clm + np.cumsum(is_clm) - 1
        before = claimless(is_st, is_clm, self.has_claim)
        claim[before] = -1  # before the transaction's first CLM: no claim of the one before
        if len(code):
            self.has_claim = not bool(before[-1])
        line = self.n_lx + np.cumsum(is_lx) - 1
        self.n_st += int(is_st.sum())
        self.n_clm += int(is_clm.sum())
        self.n_lx += int(is_lx.sum())
        marker = np.full(len(code), -1, dtype=np.int64)
        hit = isin(code, _MARKER_CODES)
        if hit.any():
            lookup = dict(zip(_MARKER_CODES.tolist(), _MARKER_VALUES.tolist(), strict=True))
            marker[hit] = pl.Series(code[hit]).replace_strict(lookup).to_numpy()
        hl_idx = np.flatnonzero(is_hl)
        for seq in tx[hl_idx].tolist():
            if seq in self.tx:
                self.tx[seq]["hl"] += 1
        levels = split(batch.text.gather(hl_idx), self.d.element, 3)["e3"].fill_null("").to_numpy()
        marker[hl_idx] = np.select(
            [levels == "20", levels == "22", levels == "23"], [L20, L22, L23], L22
        )
        if implicit is not None:
            marker[implicit] = LINE
            self.sink.cells(
                pl.DataFrame(
                    {"seg_no": batch.seg_no[implicit], "claim_seq": claim[implicit]}
                ).unique("claim_seq", keep="first", maintain_order=True),
                "warning",
                "x12.missing_lx",
                code_sid(int(code[implicit][0])),
                "2400",
                "LX01",
                "service lines (SV1/SV2) of this claim with no LX before them, the first here; "
                "each was read as a line of its own: ask the sender to number them with LX",
            )
        ctx = ffill(marker, self.ctx)
        # an SBR after the CLM opens loop 2320 (other subscriber): from there to the first LX,
        # the segments (REF*F8, REF*G1, NM1, DTP of 2330B...) are the other payer's, not the claim's
        cob = (code == C["SBR"]) & (ctx == CLAIM)
        if cob.any():
            marker[cob] = COB
            ctx = ffill(marker, self.ctx)
        if len(ctx):
            self.ctx = int(ctx[-1])
        cols = {"tx_seq": tx, "claim_seq": claim, "line_seq": line, "ctx": ctx}
        for level in (L20, L22, L23):
            m = np.full(len(code), -1, dtype=np.int64)
            at = hl_idx[(marker[hl_idx] == level)]
            m[at] = batch.seg_no[at]
            cols[f"hl{level}"] = ffill(m, self.hl[level])
            if len(code):
                self.hl[level] = int(cols[f"hl{level}"][-1])
        valid = (
            np.ones(len(code), dtype=bool) if not self.foreign else ~np.isin(tx, list(self.foreign))
        )
        for first, end in self.env.stray:  # outside any transaction: read by no one
            valid[first:end] = False
        cols["_valid"] = valid
        return cols

    def _implicit_lines(self, code: np.ndarray) -> np.ndarray | None:
        """SV1/SV2 segments that follow a CLM or another SV1/SV2 with no LX between them (the
        LX that opens loop 2400 is missing): each is read as a line of its own, or None."""
        sv = (code == C["SV1"]) | (code == C["SV2"])
        if not sv.any():
            return None
        at = np.flatnonzero(isin(code, _LINE_MARKERS))
        marks = code[at]
        before = np.empty(len(marks), dtype=np.int64)
        before[0] = self.last_marker
        before[1:] = marks[:-1]
        self.last_marker = int(marks[-1])
        opened = isin(before, _OPENS_LINE_SV) & isin(marks, _SV_CODES)
        if not opened.any():
            return None
        implicit = np.zeros(len(code), dtype=bool)
        implicit[at[opened]] = True
        return implicit

    def _bht(self, batch: Batch, cols: dict[str, np.ndarray]) -> None:
        frame = F.segment_frame(
            batch, batch.code == C["BHT"], 6, self.d.element, {"tx_seq": cols["tx_seq"]}
        )
        for row in frame.iter_rows(named=True):
            tx = self.tx.get(row["tx_seq"])
            if tx is not None and tx["bht_date"] is None:
                tx["bht_date"] = row["e4"]
                # BHT06 RP (reporting): encounters of capitated care, not billed for payment
                tx["encounter"] = (row["e6"] or "").strip() == "RP"
                if row["e4"] is not None and F.ccyymmdd(row["e4"]) is None:
                    self.sink.add(
                        Problem(
                            "warning",
                            "x12.bad_date",
                            f"BHT04 {row['e4'].strip()!r} is not a CCYYMMDD date; the claims' "
                            "submission date falls back to the group's date (GS04)",
                            row["seg_no"],
                            "BHT",
                            "transaction",
                            "BHT04",
                            transaction_control=tx["control"],
                        )
                    )

    # ----------------------------------------------------------------- tables
    def _tables(self, batch: Batch, cols: dict[str, np.ndarray]) -> dict[str, pl.DataFrame]:
        valid, ctx, code = cols["_valid"], cols["ctx"], batch.code
        ctxcols = {k: v for k, v in cols.items() if not k.startswith("_")}

        def frame(mask: np.ndarray, n: int, stage: int | None = None) -> pl.DataFrame:
            return F.segment_frame(batch, mask & valid, n, self.d.element, ctxcols, stage)

        hl_ctx = (ctx == L20) | (ctx == L22) | (ctx == L23)
        people = self._unshifted_nm1(frame(isin(code, [C["NM1"], C["REF"], C["SBR"], C["DMG"]]) & hl_ctx, 9, 4))
        clm = frame(code == C["CLM"], 6)
        for seq, count in clm.group_by("tx_seq").len().iter_rows():
            if seq in self.tx:
                self.tx[seq]["claims"] += count
        claim_rows = frame(isin(code, [C["DTP"], C["REF"], C["NM1"]]) & (ctx == CLAIM), 9, 3)
        hi = frame((code == C["HI"]) & (ctx == CLAIM), 12, 4)
        sv = frame(isin(code, [C["SV1"], C["SV2"]]) & (ctx == LINE), 7)
        lx = frame(is_lx(code) & (ctx == LINE), 1)
        line_rows = frame(
            isin(code, [C["DTP"], C["REF"], C["NM1"], C["LIN"], C["CTP"]]) & (ctx == LINE), 9, 4
        )
        claims = self._claims(clm, claim_rows, hi)
        claims = self._people(claims, people)
        lines = self._lines(sv, lx, line_rows, claims)
        self._check_npis(claims, lines, people, claim_rows, line_rows)
        diagnoses = self._diagnoses(hi)
        claims = self._claim_lines_rollup(claims, lines)
        # a file cut short after its last claim's loop (in the next subscriber's HL) cut no claim
        self._ends_in_claim = bool(len(batch)) and int(cols["ctx"][-1]) in (CLAIM, COB, LINE)
        quarantine = self._quarantine(claims, batch.final)
        kept = claims.filter(~pl.col("claim_seq").is_in(quarantine)) if quarantine else claims
        self._check_charges(kept)
        self._check_claims(kept, lines)
        self.sink.resolve(
            dict(claims.select("claim_seq", "claim_id").iter_rows()),
            {c: self._st02(t) for c, t in claims.select("claim_seq", "tx_seq").iter_rows()},
        )
        if quarantine:
            claims, lines, diagnoses = (
                t.filter(~pl.col("claim_seq").is_in(quarantine)) for t in (claims, lines, diagnoses)
            )
        orphans = lines.filter(pl.col("claim_seq") < 0)
        if orphans.height:
            self.sink.cells(
                orphans.select("seg_no", pl.lit(None, pl.Int64).alias("claim_seq")),
                "warning",
                "x12.orphan_segment",
                "SV1/SV2",
                "2400",
                "SV101",
                "a service line outside any claim (no CLM before it in its transaction); ignored",
            )
            self.sink.resolve({}, {})
            lines = lines.filter(pl.col("claim_seq") >= 0)
        return {
            "claims": _trimmed(claims.select(_CLAIM_COLUMNS)),
            "claim_lines": _trimmed(lines.select(_LINE_COLUMNS)),
            "diagnoses": diagnoses.filter(pl.col("claim_seq") >= 0),
        }

    def _check_npis(self, claims: pl.DataFrame, lines: pl.DataFrame, *frames: pl.DataFrame) -> None:
        """Warn once per file about each stored provider NPI whose check digit fails, at the
        first NM1 that sends it (the stored columns' few distinct values are checked; the
        segments are searched only for a bad one)."""
        stored = [claims[c] for c in ("billing_npi", "rendering_npi", "referring_npi")] + [lines["rendering_npi"]]
        fresh = {v for col in stored for v in col.drop_nulls().unique().to_list()} - self.npis_seen
        self.npis_seen |= fresh
        bad = [v for v in fresh if not npi_is_valid(v)]
        if not bad:
            return  # the usual case
        for frame in frames:
            found = frame.filter(
                (pl.col("e0") == "NM1")
                & pl.col("e1").is_in(["85", "82", "71", "DN"])
                & (pl.col("e8").str.strip_chars() == "XX")
                & pl.col("e9").str.strip_chars().is_in(bad)
            ).select(
                "seg_no",
                "ctx",
                pl.when(pl.col("ctx") >= CLAIM).then(pl.col("claim_seq")).alias("claim_seq"),
                "e1",
                pl.col("e9").str.strip_chars(),
            )
            for (qualifier, npi), hits in found.group_by("e1", "e9", maintain_order=True):
                if npi not in bad:
                    continue  # found in an earlier frame
                bad.remove(npi)
                ctx = hits["ctx"][0]
                loop = "2420" if ctx == LINE else ("2310" if ctx == CLAIM else "2010AA")
                self.sink.cells(
                    hits.select("seg_no", "claim_seq").head(1),
                    "warning",
                    "x12.bad_npi",
                    "NM1",
                    loop,
                    "NM109",
                    F.bad_npi_message(str(npi), F.NPI_ROLES[str(qualifier)]),
                )

    def _st02(self, seq: int) -> str | None:
        tx = self.tx.get(seq)
        return tx["control"] if tx else None

    def _claims(self, clm: pl.DataFrame, rows: pl.DataFrame, hi: pl.DataFrame) -> pl.DataFrame:
        comp = self.d.component
        # CLM05 (facility code : qualifier : frequency); a sender that drops one or two elements
        # before it leaves the composite in CLM04 or CLM03 (both unused since 5010) and CLM06 in
        # CLM05: read it where it is
        def composite(col: str) -> pl.Expr:
            return pl.col(col).fill_null("").str.contains(comp, literal=True)

        shifted = ~composite("e5") & (composite("e4") | composite("e3") | composite("e6"))
        facility = (
            pl.when(composite("e5"))
            .then(pl.col("e5"))
            .when(composite("e4"))
            .then(pl.col("e4"))
            .when(composite("e3"))
            .then(pl.col("e3"))
            .when(composite("e6"))  # an element too many before it (CLM06 is a Y / N)
            .then(pl.col("e6"))
            .otherwise(pl.col("e5"))
            .str.split_exact(comp, 2)
        )
        clm = clm.with_columns(shifted.alias("_shifted"))
        self.sink.cells(
            clm.filter(pl.col("_shifted")).select("seg_no", "claim_seq"),
            "warning",
            "x12.shifted_element",
            "CLM",
            "2300",
            "CLM05",
            "the facility code composite (CLM05) is in CLM03, CLM04 or CLM06: elements are missing "
            "or extra before it; read from there (place of service / type of bill and frequency): "
            "ask the sender",
        )
        claims = clm.with_columns(F.money("e2").alias("charge_amount"))
        bad = claims.filter(F.bad("e2", "charge_amount")).select("seg_no", "claim_seq")
        self.sink.cells(
            bad,
            "error",
            "x12.bad_amount",
            "CLM",
            "2300",
            "CLM02",
            "CLM02 is not an amount (a number with at most two decimal places); the claim was quarantined (left out of all tables): "
            "correct the claim and re-ingest",
            quarantined=True,
        )
        self._bad_claims = set(bad["claim_seq"])
        self.sink.cells(
            claims.filter(pl.col("e2").is_null()).select("seg_no", "claim_seq"),
            "warning",
            "x12.missing_amount",
            "CLM",
            "2300",
            "CLM02",
            "CLM02 (the claim's total charge) is empty; kept empty: ask the sender",
        )
        claims = claims.select(
            "seg_no",
            "tx_seq",
            "claim_seq",
            "hl20",
            "hl22",
            "hl23",
            pl.col("e1").str.strip_chars().alias("claim_id"),
            "charge_amount",
            facility.struct.field("field_0").alias("_fac"),
            facility.struct.field("field_1").alias("_facq"),
            facility.struct.field("field_2").replace("", None).alias("frequency_code"),
        )
        target = claims["claim_seq"].to_numpy()
        dtp = rows.filter(pl.col("e0") == "DTP")
        ranges = self._date_ranges(dtp, "2300")
        parts = [
            _aligned(
                target,
                ranges.filter(pl.col("e1") == "434").select(
                    "claim_seq", pl.col("_d0").alias("_s0"), pl.col("_d1").alias("_s1")
                ),
                "claim_seq",
            ),
            _aligned(
                target,
                ranges.filter(pl.col("e1") == "472").select(
                    "claim_seq", pl.col("_d0").alias("_c0"), pl.col("_d1").alias("_c1")
                ),
                "claim_seq",
            ),
            _aligned(
                target,
                ranges.filter(pl.col("e1") == "435").select(
                    "claim_seq", pl.col("_d0").alias("admission_date")
                ),
                "claim_seq",
            ),
            _aligned(target, _ref(rows, "F8", "original_claim_number"), "claim_seq"),
            _aligned(target, _ref(rows, "G1", "prior_authorization"), "claim_seq"),
            _aligned(target, _nm1(rows, "82", "_r82"), "claim_seq"),
            _aligned(target, _nm1(rows, "71", "_r71"), "claim_seq"),
            _aligned(target, _nm1(rows, "DN", "_rdn"), "claim_seq"),
            _aligned(target, self._drg(hi), "claim_seq"),
        ]
        claims = claims.hstack([c for p in parts for c in p.get_columns()])
        self.sink.cells(
            claims.filter(pl.col("_fac").fill_null("").str.strip_chars() == "").select("seg_no", "claim_seq"),
            "warning",
            "x12.missing_element",
            "CLM",
            "2300",
            "CLM05",
            "CLM05-1 (place of service, or the facility type of an institutional claim) is empty: the "
            "claim has no place of service or type of bill; data kept",
        )
        return claims.with_columns(
            # the attending (NM1*71) stands in for an institutional claim's rendering provider
            # only: a professional claim (CLM05-2 B) has none (its lines may have their own)
            pl.when(pl.col("_facq").fill_null("") == "B")
            .then(pl.col("_r82"))
            .otherwise(pl.coalesce("_r82", "_r71"))
            .alias("rendering_npi"),
            pl.col("_rdn").str.strip_chars().replace("", None).alias("referring_npi"),
        )

    def _date_ranges(self, dtp: pl.DataFrame, loop: str) -> pl.DataFrame:
        """DTP with D8 (one date), RD8 (from-to) or DT (date and time): columns _d0, _d1
        (TM, a time alone, gives none).

        Read as senders write them, not only as the guide says: a from-to range under D8 is
        still a range, and DT's CCYYMMDDHHMM gives its date (the admission date-hour of
        an 837I)."""
        value = pl.col("e3").str.strip_chars()
        value = (
            pl.when(pl.col("e2") == "DT")
            .then(value.str.slice(0, 8))
            .when(pl.col("e2") == "TM")  # a time alone (the discharge hour): no date
            .then(pl.lit(None, pl.String))
            .otherwise(value)
        )
        rng = value.str.splitn("-", 2)
        ranged = (pl.col("e2") == "RD8") | value.str.contains("-", literal=True)
        out = dtp.with_columns(
            pl.when(ranged).then(rng.struct.field("field_0")).otherwise(value).alias("_v0"),
            pl.when(ranged).then(rng.struct.field("field_1")).otherwise(value).alias("_v1"),
        )
        out = out.with_columns(F.date("_v0").alias("_d0"), F.date("_v1").alias("_d1"))
        bad = out.filter(F.bad("_v0", "_d0") | F.bad("_v1", "_d1")).select("seg_no", "claim_seq")
        self.sink.cells(
            bad,
            "warning",
            "x12.bad_date",
            "DTP",
            loop,
            "DTP03",
            "DTP03 is not a CCYYMMDD date (or range); the date was left empty",
        )
        backwards = pl.col("_d1") < pl.col("_d0")
        self.sink.cells(
            out.filter(backwards.fill_null(False)).select("seg_no", "claim_seq"),
            "warning",
            "x12.bad_date",
            "DTP",
            loop,
            "DTP03",
            "DTP03's range ends before it starts; read the other way round (from the earlier date "
            "to the later): check the dates with the sender",
        )
        swap = backwards.fill_null(False)
        return out.with_columns(
            pl.when(swap).then(pl.col("_d1")).otherwise(pl.col("_d0")).alias("_d0"),
            pl.when(swap).then(pl.col("_d0")).otherwise(pl.col("_d1")).alias("_d1"),
        )

    def _drg(self, hi: pl.DataFrame) -> pl.DataFrame:
        """HI*DR (837I): the guide sends it in an HI of its own, some senders as a later
        composite of a diagnosis HI ("HI*ABK:J069*BG:01*DR:470"): read from either (the first)."""
        comp = self.d.component
        parts = []
        for e in [c for c in hi.columns if c[0] == "e" and c[1:].isdigit() and c != "e0"]:
            one = hi.select("seg_no", "claim_seq", pl.col(e).str.splitn(comp, 3).struct.unnest())
            one.columns = ["seg_no", "claim_seq", "q", "code", "_rest"]
            parts.append(one.filter(pl.col("q") == "DR").with_columns(pl.lit(int(e[1:])).alias("_at")))
        if not parts:
            return pl.DataFrame(schema={"claim_seq": hi.schema["claim_seq"], "drg_code": pl.Utf8})
        found = pl.concat(parts).sort("seg_no", "_at").unique("claim_seq", keep="first", maintain_order=True)
        return found.select("claim_seq", pl.col("code").alias("drg_code"))

    def _unshifted_nm1(self, people: pl.DataFrame) -> pl.DataFrame:
        """An NM1 of the hierarchy without its NM102 (entity type 1 / 2): the name in NM102,
        the id qualifier in NM107 and the id in NM108 ("NM1*PR*PAYER ABC*****PI*PAY123").
        Read one place to the right, with x12.shifted_element, so the payer or the person
        is not lost."""
        shifted = (
            (pl.col("e0") == "NM1")
            & ~pl.col("e2").fill_null("").str.strip_chars().is_in(["1", "2"])
            & pl.col("e3").is_null()
            & pl.col("e9").is_null()
            & pl.col("e8").is_not_null()
            & pl.col("e7").fill_null("").str.strip_chars().is_in(list(_ID_QUALIFIERS))
        )
        hit = people.filter(shifted)
        if not hit.height:
            return people  # the usual case
        self.sink.cells(
            hit.select("seg_no", "claim_seq"),
            "warning",
            "x12.shifted_element",
            "NM1",
            "2010",
            "NM102",
            "NM102 (entity type 1 or 2) is missing, so the name is in NM102 and the id in NM108: "
            "read one place to the right",
        )
        moved = {f"e{j}": pl.col(f"e{j - 1}") for j in range(3, 10)}
        return people.with_columns(
            **{k: pl.when(shifted).then(v).otherwise(pl.col(k)) for k, v in moved.items()},
            e2=pl.when(shifted).then(pl.lit(None, pl.Utf8)).otherwise(pl.col("e2")),
        )

    def _people(self, claims: pl.DataFrame, people: pl.DataFrame) -> pl.DataFrame:
        """Billing provider (HL 20), subscriber and payer (HL 22), patient (HL 23), joined by HL."""
        q, sid = pl.col("e1"), pl.col("e0")
        attrs = [
            (
                "billing",
                L20,
                (sid == "NM1") & (q == "85"),
                {"billing_name": "e3", "_npi_q": "e8", "_npi": "e9"},
            ),
            ("billing_ref", L20, (sid == "REF") & (q == "EI"), {"billing_tax_id": "e2"}),
            (
                "subscriber",
                L22,
                (sid == "NM1") & (q == "IL"),
                {"_s_last": "e3", "_s_first": "e4", "_s_id": "e9"},
            ),
            ("payer", L22, (sid == "NM1") & (q == "PR"), {"payer_name": "e3", "payer_id": "e9"}),
            (
                "sbr",
                L22,
                sid == "SBR",
                {"filing_indicator": "e9", "group_number": "e3", "group_name": "e4"},
            ),
            ("subscriber_dmg", L22, sid == "DMG", {"_s_dob": "e2", "_s_sex": "e3"}),
            (
                "patient",
                L23,
                (sid == "NM1") & (q == "QC"),
                {"_p_last": "e3", "_p_first": "e4", "_p_id": "e9"},
            ),
            ("patient_dmg", L23, sid == "DMG", {"_p_dob": "e2", "_p_sex": "e3"}),
        ]
        for name, level, cond, fields in attrs:
            key = f"hl{level}"
            found = people.filter(cond & (pl.col("ctx") == level)).select(
                key, *[pl.col(src).alias(dst) for dst, src in fields.items()]
            )
            found = self._carry(name, level, found)
            claims = claims.join(
                found.unique(key, keep="first", maintain_order=True), on=key, how="left"
            )
        return self._patients(claims)

    def _carry(self, name: str, level: int, found: pl.DataFrame) -> pl.DataFrame:
        """Attributes of the last open HL of each level survive into the next batch."""
        previous = self.carried.get(name)
        if previous is not None:
            found = pl.concat([previous, found], how="vertical_relaxed")
        self.carried[name] = found.filter(pl.col(f"hl{level}") == self.hl[level])
        return found

    def _patients(self, claims: pl.DataFrame) -> pl.DataFrame:
        patient = pl.col("hl23") > pl.col("hl22")
        pick = {
            k: pl.when(patient).then(pl.col(f"_p_{k}")).otherwise(pl.col(f"_s_{k}"))
            for k in ("id", "last", "first", "dob", "sex")
        }
        claims = claims.with_columns(**{f"_{k}": v for k, v in pick.items()})
        name_key = pl.concat_str(  # a patient with no DMG (date of birth) still has a name
            [pl.lit("NAME"), pl.col("_last"), pl.col("_first"), pl.col("_dob").fill_null("")],
            separator="|",
            ignore_nulls=False,
        )
        ident = pl.coalesce(pl.col("_id"), name_key)
        claims = claims.with_columns(ident.alias("_ident"))
        dob = F.date("_dob")
        return claims.with_columns(
            F.hash_ids(self.hasher, claims["_ident"]).alias("patient_key"),
            claims.select(dob.dt.year().cast(pl.Int32)).to_series().alias("patient_birth_year"),
            pl.col("_sex").alias("patient_sex"),
            pl.when(pl.col("_npi_q") == "XX").then(pl.col("_npi")).alias("billing_npi"),
            pl.coalesce(
                pl.col("billing_tax_id"),
                pl.when(pl.col("_npi_q").is_in(["24", "34"])).then(pl.col("_npi")),
            ).alias("billing_tax_id"),
        )

    def _lines(
        self, sv: pl.DataFrame, lx: pl.DataFrame, rows: pl.DataFrame, claims: pl.DataFrame
    ) -> pl.DataFrame:
        comp = self.d.component
        sv = sv.unique("line_seq", keep="first", maintain_order=True)
        prof = pl.col("e0") == "SV1"
        # an SV2 whose SV201 holds the procedure composite has no revenue code: its
        # elements sit where an SV1's do
        shifted = ~prof & pl.col("e1").fill_null("").str.contains(comp, literal=True)
        self.sink.cells(
            sv.filter(shifted).select("seg_no", "claim_seq"),
            "warning",
            "x12.shifted_element",
            "SV2",
            "2400",
            "SV201",
            "SV201 holds the procedure composite, not a revenue code: the revenue code is missing; "
            "the line was read one element early (procedure, charge, unit basis, units): ask the sender",
        )
        sv1_like = prof | shifted
        proc = pl.when(sv1_like).then(pl.col("e1")).otherwise(pl.col("e2")).str.splitn(comp, 3)
        charge_raw = pl.when(sv1_like).then(pl.col("e2")).otherwise(pl.col("e3"))
        lines = sv.with_columns(charge_raw.alias("_charge_raw")).with_columns(
            F.money("_charge_raw").alias("charge_amount")
        )
        bad = lines.filter(F.bad("_charge_raw", "charge_amount")).select("seg_no", "claim_seq")
        self.sink.cells(
            bad,
            "error",
            "x12.bad_amount",
            "SV1/SV2",
            "2400",
            "SV102/SV203",
            "the line charge is not an amount (a number with at most two decimal places); the claim was quarantined (left out of all tables)",
            quarantined=True,
        )
        self._bad_claims |= set(bad["claim_seq"])
        lines = lines.with_columns(
            proc.struct.field("field_0").alias("procedure_qualifier"),
            proc.struct.field("field_1").alias("procedure_code"),
            proc.struct.field("field_2").alias("_mods"),
        )
        mods = lines.select(pl.col("_mods").str.split_exact(comp, 3).struct.unnest())
        mods.columns = [f"modifier_{i}" for i in range(1, 5)]
        lines = lines.hstack(
            mods.with_columns(
                pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in mods.columns
            )
        )
        lines = lines.with_columns(
            pl.when(sv1_like).then(None).otherwise(pl.col("e1")).alias("revenue_code"),
            pl.when(sv1_like).then(pl.col("e3")).otherwise(pl.col("e4")).str.strip_chars().alias("unit_basis"),
            F.quantity("e4").alias("_u1"),
            F.quantity("e5").alias("_u2"),
            pl.when(prof).then(pl.col("e5")).alias("_pos"),
            pl.when(prof)
            .then(pl.col("e7").str.replace_all(comp, ",", literal=True))
            .alias("diagnosis_pointers"),
        )
        lines = lines.with_columns(
            pl.when(sv1_like).then(pl.col("_u1")).otherwise(pl.col("_u2")).alias("units")
        )
        target = lines["line_seq"].to_numpy()
        dtp = self._date_ranges(
            rows.filter((pl.col("e0") == "DTP") & (pl.col("e1") == "472")), "2400"
        )
        lin = rows.filter((pl.col("e0") == "LIN") & (pl.col("e2") == "N4")).select(
            "line_seq", _ndc11(pl.col("e3")).alias("ndc")
        )
        ctp = rows.filter(pl.col("e0") == "CTP").select(
            "line_seq", F.quantity("e4").alias("ndc_quantity")
        )
        lxn = lx.select(
            "line_seq", pl.col("e1").str.strip_chars().cast(pl.Int32, strict=False).alias("_lx")
        )
        parts = [
            _aligned(
                target,
                dtp.select(
                    "line_seq",
                    pl.col("_d0").alias("service_date_from"),
                    pl.col("_d1").alias("service_date_to"),
                ),
                "line_seq",
            ),
            _aligned(target, lin, "line_seq"),
            _aligned(target, ctp, "line_seq"),
            _aligned(target, _ref(rows, "6R", "line_control_number", "line_seq"), "line_seq"),
            _aligned(target, _nm1(rows, "82", "_lrender", "line_seq"), "line_seq"),
            _aligned(target, lxn, "line_seq"),
        ]
        lines = lines.hstack([c for p in parts for c in p.get_columns()])
        claim_info = claims.select(
            "claim_seq",
            pl.col("_fac").alias("_cpos"),
            pl.col("rendering_npi").alias("_cr"),
            pl.col("_facq"),
        )
        lines = lines.join(claim_info, on="claim_seq", how="left")
        starts = pl.col("claim_seq") != pl.col("claim_seq").shift(1)
        first = pl.when(starts.fill_null(True)).then(pl.col("line_seq")).forward_fill()
        return lines.with_columns(
            pl.coalesce("_lx", (pl.col("line_seq") - first + 1).cast(pl.Int32)).alias(
                "line_number"
            ),
            pl.when(prof).then(pl.coalesce("_pos", "_cpos")).alias("place_of_service"),
            pl.coalesce("_lrender", "_cr").alias("rendering_npi"),
        )

    def _diagnoses(self, hi: pl.DataFrame) -> pl.DataFrame:
        comp = self.d.component
        parts = []
        for k in range(1, 13):
            part = hi.filter(pl.col(f"e{k}").is_not_null())
            if part.height == 0:
                continue
            fields = pl.col(f"e{k}").str.splitn(comp, 3)
            parts.append(
                part.select(
                    "seg_no",
                    "claim_seq",
                    pl.lit(k, pl.Int32).alias("_k"),
                    fields.struct.field("field_0").alias("qualifier"),
                    fields.struct.field("field_1").alias("code"),
                )
            )
        if not parts:
            return pl.DataFrame(schema=_DIAG_SCHEMA)
        diag = pl.concat(parts).sort("seg_no", "_k")
        diag = diag.filter(
            pl.col("qualifier").is_in(list(DIAGNOSIS_QUALIFIERS)) & pl.col("code").is_not_null()
        )
        diag = diag.with_columns(
            pl.col("code").str.replace_all(".", "", literal=True).str.strip_chars()
        )
        return diag.select(
            "claim_seq",
            (pl.int_range(pl.len()).over("claim_seq") + 1).cast(pl.Int32).alias("sequence"),
            "qualifier",
            "code",
            pl.col("qualifier").is_in(list(PRINCIPAL)).alias("is_principal"),
        )

    def _check_charges(self, claims: pl.DataFrame) -> None:
        """CLM02 (the claim's total charge) must equal the sum of its lines' charges."""
        off = claims.filter(
            (pl.col("line_count") > 0) & (pl.col("_line_charges") != pl.col("charge_amount"))
        )
        self.sink.cells(
            off.select("seg_no", "claim_seq"),
            "warning",
            "x12.unbalanced_claim",
            "CLM",
            "2300",
            "CLM02",
            "the claim's total charge (CLM02) is not the sum of its lines' charges (SV102/SV203); "
            "data kept as sent: ask the sender which is right",
        )

    def _check_claims(self, claims: pl.DataFrame, lines: pl.DataFrame) -> None:
        """Claims kept but lacking what makes them usable: an id (CLM01), a service line, a
        subscriber loop (HL 22) of their own; and line unit bases that are none."""
        checks = [
            (pl.col("claim_id").is_null(), "x12.missing_element", "CLM01",
             "CLM01 (the claim id) is empty: the claim cannot be matched to its remittances; kept"),
            (pl.col("line_count") == 0, "x12.missing_element", "LX",
             "the claim has no service line (LX / SV1 / SV2); kept with no lines: ask the sender"),
            (pl.col("hl22") < pl.col("hl20"), "x12.missing_hl", "HL",
             "the claim's billing provider loop (HL 20) has no subscriber loop (HL 22) before the claim: "
             "its payer, subscriber and patient are unknown (or an earlier subscriber's); kept"),
        ]
        for cond, code, element, message in checks:
            self.sink.cells(
                claims.filter(cond).select("seg_no", "claim_seq"), "warning", code, "CLM", "2300", element,
                message,
            )
        basis = lines["unit_basis"].drop_nulls().unique().to_list()
        wrong = [b for b in basis if b not in UNIT_BASES]
        if wrong:
            self.sink.cells(
                lines.filter(pl.col("unit_basis").is_in(wrong)).select("seg_no", "claim_seq"),
                "warning",
                "x12.misplaced_element",
                "SV1/SV2",
                "2400",
                "SV103/SV204",
                "the unit basis (SV103 / SV204) is not UN, MJ, DA or F2: an element before it is probably "
                "missing, so the units may be lost; kept as sent: ask the sender",
            )

    def _claim_lines_rollup(self, claims: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
        per = lines.group_by("claim_seq").agg(
            pl.len().cast(pl.Int64).alias("line_count"),
            pl.col("charge_amount").sum().alias("_line_charges"),
            pl.col("service_date_from").min().alias("_lf"),
            pl.col("service_date_to").max().alias("_lt"),
            pl.col("procedure_qualifier").is_not_null().any().alias("_any"),
            (pl.col("e0") == "SV2").any().alias("_inst"),
            (pl.col("e0") == "SV1").any().alias("_prof"),
        )
        claims = claims.join(per, on="claim_seq", how="left")
        tx = pl.DataFrame(
            [
                {
                    "tx_seq": s,
                    "_version": v["version"],
                    "_bht": v["bht_date"],
                    "_gs": v["gs_date"],
                    "is_encounter": v["encounter"],
                }
                for s, v in self.tx.items()
            ],
            schema={
                "tx_seq": pl.Int64,
                "_version": pl.Utf8,
                "_bht": pl.Utf8,
                "_gs": pl.Utf8,
                "is_encounter": pl.Boolean,
            },
            orient="row",
        )
        claims = claims.join(tx, on="tx_seq", how="left")
        # the claim's own lines decide (SV2: institutional, SV1: professional), then the
        # guide (ST03, else GS08), then CLM05-2 (A: a facility's type of bill); a file whose
        # GS08 says X222 above X223 transactions of SV2 lines is institutional
        version = pl.col("_version").fill_null("")
        inst, prof = pl.col("_inst").fill_null(False), pl.col("_prof").fill_null(False)
        institutional = (
            pl.when(inst & ~prof)
            .then(True)
            .when(prof & ~inst)
            .then(False)
            .when(version.str.contains("X223|X096"))
            .then(True)
            .when(version.str.contains("X222|X098"))
            .then(False)
            .otherwise((pl.col("_facq") == "A").fill_null(False))
        )
        claims = claims.with_columns(F.date("_bht").alias("_bd"), F.date("_gs").alias("_gd"))
        return claims.with_columns(
            pl.when(institutional)
            .then(pl.lit("institutional"))
            .otherwise(pl.lit("professional"))
            .alias("claim_type"),
            pl.col("_version").alias("version"),
            pl.coalesce("_bd", "_gd").alias("submission_date"),
            pl.when(~institutional).then(pl.col("_fac")).alias("place_of_service"),
            pl.when(institutional)
            .then(pl.concat_str([pl.col("_fac"), pl.col("frequency_code")]))
            .alias("type_of_bill"),
            pl.coalesce("_s0", "_c0", "_lf").alias("service_date_from"),
            pl.coalesce("_s1", "_c1", "_lt").alias("service_date_to"),
            pl.col("line_count").fill_null(0),
        )

    def _quarantine(self, claims: pl.DataFrame, final: bool) -> list[int]:
        bad = set(self._bad_claims)
        open_tx = self.env.st
        if final and open_tx is not None:
            last = claims.filter(pl.col("tx_seq") == open_tx.seq).tail(1 if self._ends_in_claim else 0)
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
                    transaction_control=open_tx.control,
                    claim_id=last["claim_id"][0] if last.height else None,
                    quarantined=bool(last.height),
                )
            )
            if last.height:
                bad.add(int(last["claim_seq"][0]))
        return sorted(bad)


def is_lx(code: np.ndarray) -> np.ndarray:
    mask: np.ndarray = code == C["LX"]
    return mask


def _ref(rows: pl.DataFrame, qualifier: str, name: str, key: str = "claim_seq") -> pl.DataFrame:
    return rows.filter((pl.col("e0") == "REF") & (pl.col("e1") == qualifier)).select(
        key, pl.col("e2").alias(name)
    )


def _nm1(rows: pl.DataFrame, qualifier: str, name: str, key: str = "claim_seq") -> pl.DataFrame:
    """The NPI (NM109) of a provider NM1, only when NM108 says it is one ('XX'): 4010 files
    also carry EINs (24) and social security numbers (34) there, never to be kept."""
    return rows.filter((pl.col("e0") == "NM1") & (pl.col("e1") == qualifier)).select(
        key, pl.when(pl.col("e8").str.strip_chars() == "XX").then(pl.col("e9")).alias(name)
    )


def _trimmed(frame: pl.DataFrame) -> pl.DataFrame:
    """Text without the blanks senders pad names and codes with (' MassHealth'), empty as null."""
    text = pl.col(pl.String).str.strip_chars()
    return frame.with_columns(pl.when(text != "").then(text))


def _ndc11(raw: pl.Expr) -> pl.Expr:
    """The NDC in the 11-digit 5-4-2 form the guide asks for: a hyphenated 4-4-2, 5-3-2 or
    5-4-1 label (as printed on packages) padded to it; anything else kept, blanks dropped."""
    text = raw.str.strip_chars()
    parts = text.str.extract_groups(r"^(\d{4,5})-(\d{3,4})-(\d{1,2})$")
    padded = pl.concat_str(
        parts.struct.field("1").str.zfill(5),
        parts.struct.field("2").str.zfill(4),
        parts.struct.field("3").str.zfill(2),
    )
    return pl.coalesce(padded, text.str.replace_all(r"[\s-]", ""))


def _aligned(target: np.ndarray, frame: pl.DataFrame, key: str) -> pl.DataFrame:
    return F.align(target, frame[key].to_numpy(), frame.drop(key))


_DIAG_SCHEMA: dict[str, Any] = {
    "claim_seq": pl.Int64,
    "sequence": pl.Int32,
    "qualifier": pl.Utf8,
    "code": pl.Utf8,
    "is_principal": pl.Boolean,
}
_CLAIM_COLUMNS = [
    "claim_seq",
    "claim_id",
    "claim_type",
    "is_encounter",
    "version",
    "submission_date",
    "charge_amount",
    "place_of_service",
    "type_of_bill",
    "frequency_code",
    "original_claim_number",
    "prior_authorization",
    "billing_npi",
    "billing_tax_id",
    "billing_name",
    "rendering_npi",
    "payer_name",
    "payer_id",
    "filing_indicator",
    "group_number",
    "group_name",
    "referring_npi",
    "patient_key",
    "patient_birth_year",
    "patient_sex",
    "service_date_from",
    "service_date_to",
    "admission_date",
    "drg_code",
    "line_count",
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
    "revenue_code",
    "charge_amount",
    "units",
    "unit_basis",
    "place_of_service",
    "diagnosis_pointers",
    "ndc",
    "ndc_quantity",
    "service_date_from",
    "service_date_to",
    "rendering_npi",
    "line_control_number",
]
