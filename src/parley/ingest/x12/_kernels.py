"""Compiled (numba) kernels for the hot element operations of ``fields``.

Each kernel does in one pass over the rows what the numpy code in
``fields`` does in many vectorised stages, with exactly the same results
(the numpy code stays as the fallback when numba is not installed, and the
tests compare both).  Kernels are compiled with ``cache=True``: the first
process on a machine pays the compile (a few seconds), later ones load the
cached machine code.

Set ``PARLEY_X12_NUMBA=0`` to force the numpy path.
"""

from __future__ import annotations

import numpy as np

from parley.ingest.x12._scalars import (
    BAD,
    ENABLED,
    component_span,
    has_non_ascii,
    njit,
    parse_date,
    parse_int,
    strip,
)

__all__ = ["ENABLED", "njit"]


@njit(cache=True, nogil=True)
def field_index(data, starts, sep):  # type: ignore[no-untyped-def]
    """Separator positions, and per segment the index of its first separator and their count.

    ``first[i]`` = number of separators before ``starts[i]`` (searchsorted left);
    ``count[i]`` = first[i+1] - first[i] (the last one: up to the end).
    """
    n = data.shape[0]
    total = 0
    for i in range(n):
        if data[i] == sep:
            total += 1
    seps = np.empty(total, np.int32)  # batches are < 2 GB: half the memory traffic
    k = 0
    for i in range(n):
        if data[i] == sep:
            seps[k] = i
            k += 1
    m = starts.shape[0]
    first = np.empty(m, np.int64)
    j = 0
    for r in range(m):
        s = starts[r]
        # starts are increasing, but be safe: binary search when not
        if r > 0 and s < starts[r - 1]:
            j = np.searchsorted(seps, s)
        while j < total and seps[j] < s:
            j += 1
        first[r] = j
    count = np.empty(m, np.int64)
    for r in range(m):
        nxt = first[r + 1] if r + 1 < m else total
        count[r] = nxt - first[r]
    return seps, first, count


@njit(cache=True, nogil=True)
def element(seps, first, count, j):  # type: ignore[no-untyped-def]
    """Element ``j`` of rows given by their (first, count): start, end, present."""
    m = first.shape[0]
    start = np.empty(m, np.int64)
    end = np.empty(m, np.int64)
    present = np.empty(m, np.bool_)
    last = seps.shape[0] - 1
    for r in range(m):
        k = first[r] + j
        if k > last:
            k = last
        s = np.int64(seps[k - 1]) + 1
        e = np.int64(seps[k])
        start[r] = s
        end[r] = e
        present[r] = (j < count[r]) and (e > s)
    return start, end, present


@njit(cache=True, nogil=True)
def component(data, comp, start, end, present, k):  # type: ignore[no-untyped-def]
    """Component ``k`` (0-based) of each element span, by scanning its bytes."""
    m = start.shape[0]
    out_s = np.empty(m, np.int64)
    out_e = np.empty(m, np.int64)
    out_p = np.zeros(m, np.bool_)
    for r in range(m):
        s = start[r]
        e = end[r]
        if not present[r]:
            out_s[r] = s
            out_e[r] = s
            continue
        out_s[r], out_e[r], out_p[r] = component_span(data, comp, s, e, k)
    return out_s, out_e, out_p


@njit(cache=True, nogil=True)
def equals(data, start, end, present, value):  # type: ignore[no-untyped-def]
    m = start.shape[0]
    n = value.shape[0]
    out = np.zeros(m, np.bool_)
    for r in range(m):
        if not present[r] or end[r] - start[r] != n:
            continue
        s = start[r]
        same = True
        for i in range(n):
            if data[s + i] != value[i]:
                same = False
                break
        out[r] = same
    return out


@njit(cache=True, nogil=True)
def integers(data, start, end, present, scale):  # type: ignore[no-untyped-def]
    """Decimal text -> (value * 10**scale, ok, bad), the rules of ``FieldIndex.integers``."""
    m = start.shape[0]
    value = np.zeros(m, np.int64)
    ok = np.zeros(m, np.bool_)
    bad = np.zeros(m, np.bool_)
    for r in range(m):
        if not present[r]:
            continue
        v, st = parse_int(data, start[r], end[r], scale)
        if st == BAD:
            bad[r] = True
        else:
            value[r] = v
            ok[r] = True
    return value, ok, bad


@njit(cache=True, nogil=True)
def dates(data, start, end, present):  # type: ignore[no-untyped-def]
    """CCYYMMDD -> (days since 1970-01-01, ok, bad)."""
    m = start.shape[0]
    value = np.zeros(m, np.int64)
    ok = np.zeros(m, np.bool_)
    bad = np.zeros(m, np.bool_)
    for r in range(m):
        if not present[r]:
            continue
        days, st = parse_date(data, start[r], end[r])
        if st == BAD:
            bad[r] = True
        else:
            value[r] = days
            ok[r] = True
    return value, ok, bad


@njit(cache=True, nogil=True)
def gather(data, start, end, present):  # type: ignore[no-untyped-def]
    """Arrow large-string buffers (offsets, chars) of the spans (absent -> empty)."""
    m = start.shape[0]
    offsets = np.empty(m + 1, np.int64)
    offsets[0] = 0
    total = 0
    for r in range(m):
        if present[r]:
            total += end[r] - start[r]
        offsets[r + 1] = total
    chars = np.empty(total, np.uint8)
    p = 0
    for r in range(m):
        if present[r]:
            for i in range(start[r], end[r]):
                chars[p] = data[i]
                p += 1
    return offsets, chars


@njit(cache=True, nogil=True)
def compact(arr, term, drop_lf, pad):  # type: ignore[no-untyped-def]
    """One pass of the tokenizer over a chunk: CR (unless CR alone is the terminator)
    and LF (unless LF is the terminator) removed, terminator positions found.

    Returns (data, size, ends, count, high): the compacted bytes in
    ``data[:size]`` (``data`` has ``pad`` spare bytes at the end), the
    terminators' positions in ``ends[:count]``, and whether a byte >= 128 was
    seen.  What ``bytes.replace`` twice, ``==`` and ``flatnonzero`` did in
    four passes.
    """
    n = arr.shape[0]
    data = np.empty(n + pad, np.uint8)
    ends = np.empty(n + 1, np.int64)  # untouched pages cost nothing
    count = 0
    p = 0
    high = 0
    drop_cr = term != 13  # CR is dropped unless it alone ends segments
    for i in range(n):  # branch-free: ~10x faster than skipping with `continue`
        ch = arr[i]
        data[p] = ch
        high |= ch
        ends[count] = p
        count += ch == term
        p += not ((drop_cr and ch == 13) or (drop_lf and ch == 10))
    return data, p, ends, count, high >= 128


_ONES = np.uint64(0x0101010101010101)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)


@njit(cache=True, nogil=True, inline="always")
def zero_bytes(v):  # type: ignore[no-untyped-def]
    """The high bit of each byte of ``v`` that is zero, exactly (no false positives)."""
    return ~(((v & _LOW7) + _LOW7) | v | _LOW7)


@njit(cache=True, nogil=True, inline="always")
def _isa_at(arr, i, n, term):  # type: ignore[no-untyped-def]
    if i >= 2 and i < n - 2 and arr[i] == 73 and arr[i + 1] == 83 and arr[i + 2] == 65:
        b = arr[i - 1]
        return b == term or b == 10 or b == 13
    return False


@njit(cache=True, nogil=True)
def isa_candidates(arr, words, term):  # type: ignore[no-untyped-def]
    """Positions (>= 2) of "ISA" right after the terminator, a CR or an LF.

    ``words``: the same bytes as little-endian uint64 (``len(arr) // 8`` of them).  Eight
    bytes at a time: a word whose bytes hold no "ISA" start (nearly all) costs a few
    integer operations and no branch; only the others are looked at byte by byte.
    One pass into an output sized for the worst case (a candidate takes four
    bytes; untouched pages cost nothing).  Not a growing buffer: an array
    variable reassigned inside a loop makes numba refcount it on every
    iteration, ~20x slower.
    """
    n = arr.shape[0]
    out = np.empty(n // 4 + 1, np.int64)
    k = 0
    nw = words.shape[0] - 1  # the last word's "ISA" may run into the tail: byte by byte
    letter_i = _ONES * np.uint64(73)
    letter_s = _ONES * np.uint64(83)
    letter_a = _ONES * np.uint64(65)
    for q in range(nw):
        w = words[q]
        nxt = words[q + 1]
        at1 = (w >> np.uint64(8)) | (nxt << np.uint64(56))  # bytes 1..8 from this word
        at2 = (w >> np.uint64(16)) | (nxt << np.uint64(48))  # bytes 2..9
        if zero_bytes(w ^ letter_i) & zero_bytes(at1 ^ letter_s) & zero_bytes(at2 ^ letter_a):
            for j in range(8):
                if _isa_at(arr, 8 * q + j, n, term):
                    out[k] = 8 * q + j
                    k += 1
    for i in range(8 * max(nw, 0), n):  # the last word and the bytes that make no word
        if _isa_at(arr, i, n, term):
            out[k] = i
            k += 1
    return out[:k]


@njit(cache=True, nogil=True)
def seal(data, size, ends, sep, pad):  # type: ignore[no-untyped-def]
    """Terminators -> element separator, and ``pad`` zero bytes after ``size``."""
    for i in range(ends.shape[0]):
        data[ends[i]] = sep
    for i in range(size, size + pad):
        data[i] = 0


@njit(cache=True, nogil=True)
def segment_codes(arr, starts, ends, sep):  # type: ignore[no-untyped-def]
    """Segment id codes (0 for an empty/blank segment) and where each starts after blanks.

    The rules of ``Tokenizer._codes``: leading blanks (space, tab, NUL) are
    skipped, however many (pretty-printed files indent segments by loop depth).
    """
    m = starts.shape[0]
    code = np.zeros(m, np.int64)
    pos = np.empty(m, np.int64)
    n = arr.shape[0]
    safe = n - 1
    for r in range(m):
        p = starts[r]
        e = min(ends[r], n)
        while p < e:
            b = arr[p]
            if b == 32 or b == 9 or b == 0:
                p += 1
                continue
            break
        pos[r] = p
        length = e - p
        if length <= 0:
            continue
        b0 = np.int64(arr[min(p, safe)])
        if b0 == 32 or b0 == 9 or b0 == 0:
            continue
        b1 = np.int64(arr[min(p + 1, safe)]) if length > 1 else np.int64(0)
        b2 = np.int64(arr[min(p + 2, safe)]) if length > 2 else np.int64(0)
        if b2 == sep:
            b2 = np.int64(0)
        code[r] = (b0 << 16) | (b1 << 8) | b2
    return code, pos


# ------------------------------------------------------------------ HMAC-SHA256
_K256 = np.array(
    [
        0x428A2F98, 0x71374491, 0xB5C0FBCF, 0xE9B5DBA5, 0x3956C25B, 0x59F111F1, 0x923F82A4,
        0xAB1C5ED5, 0xD807AA98, 0x12835B01, 0x243185BE, 0x550C7DC3, 0x72BE5D74, 0x80DEB1FE,
        0x9BDC06A7, 0xC19BF174, 0xE49B69C1, 0xEFBE4786, 0x0FC19DC6, 0x240CA1CC, 0x2DE92C6F,
        0x4A7484AA, 0x5CB0A9DC, 0x76F988DA, 0x983E5152, 0xA831C66D, 0xB00327C8, 0xBF597FC7,
        0xC6E00BF3, 0xD5A79147, 0x06CA6351, 0x14292967, 0x27B70A85, 0x2E1B2138, 0x4D2C6DFC,
        0x53380D13, 0x650A7354, 0x766A0ABB, 0x81C2C92E, 0x92722C85, 0xA2BFE8A1, 0xA81A664B,
        0xC24B8B70, 0xC76C51A3, 0xD192E819, 0xD6990624, 0xF40E3585, 0x106AA070, 0x19A4C116,
        0x1E376C08, 0x2748774C, 0x34B0BCB5, 0x391C0CB3, 0x4ED8AA4A, 0x5B9CCA4F, 0x682E6FF3,
        0x748F82EE, 0x78A5636F, 0x84C87814, 0x8CC70208, 0x90BEFFFA, 0xA4506CEB, 0xBEF9A3F7,
        0xC67178F2,
    ],
    dtype=np.uint32,
)  # fmt: skip
_H0 = np.array(
    [
        0x6A09E667,
        0xBB67AE85,
        0x3C6EF372,
        0xA54FF53A,
        0x510E527F,
        0x9B05688C,
        0x1F83D9AB,
        0x5BE0CD19,
    ],
    dtype=np.uint32,
)


@njit(cache=True, nogil=True, inline="always")
def _rotr(x, n):  # type: ignore[no-untyped-def]
    """Rotate right a uint32 (numba widens the shifts to 64 bits; the cast narrows back)."""
    return np.uint32((x >> np.uint32(n)) | (x << np.uint32(32 - n)))


@njit(cache=True, nogil=True, inline="always")
def _compress(state, w, kk):  # type: ignore[no-untyped-def]
    """One SHA-256 compression into ``state`` (uint32[8]) of the block whose 16 big-endian
    words are in ``w[:16]`` (``w``: uint32[64], the message schedule).

    All in uint32 with a cast after every sum (LLVM then emits 32-bit adds and
    rotates): about twice as fast as uint64 arithmetic masked to 32 bits.
    """
    for t in range(16, 64):
        x = w[t - 15]
        y = w[t - 2]
        s0 = _rotr(x, 7) ^ _rotr(x, 18) ^ np.uint32(x >> np.uint32(3))
        s1 = _rotr(y, 17) ^ _rotr(y, 19) ^ np.uint32(y >> np.uint32(10))
        w[t] = np.uint32(w[t - 16] + s0 + w[t - 7] + s1)
    a = state[0]
    b = state[1]
    c = state[2]
    d = state[3]
    e = state[4]
    f = state[5]
    g = state[6]
    h = state[7]
    for t in range(64):
        s1 = _rotr(e, 6) ^ _rotr(e, 11) ^ _rotr(e, 25)
        ch = np.uint32((e & f) ^ (~e & g))
        t1 = np.uint32(h + s1 + ch + kk[t] + w[t])
        s0 = _rotr(a, 2) ^ _rotr(a, 13) ^ _rotr(a, 22)
        maj = np.uint32((a & b) ^ (a & c) ^ (b & c))
        t2 = np.uint32(s0 + maj)
        h = g
        g = f
        f = e
        e = np.uint32(d + t1)
        d = c
        c = b
        b = a
        a = np.uint32(t1 + t2)
    state[0] = np.uint32(state[0] + a)
    state[1] = np.uint32(state[1] + b)
    state[2] = np.uint32(state[2] + c)
    state[3] = np.uint32(state[3] + d)
    state[4] = np.uint32(state[4] + e)
    state[5] = np.uint32(state[5] + f)
    state[6] = np.uint32(state[6] + g)
    state[7] = np.uint32(state[7] + h)


@njit(cache=True, nogil=True, inline="always")
def _load_block(w, block):  # type: ignore[no-untyped-def]
    """The 16 big-endian words of a 64-byte block into ``w[:16]``."""
    for t in range(16):
        w[t] = (
            (np.uint32(block[4 * t]) << np.uint32(24))
            | (np.uint32(block[4 * t + 1]) << np.uint32(16))
            | (np.uint32(block[4 * t + 2]) << np.uint32(8))
            | np.uint32(block[4 * t + 3])
        )


@njit(cache=True, nogil=True)
def hmac_hex32(chars, offsets, inner0, outer0, kk):  # type: ignore[no-untyped-def]
    """HMAC-SHA256 of each value (from precomputed pad states), first 32 hex chars.

    ``inner0`` / ``outer0``: the SHA-256 states after the key's ipad / opad
    block.  Returns the hex chars (32 per value) as one uint8 buffer.
    """
    m = offsets.shape[0] - 1
    out = np.empty(m * 32, np.uint8)
    hexd = np.array([48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102], np.uint8)
    state = np.empty(8, np.uint32)
    w = np.empty(64, np.uint32)
    block = np.zeros(64, np.uint8)
    for r in range(m):
        s = offsets[r]
        n = offsets[r + 1] - s
        for i in range(8):
            state[i] = inner0[i]
        # message blocks (after the 64-byte ipad block already in the state): the bytes,
        # then 0x80, zeros and the bit length (of ipad block + message) where they fall
        pos = 0
        while True:
            for i in range(64):
                j = pos + i
                if j < n:
                    block[i] = chars[s + j]
                elif j == n:
                    block[i] = 0x80
                else:
                    block[i] = 0
            last = n - pos < 56
            if last:
                bits = np.uint64(64 + n) * np.uint64(8)
                for i in range(8):
                    block[63 - i] = np.uint8((bits >> np.uint64(8 * i)) & np.uint64(255))
            _load_block(w, block)
            _compress(state, w, kk)
            if last:
                break
            pos += 64
        # outer: opad block state + the 32-byte inner digest (8 words), padded to one block
        for i in range(8):
            w[i] = state[i]
        w[8] = np.uint32(0x80000000)
        for i in range(9, 15):
            w[i] = 0
        w[15] = np.uint32(96 * 8)
        for i in range(8):
            state[i] = outer0[i]
        _compress(state, w, kk)
        for i in range(4):  # 16 bytes = 32 hex chars
            v = state[i]
            for b in range(4):
                byte = (v >> np.uint32(24 - 8 * b)) & np.uint32(255)
                out[r * 32 + 8 * i + 2 * b] = hexd[byte >> np.uint32(4)]
                out[r * 32 + 8 * i + 2 * b + 1] = hexd[byte & np.uint32(15)]
    return out


@njit(cache=True, nogil=True)
def _pad_state(state, block, kk):  # type: ignore[no-untyped-def]
    w = np.empty(64, np.uint32)
    _load_block(w, block)
    _compress(state, w, kk)


def pad_states(key: bytes) -> tuple[np.ndarray, np.ndarray]:
    """SHA-256 states after the HMAC ipad and opad blocks of a key."""
    import hashlib

    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    out = []
    for pad in (0x36, 0x5C):
        state = _H0.copy()
        _pad_state(state, np.frombuffer(bytes(b ^ pad for b in key), np.uint8).copy(), _K256)
        out.append(state)
    return out[0], out[1]


K256 = _K256


@njit(cache=True, nogil=True)
def string_views(data, start, end, present, old, new, copy):  # type: ignore[no-untyped-def]
    """Arrow string-view buffers of spans of ``data`` (absent -> empty view, the caller masks it).

    A view is 16 bytes: the length (int32 LE), then the bytes inline when at
    most 12, else a 4-byte prefix, buffer index 0 and the offset.  ``old`` ->
    ``new`` replaces one byte (``old`` 0: none).  With ``copy`` long values
    are copied to their own buffer (returned second, the views' buffer 0);
    without it (and without a replacement) the views point into ``data``.
    """
    m = start.shape[0]
    out = np.zeros(m * 16, np.uint8)
    words = out.view(np.int32)  # length, (prefix,) buffer index, offset: int32 LE
    swap = old != 0
    total = 0
    if copy:
        for r in range(m):
            if present[r] and end[r] - start[r] > 12:
                total += end[r] - start[r]
    chars = np.empty(total, np.uint8)
    p = 0
    for r in range(m):
        if not present[r]:
            continue
        s = start[r]
        n = end[r] - s
        o = r * 16
        words[r * 4] = n
        if n <= 12:
            if swap:
                for i in range(n):
                    ch = data[s + i]
                    out[o + 4 + i] = new if ch == old else ch
            else:
                for i in range(n):
                    out[o + 4 + i] = data[s + i]
            continue
        at = s
        if copy:
            if swap:
                for i in range(n):
                    ch = data[s + i]
                    chars[p + i] = new if ch == old else ch
            else:
                for i in range(n):
                    chars[p + i] = data[s + i]
            at = p
            p += n
            for i in range(4):
                out[o + 4 + i] = chars[at + i]
        else:
            for i in range(4):
                out[o + 4 + i] = data[s + i]
        words[r * 4 + 3] = at
    return out, chars


@njit(cache=True, nogil=True)
def views(data, start, end, present):  # type: ignore[no-untyped-def]
    """String views with every long value copied to ``chars`` (see :func:`string_views`)."""
    return string_views(data, start, end, present, 0, 0, True)


@njit(cache=True, nogil=True)
def hierarchy(code, st, clp, svc, marker_codes, marker_values, n_st, n_clp, n_svc, ctx0, has_claim):  # type: ignore[no-untyped-def]
    """Running transaction / claim / line numbers and the forward-filled context of each segment.

    The rules of ``Reader835._hierarchy``: seq = count so far - 1 (file-wide),
    the context is the value of the last marker segment at or before it; rows of a
    transaction before its first CLP have claim -1 (``has_claim``: the transaction open
    at the start already had one).  Returns the arrays and the state to carry on.
    """
    m = code.shape[0]
    remit = np.empty(m, np.int64)
    claim = np.empty(m, np.int64)
    line = np.empty(m, np.int64)
    ctx = np.empty(m, np.int64)
    a = n_st
    b = n_clp
    c = n_svc
    cur = ctx0
    open_claim = has_claim
    nm = marker_codes.shape[0]
    for r in range(m):
        x = code[r]
        if x == st:
            a += 1
            open_claim = False
        elif x == clp:
            b += 1
            open_claim = True
        elif x == svc:
            c += 1
        for i in range(nm):
            if x == marker_codes[i]:
                cur = marker_values[i]
                break
        remit[r] = a - 1
        claim[r] = b - 1 if open_claim else -1
        line[r] = c - 1
        ctx[r] = cur
    return remit, claim, line, ctx, (a, b, c, cur, open_claim)


@njit(cache=True, nogil=True, inline="always")
def _among(values, x):  # type: ignore[no-untyped-def]
    """``x in values`` (a loop: numba compiles no generator into a kernel)."""
    for i in range(values.shape[0]):  # noqa: SIM110
        if values[i] == x:
            return True
    return False


@njit(cache=True, nogil=True)
def loop_scan(data, starts, ends, code, ctx, valid, sep, rep, known, dtm, svc, claim_ctx, claim_q, line_ctx, line_q, header_ctx, header_known):  # type: ignore[no-untyped-def]
    """Rows of the 835 header, claim and line loops that their loop does not have, in one pass.

    Returns (odd, repeated): ``odd`` = rows in a claim / line context whose segment id is
    not in ``known``, or a DTM whose qualifier (DTM01, three bytes) is not one of its
    loop's (``claim_q`` / ``line_q``, packed as segment ids are), and rows in the header
    context whose id is not in ``header_known``; ``repeated`` = SVC rows whose SVC01 holds
    the repetition separator ``rep`` (-1: none).  The rules of ``Reader835._loop_scan``'s
    numpy path.
    """
    m = code.shape[0]
    odd = np.empty(m, np.int64)  # untouched pages cost nothing
    repeated = np.empty(m, np.int64)
    k = 0
    j = 0
    for r in range(m):
        c = ctx[r]
        if not valid[r]:
            continue
        x = code[r]
        if c == header_ctx:
            if not _among(header_known, x):
                odd[k] = r
                k += 1
            continue
        if c != claim_ctx and c != line_ctx:
            continue
        s = starts[r]
        if x == dtm:
            q = (np.int64(data[s + 4]) << 16) | (np.int64(data[s + 5]) << 8) | np.int64(data[s + 6])
            # no array variable assigned in the loop (numba would refcount it every row)
            fits = data[s + 7] == sep and (_among(line_q, q) if c == line_ctx else _among(claim_q, q))
            if not fits:
                odd[k] = r
                k += 1
            continue
        if x == svc and rep >= 0:
            i = s + 4
            while i < ends[r] and data[i] != sep:  # SVC01
                if data[i] == rep:
                    repeated[j] = r
                    j += 1
                    break
                i += 1
        if not _among(known, x):
            odd[k] = r
            k += 1
    return odd[:k], repeated[:j]


@njit(cache=True, nogil=True)
def join_by_key(data, start, end, present, keys, targets, sep):  # type: ignore[no-untyped-def]
    """Per target key, the stripped non-empty values of its rows joined by ``sep`` (none -> null).

    Rows are in file order (keys nondecreasing), targets strictly increasing.
    Returns (views, chars, valid, ok) with string-view buffers as ``views``;
    ok is False when a value has a non-ASCII byte (Unicode blanks: the caller
    falls back to Polars).
    """
    m = targets.shape[0]
    n = keys.shape[0]
    lo = np.empty(n, np.int64)
    hi = np.empty(n, np.int64)
    for r in range(n):
        s = start[r]
        e = end[r]
        if not present[r]:
            lo[r] = 0
            hi[r] = 0
            continue
        if has_non_ascii(data, s, e):
            return np.zeros(0, np.uint8), np.zeros(0, np.uint8), np.zeros(0, np.bool_), False
        lo[r], hi[r] = strip(data, s, e)
    # pass 1: lengths
    lens = np.zeros(m, np.int64)
    valid = np.zeros(m, np.bool_)
    i = 0
    for t in range(m):
        key = targets[t]
        while i < n and keys[i] < key:
            i += 1
        j = i
        while j < n and keys[j] == key:
            if hi[j] > lo[j]:
                if valid[t]:
                    lens[t] += 1
                lens[t] += hi[j] - lo[j]
                valid[t] = True
            j += 1
        i = j
    total = 0
    for t in range(m):
        if lens[t] > 12:
            total += lens[t]
    views = np.zeros(m * 16, np.uint8)
    chars = np.empty(total, np.uint8)
    p = 0
    i = 0
    for t in range(m):
        key = targets[t]
        while i < n and keys[i] < key:
            i += 1
        j = i
        o = t * 16
        size = lens[t]
        long = size > 12
        w = 0
        first = True
        while j < n and keys[j] == key:
            if hi[j] > lo[j]:
                if not first:
                    if long:
                        chars[p + w] = sep
                    elif w < 12:
                        views[o + 4 + w] = sep
                    w += 1
                first = False
                for k in range(lo[j], hi[j]):
                    if long:
                        chars[p + w] = data[k]
                    else:
                        views[o + 4 + w] = data[k]
                    w += 1
            j += 1
        i = j
        if valid[t]:
            views[o] = size & 255
            views[o + 1] = (size >> 8) & 255
            views[o + 2] = (size >> 16) & 255
            views[o + 3] = (size >> 24) & 255
            if long:
                for k in range(4):
                    views[o + 4 + k] = chars[p + k]
                views[o + 12] = p & 255
                views[o + 13] = (p >> 8) & 255
                views[o + 14] = (p >> 16) & 255
                views[o + 15] = (p >> 24) & 255
                p += size
    return views, chars, valid, True
