"""Streaming, chunking and bad input: the reader gives the same rows however the bytes arrive."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tic_helpers import TIC, read_all
from tic_reference import in_network_rows, load, reader_in_network_rows

FFS = TIC / "v2-in-network-rates-fee-for-service-single-plan-sample.json"


def _write(path: Path, doc: dict[str, Any], *, gz: bool = False, indent: int | None = None) -> Path:
    data = json.dumps(doc, indent=indent).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def _pr_last(doc: dict[str, Any]) -> dict[str, Any]:
    head = {k: v for k, v in doc.items() if k != "provider_references"}
    return {**head, "provider_references": doc["provider_references"]}


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("block", [1 << 20, 64, 7])
def test_provider_references_after_in_network(tmp_path: Path, gz: bool, block: int) -> None:
    doc = _pr_last(load(FFS))
    path = _write(tmp_path / ("pr-last.json" + (".gz" if gz else "")), doc, gz=gz, indent=1)
    frame, problems, _ = read_all(path, block_bytes=block, batch_bytes=200)
    assert reader_in_network_rows(frame) == in_network_rows(doc)
    assert not [p for p in problems if p.severity == "error"]


_TRICKY = st.text(alphabet=st.sampled_from(list('{}[]",:\\ab é\n\t')), max_size=30)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    names=st.lists(_TRICKY, min_size=1, max_size=4),
    block=st.integers(min_value=3, max_value=400),
    gz=st.booleans(),
)
def test_strings_full_of_brackets_and_escapes(
    tmp_path: Path, names: list[str], block: int, gz: bool
) -> None:
    doc = load(FFS)
    for i, item in enumerate(doc["in_network"]):
        item["description"] = names[i % len(names)]
        item["name"] = names[-1 - (i % len(names))]
    doc["plan_sponsor_name"] = names[0]
    path = _write(tmp_path / f"tricky-{block}.json{'.gz' if gz else ''}", doc, gz=gz)
    frame, problems, _ = read_all(path, block_bytes=block, batch_bytes=150)
    assert reader_in_network_rows(frame) == in_network_rows(doc)
    assert set(frame["plan_name"]) == {"Plan A PPO"}


def test_truncated_gzip_reports_offset_and_writes_nothing(tmp_path: Path) -> None:
    doc = load(FFS)
    doc["in_network"] = doc["in_network"] * 300
    data = gzip.compress(json.dumps(doc).encode())
    path = tmp_path / "cut.json.gz"
    path.write_bytes(data[: len(data) // 2])
    frame, problems, _ = read_all(path)
    assert frame.height == 0
    errors = [p for p in problems if p.severity == "error"]
    assert errors and errors[0].code in ("file.truncated", "json.truncated")
    assert "byte" in errors[0].message


def test_truncated_plain_json(tmp_path: Path) -> None:
    raw = FFS.read_bytes()
    path = tmp_path / "cut.json"
    path.write_bytes(raw[: len(raw) * 2 // 3])
    frame, problems, _ = read_all(path)
    assert frame.height == 0
    assert [p.code for p in problems if p.severity == "error"] == ["json.truncated"]
    assert f"byte {path.stat().st_size}" in problems[-1].message or any(
        "byte" in p.message for p in problems
    )


def test_unknown_schema_version(tmp_path: Path) -> None:
    doc = load(FFS)
    doc["version"] = "9.1.0"
    frame, problems, _ = read_all(_write(tmp_path / "v9.json", doc))
    assert frame.height == 0
    assert any(p.code == "tic.unknown_version" for p in problems)


def test_not_json_and_not_tic_are_not_sniffed(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text("hello, world")
    (tmp_path / "y.json").write_text('{"foo": [1, 2, 3]}')
    assert read_all(tmp_path / "x.json")[2] is None
    assert read_all(tmp_path / "y.json")[2] is None


def test_bad_item_is_quarantined_with_its_offset(tmp_path: Path) -> None:
    doc = load(FFS)
    doc["in_network"][0]["negotiated_rates"][0]["negotiated_prices"][0]["negotiated_rate"] = "abc"
    frame, problems, _ = read_all(_write(tmp_path / "bad.json", doc))
    bad = [p for p in problems if p.code == "tic.bad_item"]
    assert len(bad) == 1 and bad[0].element.startswith("byte ")
    assert set(frame["billing_code"]) == {"27448"}  # the good item is kept


def test_npis_as_strings_and_numbers_as_strings(tmp_path: Path) -> None:
    doc = load(FFS)
    for group in doc["provider_references"][0]["provider_groups"]:
        group["npi"] = [str(n) for n in group["npi"]]
    doc["in_network"][0]["billing_code_type_version"] = 2020
    frame, problems, _ = read_all(_write(tmp_path / "strings.json", doc))
    assert reader_in_network_rows(frame) == in_network_rows(load(FFS))


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: Any, **k: Any) -> None:
            super().__init__(*a, directory=str(root), **k)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()


def test_remote_provider_references_over_loopback(
    tmp_path: Path, http_root: tuple[str, Path]
) -> None:
    url, root = http_root
    (root / "ref.json").write_bytes((TIC / "v1-provider-reference.json").read_bytes())
    doc = load(TIC / "v1-in-network-rates-fee-for-service-single-plan-sample.json")
    doc["provider_references"][1]["location"] = f"{url}/ref.json"
    doc["provider_references"].append({"provider_group_id": 3, "location": f"{url}/missing.json"})
    doc["in_network"][0]["negotiated_rates"].append(
        {
            "provider_references": [2, 3],
            "negotiated_prices": [
                {
                    "negotiated_type": "negotiated",
                    "negotiated_rate": 99.5,
                    "expiration_date": "2022-01-01",
                    "billing_class": "professional",
                }
            ],
        }
    )
    path = _write(tmp_path / "remote.json", doc)
    frame, problems, _ = read_all(path, fetch_urls=True)
    remote = frame.filter(frame["rate"].cast(float) == 99.5)
    assert sorted(remote["provider_npi"]) == ["1111111111", "2222222222"]
    failed = [p for p in problems if p.code == "tic.reference_failed"]
    assert len(failed) == 1 and "missing.json" in failed[0].message


@pytest.mark.parametrize("cut", [False, True])
def test_gzip_spooled_to_disk_then_read_in_parallel_path(tmp_path: Path, cut: bool) -> None:
    doc = _pr_last(load(FFS))
    doc["in_network"] = doc["in_network"] * 100
    data = gzip.compress(json.dumps(doc).encode())
    path = tmp_path / "spool.json.gz"
    path.write_bytes(data[: len(data) - 20] if cut else data)
    frame, problems, _ = read_all(path, spool_dir=str(tmp_path), block_bytes=3000, batch_bytes=3000)
    if cut:
        assert frame.height == 0 and any(p.severity == "error" for p in problems)
    else:
        assert reader_in_network_rows(frame) == in_network_rows(doc)
    assert [p.name for p in tmp_path.iterdir()] == ["spool.json.gz"]  # the temporary copy is gone


def test_float_provider_group_ids(tmp_path: Path) -> None:
    doc = load(FFS)
    for pr in doc["provider_references"]:
        pr["provider_group_id"] = pr["provider_group_id"] + 0.5
    for item in doc["in_network"]:
        for rate in item["negotiated_rates"]:
            rate["provider_references"] = [r + 0.5 for r in rate["provider_references"]]
    frame, _, _ = read_all(_write(tmp_path / "floats.json", doc))
    assert reader_in_network_rows(frame) == in_network_rows(doc)
    assert frame.height == 50
