"""Raw layer: each source folder parsed, file by file, into the Parquet lake with its audit rows.

Orders, traffic and courier files are partitioned by batch date: a run loads the files of the
dates it covers. Reference files are few and undated: every run looks at all of them.
"""

from typing import Callable

from dagster import (
    AssetExecutionContext, MaterializeResult, MetadataValue, TableColumn, TableSchema, asset,
)
from dagster_duckdb import DuckDBResource

from .db import parsing_db, working_db
from .lib.ingest import FileOutcome, Timings, ingest
from .lib.parse import lake_schema
from .lib.schema import DATED
from .partitions import BATCH_DATES, ONE_RUN, covering
from .quality import BatchGate
from .resources import PipelineSettings

DESCRIPTIONS = {
    "orders": "Daily order exports (订单报表) from data/raw/orders/, UTF-8 or GBK, English or Chinese "
    "headers; rows failing the contract's rules go to audit.rejects; buyers pseudonymised at ingest.",
    "traffic": "Shop traffic by day, channel and device (生意参谋) from data/raw/traffic/.",
    "courier": "Express parcel volume per company, region and period from data/raw/courier/.",
    "events": "Behaviour event logs (Tianchi layout: user_id, item_id, category_id, behavior, timestamp) from "
    "data/raw/events/<shop_id>/, streamed through DuckDB into events per (China day, shop, user); users "
    "pseudonymised at ingest.",
    "targets": "Monthly sales targets (reference/targets.csv): shop_id, month, target_gmv.",
    "channels": "User's channel groups (reference/channels.csv): channel, channel_group.",
    "couriers": "User's courier aliases (reference/couriers.csv): alias, courier.",
    "campaigns": "User's campaign days (reference/campaigns.csv): campaign, start_date, end_date.",
    "shops": "Shop aliases (reference/shops.csv): alias, shop_id.",
}


def _column_schema(source: str) -> TableSchema:
    return TableSchema(columns=[TableColumn(name, str(dtype)) for name, dtype in lake_schema(source).items()])


def _raw_asset(source: str):
    dated = DATED[source]
    gate = BatchGate(source)

    @asset(
        name=source,
        key_prefix="raw",
        group_name="raw",
        kinds={"polars", "parquet"},
        owners=["team:data-engineering"],
        description=DESCRIPTIONS[source],
        check_specs=gate.specs(),
        partitions_def=BATCH_DATES if dated else None,
        backfill_policy=ONE_RUN if dated else None,
        metadata={"dagster/column_schema": _column_schema(source)},
    )
    def raw_source(
        context: AssetExecutionContext, settings: PipelineSettings, duckdb: DuckDBResource
    ) -> MaterializeResult:
        select = None
        if dated:
            key_range = context.partition_key_range
            context.log.info(f"loading {source} files of batch dates {key_range.start} … {key_range.end}")
            select = covering(key_range)
        timings = Timings()
        # the working database only for the database's parts: the files parse beside other steps
        outcomes, results = ingest(
            lambda: working_db(settings, duckdb), source, settings.raw, settings.lake_dir, settings.parse_options(),
            context.run_id, on_file=_file_logger(context), suite=gate.suite, select=select, timings=timings,
            parsing=lambda: parsing_db(settings, duckdb),
        )
        summary = _summary(outcomes)
        context.log.info(
            f"{source}: {summary['files_loaded']} files loaded ({summary['rows_loaded']:,} rows), "
            f"{summary['files_unchanged']} unchanged, {summary['files_failed']} quarantined"
        )
        # The column schema is the definition's (a lake file's columns do not depend on the run): a
        # range run repeats its result for every batch date, and 552 copies of the schema were 0.45 s
        # of the sample run.
        return MaterializeResult(metadata={**summary, **timings.as_metadata()}, check_results=gate.results(results))

    return raw_source


def _file_logger(context: AssetExecutionContext) -> Callable[[FileOutcome], None]:
    """What the run's log says of each file: only what needs attention. Every log line is an event
    in Dagster's storage, and a backfill loads thousands of files (the totals are the metadata)."""
    def report(outcome: FileOutcome) -> None:
        if outcome.outcome == "failed":
            context.log.error(f"quarantined {outcome.error}")
        elif outcome.rows_rejected:
            context.log.warning(
                f"{outcome.file_name}: read {outcome.rows_read}, loaded {outcome.rows_loaded}, "
                f"rejected {outcome.rows_rejected}"
            )
        if outcome.warning:
            context.log.warning(outcome.warning)

    return report


def _summary(outcomes: list[FileOutcome]) -> dict:
    count = lambda kind: sum(o.outcome == kind for o in outcomes)  # noqa: E731
    failed = [o.error for o in outcomes if o.outcome == "failed"]
    return {
        # the rows these files (all of the batch dates the run covered) hold in the lake
        "dagster/row_count": sum(o.rows_in_lake for o in outcomes),
        "files_seen": len(outcomes),
        "files_loaded": count("loaded"),
        "files_unchanged": count("unchanged"),
        "files_failed": count("failed"),
        "rows_read": sum(o.rows_read for o in outcomes),
        "rows_loaded": sum(o.rows_loaded for o in outcomes),
        "rows_rejected": sum(o.rows_rejected for o in outcomes),
        "quarantined": MetadataValue.md("\n".join(f"- {e}" for e in failed) or "none"),
    }


raw_assets = [_raw_asset(source) for source in DESCRIPTIONS]
