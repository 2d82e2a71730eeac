"""Every public sample file parses without exception, whatever the chunk size."""

from __future__ import annotations

import pytest
from x12_support import DATA, parse

from parley.ingest.x12 import sniff_x12

FILES = sorted(p.name for p in DATA.iterdir() if p.is_file())


@pytest.mark.parametrize("name", FILES)
def test_sample_parses(name: str) -> None:
    data = (DATA / name).read_bytes()
    kind = sniff_x12(data[:4096])
    assert kind in ("x12-835", "x12-837p", "x12-837i"), name
    result = parse(data, kind)
    assert "x12.reader_failed" not in result.codes()
    assert "x12.not_x12" not in result.codes()
    main = "remit_claims" if kind == "x12-835" else "claims"
    assert result.table(main).height >= 1, (name, result.codes())
    for problem in result.problems:
        assert problem.severity in ("error", "warning")


@pytest.mark.parametrize("name", FILES)
def test_chunk_size_does_not_change_output(name: str) -> None:
    data = (DATA / name).read_bytes()
    big, small = parse(data), parse(data, chunk_bytes=200 if len(data) < 20_000 else 8192)
    assert set(big.tables) <= set(small.tables) | {"provider_adjustments"}
    for table, frame in big.tables.items():
        assert small.table(table).equals(frame), (name, table)
    # the same problems; their order may differ (a claim's problems and its transaction's
    # SE check come in one chunk or in two)
    assert _rows(big.problems) == _rows(small.problems)


def _rows(problems: list) -> list:
    rows = [p.as_row() for p in problems]
    return sorted(rows, key=lambda r: (r["segment_number"] or 0, r["code"], r["message"]))
