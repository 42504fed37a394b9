"""Marts layer: the quarterly tables analysts query (contract §6)."""


from dagster import AssetCheckResult, AssetCheckSeverity, AssetKey, MaterializeResult, asset, asset_check
from dagster_duckdb import DuckDBResource

from .db import table_metadata, working_db
from .lib.glossary import apply_comments
from .lib.sql import fetch_sql, run_sql
from .resources import PipelineSettings

SHOP_KPIS = AssetKey(["marts", "quarterly_shop_kpis"])


@asset(
    key=SHOP_KPIS,
    group_name="marts",
    kinds={"duckdb", "sql"},
    owners=["team:analytics"],
    deps=[AssetKey(["staging", t]) for t in ("orders", "traffic", "targets")],
    description="季度店铺指标 — per quarter and shop: sales, refunds, buyers, traffic, conversion, "
    "mobile share, repurchase, ad ROI, target completion, QoQ and YoY.",
)
def quarterly_shop_kpis(settings: PipelineSettings, duckdb: DuckDBResource) -> MaterializeResult:
    with working_db(settings, duckdb) as con:
        run_sql(con, "marts/quarterly_shop_kpis", settings.sql_params())
        apply_comments(con, "marts", "quarterly_shop_kpis")
        return MaterializeResult(metadata=table_metadata(con, "marts", "quarterly_shop_kpis"))


@asset_check(
    asset=SHOP_KPIS,
    blocking=True,
    description="One row per (quarter, shop_id), and every rate that must be a share lies in [0, 1].",
)
def shop_kpis_are_sound(settings: PipelineSettings, duckdb: DuckDBResource) -> AssetCheckResult:
    with working_db(settings, duckdb) as con:
        problems = fetch_sql(con, "marts/check_quarterly_shop_kpis")
    return AssetCheckResult(
        passed=not problems,
        severity=AssetCheckSeverity.ERROR,
        metadata={"problems": len(problems), "sample": "\n".join(f"{q} {s}: {p}" for q, s, p in problems[:20])},
    )


mart_assets = [quarterly_shop_kpis]
MART_KEYS = [a.key for a in mart_assets]
mart_checks = [shop_kpis_are_sound]
