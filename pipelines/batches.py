"""Which batch dates need a run: the raw folder compared with what is loaded, or with a cursor.

The CLI, the daily schedule and the file sensor share this, so they agree on what "new" means:
a file whose bytes (sha256) and parse settings are not yet in the lake. A run then covers the
batch dates of those files; consecutive dates go in one run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from dagster import PartitionKeyRange, RunRequest

from assets.lib.files import discover, sha256
from assets.lib.lake import lake_path
from assets.lib.schema import DATED, SOURCES
from assets.lib.sql import connect_read_only, fetch_sql, table_exists
from assets.partitions import contiguous_ranges, first_key, key_of, last_key, partition_of
from assets.resources import PipelineSettings

JOB = "pipeline"
# What Dagster reads to run one job over a range of partitions in a single run.
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class RawFileState:
    source: str
    name: str  # relative to the source folder, as audit.loads has it
    size: int
    mtime_ns: int
    sha256: str

    @property
    def key(self) -> str:
        return f"{self.source}/{self.name}"

    @property
    def batch_key(self) -> str | None:
        """The batch date it loads under; None for a reference file (every run reads those) and for
        a dated source's file with no date in its name (every such run quarantines it)."""
        return partition_of(self.name) if DATED[self.source] else None

    @property
    def undated(self) -> bool:
        return DATED[self.source] and self.batch_key is None


def scan(raw_dir: Path, known: dict[str, list] | None = None) -> list[RawFileState]:
    """Every raw file with its size, modification time and hash; a file whose size and mtime are
    as `known` says (key -> [size, mtime_ns, sha256]) is not hashed again."""
    known = known or {}
    states = []
    for source in SOURCES:
        for raw in discover(raw_dir, source):
            stat = raw.path.stat()
            key = f"{source}/{raw.name}"
            before = known.get(key)
            same = before and before[0] == stat.st_size and before[1] == stat.st_mtime_ns
            digest = before[2] if same else sha256(raw.path)
            states.append(RawFileState(source, raw.name, stat.st_size, stat.st_mtime_ns, digest))
    return states


def loaded_versions(settings: PipelineSettings) -> dict[str, tuple[str, str]] | None:
    """file key -> (sha256, parse fingerprint) of the version in the lake; None while a run
    holds the working database (DuckDB lets no reader in beside a writer of another process)."""
    if not settings.working_db.exists():
        return {}
    con = connect_read_only(settings.working_db)
    if con is None:
        return None
    try:
        if not table_exists(con, "audit", "loads"):
            return {}
        return {
            f"{source}/{name}": (digest, fingerprint)
            for source in SOURCES
            for name, digest, _, fingerprint in fetch_sql(con, "audit/previous_versions", {"source": source})
        }
    finally:
        con.close()


def not_loaded(settings: PipelineSettings, states: list[RawFileState]) -> list[RawFileState]:
    """The files whose current bytes are not in the lake: new, changed, quarantined before, or
    whose lake file is gone. When the database is busy, all of them (a run skips what it finds
    loaded, at one hash a file). The same test as the ingest's, so they never disagree."""
    loaded = loaded_versions(settings)
    if loaded is None:
        return states
    fingerprint = settings.parse_options().fingerprint
    return [
        s for s in states
        if loaded.get(s.key) != (s.sha256, fingerprint) or not lake_path(settings.lake_dir, s.source, s.name).exists()
    ]


def batch_ranges(files: list[RawFileState]) -> list[PartitionKeyRange]:
    """Runs of consecutive batch dates among the files' dates. Undated files go with any run of
    the raw assets; with no dated file beside them, with a run of the latest batch date."""
    keys = {f.batch_key for f in files} - {None}
    if not keys and any(f.undated for f in files):
        keys = {last_key()}
    return contiguous_ranges(keys)


def range_tags(key_range: PartitionKeyRange) -> dict[str, str]:
    return {RANGE_START_TAG: key_range.start, RANGE_END_TAG: key_range.end}


def run_requests(files: list[RawFileState], refresh_keys, run_key_prefix: str | None) -> list[RunRequest]:
    """Runs that load `files`: one per stretch of consecutive batch dates; reference files alone,
    one run of `refresh_keys` (the assets that are not partitioned by batch date)."""

    def run_key(label: str, members: list[RawFileState]) -> str | None:
        if run_key_prefix is None:
            return None
        digest = hashlib.sha256("\n".join(sorted(f"{f.key}@{f.sha256}" for f in members)).encode()).hexdigest()
        return f"{run_key_prefix}:{label}:{digest[:16]}"

    ranges = batch_ranges(files)
    if not ranges:
        return [RunRequest(run_key=run_key("reference", files), job_name=JOB, asset_selection=list(refresh_keys))]
    requests = []
    for key_range in ranges:
        members = [f for f in files if f.batch_key is None or key_range.start <= f.batch_key <= key_range.end]
        label = f"{key_range.start}..{key_range.end}"
        if key_range.start == key_range.end:
            requests.append(RunRequest(run_key=run_key(label, members), job_name=JOB, partition_key=key_range.start))
        else:
            requests.append(RunRequest(run_key=run_key(label, members), job_name=JOB, tags=range_tags(key_range)))
    return requests


@dataclass(frozen=True)
class RunPlan:
    label: str
    arguments: dict  # for JobDefinition.execute_in_process


def plan_run(
    settings: PipelineSettings, unpartitioned, first: dt.date | None = None, last: dt.date | None = None
) -> RunPlan:
    """One run (`taobao-ops run`): the batch dates asked for, else from the first to the last date
    with files not loaded yet; with none, the unpartitioned assets alone (reference, marts, publish)."""
    ranges = batch_ranges(not_loaded(settings, scan(settings.raw)))
    clamp = lambda key: min(max(key, first_key()), last_key())  # noqa: E731
    start = clamp(key_of(first)) if first else ranges[0].start if ranges else None
    end = clamp(key_of(last)) if last else ranges[-1].end if ranges else None
    if start is None and end is None:
        return RunPlan("no new batch dates", {"asset_selection": list(unpartitioned)})
    start, end = start or first_key(), end or last_key()
    if start > end:
        raise ValueError(f"the first batch date {start} is after the last {end}")
    return RunPlan(f"batch dates {start} … {end}", {"tags": range_tags(PartitionKeyRange(start, end))})
