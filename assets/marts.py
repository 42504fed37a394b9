"""Marts layer: the quarterly tables analysts query (contract §6), each rebuilt from staging with
the shared metric definitions when a staging table it reads changed, its restated quarters recorded
in audit.restatements."""

from dataclasses import dataclass

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset
from dagster_duckdb import DuckDBResource

from .db import POOL, table_metadata, working_db
from .lib import incremental, restatements
from .lib.glossary import TABLES, apply_comments
from .lib.sql import run_sql
from .resources import PipelineSettings

QUARTER = "quarter"
# The quarter of a monthly row, under the same fiscal setting as the month's table.
QUARTER_OF_MONTH = "quarter_label(quarter_start(strptime(month, '%Y-%m'), $fiscal_start_month), $fiscal_start_month)"


@dataclass(frozen=True)
class Mart:
    keys: tuple[str, ...]
    upstream: tuple[str, ...]
    owner: str = "team:analytics"

    @property
    def quarter_of(self) -> str:
        """SQL giving a row's quarter label; it may use the bound `$fiscal_start_month`."""
        return QUARTER_OF_MONTH if "month" in self.keys else QUARTER


MARTS = {
    "quarterly_shop_kpis": Mart(("quarter", "shop_id"), ("paid_orders", "traffic", "targets")),
    "quarterly_channel_kpis": Mart(("quarter", "shop_id", "channel_group", "channel"), ("paid_orders", "traffic")),
    "monthly_target_tracking": Mart(("month", "shop_id"), ("paid_orders", "targets", "traffic")),
    "quarterly_campaign_kpis": Mart(
        ("quarter", "shop_id", "campaign"), ("paid_orders", "traffic", "targets", "campaigns", "courier_days")
    ),
    "quarterly_courier_kpis": Mart(("quarter", "courier", "region"), ("courier_days",)),
    "quarterly_courier_service": Mart(("quarter", "courier"), ("orders",)),
    "quarterly_region_kpis": Mart(("quarter", "shop_id", "province", "city", "district"), ("paid_orders",)),
    "quarterly_category_kpis": Mart(("quarter", "shop_id", "category"), ("paid_orders",)),
}


def _mart_asset(name: str, mart: Mart):
    zh, en = TABLES[f"marts.{name}"]

    @asset(
        name=name,
        key_prefix="marts",
        group_name="marts",
        kinds={"duckdb", "sql"},
        owners=[mart.owner],
        deps=[AssetKey(["staging", u]) for u in mart.upstream],
        description=f"{zh} — {en}",
        pool=POOL,
    )
    def mart_table(context: AssetExecutionContext, settings: PipelineSettings, duckdb: DuckDBResource) -> MaterializeResult:
        params = settings.sql_params()
        with working_db(settings, duckdb) as con:
            plan = incremental.mart_plan(con, name, mart.upstream, params)
            if plan.mode == "unchanged":
                context.log.info(f"marts.{name}: unchanged ({plan.reason})")
                return MaterializeResult(metadata={
                    **table_metadata(con, "marts", name), "build": plan.mode, "build_reason": plan.reason,
                    "restated_quarters": MetadataValue.md("none"),
                })
            had_rows = restatements.keep_previous(con, name)
            run_sql(con, f"marts/{name}", params)
            fiscal = params["fiscal_start_month"]
            restated = (
                restatements.changed_quarters(
                    con, name, mart.keys, mart.quarter_of, restatements.current_quarter(con, fiscal), fiscal
                )
                if had_rows else []
            )
            restatements.record(con, context.run_id, name, restated)
            apply_comments(con, "marts", name)
            incremental.record_mart(con, name, plan)
            metadata = {**table_metadata(con, "marts", name), "build": plan.mode, "build_reason": plan.reason}
        for quarter, reason in restated:
            context.log.info(f"restated marts.{name} {quarter}: {reason}")
        metadata["restated_quarters"] = MetadataValue.md(
            "\n".join(f"- {q}: {r}" for q, r in restated) or "none"
        )
        return MaterializeResult(metadata=metadata)

    return mart_table


mart_assets = [_mart_asset(name, mart) for name, mart in MARTS.items()]
MART_KEYS = [a.key for a in mart_assets]
