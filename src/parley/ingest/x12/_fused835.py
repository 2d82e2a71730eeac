"""The 835 claim loops (CLP / SVC / CAS and their DTM, AMT, REF, LQ, NM1, MOA, MIA) in ONE pass.

``ClaimBuilder`` (``_remit_claims``) reads each column with its own numpy or
kernel pass over the batch.  :func:`build` walks the batch's segments once in
a compiled kernel that splits each segment into elements, parses amounts
(exact integer cents), dates and codes, and fills every column of
remit_claims, remit_lines and adjustments; strings become Arrow string views
that point into the batch's own bytes (no copy).

It only handles *clean* batches: the moment the kernel meets anything that
``ClaimBuilder`` would turn into a problem (an amount or date that does not
parse, an unknown claim status or group code, a segment outside a claim, a
claim that started in an earlier batch, a non-ASCII claim id...) it gives up
and :func:`build` returns None; the caller then runs ``ClaimBuilder``, which
reports the problems.  Both give the same frames (the tests compare them).
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import pyarrow as pa

from parley.ingest.base import PatientHasher
from parley.ingest.x12 import _frames as F
from parley.ingest.x12 import _kernels as K
from parley.ingest.x12 import _scalars as S
from parley.ingest.x12._scalars import njit
from parley.ingest.x12.fields import _bitmap, date_series, decimal_series
from parley.ingest.x12.tokenizer import Batch, C

if TYPE_CHECKING:
    from parley.ingest.x12.x12_835 import Reader835

# segment codes, in the order the kernel takes them
_SIDS = np.array(
    [C[s] for s in ("CLP", "SVC", "CAS", "DTM", "AMT", "REF", "LQ", "NM1", "MOA", "MIA")],
    dtype=np.int64,
)
CLAIM, LINE = 2, 3
MAXEL = 32  # elements read per segment (MIA23 is the last one used)

# claim numbers (rows of c_num / c_ok)
C_CHARGE, C_PAID, C_RESP, C_CLAIM_ADJ, C_LINE_ADJ, C_LINES, C_FROM, C_TO, C_RECV = range(9)
# claim strings (rows of c_s / c_e / c_p)
(
    S_ID,
    S_STATUS,
    S_FILING,
    S_PCN,
    S_FACILITY,
    S_FREQ,
    S_DRG,
    S_MEMBER,
) = range(8)
# line numbers
L_CHARGE, L_PAID, L_UNITS, L_SUB_UNITS, L_FROM, L_TO, L_ALLOWED, L_ADJ = range(8)
# line strings: SVC01-1..6, SVC04, SVC06-2, SVC06-3.., REF*6R
T_QUAL, T_CODE, T_MOD1, T_MOD2, T_MOD3, T_MOD4, T_REV, T_SUB_CODE, T_SUB_MODS, T_LCN = range(10)

# why the kernel gave up (for tests and debugging; the caller only needs "not 0")
FAIL = {
    1: "claim amount",
    2: "claim status",
    3: "segment outside a claim of this batch",
    4: "line amount",
    5: "adjustment amount",
    6: "group code",
    7: "date",
    8: "allowed amount",
    9: "non-ASCII claim id",
}


@njit(cache=True, nogil=True, inline="always")
def _is(data, s, e, a, b, c):  # type: ignore[no-untyped-def]
    """The span is exactly the 1-3 bytes a, b, c (0 = no such byte)."""
    n = 1 if b == 0 else (2 if c == 0 else 3)
    if e - s != n:
        return False
    if data[s] != a:
        return False
    if n > 1 and data[s + 1] != b:
        return False
    return not (n > 2 and data[s + 2] != c)


@njit(cache=True, nogil=True, inline="always")
def _known_status(data, s, e):  # type: ignore[no-untyped-def]
    """CLP02 in 1-5, 10, 13, 15, 16, 17, 19, 20, 21, 22, 23, 25."""
    n = e - s
    if n == 1:
        return 49 <= data[s] <= 53
    if n != 2:
        return False
    a = data[s]
    b = data[s + 1]
    if a == 49:
        return b == 48 or b == 51 or b == 53 or b == 54 or b == 55 or b == 57
    if a == 50:
        return b == 48 or b == 49 or b == 50 or b == 51 or b == 53
    return False


@njit(cache=True, nogil=True, inline="always")
def _known_group(data, s, e):  # type: ignore[no-untyped-def]
    """CAS01 in CO, PR, OA, PI, CR."""
    if e - s != 2:
        return False
    a = data[s]
    b = data[s + 1]
    return (
        (a == 67 and b == 79)
        or (a == 80 and b == 82)
        or (a == 79 and b == 65)
        or (a == 80 and b == 73)
        or (a == 67 and b == 82)
    )


@njit(cache=True, nogil=True, inline="always")
def _num_table(rows, n, fill):  # type: ignore[no-untyped-def]
    """(value, ok) arrays of ``rows`` x ``n`` numbers: zeroed, or left uninitialised.

    Column-major (Fortran order): the fields of one record are adjacent, so a
    segment's writes land in one or two cache lines, not in ``rows`` streams.
    """
    value = np.empty((n, rows), np.int64).T
    ok = np.empty((n, rows), np.bool_).T
    if fill:
        value[:] = 0
        ok[:] = False
    return value, ok


@njit(cache=True, nogil=True, inline="always")
def _span_table(rows, n, fill):  # type: ignore[no-untyped-def]
    """(start, end, present) arrays of ``rows`` x ``n`` spans: zeroed, or left uninitialised."""
    start = np.empty((n, rows), np.int64).T  # column-major, as in _num_table
    end = np.empty((n, rows), np.int64).T
    present = np.empty((n, rows), np.bool_).T
    if fill:
        start[:] = 0
        end[:] = 0
        present[:] = False
    return start, end, present


@njit(cache=True, nogil=True, inline="always")
def _amounts(data, bs, be, n, pairs, num, ok, col):  # type: ignore[no-untyped-def]
    """Money elements ``j`` -> ``num[slot, col]`` (cents) for each (j, slot); False: one is bad."""
    for j, slot in pairs:
        if j < n and be[j] > bs[j]:
            v, st = S.parse_int(data, bs[j], be[j], 2)
            if st == S.BAD:
                return False
            num[slot, col] = v
            ok[slot, col] = True
    return True


@njit(cache=True, nogil=True, inline="always")
def _dtm_date(data, bs, be, n):  # type: ignore[no-untyped-def]
    """DTM02 of a split segment: (days, 0 absent | S.OK | S.BAD)."""
    if n > 2 and be[2] > bs[2]:
        return S.parse_date(data, bs[2], be[2])
    return np.int64(0), 0


@njit(cache=True, nogil=True)
def _counts(code, sids):  # type: ignore[no-untyped-def]
    """(CLP, SVC, CAS, LQ, MOA + MIA) segments of a batch, in one pass (``remit_batch``'s sizes)."""
    out = np.zeros(5, np.int64)
    for r in range(code.shape[0]):
        x = code[r]
        if x == sids[0]:
            out[0] += 1
        elif x == sids[1]:
            out[1] += 1
        elif x == sids[2]:
            out[2] += 1
        elif x == sids[6]:
            out[3] += 1
        elif x == sids[8] or x == sids[9]:  # noqa: PLR1714
            out[4] += 1
    return out


@njit(cache=True, nogil=True)
def remit_batch(data, starts, ends, code, ctx, claim_seq, line_seq, sep, comp, sids, counts):  # type: ignore[no-untyped-def]
    """Fill the claim, line and adjustment columns of one batch; see the module docstring.

    ``counts`` = (CLP, SVC, CAS, LQ, MOA + MIA) segments in the batch (upper bounds).
    Returns (fail, fail_row, claim arrays, line arrays, adjustment arrays,
    LQ spans, MOA/MIA spans) - fail 0 means the arrays are complete.
    """
    clp, svc, cas, dtm, amt, ref, lq, nm1, moa, mia = (
        sids[0],
        sids[1],
        sids[2],
        sids[3],
        sids[4],
        sids[5],
        sids[6],
        sids[7],
        sids[8],
        sids[9],
    )
    nc, nl, nca, nlq, nrm = counts[0], counts[1], counts[2], counts[3], counts[4]
    c_row = np.empty(nc, np.int64)
    c_num, c_ok = _num_table(9, nc, True)
    c_s, c_e, c_p = _span_table(8, nc, True)
    c_rev = np.zeros(nc, np.bool_)
    nm1_seen = np.zeros(nc, np.bool_)
    l_row = np.empty(nl, np.int64)
    l_claim = np.empty(nl, np.int64)
    l_number = np.empty(nl, np.int32)
    l_num, l_ok = _num_table(8, nl, True)
    l_s, l_e, l_p = _span_table(10, nl, True)
    amt_seen = np.zeros(nl, np.bool_)
    ref_seen = np.zeros(nl, np.bool_)
    na = nca * 6
    # sized for six adjustments per CAS but left uninitialised (untouched pages cost
    # nothing): every field of a row is set when the row is written
    a_row = np.empty(na, np.int64)
    a_line = np.empty(na, np.bool_)
    a_num, a_ok = _num_table(2, na, False)
    a_s, a_e, a_p = _span_table(2, na, False)
    q_key = np.empty(nlq, np.int64)
    q_table = _span_table(1, nlq, True)
    q_s, q_e, q_p = q_table[0][0], q_table[1][0], q_table[2][0]
    r_key = np.empty(nrm * 5, np.int64)
    r_table = _span_table(1, nrm * 5, True)
    r_s, r_e, r_p = r_table[0][0], r_table[1][0], r_table[2][0]
    bs = np.zeros(MAXEL, np.int64)
    be = np.zeros(MAXEL, np.int64)
    ks = np.zeros(6, np.int64)  # components of SVC01 / SVC06
    ke = np.zeros(6, np.int64)
    ic = -1  # claims, lines, adjustments, LQ and remark spans filled so far
    il = -1
    ia = 0
    iq = 0
    ir = 0
    base_c = -1
    base_l = -1
    fail = 0
    m = code.shape[0]
    r = 0
    while r < m:
        x = code[r]
        cx = ctx[r]
        wanted = (  # plain comparisons: the fastest test in the compiled loop
            x == clp  # noqa: SIM109
            or x == svc
            or ((x == cas or x == dtm) and (cx == CLAIM or cx == LINE))  # noqa: SIM109
            or ((x == amt or x == ref or x == lq) and cx == LINE)  # noqa: SIM109
            or ((x == nm1 or x == moa or x == mia) and cx == CLAIM)  # noqa: SIM109
        )
        if not wanted:
            r += 1
            continue
        # elements: bs[j]..be[j], j < n (0 = the segment id).  Not S.components: this
        # inline loop (MAXEL a constant, the terminator closing the last element) runs
        # ~25% faster in this kernel, measured
        n = 0
        prev = starts[r]
        for i in range(starts[r], ends[r] + 1):
            if data[i] == sep:
                if n < MAXEL:
                    bs[n] = prev
                    be[n] = i
                n += 1
                prev = i + 1
        if n > MAXEL:
            n = MAXEL
        if x == clp:
            if ic < 0:
                base_c = claim_seq[r]
            ic += 1
            if claim_seq[r] != base_c + ic:
                fail = 3
                break
            c_row[ic] = r
            if not _amounts(
                data, bs, be, n, ((3, C_CHARGE), (4, C_PAID), (5, C_RESP)), c_num, c_ok, ic
            ):
                fail = 1
                break
            if not (n > 2 and be[2] > bs[2] and _known_status(data, bs[2], be[2])):
                fail = 2
                break
            c_rev[ic] = be[2] - bs[2] == 2 and data[bs[2]] == 50 and data[bs[2] + 1] == 50
            if n > 1 and be[1] > bs[1]:
                if S.has_non_ascii(data, bs[1], be[1]):
                    fail = 9
                    break
                c_s[S_ID, ic], c_e[S_ID, ic] = S.strip(data, bs[1], be[1])
                c_p[S_ID, ic] = True
            for j, slot in (
                (2, S_STATUS),
                (6, S_FILING),
                (7, S_PCN),
                (8, S_FACILITY),
                (9, S_FREQ),
                (11, S_DRG),
            ):
                if j < n and be[j] > bs[j]:
                    c_s[slot, ic] = bs[j]
                    c_e[slot, ic] = be[j]
                    c_p[slot, ic] = True
            r += 1
            continue
        # every other segment belongs to a claim of this batch
        k = claim_seq[r] - base_c
        if ic < 0 or k < 0 or k > ic:
            fail = 3
            break
        if x == svc:
            il += 1
            if il == 0:
                base_l = line_seq[r]
            if line_seq[r] != base_l + il:
                fail = 3
                break
            l_row[il] = r
            l_claim[il] = claim_seq[r]
            l_number[il] = 1 if il == 0 or l_claim[il - 1] != claim_seq[r] else l_number[il - 1] + 1
            c_num[C_LINES, k] += 1
            if not _amounts(data, bs, be, n, ((2, L_CHARGE), (3, L_PAID)), l_num, l_ok, il):
                fail = 4
                break
            l_num[L_UNITS, il] = 1000
            l_ok[L_UNITS, il] = True
            if n > 5 and be[5] > bs[5]:
                v, st = S.parse_int(data, bs[5], be[5], 3)
                if st == S.OK:
                    l_num[L_UNITS, il] = v
            if n > 7 and be[7] > bs[7]:
                v, st = S.parse_int(data, bs[7], be[7], 3)
                if st == S.OK:
                    l_num[L_SUB_UNITS, il] = v
                    l_ok[L_SUB_UNITS, il] = True
            if n > 1 and be[1] > bs[1]:
                nk = S.components(data, comp, bs[1], be[1], ks, ke)
                for c in range(nk):
                    l_s[T_QUAL + c, il] = ks[c]
                    l_e[T_QUAL + c, il] = ke[c]
                    l_p[T_QUAL + c, il] = ke[c] > ks[c]
                for c in range(nk, 6):
                    l_s[T_QUAL + c, il] = bs[1]
                    l_e[T_QUAL + c, il] = bs[1]
            if n > 4 and be[4] > bs[4]:
                l_s[T_REV, il] = bs[4]
                l_e[T_REV, il] = be[4]
                l_p[T_REV, il] = True
            if n > 6 and be[6] > bs[6]:
                nk = S.components(data, comp, bs[6], be[6], ks, ke)
                if nk > 1:
                    l_s[T_SUB_CODE, il] = ks[1]
                    l_e[T_SUB_CODE, il] = ke[1]
                    l_p[T_SUB_CODE, il] = ke[1] > ks[1]
                else:
                    l_s[T_SUB_CODE, il] = bs[6]
                    l_e[T_SUB_CODE, il] = bs[6]
                if nk > 2:
                    l_s[T_SUB_MODS, il] = ks[2]
                    l_p[T_SUB_MODS, il] = ke[2] > ks[2]
                else:
                    l_s[T_SUB_MODS, il] = bs[6]
                l_e[T_SUB_MODS, il] = be[6]
            r += 1
            continue
        if x == cas:
            if not (n > 1 and be[1] > bs[1] and _known_group(data, bs[1], be[1])):
                fail = 6
                break
            is_line = cx == LINE
            li = line_seq[r] - base_l
            if is_line and (il < 0 or li < 0 or li > il):
                fail = 3
                break
            for t in range(6):
                j = 2 + 3 * t
                if t > 0 and n <= j:
                    break
                rp = j < n and be[j] > bs[j]
                ap = j + 1 < n and be[j + 1] > bs[j + 1]
                if not (rp or ap):
                    continue
                if not ap:
                    fail = 5
                    break
                v, st = S.parse_int(data, bs[j + 1], be[j + 1], 2)
                if st == S.BAD:
                    fail = 5
                    break
                a_row[ia] = r
                a_line[ia] = is_line
                a_num[0, ia] = v
                a_ok[0, ia] = True
                a_s[0, ia] = bs[1]
                a_e[0, ia] = be[1]
                a_p[0, ia] = True
                a_s[1, ia] = bs[j]
                a_e[1, ia] = be[j]
                a_p[1, ia] = rp
                a_num[1, ia] = 0
                a_ok[1, ia] = False
                if j + 2 < n and be[j + 2] > bs[j + 2]:
                    q, st = S.parse_int(data, bs[j + 2], be[j + 2], 3)
                    if st == S.OK:
                        a_num[1, ia] = q
                        a_ok[1, ia] = True
                if is_line:
                    l_num[L_ADJ, li] += v
                    c_num[C_LINE_ADJ, k] += v
                else:
                    c_num[C_CLAIM_ADJ, k] += v
                ia += 1
            if fail:
                break
            r += 1
            continue
        # DTM02, in either context (a date that does not parse: give up)
        days, st = _dtm_date(data, bs, be, n) if x == dtm else (np.int64(0), 0)
        if st == S.BAD:
            fail = 7
            break
        dated = st == S.OK
        if cx == LINE:
            li = line_seq[r] - base_l
            if il < 0 or li < 0 or li > il:
                fail = 3
                break
            if x == dtm:
                if dated:
                    q1 = _is(data, bs[1], be[1], 52, 55, 50)  # 472
                    if (q1 or _is(data, bs[1], be[1], 49, 53, 48)) and not l_ok[L_FROM, li]:
                        l_num[L_FROM, li] = days
                        l_ok[L_FROM, li] = True
                    if (q1 or _is(data, bs[1], be[1], 49, 53, 49)) and not l_ok[L_TO, li]:
                        l_num[L_TO, li] = days
                        l_ok[L_TO, li] = True
            elif x == amt:
                if n > 1 and _is(data, bs[1], be[1], 66, 54, 0):  # B6
                    ok = False
                    v = np.int64(0)
                    if n > 2 and be[2] > bs[2]:
                        v, st = S.parse_int(data, bs[2], be[2], 2)
                        if st == S.BAD:
                            fail = 8
                            break
                        ok = True
                    if not amt_seen[li]:
                        amt_seen[li] = True
                        l_num[L_ALLOWED, li] = v
                        l_ok[L_ALLOWED, li] = ok
            elif x == ref:
                if n > 1 and _is(data, bs[1], be[1], 54, 82, 0) and not ref_seen[li]:  # 6R
                    ref_seen[li] = True
                    if n > 2 and be[2] > bs[2]:
                        l_s[T_LCN, li] = bs[2]
                        l_e[T_LCN, li] = be[2]
                        l_p[T_LCN, li] = True
            elif x == lq and n > 1 and _is(data, bs[1], be[1], 72, 69, 0):  # LQ*HE
                q_key[iq] = line_seq[r]
                if n > 2 and be[2] > bs[2]:
                    q_s[iq] = bs[2]
                    q_e[iq] = be[2]
                    q_p[iq] = True
                iq += 1
            r += 1
            continue
        # claim context: DTM, NM1, MOA, MIA
        if x == dtm:
            if dated:
                slot = -1
                if _is(data, bs[1], be[1], 50, 51, 50):  # 232
                    slot = C_FROM
                elif _is(data, bs[1], be[1], 50, 51, 51):  # 233
                    slot = C_TO
                elif _is(data, bs[1], be[1], 48, 53, 48):  # 050
                    slot = C_RECV
                if slot >= 0 and not c_ok[slot, k]:
                    c_num[slot, k] = days
                    c_ok[slot, k] = True
        elif x == nm1:
            if n > 1 and _is(data, bs[1], be[1], 81, 67, 0) and not nm1_seen[k]:  # QC
                nm1_seen[k] = True
                if n > 9 and be[9] > bs[9]:
                    c_s[S_MEMBER, k] = bs[9]
                    c_e[S_MEMBER, k] = be[9]
                    c_p[S_MEMBER, k] = True
        else:  # MOA03-07, MIA05, MIA20-23
            for t in range(5):
                j = 3 + t if x == moa else (5 if t == 0 else 19 + t)
                r_key[ir] = claim_seq[r]
                if j < n and be[j] > bs[j]:
                    r_s[ir] = bs[j]
                    r_e[ir] = be[j]
                    r_p[ir] = True
                ir += 1
        r += 1
    return (
        fail,
        r,
        (c_row[: ic + 1], c_num[:, : ic + 1], c_ok[:, : ic + 1]),
        (c_s[:, : ic + 1], c_e[:, : ic + 1], c_p[:, : ic + 1], c_rev[: ic + 1]),
        (l_row[: il + 1], l_claim[: il + 1], l_number[: il + 1]),
        (l_num[:, : il + 1], l_ok[:, : il + 1]),
        (l_s[:, : il + 1], l_e[:, : il + 1], l_p[:, : il + 1]),
        (a_row[:ia], a_line[:ia], a_num[:, :ia], a_ok[:, :ia]),
        (a_s[:, :ia], a_e[:, :ia], a_p[:, :ia]),
        (q_key[:iq], q_s[:iq], q_e[:iq], q_p[:iq]),
        (r_key[:ir], r_s[:ir], r_e[:ir], r_p[:ir]),
    )


@njit(cache=True, nogil=True)
def line_range(c_num, c_ok, l_claim, l_num, l_ok, base_c):  # type: ignore[no-untyped-def]
    """Claims without DTM*232 / 233: the earliest line start and the latest line end."""
    nc = c_num.shape[1]
    lo = np.zeros(nc, np.int64)
    hi = np.zeros(nc, np.int64)
    has_lo = np.zeros(nc, np.bool_)
    has_hi = np.zeros(nc, np.bool_)
    for i in range(l_claim.shape[0]):
        k = l_claim[i] - base_c
        if l_ok[L_FROM, i]:
            d = l_num[L_FROM, i]
            if not has_lo[k] or d < lo[k]:
                lo[k] = d
                has_lo[k] = True
        if l_ok[L_TO, i]:
            d = l_num[L_TO, i]
            if not has_hi[k] or d > hi[k]:
                hi[k] = d
                has_hi[k] = True
    for k in range(nc):
        if not c_ok[C_FROM, k] and has_lo[k]:
            c_num[C_FROM, k] = lo[k]
            c_ok[C_FROM, k] = True
        if not c_ok[C_TO, k] and has_hi[k]:
            c_num[C_TO, k] = hi[k]
            c_ok[C_TO, k] = True


@njit(cache=True, nogil=True)
def upper_ids(data, start, end, present):  # type: ignore[no-untyped-def]
    """Identifiers stripped of blanks and upper-cased, packed for ``K.hmac_hex32``.

    Returns (chars, offsets, valid, ok): the non-empty values only, in order;
    ok is False when a value is not ASCII (the caller then uses ``hash_ids``).
    """
    m = start.shape[0]
    valid = np.zeros(m, np.bool_)
    lo = np.zeros(m, np.int64)
    hi = np.zeros(m, np.int64)
    total = 0
    count = 0
    for r in range(m):
        if not present[r]:
            continue
        s = start[r]
        e = end[r]
        if S.has_non_ascii(data, s, e):
            return np.zeros(0, np.uint8), np.zeros(1, np.int64), valid, False
        s, e = S.strip(data, s, e)
        if e > s:
            valid[r] = True
            lo[r] = s
            hi[r] = e
            total += e - s
            count += 1
    chars = np.empty(total, np.uint8)
    offsets = np.zeros(count + 1, np.int64)
    p = 0
    k = 0
    for r in range(m):
        if valid[r]:
            for i in range(lo[r], hi[r]):
                ch = data[i]
                chars[p] = ch - 32 if 97 <= ch <= 122 else ch
                p += 1
            k += 1
            offsets[k] = p
    return chars, offsets, valid, True


def patient_keys(
    hasher: PatientHasher, data: np.ndarray, start: np.ndarray, end: np.ndarray, present: np.ndarray
) -> pl.Series:
    """``hash_ids`` of member id spans, hashed straight from the bytes (same values)."""
    secret = getattr(hasher, "_secret", None)
    if type(hasher) is PatientHasher and isinstance(secret, bytes):
        chars, offsets, valid, ok = upper_ids(
            data, start, end, np.ascontiguousarray(present, np.bool_)
        )
        if ok:
            key = hashlib.sha256(secret).digest() if len(secret) > 64 else secret
            pads = F._PADS.get(key)
            if pads is None:
                pads = F._PADS[key] = K.pad_states(key)
            hexed = K.hmac_hex32(chars, offsets, pads[0], pads[1], K.K256)
            at = (np.cumsum(valid) - 1) * 32
            buf = pa.py_buffer(hexed)
            return strings(hexed, buf, at, at + 32, valid, "patient_key")
    member = strings(data, pa.py_buffer(data), start, end, present, "id")
    return F.hash_ids(hasher, member).alias("patient_key")


def strings(
    data: np.ndarray,
    data_buf: pa.Buffer,
    start: np.ndarray,
    end: np.ndarray,
    present: np.ndarray,
    name: str,
    replace: tuple[int, int] = (0, 0),
) -> pl.Series:
    """A Polars string column of byte spans, as Arrow string views into the batch's bytes."""
    # rows of the kernel's column-major tables are strided views: passed as they are
    # (the kernel reads them in place), not copied
    present = np.asarray(present, np.bool_)
    if not present.any():  # a column the batch never fills (MIA, DRG, SVC06...): no views
        return pl.repeat(None, len(present), dtype=pl.String, eager=True).alias(name)
    views, chars = K.string_views(
        data,
        np.asarray(start, np.int64),
        np.asarray(end, np.int64),
        present,
        replace[0],
        replace[1],
        replace[0] != 0,
    )
    buffer = data_buf if replace[0] == 0 else pa.py_buffer(chars)
    m = len(present)
    array = pa.Array.from_buffers(
        pa.string_view(),
        m,
        [_bitmap(present), pa.py_buffer(views), buffer],
        int(m - np.count_nonzero(present)),
    )
    series = pl.from_arrow(array)
    assert isinstance(series, pl.Series)
    return series.alias(name)


def _joined(
    data: np.ndarray, spans: tuple[np.ndarray, ...], targets: np.ndarray, name: str
) -> pl.Series | None:
    """Stripped non-empty values per target key, comma separated (None: not ASCII)."""
    keys, start, end, present = spans
    views, chars, valid, ok = K.join_by_key(
        data, start, end, present, keys, np.ascontiguousarray(targets, np.int64), ord(",")
    )
    if not ok:
        return None
    m = len(targets)
    array = pa.Array.from_buffers(
        pa.string_view(),
        m,
        [_bitmap(valid), pa.py_buffer(views), pa.py_buffer(chars)],
        int(m - np.count_nonzero(valid)),
    )
    series = pl.from_arrow(array)
    assert isinstance(series, pl.Series)
    return series.alias(name)


def _balanced(diff: np.ndarray, ok: np.ndarray) -> pl.Series:
    out = pl.Series("balanced", diff == 0)
    if not ok.all():
        out = out.scatter(np.flatnonzero(~ok), None)
    return out


def build(
    reader: Reader835, batch: Batch, cols: dict[str, np.ndarray]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame] | None:
    """(remit_claims with remark_codes, remit_lines, adjustments) of a clean batch, else None."""
    if not K.ENABLED or not cols["_valid"].all():
        return None
    code = batch.code
    counts = _counts(np.ascontiguousarray(code, np.int64), _SIDS)
    data = batch.data
    out = remit_batch(
        data,
        np.ascontiguousarray(batch.starts, np.int64),
        np.ascontiguousarray(batch.ends, np.int64),
        np.ascontiguousarray(code, np.int64),
        np.ascontiguousarray(cols["ctx"], np.int64),
        np.ascontiguousarray(cols["claim_seq"], np.int64),
        np.ascontiguousarray(cols["line_seq"], np.int64),
        ord(reader.d.element),
        ord(reader.d.component),
        _SIDS,
        counts,
    )
    fail, _, (c_row, c_num, c_ok), c_str, l_idx, (l_num, l_ok), l_str, adj, adj_str, lq, rm = out
    if fail:
        return None
    keys = cols["claim_seq"][c_row]
    line_keys = cols["line_seq"][l_idx[0]]
    if len(keys):
        line_range(c_num, c_ok, l_idx[1], l_num, l_ok, int(keys[0]))
    remarks = _joined(data, rm, keys, "remark_codes")
    line_remarks = _joined(data, lq, line_keys, "remark_codes")
    if remarks is None or line_remarks is None:
        return None
    buf = pa.py_buffer(data)

    def text(spans: tuple[np.ndarray, ...], i: int, name: str, **kw: tuple[int, int]) -> pl.Series:
        return strings(data, buf, spans[0][i], spans[1][i], spans[2][i], name, **kw)

    def money(num: np.ndarray, ok: np.ndarray, i: int, name: str, scale: int = 2) -> pl.Series:
        return decimal_series(num[i], ok[i], 14 if scale == 2 else 12, scale, name)

    claims = _claims(reader, batch, cols, c_row, keys, c_num, c_ok, c_str, text, money, remarks)
    lines = _lines(batch, l_idx, line_keys, l_num, l_ok, l_str, text, money, line_remarks, reader)
    adjustments = _adjustments(cols, adj, adj_str, text)
    return claims, lines, adjustments


def _claims(reader, batch, cols, c_row, keys, c_num, c_ok, c_str, text, money, remarks):  # type: ignore[no-untyped-def]
    n = len(keys)
    ones = np.ones(n, bool)
    paid_ok = c_ok[C_PAID]
    diff = c_num[C_CHARGE] - c_num[C_PAID] - c_num[C_CLAIM_ADJ] - c_num[C_LINE_ADJ]
    balanced_ok = c_ok[C_CHARGE] & paid_ok
    return pl.DataFrame(
        [
            pl.Series("seg_no", batch.seg_no[c_row]),
            pl.Series("remittance_seq", cols["remittance_seq"][c_row]),
            pl.Series("claim_seq", keys),
            pl.Series("line_count", c_num[C_LINES]),
            pl.Series("_paid_cents", np.where(paid_ok, c_num[C_PAID], 0)),
            pl.Series("is_reversal", c_str[3]),
            text(c_str, S_ID, "claim_id"),
            text(c_str, S_STATUS, "status_code"),
            money(c_num, c_ok, C_CHARGE, "charge_amount"),
            money(c_num, c_ok, C_PAID, "paid_amount"),
            money(c_num, c_ok, C_RESP, "patient_responsibility"),
            text(c_str, S_FILING, "filing_indicator"),
            text(c_str, S_PCN, "payer_claim_number"),
            text(c_str, S_FACILITY, "facility_code"),
            text(c_str, S_FREQ, "frequency_code"),
            text(c_str, S_DRG, "drg_code"),
            decimal_series(c_num[C_CLAIM_ADJ], ones, 14, 2, "claim_adjustment_amount"),
            decimal_series(c_num[C_LINE_ADJ], ones, 14, 2, "line_adjustment_amount"),
            decimal_series(diff, balanced_ok, 14, 2, "balance_difference"),
            _balanced(diff, balanced_ok),
            date_series(c_num[C_FROM], c_ok[C_FROM], "service_date_from"),
            date_series(c_num[C_TO], c_ok[C_TO], "service_date_to"),
            date_series(c_num[C_RECV], c_ok[C_RECV], "received_date"),
            patient_keys(
                reader.hasher,
                batch.data,
                c_str[0][S_MEMBER],
                c_str[1][S_MEMBER],
                c_str[2][S_MEMBER],
            ),
            remarks,
        ]
    )


def _lines(batch, l_idx, keys, l_num, l_ok, l_str, text, money, remarks, reader):  # type: ignore[no-untyped-def]
    rows, claims, number = l_idx
    n = len(rows)
    ones = np.ones(n, bool)
    diff = l_num[L_CHARGE] - l_num[L_PAID] - l_num[L_ADJ]
    balanced_ok = l_ok[L_CHARGE] & l_ok[L_PAID]
    comp = ord(reader.d.component)
    return pl.DataFrame(
        [
            pl.Series("seg_no", batch.seg_no[rows]),
            pl.Series("claim_seq", claims),
            pl.Series("line_seq", keys),
            pl.Series("line_number", number),
            text(l_str, T_QUAL, "procedure_qualifier"),
            text(l_str, T_CODE, "procedure_code"),
            *[text(l_str, T_MOD1 + i, f"modifier_{1 + i}") for i in range(4)],
            money(l_num, l_ok, L_CHARGE, "charge_amount"),
            money(l_num, l_ok, L_PAID, "paid_amount"),
            text(l_str, T_REV, "revenue_code"),
            decimal_series(l_num[L_UNITS], ones, 12, 3, "units"),
            text(l_str, T_SUB_CODE, "submitted_procedure_code"),
            text(l_str, T_SUB_MODS, "submitted_modifiers", replace=(comp, ord(","))),
            money(l_num, l_ok, L_SUB_UNITS, "submitted_units", scale=3),
            date_series(l_num[L_FROM], l_ok[L_FROM], "service_date_from"),
            date_series(l_num[L_TO], l_ok[L_TO], "service_date_to"),
            decimal_series(l_num[L_ADJ], ones, 14, 2, "adjustment_amount"),
            decimal_series(diff, balanced_ok, 14, 2, "balance_difference"),
            _balanced(diff, balanced_ok),
            money(l_num, l_ok, L_ALLOWED, "allowed_amount"),
            text(l_str, T_LCN, "line_control_number"),
            remarks,
        ]
    )


def _adjustments(cols, adj, adj_str, text):  # type: ignore[no-untyped-def]
    rows, is_line, num, ok = adj
    line = cols["line_seq"][rows]
    line_col = pl.Series("line_seq", line, dtype=pl.Int64)
    if not is_line.all():
        line_col = line_col.scatter(np.flatnonzero(~is_line), None)
    return pl.DataFrame(
        [
            pl.Series("claim_seq", cols["claim_seq"][rows]),
            line_col,
            _level(is_line),
            text(adj_str, 0, "group_code"),
            text(adj_str, 1, "reason_code"),
            decimal_series(num[0], ok[0], 14, 2, "amount"),
            decimal_series(num[1], ok[1], 12, 3, "quantity"),
        ]
    )


_LEVEL_VIEWS = np.zeros((2, 16), np.uint8)
_LEVEL_VIEWS[0, 0], _LEVEL_VIEWS[0, 4:9] = 5, np.frombuffer(b"claim", np.uint8)
_LEVEL_VIEWS[1, 0], _LEVEL_VIEWS[1, 4:8] = 4, np.frombuffer(b"line", np.uint8)


def _level(is_line: np.ndarray) -> pl.Series:
    """'line' / 'claim' per adjustment, as inline string views (no Python strings)."""
    views = _LEVEL_VIEWS[is_line.astype(np.intp)]
    array = pa.Array.from_buffers(
        pa.string_view(), len(is_line), [None, pa.py_buffer(views), pa.py_buffer(b"")], 0
    )
    series = pl.from_arrow(array)
    assert isinstance(series, pl.Series)
    return series.alias("level")
