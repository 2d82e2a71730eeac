"""Through the ingest service: the example extracts commit into a workspace."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize(
    ("name", "fmt", "counts"),
    [
        ("claims-lines", "tabular-claims", {"claims": 4, "claim_lines": 7, "diagnoses": 7}),
        (
            "remittance-lines",
            "tabular-remittance",
            {"remittances": 2, "remit_claims": 4, "remit_lines": 7, "adjustments": 9},
        ),
    ],
)
def test_examples_ingest_into_a_workspace(
    workspace, examples: Path, name: str, fmt: str, counts: dict[str, int]
) -> None:
    from parley.services.ingest import ingest_paths

    report = ingest_paths(
        workspace=workspace,
        paths=[examples / f"{name}.csv"],
        mapping_path=examples / f"{name}.yaml",
        workers=1,
    )
    [result] = report.files
    assert (result.status, result.format, result.errors) == ("loaded", fmt, 0)
    assert {k: v for k, v in result.counts.items() if v} == counts


def test_a_file_with_the_wrong_columns_fails(workspace, examples: Path, tmp_path: Path) -> None:
    from parley.services.ingest import ingest_paths

    path = tmp_path / "other.csv"
    path.write_text("Claim;Charge\nA1;10,00\n", encoding="utf-8")
    report = ingest_paths(
        workspace=workspace, paths=[path], mapping_path=examples / "claims-lines.yaml", workers=1
    )
    [result] = report.files
    assert result.status == "failed" and result.errors == 1
    assert (
        "format.header_row" in result.first_problems[0]
        or "mapped column" in result.first_problems[0]
    )
