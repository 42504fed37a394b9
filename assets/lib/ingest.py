"""Load the new or changed files of one source: parse, write the lake, record the audit (contract §7).

A file whose bytes were loaded before is `unchanged` and costs one hash. Files parse in parallel
threads (Polars releases the GIL); the database is written once per source, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import duckdb
import polars as pl

from .expectations import SuiteResult
from .files import FileError, Grid, RawFile, batch_date, discover, read_grid, sha256
from .lake import lake_path, write_batch
from .parse import REJECT_SCHEMA, ParseOptions, empty_rows, parse_batches
from .schema import DATED
from .sql import fetch_sql, run_sql, transaction

log = logging.getLogger(__name__)

# Rows parsed in one Polars pass: large enough to amortise planning, small enough for memory.
CHUNK_ROWS = 2_000_000


@dataclass
class FileOutcome:
    source: str
    file_name: str
    sha256: str | None
    batch_date: dt.date | None
    outcome: str  # loaded | unchanged | failed
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_in_lake: int = 0  # what this file contributes to the lake after the run
    notes: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    warning: str | None = None
    rejects: pl.DataFrame | None = None


@dataclass(frozen=True)
class _Version:
    sha256: str
    rows_loaded: int
    fingerprint: str | None


def _previous_versions(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, _Version]:
    """file name -> the version of each file now in the lake."""
    rows = fetch_sql(con, "audit/previous_versions", {"source": source})
    return {name: _Version(digest, loaded, fingerprint) for name, digest, loaded, fingerprint in rows}


def _is_unchanged(raw: RawFile, digest: str, before: _Version | None, lake_dir: Path, options: ParseOptions) -> bool:
    """Same bytes, parsed the same way, and its rows still in the lake: nothing to do."""
    return (
        before is not None
        and before.sha256 == digest
        and before.fingerprint == options.fingerprint
        and lake_path(lake_dir, raw.source, raw.name).exists()
    )


def _batch_date_or_none(raw: RawFile) -> dt.date | None:
    try:
        return batch_date(raw.name) if DATED[raw.source] else None
    except FileError:
        return None


@dataclass
class _Read:
    raw: RawFile
    digest: str
    batch: dt.date | None = None
    grid: Grid | None = None
    error: str | None = None


def _read(raw: RawFile, digest: str) -> _Read:
    read = _Read(raw, digest)
    try:
        if DATED[raw.source]:
            read.batch = batch_date(raw.name)
        read.grid = read_grid(raw)
    except FileError as exc:
        read.error = str(exc)
    except Exception as exc:  # one unreadable file must not stop the others (contract §7)
        log.exception("unexpected error reading %s", raw.path)
        read.error = f"{raw.name}: {type(exc).__name__}: {exc}"
    return read


def _chunks(reads: list[_Read]) -> list[list[_Read]]:
    """Files with the same header, in chunks of at most CHUNK_ROWS rows, parse as one frame."""
    by_header: dict[tuple[str, ...], list[_Read]] = {}
    for read in reads:
        by_header.setdefault(tuple(read.grid.header), []).append(read)
    chunks = []
    for group in by_header.values():
        chunk: list[_Read] = []
        rows = 0
        for read in group:
            if chunk and rows + read.grid.rows.height > CHUNK_ROWS:
                chunks.append(chunk)
                chunk, rows = [], 0
            chunk.append(read)
            rows += read.grid.rows.height
        chunks.append(chunk)
    return chunks


Validator = Callable[[pl.DataFrame], SuiteResult]


def _parse_chunk(
    chunk: list[_Read], lake_dir: Path, options: ParseOptions, validate: Validator | None, results: list[SuiteResult]
) -> list[FileOutcome]:
    source = chunk[0].raw.source
    header = chunk[0].grid.header
    if not header:  # empty files: valid, with no rows (contract §7)
        parsed_rows = empty_rows(source)
        return [_outcome(r, parsed_rows, None, None, lake_dir) for r in chunk]
    rows = pl.concat(
        [
            r.grid.rows.with_columns(file_name=pl.lit(r.raw.name), batch_date=pl.lit(r.batch, pl.Date))
            for r in chunk
        ],
        how="vertical_relaxed",
    )
    try:
        parsed = parse_batches(header, rows, source, options)
    except FileError as exc:
        return [_failed(r, str(exc)) for r in chunk]
    except Exception as exc:  # a parser bug must cost these files, not the whole run (contract §7)
        log.exception("unexpected error parsing %s", [r.raw.name for r in chunk])
        return [_failed(r, f"{type(exc).__name__}: {exc}") for r in chunk]
    held_back = _validate(parsed.rows, validate, results) if validate is not None else {}
    by_file = parsed.rows.partition_by("file_name", as_dict=True)
    rejects_by_file = parsed.rejects.partition_by("file_name", as_dict=True)
    notes = {row["file_name"]: row for row in parsed.notes_by_file.iter_rows(named=True)}
    empty = parsed.rows.clear()
    return [
        _failed(r, held_back[r.raw.name])
        if r.raw.name in held_back
        else _outcome(
            r,
            by_file.get((r.raw.name,), empty),
            rejects_by_file.get((r.raw.name,)),
            notes.get(r.raw.name),
            lake_dir,
        )
        for r in chunk
    ]


def _failed(read: _Read, error: str) -> FileOutcome:
    return FileOutcome(read.raw.source, read.raw.name, read.digest, read.batch, "failed", error=f"{read.raw.name}: {error}")


def _validate(rows: pl.DataFrame, validate: Validator, results: list[SuiteResult]) -> dict[str, str]:
    """Validate before writing; returns the files to hold back, with why.

    One suite run covers the whole chunk; only when it fails is each file validated alone, so that
    a bad file holds back itself and not the files parsed with it. Held-back files are not
    recorded as loaded, so the next run validates them again."""
    if not rows.height:
        return {}
    result = validate(rows)
    if result.success:
        results.append(result)
        return {}
    held_back = {}
    for (name,), part in rows.partition_by("file_name", as_dict=True).items():
        alone = validate(part)
        if not alone.success:
            results.append(alone)
            failed = ", ".join(f"{f['expectation']} on {f['column']}" for f in alone.failed)
            held_back[name] = f"held back: its rows failed the {alone.suite} suite ({failed})"
    if not held_back:  # only the files together break it (e.g. uniqueness across files)
        results.append(result)
        held_back = {name: f"held back: the batch failed the {result.suite} suite" for name in rows["file_name"].unique()}
    return held_back


def _outcome(read: _Read, rows: pl.DataFrame, rejects: pl.DataFrame | None, notes: dict | None, lake_dir: Path) -> FileOutcome:
    write_batch(lake_dir, read.raw.source, read.raw.name, rows)
    rejects = rejects.drop("file_name") if rejects is not None else pl.DataFrame(schema=REJECT_SCHEMA)
    return FileOutcome(
        read.raw.source, read.raw.name, read.digest, read.batch, "loaded",
        rows_read=read.grid.rows.height,
        rows_loaded=rows.height,
        rows_rejected=rejects.height,
        notes={k: int(v) for k, v in (notes or {}).items() if k != "file_name"},
        rejects=rejects,
    )


def ingest_source(
    con: duckdb.DuckDBPyConnection,
    source: str,
    raw_dir: Path,
    lake_dir: Path,
    options: ParseOptions,
    run_id: str,
    on_file: Callable[[FileOutcome], None] | None = None,
    validate: Validator | None = None,
    select: Callable[[RawFile], bool] | None = None,
) -> tuple[list[FileOutcome], list[SuiteResult]]:
    """Load what is new in one source (among the files `select` accepts, default all); returns
    every file's outcome and the suites run on new rows."""
    previous = _previous_versions(con, source)
    outcomes: list[FileOutcome] = []
    todo: list[tuple[RawFile, str]] = []
    for raw in discover(raw_dir, source):
        if select is not None and not select(raw):
            continue
        digest = sha256(raw.path)
        if _is_unchanged(raw, digest, previous.get(raw.name), lake_dir, options):
            outcomes.append(
                FileOutcome(
                    source, raw.name, digest, _batch_date_or_none(raw), "unchanged",
                    rows_in_lake=previous[raw.name].rows_loaded,
                )
            )
        else:
            todo.append((raw, digest))
    workers = max(1, min(len(todo), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        reads = list(pool.map(lambda job: _read(*job), todo))
    fresh = [
        FileOutcome(source, r.raw.name, r.digest, r.batch, "failed", error=r.error) for r in reads if r.error
    ]
    results: list[SuiteResult] = []
    for chunk in _chunks([r for r in reads if not r.error]):
        fresh.extend(_parse_chunk(chunk, lake_dir, options, validate, results))
    for outcome in sorted(fresh, key=lambda o: o.file_name):
        before = previous.get(outcome.file_name)
        outcome.rows_in_lake = outcome.rows_loaded if outcome.outcome == "loaded" else before.rows_loaded if before else 0
        warnings = []
        if outcome.outcome == "loaded" and outcome.rows_read == 0 and before and before.rows_loaded > 0:
            warnings.append(f"an empty file replaced a version that loaded {before.rows_loaded} rows")
        if outcome.notes.get("repeated_key_rows"):
            warnings.append(
                f"{outcome.notes['repeated_key_rows']} rows repeat a key within the file; the last line of each wins"
            )
        if warnings:
            outcome.warning = f"{outcome.file_name}: " + "; ".join(warnings)
        if on_file:
            on_file(outcome)
    outcomes.extend(fresh)
    _record(con, outcomes, run_id, options.fingerprint)
    return sorted(outcomes, key=lambda o: o.file_name), results


def _record(con: duckdb.DuckDBPyConnection, outcomes: list[FileOutcome], run_id: str, fingerprint: str) -> None:
    now = dt.datetime.now()
    loads = pl.DataFrame(
        [
            {
                "run_id": run_id,
                "source": o.source,
                "file_name": o.file_name,
                "sha256": o.sha256,
                "batch_date": o.batch_date,
                "rows_read": o.rows_read,
                "rows_loaded": o.rows_loaded,
                "rows_rejected": o.rows_rejected,
                "masked_buyer_ids": o.notes.get("masked_buyer_ids", 0),
                "loaded_at": now,
                "outcome": o.outcome,
                "error": o.error,
                "warning": o.warning,
                "parse_fingerprint": fingerprint,
            }
            for o in outcomes
        ],
        schema={
            "run_id": pl.String, "source": pl.String, "file_name": pl.String, "sha256": pl.String,
            "batch_date": pl.Date, "rows_read": pl.Int64, "rows_loaded": pl.Int64,
            "rows_rejected": pl.Int64, "masked_buyer_ids": pl.Int64,
            "loaded_at": pl.Datetime("us"), "outcome": pl.String, "error": pl.String, "warning": pl.String,
            "parse_fingerprint": pl.String,
        },
    )
    loaded = [o for o in outcomes if o.outcome == "loaded"]
    rejects = pl.concat(
        [
            o.rejects.with_columns(
                source=pl.lit(o.source), file_name=pl.lit(o.file_name), run_id=pl.lit(run_id)
            )
            for o in loaded
            if o.rejects is not None
        ]
        or [pl.DataFrame(schema=REJECT_SCHEMA).with_columns(
            source=pl.lit(None, pl.String), file_name=pl.lit(None, pl.String), run_id=pl.lit(None, pl.String)
        )]
    )
    replaced = pl.DataFrame(
        {"source": [o.source for o in loaded], "file_name": [o.file_name for o in loaded]},
        schema={"source": pl.String, "file_name": pl.String},
    )
    con.register("replaced_files", replaced)
    con.register("new_rejects", rejects)
    con.register("new_loads", loads)
    with transaction(con):
        run_sql(con, "audit/delete_replaced_rejects")
        run_sql(con, "audit/insert_rejects")
        run_sql(con, "audit/insert_loads")
    for view in ("replaced_files", "new_rejects", "new_loads"):
        con.unregister(view)
