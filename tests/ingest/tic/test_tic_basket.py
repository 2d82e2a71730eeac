"""The code basket applied from the index: the same rows as filtering the parsed file.

The reader keeps an item when its own ``"billing_code"`` (found by the
structural index, one level inside the item) is in the basket, or when the
value cannot be read without parsing (a number, an escape, a key cut by a
block end); the exact filter after parsing decides.  Every path (plain file
in chunks, gzip stream, gzip spooled) and every chunk size must agree with a
json.load reference.
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from tic_helpers import TIC, read_all
from tic_reference import in_network_rows, load, reader_in_network_rows

FFS = TIC / "v2-in-network-rates-fee-for-service-single-plan-sample.json"
BASKET = frozenset({"27447", "99213", "0042"})


def _doc() -> dict[str, Any]:
    doc = load(FFS)
    base = doc["in_network"]
    items = []
    for i, code in enumerate(["27447", "27448", "99213", "11111", "0042", "27447"]):
        item = copy.deepcopy(base[i % len(base)])
        item["billing_code"] = code
        items.append(item)
    # a basket code only in a nested key and in a description: not the item's own code
    items[1]["bundled_codes"] = [{"billing_code": "27447", "billing_code_type": "CPT"}]
    items[3]["description"] = '"billing_code": "27447" in a string [{'
    items[3]["name"] = "billing_code"
    # the item's own code first or last among its members
    items[5] = {k: items[5][k] for k in reversed(list(items[5]))}
    doc["in_network"] = items
    return doc


def _variants(tmp_path: Path, doc: dict[str, Any], indent: int | None) -> dict[str, Path]:
    text = json.dumps(doc, indent=indent)
    # an escaped code: the index cannot read it, the parse decides (kept: it is 99213)
    text = text.replace('"99213"', '"9921\\u0033"', 1)
    data = text.encode()
    plain = tmp_path / "basket.json"
    plain.write_bytes(data)
    gz = tmp_path / "basket.json.gz"
    gz.write_bytes(gzip.compress(data))
    return {"plain": plain, "gz": gz}


@pytest.mark.parametrize("indent", [None, 2])
@pytest.mark.parametrize("block", [1 << 20, 97, 13])
@pytest.mark.parametrize("kind", ["plain", "gz", "spool"])
def test_basket_from_the_index_equals_the_reference(
    tmp_path: Path, indent: int | None, block: int, kind: str
) -> None:
    doc = _doc()
    paths = _variants(tmp_path, doc, indent)
    extra = {"spool_dir": str(tmp_path)} if kind == "spool" else {}
    path = paths["plain" if kind == "plain" else "gz"]
    frame, problems, _ = read_all(path, codes=BASKET, block_bytes=block, batch_bytes=block, **extra)
    assert not [p for p in problems if p.severity == "error"]
    assert reader_in_network_rows(frame) == in_network_rows(doc, set(BASKET))
    assert set(frame["billing_code"]) == {"27447", "99213", "0042"}


def test_numeric_billing_code_is_parsed_then_filtered(tmp_path: Path) -> None:
    doc = _doc()
    text = json.dumps(doc).replace('"billing_code": "0042"', '"billing_code": 42', 1)
    path = tmp_path / "numeric.json"
    path.write_text(text)
    frame, problems, _ = read_all(path, codes=frozenset({"42", "27447"}), block_bytes=101)
    assert set(frame["billing_code"]) == {"42", "27447"}
    assert not [p for p in problems if p.severity == "error"]


def test_provider_batches_start_while_the_index_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a pool that is up, provider-reference batches go out during phase A: same rows."""
    from parley.ingest.tic import MarketOptions
    from parley.ingest.tic import reader as rd
    from parley.ingest.tic.parallel import runner

    doc = _doc()
    extra = copy.deepcopy(doc["provider_references"])
    for i in range(300):  # unreferenced groups: a provider region of many batches
        for pr in extra:
            doc["provider_references"].append(
                {**pr, "provider_group_id": 1000 + i * 10 + pr["provider_group_id"]}
            )
    path = tmp_path / "early.json"
    path.write_text(json.dumps(doc))
    seen: list[rd.EarlyProviders] = []

    class Spy(rd.EarlyProviders):
        def __init__(self, *a: Any) -> None:
            super().__init__(*a)
            seen.append(self)

    monkeypatch.setattr(rd, "EarlyProviders", Spy)
    options = MarketOptions(codes=BASKET, workers=2, block_bytes=4096, batch_bytes=8192)
    with runner(workers=2) as run:
        assert run.warm.wait(120)  # type: ignore[attr-defined]
        output = rd.FileOutput()
        tables = list(rd.read_plain(path, path.stat().st_size, options, run, output))
    assert seen and seen[0].futures  # some batches went out early
    from parley.ingest.tic import finish

    frame = pl.concat(
        [finish(t, output.header, "tic-in-network", 0) for t in tables], how="diagonal_relaxed"
    )
    assert reader_in_network_rows(frame) == in_network_rows(doc, set(BASKET))
