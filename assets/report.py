"""Report layer: the quarterly operations review of each quarter, from the published warehouse.

Partitioned by quarter (the partition key is the quarter's first day; its label follows the
fiscal-year setting, as in the marts). It is not part of the daily `pipeline` job: the `report`
job, `taobao-ops report 2024Q3`, or *Materialize* in the UI writes it.
"""

from dagster import (
    AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, TimeWindowPartitionsDefinition, asset,
)

from .lib.report import SUMMARY_FILE, write_report
from .lib.sql import connect_read_only, fetch_sql
from .partitions import BATCH_DATES, TIMEZONE
from .publish import WAREHOUSE
from .resources import PipelineSettings

QUARTERS = TimeWindowPartitionsDefinition(
    start=BATCH_DATES.start.replace(day=1, month=(BATCH_DATES.start.month - 1) // 3 * 3 + 1),
    cron_schedule="0 0 1 */3 *",
    fmt="%Y-%m-%d",
    timezone=TIMEZONE,
    end_offset=1,  # the quarter in progress has a report too
)
REPORT = AssetKey(["report", "quarterly_report"])


def quarter_label(settings: PipelineSettings, first_day: str) -> str:
    """2024-07-01 -> 2024Q3 (or FY2025Q2), by the warehouse's own quarter_label macro."""
    con = connect_read_only(settings.warehouse, wait_seconds=60)
    if con is None:
        raise RuntimeError(f"cannot open {settings.warehouse}")
    with con:
        ((label,),) = fetch_sql(con, "report/quarter_label", {"day": first_day, **settings.sql_params()})
    return label


@asset(
    key=REPORT,
    group_name="report",
    kinds={"html", "markdown"},
    owners=["team:analytics"],
    deps=[WAREHOUSE],
    partitions_def=QUARTERS,
    description="季度运营总结 — the quarterly operations review (HTML + Markdown with charts) for all "
    "shops and for each shop, written to reports/<quarter>/ from the published warehouse.",
)
def quarterly_report(context: AssetExecutionContext, settings: PipelineSettings) -> MaterializeResult:
    label = quarter_label(settings, context.partition_key)
    files = write_report(
        settings.warehouse, label, settings.reports, settings.fiscal_year_start_month, settings.summary_rules()
    )
    pages = [f for f in files if f.name == "index.html"]
    summary = (settings.reports / label / SUMMARY_FILE).read_text(encoding="utf-8")
    context.log.info(f"wrote {len(files)} files for {label} under {settings.reports / label}")
    return MaterializeResult(
        metadata={
            "quarter": label,
            "path": MetadataValue.path(str(settings.reports / label / "index.html")),
            "dagster/row_count": len(pages),  # one page per shop, and all shops together
            "summary": MetadataValue.md(summary),  # the all-shops 数据总结
            "files": MetadataValue.md("\n".join(f"- {f.relative_to(settings.reports)}" for f in files)),
        }
    )


report_assets = [quarterly_report]
