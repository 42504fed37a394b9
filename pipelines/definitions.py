"""The Dagster code location: raw -> staging -> marts -> publish, one job, run in one process.

One process because DuckDB allows one writer: the steps share the working database in turn.
"""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor
from dagster_duckdb import DuckDBResource

from assets.ingest import raw_assets
from assets.marts import mart_assets
from assets.publish import publish_assets, publish_checks
from assets.quality import layer_checks
from assets.resources import PipelineSettings
from assets.staging import staging_assets

from .settings import apply_defaults, pipeline_settings, working_database

pipeline_job = define_asset_job(
    "pipeline",
    selection=AssetSelection.all(),
    description="Load new raw files, rebuild staging and marts, validate, publish the analysts' file.",
)


def build_defs(settings: PipelineSettings, database: DuckDBResource) -> Definitions:
    return Definitions(
        assets=[*raw_assets, *staging_assets, *mart_assets, *publish_assets],
        asset_checks=[*layer_checks, *publish_checks],
        jobs=[pipeline_job],
        resources={"settings": settings, "duckdb": database},
        executor=in_process_executor,
    )


apply_defaults()
defs = build_defs(pipeline_settings(), working_database())
