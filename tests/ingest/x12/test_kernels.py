"""The compiled kernels (numba) give exactly what the numpy path gives."""

from __future__ import annotations

import os

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from x12_support import DATA, Parsed, parse

from parley.ingest.x12 import _kernels as K

pytestmark = pytest.mark.skipif(not K.ENABLED, reason="numba not installed")

SAMPLES = sorted(p.name for p in DATA.iterdir())


def _both(
    data: bytes, kind: str | None = None, chunk_bytes: int = 32 << 20
) -> tuple[Parsed, Parsed]:
    fast = parse(data, kind, chunk_bytes=chunk_bytes)
    K.ENABLED = False
    try:
        slow = parse(data, kind, chunk_bytes=chunk_bytes)
    finally:
        K.ENABLED = True
    return fast, slow


def _same(fast: Parsed, slow: Parsed) -> None:
    assert [repr(p) for p in fast.problems] == [repr(p) for p in slow.problems]
    assert sorted(fast.tables) == sorted(slow.tables)
    for name, frame in slow.tables.items():
        assert_frame_equal(fast.tables[name], frame)


@pytest.mark.parametrize("name", SAMPLES)
@pytest.mark.parametrize("chunk_bytes", [32 << 20, 2048])
def test_samples_same_with_and_without_kernels(name: str, chunk_bytes: int) -> None:
    _same(*_both((DATA / name).read_bytes(), chunk_bytes=chunk_bytes))


BASE = (
    DATA / "LinuxForHealth__x12__src_tests_resources_835_005010X221A1_managed-care.835"
).read_bytes()
ALPHABET = b"0123456789.-+*:~^ AZ\n\r\xc3\xa9\xff"


@st.composite
def edited(draw: st.DrawFn) -> bytes:
    data = bytearray(BASE)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data) - 1))
        size = draw(st.integers(0, 12))
        repl = bytes(draw(st.lists(st.sampled_from(list(ALPHABET)), max_size=12)))
        data[at : at + size] = repl
    return bytes(data)


@settings(
    max_examples=int(os.environ.get("PARLEY_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(edited())
def test_edited_835_same_with_and_without_kernels(data: bytes) -> None:
    _same(*_both(data, "x12-835"))


def test_numbers_and_dates_edge_cases() -> None:
    import numpy as np

    from parley.ingest.x12.fields import FieldIndex

    values = [
        "1", "-1", "+1", "1.", ".5", "-.5", "1.005", "1.000", "1.2.3", "--1", "1-", "", "-",
        "999999999999.99", "1000000000000", "12345678901234567890", "0000000000000000001",
        "99999999999999999", "1e5", " 1", "1 ", "20240229", "20230229", "20240431", "18000101",
        "22001231", "17991231", "2024013", "202401011", "20241301", "20240100", "abcdefgh",
        # 18 digits: scaling them by 10**scale would overflow int64; too large either way
        "999999999999999999", "-999999999999999999", "99999999999999999.9", "999999999999.999",
        "000000000000000001.5", "0.00000000000000001", "+", ".", "1..", "-0", "0.10", "9" * 21,
    ]  # fmt: skip
    text = ("X*" + "*".join(values) + "*").encode()
    data = np.frombuffer(text + b"\0" * 32, dtype=np.uint8).copy()
    starts = np.array([0], dtype=np.int64)
    fx_fast = FieldIndex(data, starts, starts, ord("*"), ord(":"))
    K.ENABLED = False
    try:
        fx_slow = FieldIndex(data, starts, starts, ord("*"), ord(":"))
    finally:
        K.ENABLED = True
    rows = np.zeros(1, dtype=np.int64)
    for j in range(1, len(values) + 1):
        fast_span = fx_fast.element(rows, j)
        K.ENABLED = False
        try:
            slow_span = fx_slow.element(rows, j)
            slow = [fx_slow.integers(slow_span, s) for s in (2, 3)] + [fx_slow.dates(slow_span)]
        finally:
            K.ENABLED = True
        fast = [fx_fast.integers(fast_span, s) for s in (2, 3)] + [fx_fast.dates(fast_span)]
        for (fv, fo, fb), (sv, so, sb) in zip(fast, slow, strict=True):
            assert (fo == so).all() and (fb == sb).all(), values[j - 1]
            fv, sv = fv.astype(np.int64), sv.astype(np.int64)
            assert (np.where(fo, fv, 0) == np.where(so, sv, 0)).all(), values[j - 1]
    # the rule itself, on the compiled path: |value| < 10**12, at most 18 digits
    for text_value, scale, expected in [
        ("999999999999.99", 2, 99999999999999), ("-999999999999999999", 2, None),
        ("1000000000000", 2, None), ("000000000000000001.5", 2, None), ("0.10", 2, 10),
        ("1.005", 2, None), ("1.000", 3, 1000), ("-.5", 2, -50), ("+", 2, None),
    ]:  # fmt: skip
        one = np.frombuffer(f"X*{text_value}*".encode() + b"\0" * 32, dtype=np.uint8).copy()
        fx = FieldIndex(one, starts, starts, ord("*"), ord(":"))
        value, ok, _ = fx.integers(fx.element(rows, 1), scale)
        assert (int(value[0]) if ok[0] else None) == expected, text_value


def test_string_views_roundtrip() -> None:
    import numpy as np

    from parley.ingest.x12.fields import string_views

    text = b"short*exactly12chr*thirteen-char*x*"
    data = np.frombuffer(text, dtype=np.uint8).copy()
    start = np.array([0, 6, 19, 33, 34])
    end = np.array([5, 18, 32, 34, 34])
    present = np.array([True, True, True, True, False])
    got = string_views(data, start, end, present, "v")
    assert got.to_list() == ["short", "exactly12chr", "thirteen-char", "x", None]
    assert got.dtype == pl.Utf8


def _tiny(lines: str) -> bytes:
    return (
        "ISA*00*          *00*          *ZZ*A              *ZZ*B              *240101*1200*^*"
        "00501*000000001*0*P*:~GS*HP*A*B*20240101*1200*1*X*005010X221A1~ST*835*0001~"
        "BPR*I*30*C*CHK************20240101~TRN*1*1*1~N1*PR*P~N1*PE*Q*XX*1~"
        "CLP*C1*1*30*30*0*12*X~NM1*QC*1*A*B****MI*M1~"
        + lines
        + "SE*12*0001~GE*1*1~IEA*1*000000001~"
    ).encode()


@pytest.mark.parametrize(
    "lines",
    [
        "SVC*HC:1*10*10**1~LQ*HE*N1~LQ*HE* ~LQ*HE* MA130 ~LQ*HE*VERYLONGCODE12~LQ*RX*Z~"
        "SVC*HC:2*10*10**1~SVC*HC:3*10*10**1~LQ*HE*M1~LQ*HE*\t~",
        "SVC*HC:1*10*10**1~LQ*HE*É1~LQ*HE*A\u00a0~SVC*HC:2*10*10**1~LQ*HE~LQ*HE*~",
        "LQ*HE*ORPHAN~SVC*HC:1*10*10**1~LQ*HE*ABCDEFGHIJKL~LQ*HE*A~",
    ],
)
def test_line_remark_codes_same_with_and_without_kernels(lines: str) -> None:
    fast, slow = _both(_tiny(lines), "x12-835")
    _same(fast, slow)
    assert fast.table("remit_lines").height >= 1


@pytest.mark.parametrize(
    "claim",
    [
        "MOA**1*MA01* MA02 ~MIA*1**2*3*N1"
        + "*" * 15
        + "N20*N21**N23~MOA*1*2*  *\t*LONGREMARKCODE1~",
        "MIA*1**2*3*É5~MOA*1*2*A~",
        "MOA*1*2*M1~\0\0~MIA~MOA~",
    ],
)
def test_claim_remark_codes_same_with_and_without_kernels(claim: str) -> None:
    fast, slow = _both(_tiny(claim + "SVC*HC:1*10*10**1~"), "x12-835")
    _same(fast, slow)
    assert fast.table("remit_claims").height == 1


@pytest.mark.parametrize("key", [b"k", b"bench-secret-0123456789", bytes(range(64)), b"x" * 100])
def test_hmac_hex32_is_hmac_sha256(key: bytes) -> None:
    """The compiled HMAC gives hashlib's values for every message length (0 to 3 blocks,
    each padding boundary: 55/56 and 119/120 bytes), whatever the key length."""
    import hashlib
    import hmac

    import numpy as np

    values = [bytes((65 + (i * 7 + n) % 58) for i in range(n)) for n in range(0, 190)]
    chars = np.frombuffer(b"".join(values), np.uint8)
    offsets = np.zeros(len(values) + 1, np.int64)
    offsets[1:] = np.cumsum([len(v) for v in values])
    short = hashlib.sha256(key).digest() if len(key) > 64 else key
    inner, outer = K.pad_states(short)
    got = K.hmac_hex32(chars, offsets, inner, outer, K.K256).tobytes()
    want = b"".join(hmac.new(key, v, hashlib.sha256).hexdigest()[:32].encode() for v in values)
    assert got == want


@pytest.mark.parametrize("shift", range(9))
def test_isa_candidates_word_at_a_time(shift: int) -> None:
    """The eight-bytes-at-a-time ISA search finds what a byte loop finds, at every alignment,
    across word boundaries and in the last bytes that make no whole word."""
    import numpy as np

    pieces = [b"~ISA*", b"\nISA", b"\rISA", b"LISA", b"xISA", b"ISA", b"~IS", b"~ISxA", b"~~ISA"]
    rng = np.random.default_rng(shift)
    body = b"".join(pieces[int(i)] + b"ab"[: int(j)] for i, j in rng.integers(0, 9, (400, 2)))
    for data in (b"x" * shift + body, (b"x" * shift + body)[:-1], b"~ISA"[:shift], b"ab~ISA"):
        arr = np.frombuffer(data, np.uint8)
        words = np.frombuffer(data, "<u8", count=len(data) // 8)
        want = [
            i
            for i in range(2, len(data) - 2)
            if data[i : i + 3] == b"ISA" and data[i - 1] in b"~\r\n"
        ]
        assert K.isa_candidates(arr, words, ord("~")).tolist() == want


def test_loop_scan_same_with_and_without_kernels() -> None:
    """Segments out of place in the claim / line loops, a repeated SVC01, a stray segment
    outside the transactions: the compiled loop scan and the numpy one agree."""
    edits = [
        (b"DTM*150*20020301~\nDTM*151*20020304~", b"DTP*472*D8*20020301~"),
        (b"DTM*150*20020310~", b"DTM*232*20020309~\nDTM*484*20020309~\nXX*1~"),
        (b"CAS*CO*A2*50.00~\n", b"CAS*CO*A2*50.00~\nDTM*001*20020301~\nDTM*23~\nN1*PE*OTHER~\n"),
        (b"SVC*HC:93555*", b"SVC*HC:93555^HC:93556*"),
        (b"GE*1*1~", b"LX*9~\nGE*1*1~"),
    ]
    data = BASE
    for old, new in edits:
        assert old in data
        data = data.replace(old, new, 1)
    # a second transaction with a line and a CAS before its first CLP, a CAS in its header
    second = BASE[BASE.index(b"ST*835") : BASE.index(b"GE*")].replace(b"LX*1~", b"CAS*CO*45*1~\nLX*1~\nSVC*HC:1*1*1~\nCAS*CO*45*1~")
    data = data.replace(b"GE*1*1~", second + b"GE*2*1~")
    for chunk_bytes in (32 << 20, 700):
        _same(*_both(data, chunk_bytes=chunk_bytes))
    fast, _ = _both(data)
    assert fast.codes().count("x12.misplaced_segment") == 8
    assert fast.codes().count("x12.orphan_segment") == 3
    assert "x12.orphan_segment" in fast.codes() and "x12.misplaced_element" in fast.codes()
