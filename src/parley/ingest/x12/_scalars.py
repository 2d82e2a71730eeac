"""Scalar element parsers shared by the compiled X12 kernels.

One definition per rule: the column kernels of ``_kernels`` (one row at a
time over a batch) and the fused 835 kernel of ``_fused835`` (one segment at
a time) both call these, so the two compiled paths cannot drift apart.  The
numpy code of ``fields`` implements the same rules for the fallback path (the
tests compare them).  All take the batch bytes ``data`` and a present span
``s``..``e``; results come back as small tuples (inlined by numba).

Note for edits: numba's on-disk cache (``cache=True``) of a kernel that
inlines these functions is keyed on the kernel's own file; after changing a
rule here, clear the ``__pycache__`` ``*.nbi`` / ``*.nbc`` files.
"""

from __future__ import annotations

import numpy as np

from parley.ingest._jit import load

# numba is optional: without it (or PARLEY_X12_NUMBA=0) the numpy path of ``fields`` is used
njit, ENABLED = load("PARLEY_X12_NUMBA")


OK, BAD = 1, 2


@njit(cache=True, nogil=True, inline="always")
def days_from_civil(y, m, d):  # type: ignore[no-untyped-def]
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


#: powers of ten (a global array: numba freezes it into the compiled code)
POW10 = np.array([10**k for k in range(19)], dtype=np.int64)


@njit(cache=True, nogil=True, inline="always")
def parse_int(data, s, e, scale):  # type: ignore[no-untyped-def]
    """Decimal text -> (value * 10**scale, OK | BAD), the rules of ``FieldIndex.integers``.

    At most 20 bytes, an optional leading sign, one dot, 1-18 digits, no
    non-zero digit past ``scale`` decimals, |value| < 10**12.  Written as two
    straight digit loops (integer part, then decimals): this is the innermost
    function of the 835 kernel, called for every amount.
    """
    if e - s > 20 or e <= s:
        return np.int64(0), BAD
    i = s
    neg = data[i] == 45
    if neg or data[i] == 43:
        i += 1
    v = np.int64(0)
    digits = 0
    while i < e:
        d = np.int64(data[i]) - 48
        if d < 0 or d > 9:
            break
        v = v * 10 + d
        digits += 1
        i += 1
    decimals = 0
    if i < e:
        if data[i] != 46:
            return np.int64(0), BAD
        i += 1
        while i < e:
            d = np.int64(data[i]) - 48
            if d < 0 or d > 9:
                return np.int64(0), BAD
            if decimals < scale:
                v = v * 10 + d
                decimals += 1
            elif d != 0:
                return np.int64(0), BAD
            digits += 1
            i += 1
    if digits < 1 or digits > 18 or v >= POW10[12 + decimals]:
        return np.int64(0), BAD
    v = v * POW10[scale - decimals]
    return (-v if neg else v), OK


@njit(cache=True, nogil=True, inline="always")
def parse_date(data, s, e):  # type: ignore[no-untyped-def]
    """CCYYMMDD -> (days since 1970-01-01, OK | BAD); years 1800-2200, real calendar days."""
    if e - s != 8:
        return np.int64(0), BAD
    for i in range(8):
        ch = data[s + i]
        if ch < 48 or ch > 57:
            return np.int64(0), BAD
    y = np.int64(0)
    for i in range(4):
        y = y * 10 + (np.int64(data[s + i]) - 48)
    mo = (np.int64(data[s + 4]) - 48) * 10 + (np.int64(data[s + 5]) - 48)
    d = (np.int64(data[s + 6]) - 48) * 10 + (np.int64(data[s + 7]) - 48)
    if not (1800 <= y <= 2200 and 1 <= mo <= 12 and 1 <= d <= 31):
        return np.int64(0), BAD
    if mo == 2:
        top = 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    elif mo == 4 or mo == 6 or mo == 9 or mo == 11:
        top = 30
    else:
        top = 31
    if d > top:
        return np.int64(0), BAD
    return days_from_civil(y, mo, d), OK


@njit(cache=True, nogil=True, inline="always")
def component_span(data, comp, s, e, k):  # type: ignore[no-untyped-def]
    """Component ``k`` (0-based) of a present element span: (start, end, present)."""
    seen = 0
    cs = s
    ce = e
    found = k == 0
    for i in range(s, e):
        if data[i] == comp:
            if seen == k:  # the end of component k
                ce = i
                break
            seen += 1
            if seen == k:
                cs = i + 1
                found = True
    if not found:
        return s, s, False
    return cs, ce, ce > cs


@njit(cache=True, nogil=True, inline="always")
def components(data, comp, s, e, cs, ce):  # type: ignore[no-untyped-def]
    """Split a present element span on ``comp`` in one pass: the first ``len(cs)``
    components' spans go to ``cs`` / ``ce``; returns how many components there are
    (capped at ``len(cs)``).  Component ``k`` is ``component_span(.., k)`` when
    k < the count (present when non-empty), else absent.
    """
    cap = cs.shape[0]
    n = 0
    prev = s
    for i in range(s, e):
        if data[i] == comp:
            if n < cap:
                cs[n] = prev
                ce[n] = i
            n += 1
            prev = i + 1
    if n < cap:
        cs[n] = prev
        ce[n] = e
    n += 1
    return n if n < cap else cap


@njit(cache=True, nogil=True, inline="always")
def is_blank(ch):  # type: ignore[no-untyped-def]
    """ASCII whitespace (space, tab, LF, VT, FF, CR): what ``str.strip`` removes of ASCII."""
    return ch == 32 or (9 <= ch <= 13)


@njit(cache=True, nogil=True, inline="always")
def has_non_ascii(data, s, e):  # type: ignore[no-untyped-def]
    """A byte >= 128 in the span (plain loop: numba compiles no generators here)."""
    for i in range(s, e):  # noqa: SIM110
        if data[i] >= 128:
            return True
    return False


@njit(cache=True, nogil=True, inline="always")
def strip(data, s, e):  # type: ignore[no-untyped-def]
    """The span without its leading and trailing ASCII blanks."""
    while s < e and is_blank(data[s]):
        s += 1
    while e > s and is_blank(data[e - 1]):
        e -= 1
    return s, e
