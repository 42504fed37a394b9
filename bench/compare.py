"""Equality of two quarterly tables (quarterly_shop_kpis, quarterly_funnel): the benchmark's gate
before it reports any time."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl

KEY = ["quarter", "shop_id"]
REL_TOL = 1e-9  # rates are doubles computed in a different order; money is compared to the cent, counts exactly


def published_kpis(warehouse: Path) -> pl.DataFrame:
    return published(warehouse, "marts.quarterly_shop_kpis")


def published(warehouse: Path, table: str) -> pl.DataFrame:
    """A table of the published warehouse (duckdb.CatalogException when it has none of that name)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.table(table).pl()


def read(path: Path) -> pl.DataFrame:
    return pl.read_parquet(path)


def differences(expected: pl.DataFrame, actual: pl.DataFrame, limit: int = 10) -> list[str]:
    """Where `actual` differs from `expected`: missing or extra keys and columns, and unequal cells."""
    problems = []
    missing = [c for c in expected.columns if c not in actual.columns]
    if missing:
        problems.append(f"columns missing: {missing}")
    left, right = expected.sort(KEY), actual.sort(KEY)
    keys_l, keys_r = set(left.select(KEY).iter_rows()), set(right.select(KEY).iter_rows())
    if keys_l != keys_r:
        problems.append(f"rows differ: only expected {sorted(keys_l - keys_r)[:5]}, only actual {sorted(keys_r - keys_l)[:5]}")
        return problems
    for column in expected.columns:
        if column in KEY or column in missing:
            continue
        for key, a, b in zip(left.select(KEY).iter_rows(), left[column].to_list(), right[column].to_list()):
            if not _equal(a, b):
                problems.append(f"{column} at {key}: expected {a}, got {b}")
                if len(problems) >= limit:
                    return problems
    return problems


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _equal(a, b) -> bool:
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    if isinstance(a, float) and isinstance(b, float):  # a rate
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)
    # money (Decimal on one side at least) to the cent, counts exactly
    return round(float(a) * 100) == round(float(b) * 100) if isinstance(a, Decimal) or isinstance(b, Decimal) else a == b


def assert_same(expected: pl.DataFrame, actual: pl.DataFrame, what: str) -> None:
    problems = differences(expected, actual)
    if problems:
        raise AssertionError(f"{what} does not compute the pipeline's quarterly_shop_kpis:\n  " + "\n  ".join(problems))
