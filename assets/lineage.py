"""Column lineage of the staging and mart tables (`dagster/column_lineage`), from the SQL that
builds them: the columns of the lakes (raw/<source>) and of the tables upstream each column is
computed from, so that the UI follows a mart's column down to the raw files' columns.

A state kept with a table (staging.paid_days, kept with staging.paid_orders) is no asset: a mart
column read from it is traced through it to the table's columns."""

from __future__ import annotations

from functools import cache

import duckdb
from dagster import AssetKey, TableColumnDep, TableColumnLineage

from .lib.defaults import register_defaults
from .lib.incremental import (
    LAKE_VIEW_PREFIX, REGISTERED, REGISTERED_COLUMNS, SHIPPED_VIEW_PREFIX, mart_sql,
)
from .lib.parse import LAKE_SCHEMAS, lake_schema
from .lib.sql_lineage import Catalog, reads

COLUMN_LINEAGE = "dagster/column_lineage"  # the metadata key the UI reads it from
MART_ROWS = "mart_rows"  # the temp table a mart's SQL computes its rows into (assets/marts.py)


def _builds() -> list[tuple[AssetKey, tuple[str, ...], str]]:
    """Every staging and mart asset in build order: its key, its SQL files, the relation they build."""
    from .marts import MARTS  # imported here: they attach this module's lineage to their assets
    from .staging import TABLES

    return [
        *((AssetKey([t.key_prefix, n]), t.sql_files(n), f"{t.key_prefix}.{n}") for n, t in TABLES.items()),
        *((AssetKey(["marts", m]), mart_sql(m), MART_ROWS) for m in MARTS),
    ]


def _shipped_columns(views: set[str]) -> dict[str, tuple[str, ...]]:
    """The columns of the reference rows shipped with the code (lib/defaults.py)."""
    with duckdb.connect() as con:
        register_defaults(con)
        return {v: tuple(name for name, *_ in con.execute(f"describe {v}").fetchall()) for v in views}  # noqa: S608


def _register(catalog: Catalog) -> None:
    """The relations builders register (incremental.REGISTERED), as the columns of the relations
    they hold rows of, once those are known."""
    for relation, holds in REGISTERED.items():
        if all(h in catalog.columns for h in holds):
            columns = tuple(dict.fromkeys(c for h in holds for c in catalog.columns[h]))
            catalog.columns[relation] = columns + REGISTERED_COLUMNS.get(relation, ())
            catalog.sources[relation] = {c: {(h, c) for h in holds if c in catalog.columns[h]} for c in columns}


@cache
def column_lineage() -> dict[AssetKey, TableColumnLineage]:
    """Each staging and mart asset's column lineage, computed once a process, at the first of
    them a run materializes (~1.5 s: sqlglot's lineage of 57 statements)."""
    builds = _builds()
    lakes = {f"{LAKE_VIEW_PREFIX}{s}": tuple(lake_schema(s)) for s in LAKE_SCHEMAS}
    shipped = {r for _, sql, _ in builds for r in reads(sql) if r.startswith(SHIPPED_VIEW_PREFIX)}
    catalog = Catalog({**lakes, **_shipped_columns(shipped)}, {})
    assets = {f"{LAKE_VIEW_PREFIX}{s}": AssetKey(["raw", s]) for s in LAKE_SCHEMAS}
    assets.update({built: key for key, _, built in builds if built != MART_ROWS})
    lineage = {}
    for key, sql, built in builds:
        _register(catalog)
        catalog.run(sql)
        lineage[key] = TableColumnLineage(deps_by_column={
            column: [
                TableColumnDep(asset_key=assets[relation], column_name=name)
                for relation, name in sorted(catalog.origins(built, column, set(assets)))
            ]
            for column in catalog.columns[built]
        })
    return lineage
