"""Equality of two quarterly tables (quarterly_shop_kpis, quarterly_funnel), and of every mart two
runs published (DuckDB's and Spark's): the benchmark's gate before it reports any time."""

from __future__ import annotations

import math
import operator
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


def published_schema(warehouse: Path, schema: str = "marts") -> dict[str, pl.DataFrame]:
    """Every table of `schema` in the published warehouse, by name."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [n for (n,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? ORDER BY 1", [schema]).fetchall()]
        return {name: con.table(f"{schema}.{name}").pl() for name in names}


def tables_differences(expected: dict[str, pl.DataFrame], actual: dict[str, pl.DataFrame], limit: int = 10) -> list[str]:
    """Where the tables `actual` differ from `expected`: a table missing or extra, or any difference
    frame_differences finds in one of them."""
    problems = [f"{name}: only in the expected tables" for name in expected.keys() - actual.keys()]
    problems += [f"{name}: only in the actual tables" for name in actual.keys() - expected.keys()]
    for name in sorted(expected.keys() & actual.keys()):
        problems += [f"{name}: {p}" for p in frame_differences(expected[name], actual[name], limit)]
    return problems[:limit]


def frame_differences(expected: pl.DataFrame, actual: pl.DataFrame, limit: int = 10) -> list[str]:
    """Where `actual` differs from `expected`, value for value and in any row order: the same
    columns of the same types, as many rows, and, both sorted by every column (doubles last, as two
    engines may sum them in different orders), doubles equal within REL_TOL and every other value
    (money as decimals, counts, names, dates) exactly."""
    if expected.schema != actual.schema:
        return [f"columns differ: expected {dict(expected.schema)}, got {dict(actual.schema)}"]
    if expected.height != actual.height:
        return [f"{expected.height} rows expected, got {actual.height}"]
    floats = [c for c, t in expected.schema.items() if t.is_float()]
    order = [c for c, t in expected.schema.items() if not t.is_float() and not t.is_nested()] + floats
    left, right = (frame.sort(order, nulls_last=True) if order else frame for frame in (expected, actual))
    problems = []
    for column in expected.columns:
        same = _equal_rate if column in floats else operator.eq
        for row, (a, b) in enumerate(zip(left[column].to_list(), right[column].to_list())):
            if not same(a, b):
                problems.append(f"{column} in row {row} of {left.height} (sorted): expected {a}, got {b}")
                if len(problems) >= limit:
                    return problems
    return problems


def _equal_rate(a, b) -> bool:
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _equal(a, b) -> bool:
    if _missing(a) or _missing(b):
        return _missing(a) and _missing(b)
    if isinstance(a, float) and isinstance(b, float):  # a rate
        return _equal_rate(a, b)
    # money (Decimal on one side at least) to the cent, counts exactly
    return round(float(a) * 100) == round(float(b) * 100) if isinstance(a, Decimal) or isinstance(b, Decimal) else a == b


def assert_same(expected: pl.DataFrame, actual: pl.DataFrame, what: str) -> None:
    problems = differences(expected, actual)
    if problems:
        raise AssertionError(f"{what} does not compute the pipeline's quarterly_shop_kpis:\n  " + "\n  ".join(problems))
