"""Staging layer: the current state of every order, traffic row and courier period, and the
reference tables (shipped defaults merged with the user's files) that map names onto them."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset
from dagster_duckdb import DuckDBResource

from .db import table_metadata, working_db
from .lib.defaults import register_defaults
from .lib.incremental import Plan, build_when_changed, recorded_as
from .lib.lake import register_lake
from .lib.spark_engine import drop_spark_views, expose, spark_build
from .lib.spark_plan import staging_steps
from .lib.sql import run_sql
from .lib.tables import TABLES, StagingTable
from .lineage import COLUMN_LINEAGE, column_lineage
from .resources import PipelineSettings


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
        if settings.engine == "spark":  # Spark's work needs no lock on the working database
            build = spark_build(settings)
            written = build.build_staging(name, settings.sql_params())
            plan = Plan("rebuild", [], {}, f"engine spark ({settings.spark_master}): built whole from the lake")
        with working_db(settings, duckdb) as con:
            if settings.engine == "spark":
                expose(con, build, written, recorded_as(table.key_prefix, name))
            else:
                drop_spark_views(con, staging_steps(name))
                register_defaults(con)
                plan = build_staging(con, name, settings)
            metadata = table_metadata(con, table.key_prefix, name)
        metadata[COLUMN_LINEAGE] = column_lineage()[context.asset_key]
        if plan:
            context.log.info(f"{table.key_prefix}.{name}: {plan.mode} ({plan.reason})")
            metadata = {**metadata, "build": plan.mode, "build_reason": plan.reason}
        return MaterializeResult(metadata=metadata)

    return staging_table


staging_assets = [_staging_asset(name, table) for name, table in TABLES.items()]
