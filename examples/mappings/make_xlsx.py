"""Rebuild the example .xlsx extracts from the example .csv files.

Cells are typed the way a practice-management system's Excel export types
them: amounts and units as numbers, dates as dates, codes and ids as text.
Run from the repository root:  python examples/mappings/make_xlsx.py
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).parent
AMOUNT = re.compile(r"^\(?\$?[\d,.]+\)?$")


def typed(
    text: str, column: str, *, date_format: str, decimal_comma: bool, numeric: set[str]
) -> object:
    if text == "":
        return None
    if column in numeric and AMOUNT.match(text):
        body = text.strip("()$")
        body = body.replace(".", "").replace(",", ".") if decimal_comma else body.replace(",", "")
        value = float(Decimal(body))
        return -value if text.startswith("(") else value
    try:
        return dt.datetime.strptime(text, date_format)
    except ValueError:
        return text


def build(
    name: str,
    sheet: str,
    *,
    preamble: int,
    delimiter: str,
    date_format: str,
    decimal_comma: bool,
    numeric: set[str],
) -> None:
    with (HERE / f"{name}.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter=delimiter))
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    header = rows[preamble]
    for row in rows[: preamble + 1]:
        ws.append(row)
    for row in rows[preamble + 1 :]:
        ws.append(
            [
                typed(v, c, date_format=date_format, decimal_comma=decimal_comma, numeric=numeric)
                for v, c in zip(row, header, strict=True)
            ]
        )
    wb.save(HERE / f"{name}.xlsx")


if __name__ == "__main__":
    build(
        "claims-lines",
        "Claims",
        preamble=2,
        delimiter=",",
        date_format="%m/%d/%Y",
        decimal_comma=False,
        numeric={"Units", "Line Charge"},
    )
    build(
        "remittance-lines",
        "Payments",
        preamble=0,
        delimiter=",",
        date_format="%m/%d/%Y",
        decimal_comma=False,
        numeric={"Units", "Billed", "Allowed", "Paid", "Adj Amount 1", "Adj Amount 2"},
    )
    build(
        "remittance-claims",
        "Sheet1",
        preamble=0,
        delimiter=";",
        date_format="%d.%m.%Y",
        decimal_comma=True,
        numeric={"Charges", "Payment", "Patient Resp"},
    )
