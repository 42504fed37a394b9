"""Staging layer: the current state of every order, traffic row and courier period, and the
reference tables (shipped defaults merged with the user's files) that map names onto them."""

from dataclasses import dataclass
from typing import Callable

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset
from dagster_duckdb import DuckDBResource

from .db import table_metadata, working_db
from .lib.defaults import register_defaults
from .lib.incremental import (
    COURIER_NAMES_SQL, ORDERS_SQL, PAID_SQL, Inputs, Plan, build_courier_names, build_orders, build_paid_orders,
    build_when_changed, inputs_of,
)
from .lib.lake import register_lake
from .lib.sql import run_sql
from .lineage import COLUMN_LINEAGE, column_lineage
from .resources import PipelineSettings


@dataclass(frozen=True)
class StagingTable:
    description: str
    key_prefix: str = "staging"
    # sql files, default: <prefix>/<name>; what they read is what the table reads (`inputs`)
    sql: tuple[str, ...] = ()
    # Builds the table itself with its `sql`, merging what is new when it can
    # (assets/lib/incremental.py); it registers the lake views it needs.
    build: Callable | None = None
    # Left as it is when none of its lake files, upstream tables or SQL changed since it was built.
    skip_unchanged: bool = False

    def sql_files(self, name: str) -> tuple[str, ...]:
        """The SQL files that build it, by default <prefix>/<name>."""
        return self.sql or (f"{self.key_prefix}/{name}",)

    def inputs(self, name: str) -> Inputs:
        """The lakes and staging tables its SQL reads."""
        return inputs_of(self.sql_files(name))


TABLES = {
    "shops": StagingTable("Other spellings of a shop -> its shop_id (reference/shops.csv)."),
    "channels": StagingTable(
        "Channel -> channel group: shipped defaults, replaced row by row by reference/channels.csv.",
    ),
    "campaigns": StagingTable(
        "Campaign days: 双11 / 双12 / 618 of every year by default, replaced by reference/campaigns.csv.",
    ),
    "couriers": StagingTable(
        "Courier aliases in the order they are tried (user's first), and each code's name and group.",
        sql=("staging/couriers", "staging/courier_codes"),
    ),
    "courier_names": StagingTable(
        "Every courier name seen in orders and courier files, with its code (or kept as given).",
        sql=COURIER_NAMES_SQL,
        build=lambda con, settings: build_courier_names(con, settings.lake_dir),
    ),
    "orders": StagingTable(
        "Each order's current state: among its loaded rows, the one with the greatest (batch date, "
        "file name, line). Buyers are pseudonyms; no receiver data.",
        sql=ORDERS_SQL,
        build=lambda con, settings: build_orders(con, settings.lake_dir),
    ),
    "traffic": StagingTable(
        "One row per (date, shop, channel, device), latest wins; total rows and the `all` row of a "
        "channel-day split by device left out.",
        skip_unchanged=True,
    ),
    "courier": StagingTable(
        "One row per (period, courier, region), latest wins; courier names as codes.",
        skip_unchanged=True,
    ),
    "targets": StagingTable(
        "Monthly sales target per (shop, month).", skip_unchanged=True
    ),
    "paid_orders": StagingTable(
        "The paid orders with the day and (fiscal) quarter of payment: the grain of every order metric.",
        sql=PAID_SQL,
        build=lambda con, settings: build_paid_orders(con, settings.sql_params()),
    ),
    "courier_days": StagingTable(
        "Courier rows spread over the days of their periods in whole parcels that add up.",
        skip_unchanged=True,
    ),
    "unmapped_values": StagingTable(
        "Courier names and channels that no reference row maps, with their row counts.",
        key_prefix="audit",
    ),
}


def build_staging(con, name: str, settings: PipelineSettings) -> Plan | None:
    """<prefix>.<name> brought up to date; the plan of a table built incrementally, else None."""
    table = TABLES[name]
    if table.build:
        return table.build(con, settings)
    if table.skip_unchanged:
        return build_when_changed(con, name, settings.lake_dir, table.sql_files(name), settings.sql_params())
    for source in table.inputs(name).lakes:
        register_lake(con, settings.lake_dir, source)
    for sql in table.sql_files(name):
        run_sql(con, sql, settings.sql_params())
    return None


def _staging_asset(name: str, table: StagingTable):
    inputs = table.inputs(name)
    if unknown := set(inputs.upstream) - TABLES.keys():
        raise ValueError(f"{table.key_prefix}.{name} reads {sorted(unknown)}: no staging asset builds them")

    @asset(
        name=name,
        key_prefix=table.key_prefix,
        group_name=table.key_prefix,
        kinds={"duckdb", "sql"},
        owners=["team:data-engineering"],
        deps=[AssetKey(["raw", s]) for s in inputs.lakes] + [AssetKey(["staging", u]) for u in inputs.upstream],
        description=table.description,
    )
    def staging_table(
        context: AssetExecutionContext, settings: PipelineSettings, duckdb: DuckDBResource
    ) -> MaterializeResult:
        with working_db(settings, duckdb) as con:
            register_defaults(con)
            plan = build_staging(con, name, settings)
            metadata = table_metadata(con, table.key_prefix, name)
        metadata[COLUMN_LINEAGE] = column_lineage()[context.asset_key]  # parsed outside the database's lock
        if plan:
            context.log.info(f"{table.key_prefix}.{name}: {plan.mode} ({plan.reason})")
            metadata = {**metadata, "build": plan.mode, "build_reason": plan.reason}
        return MaterializeResult(metadata=metadata)

    return staging_table


staging_assets = [_staging_asset(name, table) for name, table in TABLES.items()]
