"""The payer-alias table: packaged spellings, the workspace file, and its rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from parley.errors import InputError
from parley.refdata.payer_aliases import load_payer_aliases, normalize


@pytest.mark.parametrize(
    ("published", "payer"),
    [
        ("UnitedHealthcare Insurance Company of New York", "UnitedHealthcare"),
        ("UHC", "UnitedHealthcare"),
        ("United Healthcare", "UnitedHealthcare"),
        ("UNITEDHEALTHCARE", "UnitedHealthcare"),
        ("UMR, Inc.", "UnitedHealthcare"),
        ("Aetna Life Insurance Company", "Aetna"),
        ("CIGNA HEALTH AND LIFE INSURANCE COMPANY", "Cigna"),
        ("Anthem Blue Cross and Blue Shield", "Elevance Health (Anthem)"),
        ("Blue Cross & Blue Shield of Texas", "Health Care Service Corporation"),
        ("Highmark Blue Cross Blue Shield", "Highmark"),
        ("BCBS PPO", "Blue Cross Blue Shield (plan not named)"),
        ("Medicare Advantage - Humana", "Humana"),
        ("Medicare", "Medicare"),
        ("Kaiser Foundation Health Plan of Colorado", "Kaiser Permanente"),
    ],
)
def test_packaged_aliases(published: str, payer: str) -> None:
    assert load_payer_aliases().canonical(published) == payer


def test_unknown_names_are_their_own_payer_and_words_match_whole() -> None:
    aliases = load_payer_aliases()
    assert aliases.canonical("  Acme   Health ") == "Acme Health"
    assert aliases.canonical("Kpmg Benefits") == "Kpmg Benefits"  # "kp" is a whole word only
    assert aliases.match("Platinum PPO") is None
    assert normalize("Blue Cross & Blue-Shield, Inc.") == "blue cross and blue shield inc"


def test_workspace_file_extends_and_overrides(tmp_path: Path) -> None:
    (tmp_path / "payer_aliases.csv").write_text(
        "# our spellings\npayer,alias\nUnitedHealthcare,United HC\nAcme Health,Acme\n"
        "Wellcare (our contract),wellcare\n",
        encoding="utf-8",
    )
    aliases = load_payer_aliases(tmp_path)
    assert aliases.workspace_file is not None
    assert aliases.canonical("UNITED HC OF OHIO") == "UnitedHealthcare"
    assert aliases.canonical("Acme Health Plan of Texas") == "Acme Health"
    assert aliases.canonical("WellCare Health Plans") == "Wellcare (our contract)"  # tie: ours wins
    assert aliases.canonical("UHC") == "UnitedHealthcare"  # packaged ones still apply


def test_bad_workspace_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "payer_aliases.csv").write_text("name,spelling\nx,y\n", encoding="utf-8")
    with pytest.raises(InputError, match="payer_aliases.csv.*payer,alias"):
        load_payer_aliases(tmp_path)
    (tmp_path / "payer_aliases.csv").write_text("payer,alias\nUHC,\n", encoding="utf-8")
    with pytest.raises(InputError, match="data row 1"):
        load_payer_aliases(tmp_path)
