"""The Dagster code location: raw -> staging -> marts -> publish, one job.

DuckDB allows one writer: the steps share the working database in turn, and the OS file lock each
step takes on it (assets/db.py) makes the steps of two runs, or of two processes of one run, take
turns too. The run executes in one process by default, or each step in a process of its own
(TAOBAO_OPS_EXECUTOR=multiprocess): the raw steps then parse side by side, holding the lock only
for their database parts (docs/scale-out.md).

Loading it reads the environment once (`DEPLOYMENT`) and changes nothing: not the environment,
not a file (tests/test_settings.py).
"""

from __future__ import annotations

from dagster import AssetKey, AssetSelection, Definitions, JobDefinition, define_asset_job
from dagster_duckdb import DuckDBResource

from assets.ingest import raw_assets
from assets.marts import mart_assets
from assets.publish import publish_assets
from assets.report import report_assets
from assets.quality import layer_checks, publish_checks
from assets.resources import PipelineSettings
from assets.staging import staging_assets

from .automation import build_automations
from .settings import Automation, Deployment, Execution

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
    settings: PipelineSettings, database: DuckDBResource, automation: Automation | None = None,
    execution: Execution | None = None,
) -> Definitions:
    """The definitions of one deployment; without `automation`, the default one (both off); without
    `execution`, in one process."""
    schedules, sensors = build_automations(UNPARTITIONED, automation or Automation())
    return Definitions(
        assets=ASSETS,
        asset_checks=[*layer_checks, *publish_checks],
        jobs=[pipeline_job, report_job],
        schedules=schedules,
        sensors=sensors,
        resources={"settings": settings, "duckdb": database},
        executor=(execution or Execution()).executor_def(),
    )


def deployment_defs(deployment: Deployment) -> Definitions:
    return build_defs(deployment.resource(), deployment.working_database(), deployment.automation, deployment.execution)


def deployment_job(**paths: str) -> JobDefinition:
    """The pipeline job of the deployment the environment gives, with these folders (the fields of
    assets.lib.settings.PATHS): what each process of a multiprocess run rebuilds, as the command
    that started it had it (`taobao-ops run`)."""
    return deployment_defs(Deployment.from_environment(**paths)).resolve_job_def("pipeline")


DEPLOYMENT = Deployment.from_environment()
defs = deployment_defs(DEPLOYMENT)
