"""The vectorised engine: contracts compiled to rate tables, one set-based pass over every line.

:mod:`parley.engine.compile` turns contracts into a rate table with the scalar
rules of :mod:`parley.domain.pricing`; :mod:`parley.engine.reprice` prices all
lines in one DuckDB query using integer-cent arithmetic that reproduces the
scalar reference to the cent.
"""

from parley.engine.compile import RATE_SCHEMA, compile_rates
from parley.engine.reprice import Tolerance, prepare, reprice_sql

__all__ = ["RATE_SCHEMA", "Tolerance", "compile_rates", "prepare", "reprice_sql"]
