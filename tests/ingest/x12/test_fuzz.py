"""Property tests: any bytes in -> records and/or problems out, never an exception."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from x12_support import DATA, assert_canonical, parse

from parley.ingest.base import Problem
from parley.ingest.x12 import sniff_x12

os.environ.pop("PARLEY_X12_DEBUG", None)

VALID = [
    (
        DATA / "LinuxForHealth__x12__src_tests_resources_835_005010X221A1_managed-care.835"
    ).read_bytes(),
    (DATA / "slott56__TigerShark__tests_835-example.txt").read_bytes(),
    (
        DATA
        / "LinuxForHealth__x12__src_tests_resources_837_005010X223A3_two-claims-single-provider.837i"
    ).read_bytes(),
    (
        DATA / "LinuxForHealth__x12__src_tests_resources_837_005010X222A2_demo.drug.example10.2.837"
    ).read_bytes(),
]
FUZZ = settings(
    max_examples=int(os.environ.get("PARLEY_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _check(data: bytes, kind: str, chunk_bytes: int = 32 << 20) -> None:
    result = parse(data, kind, chunk_bytes=chunk_bytes)
    assert all(
        isinstance(p, Problem) and p.severity in ("error", "warning") for p in result.problems
    )
    assert "x12.reader_failed" not in result.codes(), [p.message for p in result.problems]
    assert_canonical(result)


@FUZZ
@given(st.binary(max_size=3000), st.sampled_from(["x12-835", "x12-837p"]))
def test_random_bytes(data: bytes, kind: str) -> None:
    sniff_x12(data)
    _check(data, kind)


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from(["ISA*", "ST*", "GS|", "ISA|00|"]))
def test_random_bytes_after_an_x12_start(data: bytes, start: str) -> None:
    _check(start.encode() + data, "x12-835")
    _check(start.encode() + data, "x12-837i")


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, str]:
    index = draw(st.integers(0, len(VALID) - 1))
    data = VALID[index]
    term = b"~"
    segments = data.split(term)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "delete", "duplicate", "garbage", "swap", "flip"]))
        if op == "truncate":
            joined = term.join(segments)
            segments = joined[: draw(st.integers(0, len(joined)))].split(term)
        elif op == "delete" and segments:
            del segments[draw(st.integers(0, len(segments) - 1))]
        elif op == "duplicate" and segments:
            i = draw(st.integers(0, len(segments) - 1))
            segments.insert(i, segments[i])
        elif op == "garbage":
            i = draw(st.integers(0, len(segments)))
            segments.insert(i, draw(st.binary(max_size=40)))
        elif op == "swap" and len(segments) > 1:
            i = draw(st.integers(0, len(segments) - 2))
            segments[i], segments[i + 1] = segments[i + 1], segments[i]
        elif op == "flip" and segments:
            i = draw(st.integers(0, len(segments) - 1))
            seg = bytearray(segments[i])
            if seg:
                seg[draw(st.integers(0, len(seg) - 1))] = draw(st.integers(0, 255))
            segments[i] = bytes(seg)
    kind = "x12-835" if index < 2 else "x12-837p"
    return term.join(segments), kind


@FUZZ
@given(mutated(), st.sampled_from([150, 1000, 32 << 20]))
def test_mutations_of_valid_files(case: tuple[bytes, str], chunk_bytes: int) -> None:
    data, kind = case
    _check(data, kind, chunk_bytes)


@FUZZ
@given(mutated())
def test_chunking_never_changes_records(case: tuple[bytes, str]) -> None:
    data, kind = case
    big, small = parse(data, kind), parse(data, kind, chunk_bytes=100)
    for name, frame in big.tables.items():
        assert small.table(name).equals(frame), name
