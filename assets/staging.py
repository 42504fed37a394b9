"""Staging layer: the current state of every order, traffic row, courier period and target."""


from dagster import AssetKey, MaterializeResult, asset
from dagster_duckdb import DuckDBResource

from .db import table_metadata, working_db
from .lib.lake import register_lake
from .lib.sql import run_sql
from .resources import PipelineSettings

DESCRIPTIONS = {
    "orders": "Each order's current state: among its loaded rows, the one with the greatest "
    "(batch date, file name, line). Buyers are pseudonyms; no receiver data.",
    "traffic": "One row per (date, shop, channel, device), latest wins; total rows and the `all` "
    "row of a channel-day split by device left out.",
    "courier": "One row per (period, courier, region), latest wins; courier names as codes.",
    "targets": "Monthly sales target per (shop, month).",
}


def _staging_asset(table: str):
    @asset(
        name=table,
        key_prefix="staging",
        group_name="staging",
        kinds={"duckdb", "sql"},
        owners=["team:data-engineering"],
        deps=[AssetKey(["raw", table])],
        description=DESCRIPTIONS[table],
    )
    def staging_table(settings: PipelineSettings, duckdb: DuckDBResource) -> MaterializeResult:
        with working_db(settings, duckdb) as con:
            register_lake(con, settings.lake_dir, table)
            run_sql(con, f"staging/{table}", settings.sql_params())
            return MaterializeResult(metadata=table_metadata(con, "staging", table))

    return staging_table


staging_assets = [_staging_asset(table) for table in DESCRIPTIONS]
