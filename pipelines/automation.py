"""What starts a run without a person: a daily schedule, and a sensor on the raw folder.

Both ask for one run over the batch dates whose files are new or changed (from the first of those
dates to the last); such a run loads those files (the others in the range cost a hash each) and
rebuilds the marts, recording the past quarters it restated. Reference files alone start a run of the unpartitioned assets, which re-maps history.

    TAOBAO_OPS_AUTOMATION          off (default) | on | schedule | sensor: what starts out running
                                   (either can still be switched on or off in the UI, Automation)
    TAOBAO_OPS_SCHEDULE            cron of the daily run      (default "0 6 * * *")
    TAOBAO_OPS_SCHEDULE_TIMEZONE   its time zone              (default Asia/Shanghai)

The daemon (`make ui` starts it) evaluates both. The variables are read with the other settings
(pipelines/settings.py, `Automation`) when the definitions load.
"""

from __future__ import annotations

import hashlib
import json

from dagster import (
    AssetKey, DefaultScheduleStatus, DefaultSensorStatus, ScheduleEvaluationContext, SensorEvaluationContext,
    SensorResult, SkipReason, schedule, sensor,
)

from assets.resources import PipelineSettings

from .batches import JOB, not_loaded, run_requests, scan, scan_known
from .settings import Automation

SENSOR_INTERVAL_SECONDS = 60


def build_automations(refresh_keys: list[AssetKey], automation: Automation) -> tuple[list, list]:
    """The schedule and the sensor; `refresh_keys` are the assets a reference-only change runs."""

    @sensor(
        name="new_raw_files",
        job_name=JOB,
        minimum_interval_seconds=SENSOR_INTERVAL_SECONDS,
        default_status=DefaultSensorStatus.RUNNING if automation.enabled("sensor") else DefaultSensorStatus.STOPPED,
        description="Starts a run for the batch dates of new or changed files in the raw folder. The cursor "
        "keeps each file's size, mtime and sha256: the same bytes dropped again start nothing.",
    )
    def new_raw_files(context: SensorEvaluationContext, settings: PipelineSettings) -> SensorResult:
        known = json.loads(context.cursor) if context.cursor else {}
        states = scan(settings.raw, known)
        changed = [s for s in states if s.key not in known or known[s.key][2] != s.sha256]
        cursor = json.dumps({s.key: s.cursor_entry for s in states}, sort_keys=True)
        if not changed:
            return SensorResult(skip_reason=SkipReason(f"no new or changed files in {settings.raw}"), cursor=cursor)
        context.log.info(f"{len(changed)} new or changed file(s): " + ", ".join(s.key for s in changed[:20]))
        # the run key names this tick (the cursor it started from) as well as the files, so bytes
        # that come back (A -> B -> A) start a run again instead of meeting an old key
        tick = hashlib.sha256((context.cursor or "").encode()).hexdigest()[:8]
        return SensorResult(run_requests=run_requests(changed, refresh_keys, f"files:{tick}"), cursor=cursor)

    @schedule(
        name="daily",
        job_name=JOB,
        cron_schedule=automation.schedule,
        execution_timezone=automation.timezone,
        default_status=DefaultScheduleStatus.RUNNING if automation.enabled("schedule") else DefaultScheduleStatus.STOPPED,
        description="Every morning: runs the batch dates whose files are not loaded yet (new, changed, or "
        "quarantined before), which rebuilds the quarters they touch, validates and publishes.",
    )
    def daily(context: ScheduleEvaluationContext, settings: PipelineSettings):
        pending = not_loaded(settings, scan_known(settings))
        if not pending:
            return SkipReason(f"every file in {settings.raw} is loaded")
        context.log.info(f"{len(pending)} file(s) to load: " + ", ".join(s.key for s in pending[:20]))
        tick = context.scheduled_execution_time
        return run_requests(pending, refresh_keys, f"daily:{tick:%Y-%m-%dT%H:%M}" if tick else None)

    return [daily], [new_raw_files]
