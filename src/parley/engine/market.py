"""Market benchmarks from ``market_rates``: plausibility, distributions, our position.

The plausibility rule (docs/market.md, "Plausibility") flags rows, never
drops them; a flagged row is left out of the distributions and counted:

1. ``duplicate``: the same rate for the same payer x provider (NPI, TIN) x
   code x modifiers x billing class x negotiated type, published under
   several plans or files, is collapsed to one row (the others are flagged).
2. ``implausible_vs_medicare``: a professional dollar rate below
   ``low`` (30%) or above ``high`` (1000%) of the Medicare PFS amount for the
   code in the practice's locality (national when no ZIP is set).
3. ``outlier_vs_market``: a rate not checked against Medicare (no PFS amount
   for the code, or an institutional / facility rate, which the PFS does not
   price) below a tenth or above ten times the market median of its code and
   billing class (professional rates apart from institutional ones).
4. ``taxonomy_does_not_bill``: with a registry extract giving taxonomies, a
   provider none of whose taxonomies belongs to a specialty family that bills
   the code's range (:mod:`parley.refdata.taxonomy`: NUCC taxonomy prefixes ->
   families, CPT / HCPCS ranges -> billing families; e.g. an MRI from a
   psychologist, an office visit from a physical therapist): the classic
   "ghost" rate.  Unknown taxonomies and codes are never flagged.

Distributions then use one value per payer x provider x code (the median of
its remaining rates), so a provider listed by many plans counts once.
Only dollar rates count: negotiated, derived and fee schedule (TiC) and the
hospitals' negotiated dollars; percentages and per diems are not dollars per
code.

Payers are matched by canonical name (:mod:`parley.refdata.payer_aliases`):
``payer_name`` in the frames below is the canonical payer ("UnitedHealthcare"
for "UnitedHealthcare Insurance Company of New York" and a hospital's "UHC"),
``payer_name_published`` the name as published.  A query payer that an alias
matches selects its canonical payer; any other is matched as a
case-insensitive substring, as published.

Our own rate is the median allowed amount per unit (835 AMT*B6 / units) for
the payer and code; our percentile position is the share of the payer's
market at or below it; the opportunity is (target percentile - our rate) x
our units, when positive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb
import polars as pl

from parley.refdata.payer_aliases import PayerAliases, load_payer_aliases
from parley.refdata.taxonomy import bills

DOLLAR_TYPES = ("negotiated", "derived", "fee schedule")
PERCENTILES = (10, 25, 50, 75, 90)


@dataclass(frozen=True)
class Plausibility:
    low: float = 0.30
    high: float = 10.0
    market_factor: float = 10.0


def load_rates(
    con: duckdb.DuckDBPyConnection,
    *,
    codes: Sequence[str] | None = None,
    aliases: PayerAliases | None = None,
) -> pl.DataFrame:
    """Dollar rates from market_rates (optionally for some codes), payers made canonical."""
    where = [
        "rate IS NOT NULL",
        "rate > 0",
        "(negotiated_type IN ('negotiated', 'derived', 'fee schedule'))",
    ]
    params: list[Any] = []
    if codes:
        where.append("billing_code IN (SELECT unnest(?))")
        params.append(list(codes))
    sql = (
        "SELECT source, payer_name, plan_name, billing_code_type, billing_code, coalesce(modifiers, '') AS modifiers, "
        "coalesce(billing_class, '') AS billing_class, negotiated_type, CAST(rate AS DOUBLE) AS rate, "
        "coalesce(provider_npi, '') AS provider_npi, coalesce(provider_tin, '') AS provider_tin, hospital_name, "
        "coalesce(service_codes, '') AS service_codes "
        f"FROM market_rates WHERE {' AND '.join(where)}"
    )
    return canonical_payers(_frame(con, sql, params), aliases)


def canonical_payers(frame: pl.DataFrame, aliases: PayerAliases | None = None) -> pl.DataFrame:
    """``payer_name`` -> the canonical payer; the published name moves to ``payer_name_published``."""
    aliases = aliases or load_payer_aliases()
    names = frame["payer_name"].unique().to_list()
    mapping = aliases.mapping(names)
    return frame.with_columns(
        pl.col("payer_name").alias("payer_name_published"),
        pl.col("payer_name").replace_strict(mapping, default=None, return_dtype=pl.Utf8),
    )


def payer_mask(payer: str, aliases: PayerAliases | None = None) -> pl.Expr:
    """Rows of the queried payer: its canonical payer when an alias knows it, else a substring."""
    aliases = aliases or load_payer_aliases()
    if aliases.match(payer) is not None:
        return pl.col("payer_name") == aliases.canonical(payer)
    return pl.col("payer_name").str.to_lowercase().str.contains(payer.lower(), literal=True)


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> pl.DataFrame:
    frame = pl.from_arrow(con.sql(sql, params=params).to_arrow_table())
    assert isinstance(frame, pl.DataFrame)
    return frame


def medicare_amounts(codes: Sequence[str], *, year: int, practice_zip: str | None) -> pl.DataFrame:
    """Medicare PFS amounts (global) per code for the practice's locality: ``medicare``
    (non-facility) and ``medicare_facility`` (the facility setting's, lower practice expense)."""
    empty = pl.DataFrame(schema={"billing_code": pl.Utf8, "medicare": pl.Float64, "medicare_facility": pl.Float64})
    try:
        from parley.refdata import fee_schedule

        where = {"zip": practice_zip} if practice_zip else {}
        settings = [fee_schedule(year, facility=f, **where) for f in (False, True)]
    except Exception:  # noqa: BLE001 - no reference data: benchmarks without Medicare
        return empty
    nf, fac = (
        fs.filter((pl.col("modifier") == "") & pl.col("hcpcs").is_in(list(codes))).select(
            pl.col("hcpcs").alias("billing_code"), pl.col("amount").cast(pl.Float64).alias(name)
        )
        for fs, name in zip(settings, ("medicare", "medicare_facility"), strict=True)
    )
    return nf.join(fac, on="billing_code", how="left")


def facility_places() -> list[str]:
    """CMS places of service paid at the PFS facility rate (21 inpatient hospital, 22 outpatient,
    23 emergency room, 24 ASC...): a professional rate published only for these is compared with
    the facility amount."""
    try:
        from parley.refdata import loader

        pos = loader.place_of_service()
    except Exception:  # noqa: BLE001 - no reference data: every rate compared with non-facility
        return []
    return pos.filter(pl.col("facility"))["pos"].to_list()


def flag(
    rates: pl.DataFrame,
    medicare: pl.DataFrame,
    *,
    taxonomy: dict[int, str] | None = None,
    rule: Plausibility = Plausibility(),
) -> pl.DataFrame:
    """Add ``flag`` (null = plausible) and ``flag_reason``; see the module doc."""
    key = [
        "payer_name",
        "provider_npi",
        "provider_tin",
        "billing_code",
        "modifiers",
        "billing_class",
        "negotiated_type",
        "rate",
    ]
    df = rates.with_columns(pl.int_range(pl.len()).over(key).alias("_dup"))
    professional = pl.col("billing_class").is_in(["professional", ""])
    # a facility fee and a professional fee for the same code differ many-fold: each is
    # compared with the market of its own class
    if "medicare_facility" not in medicare.columns:
        medicare = medicare.with_columns(pl.lit(None, dtype=pl.Float64).alias("medicare_facility"))
    df = df.join(medicare, on="billing_code", how="left").with_columns(
        pl.when(professional).then(pl.lit("professional")).otherwise(pl.col("billing_class")).alias("_class"),
        (professional & _facility_setting(df, facility_places()) & (pl.col("medicare_facility") > 0)).alias("_fac"),
    )
    median = df.group_by("billing_code", "_class").agg(pl.col("rate").median().alias("_market_median"))
    df = df.join(median, on=["billing_code", "_class"], how="left").with_columns(
        (pl.col("rate") / pl.when(pl.col("_fac")).then(pl.col("medicare_facility")).otherwise(pl.col("medicare")))
        .alias("ratio")
    )
    has_mcr = pl.col("medicare").is_not_null() & (pl.col("medicare") > 0)
    vs_medicare = has_mcr & professional  # the PFS prices professional services only
    low_high = vs_medicare & ((pl.col("ratio") < rule.low) | (pl.col("ratio") > rule.high))
    far = (~vs_medicare) & (
        (pl.col("rate") < pl.col("_market_median") / rule.market_factor)
        | (pl.col("rate") > pl.col("_market_median") * rule.market_factor)
    )
    df = df.with_columns(
        _taxonomy_ok(df, taxonomy or {}).alias("_tax_ok"), _provider_type(df, taxonomy or {})
    )
    df = df.with_columns(
        pl.when(pl.col("_dup") > 0)
        .then(pl.lit("duplicate"))
        .when(low_high)
        .then(pl.lit("implausible_vs_medicare"))
        .when(far)
        .then(pl.lit("outlier_vs_market"))
        .when(~pl.col("_tax_ok"))
        .then(pl.lit("taxonomy_does_not_bill"))
        .otherwise(None)
        .alias("flag")
    )
    reason = (
        pl.when(pl.col("flag") == "duplicate")
        .then(pl.lit("same rate already kept for this payer x provider x code"))
        .when(pl.col("flag") == "implausible_vs_medicare")
        .then(
            pl.format(
                "{}% of Medicare{} (outside {}%-{}%)",
                (pl.col("ratio") * 100).round(0),
                pl.when(pl.col("_fac")).then(pl.lit(" facility")).otherwise(pl.lit("")),
                pl.lit(round(rule.low * 100)),
                pl.lit(round(rule.high * 100)),
            )
        )
        .when(pl.col("flag") == "outlier_vs_market")
        .then(
            pl.format(
                "more than {}x away from the market median {}",
                pl.lit(rule.market_factor),
                pl.col("_market_median").round(2),
            )
        )
        .when(pl.col("flag") == "taxonomy_does_not_bill")
        .then(pl.lit("the provider's taxonomy does not bill this code"))
        .otherwise(None)
    )
    return df.with_columns(reason.alias("flag_reason")).drop("_dup", "_market_median", "_tax_ok", "_class", "_fac")


def _facility_setting(df: pl.DataFrame, places: list[str]) -> pl.Expr:
    """Rows whose places of service (``service_codes``, comma separated) are all facility places:
    the rate is for the professional service in a hospital, ASC or SNF."""
    if "service_codes" not in df.columns or not places:
        return pl.lit(False)
    codes = pl.col("service_codes").fill_null("").str.split(",").list.eval(pl.element().str.strip_chars().str.zfill(2))
    listed = pl.col("service_codes").fill_null("").str.strip_chars() != ""
    return listed & codes.list.eval(pl.element().is_in(places)).list.all()


def _taxonomy_ok(df: pl.DataFrame, taxonomy: dict[int, str]) -> pl.Series:
    """Whether each row's provider plausibly bills its code (decided once per code x NPI)."""
    if not taxonomy or df.height == 0:
        return pl.Series([True] * df.height, dtype=pl.Boolean)
    pairs = df.select("billing_code", "provider_npi").unique()
    verdict = [
        bills(code, taxonomy.get(int(npi)) if npi and npi.isdigit() else None)
        for code, npi in pairs.iter_rows()
    ]
    pairs = pairs.with_columns(pl.Series("_ok", verdict, dtype=pl.Boolean))
    joined = df.select("billing_code", "provider_npi").join(
        pairs, on=["billing_code", "provider_npi"], how="left", maintain_order="left"
    )
    return joined["_ok"].fill_null(True)


def _provider_type(df: pl.DataFrame, taxonomy: dict[int, str]) -> pl.Expr:
    """Taxonomy (first code, from the registry extract) when known, else hospital / billing class."""
    fallback = (
        pl.when(pl.col("source") == "hpt")
        .then(pl.lit("hospital"))
        .when(pl.col("billing_class") != "")
        .then(pl.col("billing_class"))
        .otherwise(pl.lit("unknown"))
    )
    if not taxonomy:
        return fallback.alias("provider_type")
    npis = [n for n in df["provider_npi"].unique().to_list() if n and n.isdigit()]
    first = {n: t.split(";")[0] for n in npis if (t := taxonomy.get(int(n)))}
    known = pl.col("provider_npi").replace_strict(first, default=None, return_dtype=pl.Utf8)
    return pl.coalesce(known, fallback).alias("provider_type")


def flag_summary(flagged: pl.DataFrame) -> dict[str, int]:
    """Rows kept and flagged by reason (what the rule removed from the distributions)."""
    counts = flagged.group_by("flag").len().to_dicts()
    out = {str(r["flag"] or "kept"): int(r["len"]) for r in counts}
    out["rows"] = flagged.height
    return out


def provider_values(flagged: pl.DataFrame) -> pl.DataFrame:
    """One value per payer x provider x code: the median of its plausible rates."""
    return (
        flagged.filter(pl.col("flag").is_null())
        .group_by(
            "payer_name", "provider_npi", "provider_tin", "billing_code", "source", "provider_type"
        )
        .agg(pl.col("rate").median(), pl.col("medicare").first())
    )


def distribution(values: pl.DataFrame, by: Sequence[str] = ("billing_code",)) -> pl.DataFrame:
    """p10 / p25 / median / p75 / p90 (dollars and percent of Medicare) per group."""
    aggs = [pl.len().alias("providers")]
    for p in PERCENTILES:
        aggs.append(pl.col("rate").quantile(p / 100, interpolation="linear").alias(f"p{p}"))
    aggs.append(pl.col("medicare").first())
    out = values.group_by(list(by)).agg(aggs)
    pct = [
        (pl.col(f"p{p}") / pl.col("medicare") * 100).round(1).alias(f"p{p}_pct_medicare")
        for p in PERCENTILES
    ]
    return out.with_columns(pct).sort(list(by))


def payer_distribution(
    con: duckdb.DuckDBPyConnection,
    *,
    payer: str,
    codes: Sequence[str] | None = None,
    year: int = 2025,
    practice_zip: str | None = None,
    taxonomy: dict[int, str] | None = None,
    aliases: PayerAliases | None = None,
) -> pl.DataFrame:
    """The payer's market distribution for a code basket (used by negotiation planning).

    One row per code: providers, p10..p90 in dollars and percent of Medicare.
    ``payer`` is resolved through the payer-alias table (packaged aliases when
    ``aliases`` is None); a name no alias knows matches as a substring.
    """
    rates = load_rates(con, codes=codes, aliases=aliases)
    rates = rates.filter(payer_mask(payer, aliases))
    medicare = medicare_amounts(
        rates["billing_code"].unique().to_list(), year=year, practice_zip=practice_zip
    )
    return distribution(provider_values(flag(rates, medicare, taxonomy=taxonomy)))


def own_rates(
    con: duckdb.DuckDBPyConnection, *, payer: str, aliases: PayerAliases | None = None
) -> pl.DataFrame:
    """Our median allowed per unit and units by code for the payer (835 AMT*B6).

    The payer's remittances are those whose payer name resolves to the same
    canonical payer, or contains ``payer``, or whose payer id equals it.
    """
    aliases = aliases or load_payer_aliases()
    names = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT payer_name FROM remit_claims WHERE payer_name IS NOT NULL"
        ).fetchall()
    ]
    wanted = aliases.canonical(payer) if aliases.match(payer) is not None else None
    matched = [
        n
        for n in names
        if (wanted is not None and aliases.canonical(n) == wanted) or payer.lower() in n.lower()
    ]
    sql = """
        SELECT l.procedure_code AS billing_code,
               median(CAST(l.allowed_amount AS DOUBLE) / CAST(coalesce(nullif(l.units, 0), 1) AS DOUBLE)) AS own_rate,
               sum(CAST(coalesce(nullif(l.units, 0), 1) AS DECIMAL(18, 3))) AS own_units,
               count(*) AS own_lines
        FROM remit_lines l JOIN remit_claims c ON c.file_id = l.file_id AND c.claim_seq = l.claim_seq
        WHERE l.allowed_amount IS NOT NULL AND l.allowed_amount > 0
          AND (c.payer_name IN (SELECT unnest(?::VARCHAR[])) OR lower(coalesce(c.payer_id, '')) = lower(?))
        GROUP BY 1
    """
    return _frame(con, sql, [matched, payer])


def payer_benchmark(
    con: duckdb.DuckDBPyConnection,
    *,
    payer: str,
    percentile: float = 75.0,
    codes: Sequence[str] | None = None,
    year: int = 2025,
    practice_zip: str | None = None,
    taxonomy: dict[int, str] | None = None,
    aliases: PayerAliases | None = None,
) -> dict[str, Any]:
    """Everything ``parley benchmark PAYER`` shows (JSON-ready)."""
    aliases = aliases or load_payer_aliases()
    own = own_rates(con, payer=payer, aliases=aliases)
    basket = list(codes) if codes else own["billing_code"].to_list() or None
    rates = load_rates(con, codes=basket, aliases=aliases)
    medicare = medicare_amounts(
        rates["billing_code"].unique().to_list(), year=year, practice_zip=practice_zip
    )
    flagged = flag(rates, medicare, taxonomy=taxonomy)
    values = provider_values(flagged)
    mask = payer_mask(payer, aliases)
    market = distribution(values)
    mine = values.filter(mask)
    by_payer = distribution(values, by=("billing_code", "payer_name"))
    by_type = distribution(values, by=("billing_code", "provider_type"))
    rows = _code_rows(distribution(mine), mine, own, percentile)
    return {
        "payer": payer,
        "payer_canonical": aliases.canonical(payer) if aliases.match(payer) else None,
        "payer_names_matched": sorted(
            set(rates.filter(mask)["payer_name_published"].drop_nulls().to_list())
        ),
        "percentile": percentile,
        "year": year,
        "locality_zip": practice_zip,
        "plausibility": flag_summary(flagged),
        "codes": rows,
        "market": _records(market),
        "by_payer": _records(by_payer),
        "by_provider_type": _records(by_type),
        "total_opportunity": _money(sum(r["opportunity"] or 0 for r in rows)),
    }


def _code_rows(
    dist: pl.DataFrame, mine: pl.DataFrame, own: pl.DataFrame, percentile: float
) -> list[dict[str, Any]]:
    own_by = {r["billing_code"]: r for r in own.to_dicts()}
    out = []
    for row in dist.to_dicts():
        code = row["billing_code"]
        vals = mine.filter(pl.col("billing_code") == code)["rate"]
        target = (
            float(vals.quantile(percentile / 100, interpolation="linear") or 0)
            if len(vals)
            else None
        )
        o = own_by.get(code)
        own_rate = o["own_rate"] if o else None
        position = 100.0 * int((vals <= own_rate).sum()) / len(vals) if o and len(vals) else None
        opportunity = _opportunity(_money(target), _money(own_rate), o["own_units"] if o else None)
        out.append(
            {
                **{
                    k: (
                        _money(v) if isinstance(v, float) and not k.endswith("_pct_medicare") else v
                    )
                    for k, v in row.items()
                },
                "own_rate": _money(own_rate),
                "own_units": o["own_units"] if o else None,
                "own_percentile": round(position, 1) if position is not None else None,
                "target_rate": _money(target),
                "opportunity": opportunity,
            }
        )
    return out


def _opportunity(target: Decimal | None, own_rate: Decimal | None, units: Decimal | None) -> Decimal | None:
    """Dollars of moving our rate up to the target at our volume, in exact decimals: the rates are
    statistics (a percentile, a median) rounded to cents first; the money is then exact."""
    if units is None:
        return None
    if target is None or own_rate is None or target <= own_rate:
        return Decimal("0.00")
    return ((target - own_rate) * Decimal(units)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _money(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def _records(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            k: (_money(v) if isinstance(v, float) and not k.endswith("_pct_medicare") else v)
            for k, v in r.items()
        }
        for r in frame.to_dicts()
    ]
