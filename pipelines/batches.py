"""Which batch dates need a run: the raw folder compared with what is loaded, or with a cursor.

The CLI, the daily schedule and the file sensor share this, so they agree on what "new" means:
a file whose bytes (sha256) and parse settings are not yet in the lake. A run then covers the
batch dates of those files, from the first to the last, in one run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from assets.lib import publication
from assets.lib.batch_dates import clamp, key_of, last_key, partition_of
from assets.lib.expectations import SUITES
from assets.lib.files import sha256, source_files
from assets.lib.lake import lake_name, lake_names
from assets.lib.schema import DATED, SOURCES
from assets.lib.settings import Settings
from assets.lib.sql import connect_read_only, fetch_sql, table_exists

if TYPE_CHECKING:
    from dagster import PartitionKeyRange, RunRequest

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
    ctime_ns: int = 0  # changes with any rewrite, even one that puts the old mtime back (cp -p, rsync -t)
    inode: int = 0

    @property
    def cursor_entry(self) -> list:
        return [self.size, self.mtime_ns, self.sha256, self.ctime_ns, self.inode]

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
    """Every raw file with its size, times and hash; a file whose size, mtime, ctime and inode are
    as `known` says (key -> RawFileState.cursor_entry) is not hashed again."""
    known = known or {}
    states = []
    for source in SOURCES:
        for name, path in source_files(raw_dir, source):
            stat = os.stat(path)
            key = f"{source}/{name}"
            before = known.get(key)
            quick = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
            same = before is not None and len(before) == 5 and [before[0], before[1], before[3], before[4]] == quick
            digest = before[2] if same else sha256(Path(path))
            states.append(
                RawFileState(source, name, stat.st_size, stat.st_mtime_ns, digest, stat.st_ctime_ns, stat.st_ino)
            )
    return states


# The last scan's file states, so that a run re-hashes only files that changed since (5 GB of raw
# files took 3.3 s to hash for every run).
SCAN_CACHE = "raw_files.json"


def scan_known(settings: Settings) -> list[RawFileState]:
    """`scan` of the raw folder, trusting the hash of a file whose size, times and inode are those
    the previous scan recorded under the state folder; records this scan's."""
    cache = Path(settings.state_dir) / SCAN_CACHE
    try:
        known = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    states = scan(settings.raw, known if isinstance(known, dict) else {})
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({s.key: s.cursor_entry for s in states}), encoding="utf-8")
        os.replace(tmp, cache)
    except OSError:
        pass  # only a cache: the next scan hashes again
    return states


@dataclass(frozen=True)
class LoadState:
    versions: dict[str, tuple[str, str]] | None  # file key -> (sha256, parse fingerprint); None: unknown
    publication: publication.Publication | None = None  # the last publication, while it reflects the working database


def load_state(settings: Settings) -> LoadState:
    """What is in the lake: from the working database, waiting briefly while a run holds it; else
    from the published file's copy of the audit (at most one run behind; a file it does not know is
    asked for again, at one hash); unknown when neither can be read."""
    if not settings.working_db.exists():
        return LoadState({})
    con = connect_read_only(settings.working_db, wait_seconds=20)
    from_working_db = con is not None
    if con is None and settings.warehouse.exists():
        con = connect_read_only(settings.warehouse, wait_seconds=5)
    if con is None:
        return LoadState(None)
    try:
        if not table_exists(con, "audit", "loads"):
            return LoadState({})
        versions = {
            f"{source}/{name}": (digest, fingerprint)
            for source in SOURCES
            for name, digest, _, fingerprint in fetch_sql(con, "audit/previous_versions", {"source": source})
        }
        return LoadState(versions, publication.last(settings, con) if from_working_db else None)
    finally:
        con.close()


def pending_files(settings: Settings, states: list[RawFileState], state: LoadState) -> list[RawFileState]:
    """The files whose current bytes are not in the lake: new, changed, quarantined before, or
    whose lake file is gone. When the database is busy, all of them (a run skips what it finds
    loaded, at one hash a file). The same test as the ingest's, so they never disagree."""
    if state.versions is None:
        return states
    fingerprint = settings.parse_options().fingerprint
    in_lake = {source: lake_names(settings.lake_dir, source) for source in SOURCES}
    return [
        s for s in states
        if state.versions.get(s.key) != (s.sha256, fingerprint) or lake_name(s.name) not in in_lake[s.source]
    ]


def not_loaded(settings: Settings, states: list[RawFileState]) -> list[RawFileState]:
    return pending_files(settings, states, load_state(settings))


def batch_range(files: list[RawFileState]) -> PartitionKeyRange | None:
    """The batch dates a run over `files` covers: from the first to the last of their dates (the
    files in between that are loaded already cost one hash each). Undated files go with any run of
    the raw assets; with no dated file beside them, with a run of the latest batch date. None when
    only reference files are among them."""
    from dagster import PartitionKeyRange

    keys = {f.batch_key for f in files} - {None}
    if not keys and any(f.undated for f in files):
        keys = {last_key()}
    return PartitionKeyRange(min(keys), max(keys)) if keys else None


def range_tags(key_range: PartitionKeyRange) -> dict[str, str]:
    return {RANGE_START_TAG: key_range.start, RANGE_END_TAG: key_range.end}


def run_requests(files: list[RawFileState], refresh_keys, run_key_prefix: str | None) -> list[RunRequest]:
    """One run that loads `files`, however many batch dates they span; reference files alone, a run
    of `refresh_keys` (the assets that are not partitioned by batch date)."""
    from dagster import RunRequest

    run_key = None
    if run_key_prefix is not None:
        members = "\n".join(sorted(f"{f.key}@{f.sha256}" for f in files))
        run_key = f"{run_key_prefix}:{hashlib.sha256(members.encode()).hexdigest()[:16]}"
    key_range = batch_range(files)
    if key_range is None:
        return [RunRequest(run_key=run_key, job_name=JOB, asset_selection=list(refresh_keys))]
    if key_range.start == key_range.end:
        return [RunRequest(run_key=run_key, job_name=JOB, partition_key=key_range.start)]
    return [RunRequest(run_key=run_key, job_name=JOB, tags=range_tags(key_range))]


# The sources whose new rows a batch suite judges (expectations.SUITES: `<source>_batch`).
JUDGED_SOURCES = frozenset(name.removesuffix("_batch") for name in SUITES if name.endswith("_batch"))


@dataclass(frozen=True)
class RunPlan:
    label: str
    arguments: dict  # for JobDefinition.execute_in_process
    current: publication.Publication | None = None  # nothing to do: the published file is current
    # bytes of the new files of the sources with a batch suite, when the plan looked (None: a range
    # given, loaded whatever it holds)
    new_bytes: int | None = None


def plan_run(
    settings: Settings, unpartitioned, first: dt.date | None = None, last: dt.date | None = None,
    downstream: Callable[[list[str]], list] | None = None,
) -> RunPlan:
    """One run (`taobao-ops run`): from the first to the last batch date with files not loaded yet,
    within `first`/`last` when given; with none, the unpartitioned assets alone (reference, marts,
    publish). Both bounds given: exactly that range.

    When the last publication reflects the working database, a run materializes only what the new
    files feed (`downstream` of their sources' raw assets), and nothing at all when every file is
    loaded. Otherwise (the first run, new code or settings, a run that loaded and did not publish)
    every asset of the run's batch dates."""
    start = clamp(key_of(first)) if first else None
    end = clamp(key_of(last)) if last else None
    if start and end and start > end:
        raise ValueError(f"the first batch date {start} is after the last {end}")
    if start and end:
        from dagster import PartitionKeyRange  # here: a run with nothing new does not import Dagster

        return RunPlan(f"batch dates {start} … {end}", {"tags": range_tags(PartitionKeyRange(start, end))})
    state = load_state(settings)
    pending = pending_files(settings, scan_known(settings), state)
    if state.publication and not pending:
        return RunPlan("nothing new", {}, current=state.publication)
    selection = (
        {"asset_selection": downstream(sorted({f.source for f in pending}))}
        if state.publication and downstream is not None
        else {}
    )
    new_bytes = sum(f.size for f in pending if f.source in JUDGED_SOURCES)
    key_range = batch_range(pending)
    extremes = (key_range.start, key_range.end) if key_range else ()
    keys = [k for k in extremes if (not start or k >= start) and (not end or k <= end)]
    if start:
        end = max([start, *keys])
    elif end:
        start = min([end, *keys])
    elif keys:
        start, end = keys[0], keys[-1]
    else:
        return RunPlan("no new batch dates", selection or {"asset_selection": list(unpartitioned)}, new_bytes=new_bytes)
    from dagster import PartitionKeyRange

    return RunPlan(
        f"batch dates {start} … {end}", {"tags": range_tags(PartitionKeyRange(start, end)), **selection}, new_bytes=new_bytes
    )
