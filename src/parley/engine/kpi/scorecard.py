"""The payer scorecard: one row per payer, with a "hassle" and a "value" score (0-100).

Scores use FIXED anchors (not ranks), so they compare across payers, workspaces
and time.  Each component maps linearly from its "best" anchor (score 0 for
hassle, 100 for value) to its "worst", clipped; a missing component is left
out and the weights of the others are rescaled.

Hassle (0 = no hassle, 100 = worst), weights in brackets:
  initial denial rate 0% -> 30% [30]; median days to pay 14 -> 60 [25];
  prior auths per 100 claims 0 -> 20 [15]; cost to collect 0% -> 10% [20];
  late prompt-pay share 0% -> 50% [10].
Value (0 = worst, 100 = best):
  percent of Medicare 80% -> 200% [40]; payment accuracy (share of allowed dollars
  paid correctly) 80% -> 100% [20]; share of collected dollars 0% -> 30% [20];
  100 - hassle [20].
"""

from __future__ import annotations

from typing import Any

HASSLE = (  # (column, best, worst, weight)
    ("initial_denial_rate", 0.0, 0.30, 30),
    ("median_days_to_pay", 14.0, 60.0, 25),
    ("prior_auths_per_100_claims", 0.0, 20.0, 15),
    ("cost_to_collect", 0.0, 0.10, 20),
    ("late_share", 0.0, 0.50, 10),
)
VALUE = (
    ("percent_of_medicare", 80.0, 200.0, 40),
    ("payment_accuracy", 0.80, 1.00, 20),
    ("share_of_collected", 0.0, 0.30, 20),
    ("low_hassle", 0.0, 100.0, 20),
)

DEFINITIONS = {
    "claims": "claims of the payer (payer_mix)",
    "share_of_collected": "payer's share of all net collected dollars",
    "percent_of_medicare": "paid allowed / Medicare PFS allowed x 100 (lines with a PFS price)",
    "revenue_per_rvu": "allowed dollars / total RVUs",
    "payment_accuracy": "share of allowed dollars paid within tolerance of the contract (parley reprice)",
    "actual_vs_modeled": "actual allowed / modeled (expected) allowed",
    "initial_denial_rate": "claims denied in their first adjudication / adjudicated claims",
    "final_denial_rate": "claims denied in their latest adjudication / adjudicated claims",
    "median_days_to_pay": "median days from 837 submission to first payment",
    "late_share": "claims paid after the contract's prompt-pay days / paid claims with prompt-pay terms",
    "prior_auths_per_100_claims": "prior authorisations required by the contract per 100 claims",
    "cost_to_collect": "(rework + auth + delay cost) / collected",
    "hassle_score": "weighted 0-100 (100 = worst): " + "; ".join(f"{c} {b}->{w} [{wt}]" for c, b, w, wt in HASSLE),
    "value_score": "weighted 0-100 (100 = best): " + "; ".join(f"{c} {b}->{w} [{wt}]" for c, b, w, wt in VALUE),
}


def _scale(value: float, best: float, worst: float) -> float:
    return min(max((value - best) / (worst - best), 0.0), 1.0) * 100


def _score(row: dict[str, Any], spec: tuple[tuple[str, float, float, int], ...]) -> float | None:
    parts = [(_scale(float(row[c]), b, w), wt) for c, b, w, wt in spec if row.get(c) is not None]
    if not parts:
        return None
    return round(sum(s * wt for s, wt in parts) / sum(wt for _, wt in parts), 1)


def score(row: dict[str, Any]) -> dict[str, Any]:
    """Add hassle_score and value_score to one payer row."""
    hassle = _score(row, HASSLE)
    out = {**row, "hassle_score": hassle}
    out["low_hassle"] = None if hassle is None else 100 - hassle
    out["value_score"] = _score(out, VALUE)
    del out["low_hassle"]
    return out
