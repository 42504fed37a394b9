"""Data-quality gates wired in as Dagster asset checks (Great Expectations suites)."""


import polars as pl
from dagster import AssetCheckExecutionContext, AssetCheckResult, AssetCheckSeverity, AssetKey, MetadataValue, asset_check
from dagster_duckdb import DuckDBResource

from .db import working_db
from .lib.expectations import validate
from .lib.lake import lake_path
from .lib.sql import fetch_sql
from .resources import PipelineSettings


@asset_check(
    asset=AssetKey(["raw", "orders"]),
    blocking=True,
    description="Great Expectations suite `orders_batch` on the order rows this run loaded: required "
    "fields, status vocabulary, pseudonymised buyers, amounts, payment after creation.",
)
def orders_batch_expectations(
    context: AssetCheckExecutionContext, settings: PipelineSettings, duckdb: DuckDBResource
) -> AssetCheckResult:
    with working_db(settings, duckdb) as con:
        files = fetch_sql(con, "audit/files_loaded_in_run", {"run_id": context.run.run_id, "source": "orders"})
    paths = [lake_path(settings.lake_dir, "orders", name) for (name,) in files]
    if not paths:
        return AssetCheckResult(passed=True, metadata={"rows_validated": 0, "note": "no new orders batch"})
    frame = pl.read_parquet(paths)
    result = validate("orders_batch", frame)
    lines = [
        f"- `{f['expectation']}` on `{f['column']}`: {f['unexpected_count']} unexpected, e.g. {f['sample']}"
        + (f" (error: {f['error']})" if f["error"] else "")
        for f in result.failed
    ]
    return AssetCheckResult(
        passed=result.success,
        severity=AssetCheckSeverity.ERROR,
        description=None if result.success else f"{len(result.failed)} expectations of {result.suite} failed",
        metadata={
            "suite": result.suite,
            "files_validated": len(paths),
            "rows_validated": frame.height,
            "expectations_evaluated": result.evaluated,
            "expectations_failed": len(result.failed),
            "failed_expectations": MetadataValue.md("\n".join(lines) or "none"),
        },
    )


quality_checks = [orders_batch_expectations]
