"""Column lineage of the staging and mart tables (`dagster/column_lineage`), from the SQL that
builds them: the columns of the lakes (raw/<source>) and of the tables upstream each column is
computed from, so that the UI follows a mart's column down to the raw files' columns.

Derived from the SQL at build time (sql/lineage.json, assets/lib/sql_lineage.py): a run reads it.
A state kept with a table (staging.paid_days, kept with staging.paid_orders) is no asset: a mart
column read from it is traced through it to the table's columns."""

from __future__ import annotations

from functools import cache

from dagster import AssetKey, TableColumnDep, TableColumnLineage

from .lib.lineage_file import derived

COLUMN_LINEAGE = "dagster/column_lineage"  # the metadata key the UI reads it from


def _dep(column: str) -> TableColumnDep:
    """`raw/orders.paid_amount` as the column of its asset."""
    key, _, name = column.rpartition(".")
    return TableColumnDep(asset_key=AssetKey.from_user_string(key), column_name=name)


@cache
def column_lineage() -> dict[AssetKey, TableColumnLineage]:
    """Each staging and mart asset's column lineage."""
    return {
        AssetKey.from_user_string(key): TableColumnLineage(
            deps_by_column={column: [_dep(c) for c in deps] for column, deps in entry["columns"].items()}
        )
        for key, entry in derived().items()
    }
