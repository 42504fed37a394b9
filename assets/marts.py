"""Marts layer: the quarterly tables analysts query (contract §6), computed from staging with the
shared metric definitions for the quarters whose data changed (and those that read them), their
restated quarters recorded in audit.restatements."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from .db import table_metadata, working_db
from .lib import incremental, restatements
from .lib.glossary import TABLES, apply_comments
from .lib.spark_engine import spark_build
from .lib.sql import column_names, run_sql, transaction
from .lib.tables import MARTS, Mart
from .lineage import COLUMN_LINEAGE, column_lineage
from .resources import PipelineSettings


def _compute(
    con, name: str, params: dict, months: tuple[str, ...], touched: tuple[str, ...], reaches_later: bool
) -> None:
    """Temp table mart_rows: the rows of marts.<name> in the quarters `build_quarters` names."""
    run_sql(con, "marts/build_quarters", {
        **params, "months": list(months), "touched_months": list(touched), "reaches_later": reaches_later,
    })
    run_sql(con, f"marts/{name}", params)


def build_mart(
    con, name: str, params: dict, run_id: str, spark_rows: Path | None = None
) -> tuple[incremental.Plan, list[tuple[str, str]]]:
    """marts.<name> brought up to date (the quarters its plan names, or whole) and its restated
    quarters recorded, in one transaction; the plan and the restated (quarter, reason). With
    `spark_rows`, the folder of the rows Spark computed for every quarter, those rows replace it."""
    mart = MARTS[name]
    if spark_rows is None:
        plan = incremental.mart_plan(con, name, params)
        if plan.mode == "unchanged":
            return plan, []
        _compute(con, name, params, plan.months, plan.touched_months, mart.reaches_later)
    else:
        plan = incremental.Plan("rebuild", [], {}, "engine spark: every quarter, from staging")
        # no months: DuckDB's SQL computes no row, and its table takes the columns' types
        _compute(con, name, params, (), (), mart.reaches_later)
        run_sql(con, "marts/insert_spark_rows", {"files": f"{spark_rows}/*.parquet"})
    fiscal = params["fiscal_start_month"]
    whole = plan.mode == "rebuild"
    if not whole and column_names(con, "marts", name) != column_names(con, "main", "mart_rows"):  # temp: schema main
        # the table was built by another version of the SQL: its quarters would not fit it
        whole = True
        _compute(con, name, params, plan.months, plan.months, mart.reaches_later)
    try:
        with transaction(con):
            had_rows = restatements.keep_previous(con, name, mart.quarter_of, fiscal, within=not whole)
            incremental.replace_mart_rows(con, name, mart.quarter_of, params, whole)
            restated = (
                restatements.changed_quarters(
                    con, name, mart.keys, mart.quarter_of, restatements.current_quarter(con, fiscal), fiscal,
                    within=not whole,
                )
                if had_rows else []
            )
            restatements.record(con, run_id, name, restated)
            apply_comments(con, "marts", name)
            if spark_rows is None:
                incremental.record_mart(con, name, plan)
            else:
                incremental.forget_build(con, incremental.recorded_as("marts", name))
    finally:
        con.execute("drop table if exists mart_rows")
        con.execute("drop table if exists build_quarters")
    return plan, restated


def _mart_asset(name: str, mart: Mart):
    zh, en = TABLES[f"marts.{name}"]

    @asset(
        name=name,
        key_prefix="marts",
        group_name="marts",
        kinds={"duckdb", "sql"},
        owners=[mart.owner],
        deps=[AssetKey(["staging", u]) for u in incremental.inputs_of(incremental.mart_sql(name)).upstream],
        description=f"{zh} — {en}",
    )
    def mart_table(context: AssetExecutionContext, settings: PipelineSettings, duckdb: DuckDBResource) -> MaterializeResult:
        spark_rows = spark_build(settings).build_mart(name, settings.sql_params()) if settings.engine == "spark" else None
        with working_db(settings, duckdb) as con:
            plan, restated = build_mart(con, name, settings.sql_params(), context.run_id, spark_rows)
            metadata = {**table_metadata(con, "marts", name), "build": plan.mode, "build_reason": plan.reason}
        metadata[COLUMN_LINEAGE] = column_lineage()[context.asset_key]
        context.log.info(f"marts.{name}: {plan.mode} ({plan.reason})")
        for quarter, reason in restated:
            context.log.info(f"restated marts.{name} {quarter}: {reason}")
        metadata["restated_quarters"] = MetadataValue.md(
            "\n".join(f"- {q}: {r}" for q, r in restated) or "none"
        )
        return MaterializeResult(metadata=metadata)

    return mart_table


mart_assets = [_mart_asset(name, mart) for name, mart in MARTS.items()]
MART_KEYS = [a.key for a in mart_assets]
