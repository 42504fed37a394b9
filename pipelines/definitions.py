"""The Dagster code location: raw -> staging -> marts -> publish, one job, run in one process.

One process because DuckDB allows one writer: the steps share the working database in turn, and
the OS file lock each step takes on it (assets/db.py) makes the steps of two runs take turns too.

Loading it reads the environment once (`DEPLOYMENT`) and changes nothing: not the environment,
not a file (tests/test_settings.py).
"""

from __future__ import annotations

from dagster import AssetKey, AssetSelection, Definitions, define_asset_job, in_process_executor
from dagster_duckdb import DuckDBResource

from assets.ingest import raw_assets
from assets.marts import mart_assets
from assets.publish import publish_assets
from assets.report import report_assets
from assets.quality import layer_checks, publish_checks
from assets.resources import PipelineSettings
from assets.staging import staging_assets

from .automation import build_automations
from .settings import Automation, Deployment

# Every asset but the quarterly report, which reads the published file on its own schedule.
PIPELINE = AssetSelection.all() - AssetSelection.groups("report")

pipeline_job = define_asset_job(
    "pipeline",
    selection=PIPELINE,
    description="Load the new raw files of the batch dates asked for, rebuild staging and marts, "
    "validate, publish the analysts' file. Several batch dates run as one run.",
)


report_job = define_asset_job(
    "report",
    selection=AssetSelection.groups("report"),
    description="Write the quarterly operations review of a quarter from the published warehouse.",
)

ASSETS = [*raw_assets, *staging_assets, *mart_assets, *publish_assets, *report_assets]
# What a pipeline run without batch dates materializes: reference files, staging, marts, publish.
UNPARTITIONED = [a.key for a in ASSETS if a.partitions_def is None]


def fed_by(sources: list[str]) -> list[AssetKey]:
    """The assets that new files of `sources` change: their raw assets and everything downstream of
    them in the pipeline (a run leaves the rest as it is)."""
    raw = AssetSelection.assets(*(AssetKey(["raw", s]) for s in sources))
    return sorted(((raw.downstream() & PIPELINE).resolve(ASSETS)), key=lambda k: k.to_user_string())


def build_defs(
    settings: PipelineSettings, database: DuckDBResource, automation: Automation | None = None
) -> Definitions:
    """The definitions of one deployment; without `automation`, the default one (both off)."""
    schedules, sensors = build_automations(UNPARTITIONED, automation or Automation())
    return Definitions(
        assets=ASSETS,
        asset_checks=[*layer_checks, *publish_checks],
        jobs=[pipeline_job, report_job],
        schedules=schedules,
        sensors=sensors,
        resources={"settings": settings, "duckdb": database},
        executor=in_process_executor,
    )


def deployment_defs(deployment: Deployment) -> Definitions:
    return build_defs(deployment.resource(), deployment.working_database(), deployment.automation)


DEPLOYMENT = Deployment.from_environment()
defs = deployment_defs(DEPLOYMENT)
