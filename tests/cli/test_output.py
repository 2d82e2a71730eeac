"""Tables for people: numbers stay whole and an integer column is formatted alike."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console

from parley.cli import output


def _render(rows: list[dict[str, object]], width: int) -> str:
    narrow = Console(width=width, record=True, highlight=False)
    saved = output.console
    output.console = narrow
    try:
        output.print_table(rows)
    finally:
        output.console = saved
    return narrow.export_text()


def test_integer_column_grouped_alike_and_years_bare() -> None:
    text = _render([{"payer": "A", "n": 40730, "year": 2025}, {"payer": "B", "n": 6018, "year": 2024}], 80)
    assert "40,730" in text and "6,018" in text
    assert "2025" in text and "2,025" not in text


def test_money_never_wraps_in_a_narrow_table() -> None:
    rows = [{"payer": "KEYSTONE NATIONAL HEALTH " * 2, "paid": Decimal("5578173.07"), "charged": Decimal("17677337.00")}]
    text = _render(rows, 40)
    assert "5,578,173.07" in text and "17,677,337.00" in text
