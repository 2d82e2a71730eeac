"""Price every line in one set-based DuckDB pass over a compiled rate table.

Input: a relation with the columns of :data:`INPUT_COLUMNS` (one row per
remitted line) and the rate table from :func:`parley.engine.compile.compile_rates`.
Output (:func:`reprice_sql`): the input columns plus the contract, term,
expected allowed and paid, the status and the reason.

The arithmetic mirrors :mod:`parley.domain.pricing` exactly, in integer cents
and thousandths of a percent, rounding half up at the same steps:

* amount0 = round(unit_cents x units) or round(charge x pct)
* multiple procedure (CMS): every unit is a procedure, ranked within the claim
  by unit rate (desc, then line number, line key); a line earns its unit rate x
  the schedule's percentages summed over its units' ranks
* bilateral, assistant at surgery, non-physician practitioner
* lesser of billed charge
* expected paid = max(allowed - patient responsibility, 0)

Integer widths: every step runs in BIGINT (64-bit) when its operands are small enough to
be exact there (line amounts under $90M, factors under 1000%), else in HUGEINT (128-bit,
~40x slower per division): the same integers either way, so the result is exact and no
input overflows.  The MPPR amount (a HUGEINT product) is computed in the ranks pre-pass,
on the multiple-procedure lines only.

Status: ``denied`` (the payer denied the line), ``not_priceable`` (reason),
``underpaid`` / ``overpaid`` when actual allowed differs from expected by
more than BOTH the dollar and the percent tolerance, else ``paid_correctly``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

INPUT_COLUMNS = (
    "line_key", "claim_key", "line_number", "payer_id", "filing_indicator", "service_date",
    "procedure_code", "modifier_1", "modifier_2", "modifier_3", "modifier_4", "units",
    "charge_amount", "place_of_service", "rendering_npi", "patient_responsibility",
    "actual_allowed", "paid_amount", "denied",
)


#: every status a priced line can have (``recoded`` is the service's, for lines priced at two codes)
STATUSES = ("paid_correctly", "underpaid", "overpaid", "denied", "not_priceable", "recoded")


def status_literal(status: str, typ: str | None = None) -> str:
    """A status as a SQL literal: text, or a value of the ENUM type ``typ`` (created by the caller
    with :data:`STATUSES`), which DuckDB keeps as a small integer and writes to Parquet as its
    dictionary (a text column costs the writer a hash per row)."""
    return f"'{status}'" if typ is None else f"'{status}'::{typ}"


@dataclass(frozen=True)
class Tolerance:
    """A deviation counts only when it exceeds both the dollars and the percent of expected."""

    dollars: Decimal = Decimal("1.00")
    percent: Decimal = Decimal("1.0")

    @property
    def cents(self) -> int:
        return int(self.dollars * 100)

    @property
    def pct_milli(self) -> int:
        return int(self.percent * 1000)


def _rhu(x: str, d: int) -> str:
    """Integer division rounding half up, as SQL, for x >= 0 (lines with a negative charge or
    units are not priced).  ``x`` appears once, so nested steps stay linear in size."""
    return f"((({x}) + {d // 2}) // {d})"


# BIGINT is exact for a product a x f when a <= _A_MAX and f <= _F_MAX; else HUGEINT.
_A_MAX = 9_000_000_000  # cents ($90M): three steps of at most x10 stay under 9e11
_F_MAX = 1_000_000  # thousandths of a percent (1000%)


def _chain(a: str, typ: str) -> str:
    """The bilateral, assistant and NPP steps (factors fb, fa, fn) in one integer type; ``a``
    appears once, so the expression stays linear in size."""
    for f in ("fb", "fa", "fn"):
        a = _rhu(f"CAST({a} AS {typ}) * {f}", 100000)
    return a


def _step_safe(a: str, f: str) -> str:
    """round(a x f / 100000) half up, exact for any size (BIGINT for small operands)."""
    return (f"CASE WHEN {a} <= {_A_MAX} AND {f} <= {_F_MAX} THEN {_rhu(f'{a} * {f}', 100000)} "
            f"ELSE CAST({_rhu(f'CAST({a} AS HUGEINT) * {f}', 100000)} AS BIGINT) END")


def _mppr_cum(x_milli: str) -> str:
    """Sum of the MPPR schedule (thousandths of a percent) over the first x procedure units, x in
    thousandths of a unit, scaled by 1000 (the last percentage repeats; a fraction earns its share
    of the next percentage) - :func:`parley.domain.pricing.mppr_share` in integers."""
    whole = f"(({x_milli}) // 1000)"
    frac = f"(({x_milli}) % 1000)"
    n = "len(mppr_schedule)"
    return (f"(1000 * (coalesce(list_sum(list_slice(mppr_schedule, 1, least({whole}, {n}))), 0) "
            f"+ greatest({whole} - {n}, 0) * mppr_schedule[{n}]) "
            f"+ {frac} * mppr_schedule[least({whole} + 1, {n})])")


def _share_sql() -> str:
    """A line's MPPR share (sum of the schedule over its units' ranks, x1000)."""
    return f"({_mppr_cum('rk_before + units_m')} - {_mppr_cum('rk_before')})"


def _mppr_amount_sql() -> str:
    """A line's MPPR amount in cents: round(unit rate x share), computed once per MPPR line in the
    ranks pre-pass (HUGEINT product, BIGINT result) so the streaming pass does no wide arithmetic."""
    return f"CAST({_rhu(f'CAST(unit_cents AS HUGEINT) * {_share_sql()}', 100_000_000)} AS BIGINT)"


_RANKS_SELECT = """
SELECT rk_key, rk_rank, """ + _mppr_amount_sql() + """ AS rk_amount FROM (
SELECT line_key AS rk_key, units_m, unit_cents, mppr_schedule,
    row_number() OVER (PARTITION BY claim_key ORDER BY unit_cents DESC, line_number, line_key) AS rk_rank,
    CAST(coalesce(sum(units_m) OVER (PARTITION BY claim_key ORDER BY unit_cents DESC, line_number, line_key
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS BIGINT) AS rk_before
FROM j {where})
"""


def _money(cents: str) -> str:
    """Integer cents -> DECIMAL(14, 2) through 64-bit decimals (BIGINT x DECIMAL(3, 2) is 128-bit)."""
    return f"CAST(CAST({cents} AS DECIMAL(16, 0)) * CAST(0.01 AS DECIMAL(2, 2)) AS DECIMAL(14, 2))"


def _pmod() -> str:
    parts = " ".join(f"WHEN modifier_{i} IN ('26','TC') THEN modifier_{i}" for i in range(1, 5))
    return f"CASE {parts} ELSE '' END"


def _has(mods: tuple[str, ...]) -> str:
    lst = ", ".join(f"'{m}'" for m in mods)
    return "(" + " OR ".join(f"coalesce(modifier_{i}, '') IN ({lst})" for i in range(1, 5)) + ")"


def classify_sql(expected: str, actual: str, tol: Tolerance, status_type: str | None = None) -> str:
    """underpaid / overpaid / paid_correctly in integers (BIGINT when exact there, else HUGEINT)."""
    diff = f"({expected} - {actual})"
    small = f"abs({diff}) < 90000000000000 AND abs({expected}) < 90000000000000"
    if tol.pct_milli > 100000:
        small = "false"

    def over(d: str) -> str:
        return (f"(CASE WHEN {small} THEN {d} * 100000 > {tol.pct_milli} * {expected} "
                f"ELSE CAST({d} AS HUGEINT) * 100000 > CAST({tol.pct_milli} AS HUGEINT) * {expected} END)")

    def lit(s: str) -> str:
        return status_literal(s, status_type)

    return (
        f"CASE WHEN {diff} > {tol.cents} AND {over(diff)} THEN {lit('underpaid')} "
        f"WHEN -{diff} > {tol.cents} AND {over('-' + diff)} THEN {lit('overpaid')} "
        f"ELSE {lit('paid_correctly')} END"
    )


def _base_ctes(input_rel: str, rates_rel: str, *, mppr_only: bool = False) -> str:
    amt0 = (
        f"CASE WHEN r.kind = 'charges' THEN {_step_safe('l.charge_c', 'r.pct_milli')} "
        f"WHEN r.kind = 'unit' AND r.unit_cents <= {_A_MAX} AND l.units_m <= 900000000 "
        f"THEN {_rhu('r.unit_cents * l.units_m', 1000)} "
        f"WHEN r.kind = 'unit' THEN CAST({_rhu('CAST(r.unit_cents AS HUGEINT) * l.units_m', 1000)} AS BIGINT) END"
    )
    join = "JOIN" if mppr_only else "LEFT JOIN"
    guard = "AND l.charge_c >= 0 AND l.units_m >= 0"
    where = "WHERE r.mppr" if mppr_only else ""
    return f"""
WITH l AS (
    SELECT i.*,
        {_pmod()} AS pmod,
        coalesce(i.place_of_service, '') AS pos_key,
        coalesce(i.filing_indicator, '') AS fi_key,
        CAST(i.charge_amount * 100 AS BIGINT) AS charge_c,
        CAST(i.units * 1000 AS BIGINT) AS units_m,
        CAST(coalesce(i.patient_responsibility, 0) * 100 AS BIGINT) AS pr_c,
        CAST(i.actual_allowed * 100 AS BIGINT) AS act_c
    FROM {input_rel} i
),
j AS (
    SELECT l.*, r.contract_id, r.product_line, r.segment, r.kind, r.term, r.method, r.reductions, r.mppr,
        r.mppr_schedule, r.bilateral_milli, r.assistant_milli, r.npp_milli, r.npp_npis, r.lesser_of,
        r.reason AS rate_reason, r.unit_cents, {amt0} AS amt0
    FROM l {join} {rates_rel} r
      ON r.payer_id = l.payer_id AND r.filing_indicator = l.fi_key AND r.code = l.procedure_code
     AND r.pmod = l.pmod AND r.pos = l.pos_key
     AND l.service_date BETWEEN r.seg_start AND r.seg_end {guard}
    {where}
)"""


def mppr_ranks_sql(input_rel: str, rates_rel: str) -> str:
    """Pre-pass over the multiple-procedure lines only: their rank within the claim."""
    return _base_ctes(input_rel, rates_rel, mppr_only=True) + _RANKS_SELECT.format(where="")


def prepare(con: object, input_rel: str, rates_rel: str, tol: Tolerance, *, ranks_table: str = "mppr_ranks",
            carry: tuple[str, ...] = (), status_type: str | None = None) -> str:
    """Compute the MPPR ranks (small temp table), return the streaming pricing query.

    Keeping the ranks in a table lets the main pass stream: memory stays bounded by the
    rate table and the ranks, not by the number of lines.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE {ranks_table} AS {mppr_ranks_sql(input_rel, rates_rel)}")  # type: ignore[attr-defined]
    return reprice_sql(input_rel, rates_rel, tol, ranks_rel=ranks_table, carry=carry, status_type=status_type)


def reprice_sql(input_rel: str, rates_rel: str, tol: Tolerance, *, ranks_rel: str | None = None,
                carry: tuple[str, ...] = (), status_type: str | None = None) -> str:
    """The query that prices every line of ``input_rel`` with ``rates_rel``.

    ``carry``: further columns of ``input_rel`` passed through to the output unchanged (so a
    caller persisting the result needs no join back to the input).  ``status_type``: an ENUM
    type of :data:`STATUSES` for the ``status`` column (text without).

    With ``ranks_rel`` (see :func:`prepare`) the query streams; without, the MPPR ranks
    are computed inline (simpler, but the joined lines are materialised once).
    """
    # each step is round(amount x factor); a factor is 100000 (= 100%) when its step does not apply,
    # and a line with no step to apply (most) skips the chain
    f_bil = f"CASE WHEN reductions AND bilateral_milli IS NOT NULL AND {_has(('50',))} THEN bilateral_milli ELSE 100000 END"
    f_ast = f"CASE WHEN reductions AND assistant_milli IS NOT NULL AND {_has(('80', '81', '82', 'AS'))} THEN assistant_milli ELSE 100000 END"
    f_npp = ("CASE WHEN reductions AND npp_milli IS NOT NULL AND rendering_npi IS NOT NULL "
             "AND list_contains(npp_npis, rendering_npi) THEN npp_milli ELSE 100000 END")
    a4 = (f"CASE WHEN fb = 100000 AND fa = 100000 AND fn = 100000 THEN a1 "
          f"WHEN a1 <= {_A_MAX} AND greatest(fb, fa, fn) <= {_F_MAX} THEN {_chain('a1', 'BIGINT')} "
          f"ELSE CAST({_chain('a1', 'HUGEINT')} AS BIGINT) END")
    a_les = f"least({a4}, CASE WHEN lesser_of AND kind = 'unit' THEN charge_c END)"
    status = classify_sql("exp_c", "act_c", tol, status_type)
    if ranks_rel is None:
        ranks = ",\nrk AS (" + _RANKS_SELECT.format(where="WHERE mppr") + ")"
        ranks_rel = "rk"
    else:
        ranks = ""
    # The joins are also barriers to DuckDB's inlining of one step's expression into the next:
    # factors below the ranks join, the amount between it and a one-row join (the tolerance),
    # the classification above, so every expression stays small (its common-subexpression
    # pass is superlinear in expression size).
    return _base_ctes(input_rel, rates_rel) + ranks + f""",
fac AS (SELECT *, {f_bil} AS fb, {f_ast} AS fa, {f_npp} AS fn FROM j),
ranked AS (SELECT fac.*, coalesce(rk.rk_rank, 1) AS prank,
                  CASE WHEN mppr THEN coalesce(rk.rk_amount, 0) ELSE amt0 END AS a1
           FROM fac LEFT JOIN {ranks_rel} rk ON rk.rk_key = fac.line_key),
amounts AS (SELECT *, {a_les} AS exp_c FROM ranked),
priced AS (SELECT amounts.* FROM amounts CROSS JOIN (SELECT {tol.cents} AS tol_cents) tol)
SELECT {', '.join((*INPUT_COLUMNS, *carry))}, contract_id, product_line, segment, term, method, kind,
    {_money("exp_c")} AS expected_allowed,
    {_money("CASE WHEN exp_c IS NOT NULL THEN greatest(exp_c - pr_c, 0) END")} AS expected_paid,
    CASE WHEN denied THEN {status_literal('denied', status_type)}
         WHEN kind IS NULL OR exp_c IS NULL THEN {status_literal('not_priceable', status_type)}
         ELSE {status} END AS status,
    CASE WHEN denied THEN NULL
         WHEN charge_c < 0 OR units_m < 0 THEN 'negative charge or units (a reversal?)'
         WHEN kind IS NULL THEN 'no contract covers payer ' || coalesce(payer_id, '?') || ' / filing '
              || coalesce(filing_indicator, '?') || ' on ' || coalesce(CAST(service_date AS VARCHAR), 'an unknown date')
         WHEN kind = 'anesthesia' THEN 'anesthesia: priced by the scalar path'
         ELSE rate_reason END AS reason,
    {_money("exp_c - act_c")} AS difference,
    prank AS procedure_rank
FROM priced
"""
