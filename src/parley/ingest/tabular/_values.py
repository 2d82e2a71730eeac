"""Vectorised cell parsers: text, exact money and quantities, dates, integers.

Every parser takes a Polars expression over *text* cells (blank already null)
and returns ``(value, bad)``: the typed value (null when blank or bad) and a
flag that is true where the cell had text that could not be parsed.  Amounts
never pass through binary floating point: the text is validated by a regular
expression and cast straight to a decimal.
"""

from __future__ import annotations

import polars as pl

MONEY = pl.Decimal(14, 2)
QUANTITY = pl.Decimal(12, 3)

_TIME_SUFFIX = r"(?i)[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?( ?[AP]M)?$"


def clean(expr: pl.Expr) -> pl.Expr:
    """Trim a text cell; a blank cell is null."""
    text = expr.cast(pl.Utf8).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def _number_pattern(scale: int, int_digits: int) -> str:
    whole = (
        rf"(?:0*[0-9]{{1,{int_digits}}}|[0-9]{{1,3}}(?:,[0-9]{{3}}){{1,{(int_digits - 1) // 3}}})"
    )
    number = rf"(?:{whole}(?:\.[0-9]{{0,{scale}}}0*)?|\.[0-9]{{1,{scale}}}0*)"
    return rf"^(?:\({number}\)|[-+]?{number}|{number}-)$"


def decimal(
    text: pl.Series, *, scale: int, int_digits: int, decimal_comma: bool
) -> tuple[pl.Series, pl.Series]:
    """An exact decimal from '1,234.50', '$1,234.50', '(12.00)', '-12', '12.00-'.

    One regular expression decides validity (thousands grouping, at most
    ``int_digits`` whole digits, digits beyond ``scale`` only zeros: an amount
    is never rounded); the digits are then cast straight to a decimal.
    """
    body = text.str.replace_all(r"[\s$\u00a0]", "")
    if decimal_comma:
        body = body.str.replace_all(",", "\x00", literal=True).str.replace_all(
            ".", ",", literal=True
        )
        body = body.str.replace_all("\x00", ".", literal=True)
    ok = body.str.contains(_number_pattern(scale, int_digits)).fill_null(False)
    neg = body.str.starts_with("(") | body.str.starts_with("-") | body.str.ends_with("-")
    digits = ("0" + body.str.replace_all(r"[^0-9.]", "")).cast(pl.Decimal(38, scale), strict=False)
    ok = ok & digits.is_not_null()
    signed = digits.zip_with(~neg.fill_null(False), -digits)
    value = signed.zip_with(ok, pl.Series([None], dtype=signed.dtype))
    return value.cast(pl.Decimal(int_digits + scale, scale), strict=False).alias(
        text.name
    ), text.is_not_null() & ~ok


def money(text: pl.Series, *, decimal_comma: bool = False) -> tuple[pl.Series, pl.Series]:
    return decimal(text, scale=2, int_digits=12, decimal_comma=decimal_comma)


def quantity(text: pl.Series, *, decimal_comma: bool = False) -> tuple[pl.Series, pl.Series]:
    return decimal(text, scale=3, int_digits=9, decimal_comma=decimal_comma)


def date(text: pl.Series, formats: list[str]) -> tuple[pl.Series, pl.Series]:
    """A date from the first format that matches; a midnight time part is ignored.

    Years outside 1900..2199 count as bad (a two-digit year read with %Y).
    """
    bare = text.str.replace(_TIME_SUFFIX, "")
    frame = pl.DataFrame({"t": bare})
    parsed = frame.select(
        pl.coalesce([pl.col("t").str.strptime(pl.Date, f, strict=False) for f in formats])
    ).to_series()
    ok = parsed.dt.year().is_between(1900, 2199).fill_null(False)
    return parsed.zip_with(ok, pl.Series([None], dtype=pl.Date)).alias(
        text.name
    ), text.is_not_null() & ~ok


def integer(text: pl.Series) -> tuple[pl.Series, pl.Series]:
    """A whole number of at most 9 digits ('3' or '3.0')."""
    body = text.str.replace(r"\.0*$", "")
    ok = body.str.contains(r"^[0-9]{1,9}$").fill_null(False)
    value = (
        body.cast(pl.Int64, strict=False)
        .zip_with(ok, pl.Series([None], dtype=pl.Int64))
        .cast(pl.Int32)
    )
    return value.alias(text.name), text.is_not_null() & ~ok


def birth_year(text: pl.Series, formats: list[str]) -> tuple[pl.Series, pl.Series]:
    """Only the year of a birth date is ever kept."""
    value, bad = date(text, formats)
    return value.dt.year().cast(pl.Int32), bad


#: the spellings of yes and no a flag cell may use (case folded)
FLAGS = {"true": True, "t": True, "yes": True, "y": True, "1": True,
         "false": False, "f": False, "no": False, "n": False, "0": False}


def flag(text: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(true / false, or null when empty; bad) of yes / no cells."""
    value = text.str.strip_chars().str.to_lowercase().replace_strict(FLAGS, default=None, return_dtype=pl.Boolean)
    return value, text.is_not_null() & value.is_null()
