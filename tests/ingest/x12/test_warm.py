"""The kernel warm-up reads its two tiny transactions cleanly, through the compiled paths."""

from __future__ import annotations

import io

import pytest

from parley.ingest.base import PatientHasher
from parley.ingest.x12 import _fused835, read_835, read_837, warm
from parley.ingest.x12 import _kernels as K


def _tables(read, text):  # type: ignore[no-untyped-def]
    heights: dict[str, int] = {}
    problems = []
    for chunk in read(io.BytesIO(text), file_id="t", hasher=PatientHasher(b"0123456789abcdef")):
        problems += chunk.problems
        for name, frame in chunk.tables.items():
            heights[name] = heights.get(name, 0) + frame.height
    return heights, problems


def test_samples_are_clean_transactions() -> None:
    heights, problems = _tables(read_835, warm._835)
    assert problems == []
    assert heights == {"remittances": 1, "remit_claims": 2, "remit_lines": 3, "adjustments": 1}
    heights, problems = _tables(read_837, warm._837P)
    assert problems == []
    assert heights == {"claims": 1, "claim_lines": 1, "diagnoses": 1}


@pytest.mark.skipif(not K.ENABLED, reason="numba switched off")
def test_warm_up_goes_through_the_fused_835_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    built = []
    real = _fused835.build

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = real(*args, **kwargs)
        built.append(out is not None)
        return out

    monkeypatch.setattr(_fused835, "build", spy)
    warm.warm_kernels()
    assert built == [True]
