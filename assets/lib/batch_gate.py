"""The batch gate: a source's batch suite on the rows of its pending lake files, before any of them
counts (lib/ingest.py writes them pending, and promotes only the files this lets through). A failed
batch is judged again by halves, so a bad file holds back itself and not the files parsed with it.
The suite runs on the pipeline's connection or in the GX worker (gx_worker.judge_files).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import duckdb

from . import gx_worker
from .expectations import SuiteResult, schema_failures
from .gx_sql import COPY_JUDGED_ROWS
from .lake import LakeRoot, attach_files, parquet_schema, pending_path
from .sql import create_parquet_view, run_script, run_sql

if TYPE_CHECKING:
    from .ingest import FileOutcome

# A batch suite judges a copy in memory of its new rows when they are at most COPY_BATCH_ROWS in
# files of fewer than COPY_ROWS_PER_FILE rows on average, else a view over the pending Parquet files
# (see copy_to_judge).
COPY_BATCH_ROWS = COPY_JUDGED_ROWS
COPY_ROWS_PER_FILE = 1_000


def validate_pending(
    con: duckdb.DuckDBPyConnection, suite: str, parsed: list[FileOutcome], lake_dir: LakeRoot, step: str = ""
) -> tuple[dict[str, str], list[SuiteResult]]:
    """The batch suite on the rows of the pending files, before any of them counts; returns the
    files to hold back, with why, and the suite results to report. The files wait in `step`'s
    pending folder (pending.pending_step).

    Each file's columns and types are checked from its Parquet footer, then the rows of the others
    are judged by one suite run, through a view over their Parquet files. Only when that fails are
    parts of the batch judged again, halving it, so that a bad file holds back itself and not the
    files parsed with it; a part that fails while both its halves pass breaks a rule only together
    (uniqueness across files), and all its files are held back."""
    held_back: dict[str, str] = {}
    results: list[SuiteResult] = []
    judged = []
    pending = {o.file_name: pending_path(lake_dir, o.source, o.file_name, step) for o in parsed}
    attach_files(con, pending.values())
    for outcome in parsed:
        wrong = schema_failures(suite, parquet_schema(pending[outcome.file_name]))
        if wrong:
            results.append(SuiteResult(suite, False, 1, wrong))
            held_back[outcome.file_name] = f"held back: its rows failed the {suite} suite (columns_and_types: {wrong[0]['sample']})"
        else:
            judged.append(outcome)
    rows = sum(o.rows_loaded for o in judged)
    if not rows:
        return held_back, results  # nothing to judge: no suite runs (GX is imported only if a file had rows)
    paths = {o.file_name: pending[o.file_name] for o in judged}
    copy = copy_to_judge(rows, len(paths))
    if gx_worker.running():
        culprits, judged_results = gx_worker.call("judge_files", suite, paths, copy)
    else:
        culprits, judged_results = judge_pending(con, suite, paths, copy)
    held_back.update(culprits)
    return held_back, results + judged_results


def copy_to_judge(rows: int, files: int) -> bool:
    """Whether a batch suite judges a copy of the rows rather than a view of their files. Each of
    the suite's ~14 scans of a view opens every file again (~0.5 ms a file), and a copy costs ~0.7 µs
    a row, written in order: the sample's 552 small files (17,260 rows) are judged in 0.45 s from a
    copy, 0.71 s through a view; a 10 M-order day's 20 files (288,492 rows) in 0.44 s from a copy,
    0.30 s through a view, and five such days 1.46 against 0.91 s."""
    return rows <= COPY_BATCH_ROWS and rows < files * COPY_ROWS_PER_FILE


def judge_pending(
    con: duckdb.DuckDBPyConnection, suite: str, paths: dict[str, str], copy: bool
) -> tuple[dict[str, str], list[SuiteResult]]:
    """The batch suite on the rows of the pending Parquet files `paths` (file name -> path), on
    `con`: the pipeline's connection, or the GX worker's own (gx_worker.judge_files). Returns the
    files to hold back, with why, and the suite results."""
    from .gx_sql import GxSession, exempt_view

    held_back: dict[str, str] = {}
    results: list[SuiteResult] = []
    attach_files(con, paths.values())
    run_sql(con, "checks/create_scratch_schema")
    try:
        # A large batch is judged through a view: the suite's few scans read the Parquet files
        # (copying 27.9 M rows into a table that spills took 43 s of a 10 M-order rebuild; the
        # scans, none). A small one is copied into memory first: each scan of a view opens every
        # file again, and a batch of many small files (a half-year backfill of daily exports)
        # spent more time opening them than judging the rows.
        create_parquet_view(con, "scratch.batch_rows", list(paths.values()), copy=copy)
        with GxSession(con) as session:
            whole = session.run(suite, exempt_view(con, suite, "scratch.batch_rows"))
            results.append(whole)
            if not whole.success:
                def judge(names: list[str]) -> SuiteResult:
                    # the part's own files only: a part's scans never read the rest of the batch
                    create_parquet_view(con, "scratch.batch_subset", [paths[n] for n in names])
                    return session.run(suite, exempt_view(con, suite, "scratch.batch_subset"))

                held_back.update(_culprits(sorted(paths), whole, judge))
    finally:
        run_script(con, "checks/drop_batch")
    return held_back, results


def _culprits(names: list[str], failed: SuiteResult, judge: Callable[[list[str]], SuiteResult]) -> dict[str, str]:
    """The files of a failed batch to hold back, found by judging halves: about 2·log2(n) suite runs
    per bad file instead of one per file."""
    def expectations(result: SuiteResult) -> str:
        return ", ".join(f"{f['expectation']} on {f['column']}" for f in result.failed)

    if len(names) == 1:
        return {names[0]: f"held back: its rows failed the {failed.suite} suite ({expectations(failed)})"}
    middle = len(names) // 2
    culprits: dict[str, str] = {}
    for half in (names[:middle], names[middle:]):
        result = judge(half)
        if not result.success:
            culprits.update(_culprits(half, result, judge))
    if culprits:
        return culprits
    together = (
        f"held back: its rows and those of {len(names) - 1} other new file(s) together failed the "
        f"{failed.suite} suite ({expectations(failed)})"
    )
    return dict.fromkeys(names, together)
