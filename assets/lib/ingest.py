"""Load the new or changed files of one source: parse, validate, write the lake, record the audit
(contract §7).

A file whose bytes were loaded before is `unchanged` and costs one hash. Files parse in parallel
threads (Polars releases the GIL) into pending lake files that nothing reads yet; the source's
batch suite then judges all their rows at once, as SQL inside DuckDB, and only the files that pass
are renamed into the lake. The database is written once per source, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections import deque
from contextlib import contextmanager, nullcontext
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import polars as pl

from . import events, gx_worker
from .batch_gate import validate_pending
from .expectations import SuiteResult
from .gx_sql import install, install_meanwhile
from .files import EXCEL_SUFFIXES, FileError, Grid, RawFile, Underestimated, batch_date, discover, read_grid, sha256
from .limits import ReadLimits
from .lake import LakeRoot, in_lake, promote, write_pending
from .parse import AGGREGATED, REJECT_SCHEMA, ParseOptions, empty_rows, parse_batches
from .pending import pending_step
from .schema import DATED
from .sql import fetch_sql, run_sql, transaction

log = logging.getLogger(__name__)

# Rows parsed in one Polars pass: large enough to amortise planning, small enough that the raw
# text and the typed rows of a chunk stay well under the memory target.
CHUNK_ROWS = 250_000
# Files read ahead of parsing (in parallel threads), at most this many and about this many bytes of
# text (a compressed file counted at GZIP_RATIO times its size), at least one file: bounds what is
# held as raw text whatever the size of the files (16 daily exports of 65 MB on average, read
# together, took a 10 M-order rebuild to 6.27 GiB; 2.08 GiB with a 128 MB bound). The next window
# is read while the chunks of the last one parse when the two hold at most READ_AHEAD_BYTES.
READ_WINDOW = 16
READ_WINDOW_BYTES = 64 * 2**20
READ_AHEAD_BYTES = 128 * 2**20
# What files read and not parsed may really hold (a compressed file can unpack far beyond its
# estimate, within the limits): a file waits for a later window rather than go over.
READ_HELD_BYTES = 256 * 2**20
GZIP_RATIO = 5


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


@dataclass
class Timings:
    """Seconds spent in each stage of a source's load, summed over its chunks (files are read in
    threads while the last ones parse, so `read` is the time parsing waited for them)."""

    read: float = 0.0  # bytes -> decoded grid of strings, not overlapped with parsing
    parse: float = 0.0  # grid -> typed, cleaned rows and rejects
    validate: float = 0.0  # the batch suite on the new rows (loading them into DuckDB included)
    write: float = 0.0  # pending lake Parquet files, their renaming, and audit rows

    def as_metadata(self) -> dict[str, float]:
        return {f"seconds_{k}": round(v, 3) for k, v in vars(self).items()}

    @contextmanager
    def measure(self, stage: str) -> Iterator[None]:
        """Add the time the block takes to `stage`."""
        started = time.perf_counter()
        try:
            yield
        finally:
            setattr(self, stage, getattr(self, stage) + time.perf_counter() - started)


@dataclass(frozen=True)
class _Version:
    sha256: str
    rows_loaded: int
    fingerprint: str | None


def previous_versions(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, _Version]:
    """file name -> the version of each file now in the lake."""
    rows = fetch_sql(con, "audit/previous_versions", {"source": source})
    return {name: _Version(digest, loaded, fingerprint) for name, digest, loaded, fingerprint in rows}


def _is_unchanged(
    source: str, name: str, digest: str | None, before: _Version | None, lake_dir: LakeRoot, options: ParseOptions
) -> bool:
    """Same bytes, parsed the same way, and its rows still in the lake: nothing to do."""
    return (
        before is not None
        and before.sha256 == digest
        and before.fingerprint == options.fingerprint
        and in_lake(lake_dir, source, name)
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
    held: int = 0  # bytes its grid holds, counted in _Held until it is parsed


def _read(raw: RawFile, digest: str, limits: ReadLimits, expected: int | None = None) -> _Read:
    read = _Read(raw, digest)
    try:
        if DATED[raw.source]:
            read.batch = batch_date(raw.name)
        read.grid = read_grid(raw, limits, expected)
    except Underestimated:
        raise
    except FileError as exc:
        read.error = str(exc)
    except Exception as exc:  # one unreadable file must not stop the others (contract §7)
        log.exception("unexpected error reading %s", raw.path)
        read.error = f"{raw.name}: {type(exc).__name__}: {exc}"
    return read


def _chunks(
    todo: list[tuple[RawFile, str]], workers: int, timings: Timings, limits: ReadLimits
) -> Iterator[_Read | list[_Read]]:
    """Read the files in parallel, a window at a time, and yield what is ready to parse: chunks of
    files with the same header and at most CHUNK_ROWS rows between them, or a file that could not
    be read.

    While the chunks of one window parse, the next window is read in the pool's threads when the
    two windows together hold at most READ_AHEAD_BYTES of text (a parse keeps ~1.6 of 2 cores busy
    and reading ~1.4: 320 daily exports of the 10 M-order bench, 4.9 M rows, read, parsed and
    written in 14.7–15.4 s against 16.5–16.6 s one window after the other); a larger next window
    waits. Windows are planned from the files' sizes, a compressed file's text estimated; what the
    reads really hold is counted too (_Held): a read starts only while the files read and not yet
    parsed hold under READ_HELD_BYTES, else its file waits for the next window (16 .csv.gz files of
    1.6 MB unpacking to 80 MB each, all within the limits, took a run to 4.9 GB). So at most
    READ_HELD_BYTES, plus what the reads under way unpack to, and one open chunk per header are held
    in memory at once. `read` times the waits for a window, not the reading behind a parse."""
    open_chunks: dict[tuple[str, ...], list[_Read]] = {}
    queue = deque(todo)
    held = _Held(READ_HELD_BYTES)

    def start(jobs: list[tuple[RawFile, str]]) -> list[tuple[tuple[RawFile, str], Future[_Read | None]]]:
        return [(job, pool.submit(_read_held, *job, limits, held)) for job in jobs]

    def parsed(chunk: list[_Read]) -> Iterator[list[_Read]]:
        yield chunk
        held.give(sum(read.held for read in chunk))  # the generator resumes once the chunk is parsed

    with ThreadPoolExecutor(max_workers=workers) as pool:
        ahead = None  # the next window's reads, when started early
        while ahead or queue:
            reading = ahead or start(_window(queue, take=True, estimate=held.estimate)[0])
            with timings.measure("read"):
                results = [(job, future.result()) for job, future in reading]
            window = [read for _, read in results if read is not None]
            queue.extendleft(reversed([job for job, read in results if read is None]))  # kept for later
            if not window:  # every read waited: the open chunks hold what they wait for
                for header, chunk in list(open_chunks.items()):
                    del open_chunks[header]
                    yield from parsed(chunk)
                ahead = None
                continue
            size = sum(_text_size(read.raw) for read in window)
            following, following_size = _window(queue, take=False, estimate=held.estimate)
            fits = bool(following) and size + following_size <= READ_AHEAD_BYTES
            ahead = start(_window(queue, take=True, estimate=held.estimate)[0]) if fits else None
            yield from _fill(window, open_chunks, parsed)
            # the chunks yielded are parsed: nothing here may keep their text while the next window reads
            del window, reading, results
    for chunk in open_chunks.values():
        if chunk:
            yield from parsed(chunk)


def _fill(
    window: list[_Read], open_chunks: dict[tuple[str, ...], list[_Read]],
    parsed: Callable[[list[_Read]], Iterator[list[_Read]]],
) -> Iterator[_Read | list[_Read]]:
    """Each read of a window into the open chunk of its header (`_chunks`): yields a read that
    failed, and a chunk that would pass CHUNK_ROWS with the next file, through `parsed`."""
    for read in window:
        if read.error:
            yield read
            continue
        header = tuple(read.grid.header)
        chunk = open_chunks.setdefault(header, [])
        if chunk and sum(r.grid.rows.height for r in chunk) + read.grid.rows.height > CHUNK_ROWS:
            yield from parsed(chunk)
            chunk = open_chunks[header] = []
        chunk.append(read)


def _window(
    queue: deque[tuple[RawFile, str]], take: bool, estimate: Callable[[RawFile], int] | None = None
) -> tuple[list[tuple[RawFile, str]], int]:
    """The next window of `queue`: at most READ_WINDOW files and about READ_WINDOW_BYTES of text
    (at least one file, each counted by `estimate`, _text_size by default), with its size in text
    bytes; taken off the queue when `take`."""
    estimate = estimate or _text_size
    jobs: list[tuple[RawFile, str]] = []
    size = 0
    for job in queue:
        text = estimate(job[0])
        if jobs and (len(jobs) == READ_WINDOW or size + text > READ_WINDOW_BYTES):
            break
        jobs.append(job)
        size += text
    if take:
        for _ in jobs:
            queue.popleft()
    return jobs, size


class _Held:
    """Bytes of files read and not yet parsed. A read may start while they are under `most`, or
    when nothing is held (so that any one file is read); it counts its estimate while it reads and
    what its grid holds once read, until its chunk is parsed."""

    def __init__(self, most: int):
        self.most = most
        self.bytes = 0
        self.alone: set[Path] = set()  # .gz files that unpacked beyond their estimate: read alone
        self._lock = threading.Lock()

    def estimate(self, raw: RawFile) -> int:
        """What reading `raw` will hold: _text_size, or READ_HELD_BYTES for a file to read alone."""
        return READ_HELD_BYTES if raw.path in self.alone else _text_size(raw)

    def take(self, size: int) -> bool:
        with self._lock:
            if self.bytes and self.bytes + size > self.most:
                return False
            self.bytes += size
            return True

    def give(self, size: int) -> None:
        with self._lock:
            self.bytes -= size


def _read_held(raw: RawFile, digest: str, limits: ReadLimits, held: _Held) -> _Read | None:
    """`_read` when `held` has room for the file's estimated text, else None (read it later). A
    .gz that unpacks beyond its estimate is stopped there and read later on its own (a file of
    several gzip members states only its last one's size: four of 6.9 MB stating 1 byte and
    unpacking to 122 MiB each, read two at a time, took a run to 2.97 GB)."""
    estimate = held.estimate(raw)
    if not held.take(estimate):
        return None
    try:
        read = _read(raw, digest, limits, estimate if raw.suffix.endswith(".gz") and raw.path not in held.alone else None)
    except Underestimated:
        held.alone.add(raw.path)
        held.give(estimate)
        return None
    read.held = read.grid.rows.estimated_size() if read.grid is not None else 0
    held.give(estimate - read.held)
    return read


def _text_size(raw: RawFile) -> int:
    """What reading the file will hold, estimated: a .gz its unpacked size as its trailer states it
    (the last member's, so all of a usual one-member export), at least GZIP_RATIO times its size; a
    workbook READ_HELD_BYTES, so that it is read with nothing else held (its reader's grid costs
    ~52 bytes a cell of the sheet's extent: up to 0.9 GB within the limits)."""
    try:
        size = raw.path.stat().st_size
        if raw.suffix.endswith(".gz"):
            with open(raw.path, "rb") as file:
                stated = int.from_bytes(os.pread(file.fileno(), 4, max(0, size - 4)), "little") if size >= 18 else 0
            return max(size * GZIP_RATIO, stated)
    except OSError:
        return 0  # _read reports why
    return max(size, READ_HELD_BYTES) if raw.suffix in EXCEL_SUFFIXES else size


def _parse_chunk(
    chunk: list[_Read], lake_dir: Path, options: ParseOptions, timings: Timings, step: str
) -> list[FileOutcome]:
    source = chunk[0].raw.source
    header = chunk[0].grid.header
    if not header:  # empty files: valid, with no rows (contract §7)
        parsed_rows = empty_rows(source)
        with timings.measure("write"):
            return [_outcome(r, parsed_rows, None, None, lake_dir, step) for r in chunk]
    rows = pl.concat(
        [
            r.grid.rows.with_columns(file_name=pl.lit(r.raw.name), batch_date=pl.lit(r.batch, pl.Date))
            for r in chunk
        ],
        how="vertical_relaxed",
    )
    try:
        with timings.measure("parse"):
            parsed = parse_batches(header, rows, source, options)
    except FileError as exc:
        return [_failed(r, str(exc)) for r in chunk]
    except Exception as exc:  # a parser bug must cost these files, not the whole run (contract §7)
        log.exception("unexpected error parsing %s", [r.raw.name for r in chunk])
        return [_failed(r, f"{type(exc).__name__}: {exc}") for r in chunk]
    with timings.measure("write"):
        return _write_chunk(chunk, parsed, lake_dir, step)


def _write_chunk(chunk: list[_Read], parsed, lake_dir: Path, step: str) -> list[FileOutcome]:
    by_file = parsed.rows.partition_by("file_name", as_dict=True)
    rejects_by_file = parsed.rejects.partition_by("file_name", as_dict=True)
    notes = {row["file_name"]: row for row in parsed.notes_by_file.iter_rows(named=True)}
    empty = parsed.rows.clear()

    def outcome(r: _Read) -> FileOutcome:
        return _outcome(
            r, by_file.get((r.raw.name,), empty), rejects_by_file.get((r.raw.name,)), notes.get(r.raw.name), lake_dir,
            step,
        )

    # A file each: Polars writes Parquet without Python's lock, and a chunk of many small files
    # (a backfill of daily exports) spent its time in each file's fixed cost, one after another.
    with ThreadPoolExecutor(max_workers=min(len(chunk), os.cpu_count() or 1)) as pool:
        return list(pool.map(outcome, chunk))


def _failed(read: _Read, error: str) -> FileOutcome:
    return FileOutcome(read.raw.source, read.raw.name, read.digest, read.batch, "failed", error=f"{read.raw.name}: {error}")


def _hold_back(outcome: FileOutcome, reason: str) -> None:
    """A parsed file whose rows must not count: not loaded, so the next run validates it again."""
    outcome.outcome = "failed"
    outcome.error = f"{outcome.file_name}: {reason}"
    outcome.rows_read = outcome.rows_loaded = outcome.rows_rejected = 0
    outcome.rejects = None
    outcome.notes = {}


def _outcome(
    read: _Read, rows: pl.DataFrame, rejects: pl.DataFrame | None, notes: dict | None, lake_dir: Path, step: str
) -> FileOutcome:
    write_pending(lake_dir, read.raw.source, read.raw.name, rows, step)
    rejects = rejects.drop("file_name") if rejects is not None else pl.DataFrame(schema=REJECT_SCHEMA)
    return FileOutcome(
        read.raw.source, read.raw.name, read.digest, read.batch, "loaded",
        rows_read=read.grid.rows.height,
        rows_loaded=rows.height,
        rows_rejected=rejects.height,
        notes={k: int(v) for k, v in (notes or {}).items() if k != "file_name"},
        rejects=rejects,
    )


Database = events.Database


def ingest_source(con: duckdb.DuckDBPyConnection, *arguments, **keywords) -> tuple[list[FileOutcome], list[SuiteResult]]:
    """`ingest` (its arguments after `database`) on a connection open throughout, which events are
    parsed on too: a test's, a benchmark's."""
    opened = lambda: nullcontext(con)  # noqa: E731
    return ingest(opened, *arguments, parsing=opened, **keywords)


def ingest(
    database: Database,
    source: str,
    raw_dir: Path,
    lake_dir: Path,
    options: ParseOptions,
    run_id: str,
    on_file: Callable[[FileOutcome], None] | None = None,
    suite: str | None = None,
    select: Callable[[str], bool] | None = None,
    timings: Timings | None = None,
    parsing: Database | None = None,
) -> tuple[list[FileOutcome], list[SuiteResult]]:
    """Load what is new in one source (among the files whose name `select` accepts, default all),
    its rows judged by the batch `suite` (expectations.SUITES) before they count; returns every file's
    outcome and the suite results. Stage times are added to `timings`.

    The working database is opened (`database`: in a step, under its lock) only for what reads or
    writes it: the versions loaded before, at the start; the users' keys of the events files
    judged, several files at once; the batch suite, the promotion and the audit rows, at the end.
    Reading, parsing and writing the pending lake files, nearly all of a load, run without it, in
    the load's own pending folder (lib/pending.py): the raw steps of several sources and batch dates
    parse at once on a multiprocess executor. Events are parsed on the DuckDB `parsing` opens
    (default: an in-memory one of their own)."""
    timings = timings if timings is not None else Timings()
    with pending_step(lake_dir, source) as step:
        with database() as con:
            previous = previous_versions(con, source)
        unchanged, fresh = parse_source(
            source, raw_dir, lake_dir, options, previous, step, select=select, suite=suite, timings=timings,
            database=database, parsing=parsing,
        )
        if suite is not None and not gx_worker.running() and any(o.outcome == "loaded" and o.rows_loaded for o in fresh):
            with timings.measure("validate"):
                install()  # GX's import (seconds in a step's fresh process) before the lock, not under it
        with database() as con:
            return settle_source(con, suite, unchanged, fresh, previous, lake_dir, step, run_id, options, timings, on_file)


def parse_source(
    source: str, raw_dir: Path, lake_dir: Path, options: ParseOptions, previous: dict[str, _Version], step: str,
    select: Callable[[str], bool] | None = None, suite: str | None = None, timings: Timings | None = None,
    database: Database | None = None, parsing: Database | None = None,
) -> tuple[list[FileOutcome], list[FileOutcome]]:
    """The source's files loaded before (`unchanged`, by `previous`), and the others read, parsed
    and written pending in `step`'s folder (or failed): `ingest`'s part without the working
    database, but for the events files' users' keys, taken on what `database` opens."""
    timings = timings if timings is not None else Timings()
    unchanged, todo = _sort_out(source, raw_dir, lake_dir, options, previous, select)
    if source in AGGREGATED:
        with (parsing or events.connect)() as con:
            fresh = _load_events(con, database or (lambda: nullcontext(con)), todo, lake_dir, options, timings, step)
    else:
        fresh = _parse_all(source, todo, lake_dir, options, timings, suite, step)
    return unchanged, fresh


def settle_source(
    con: duckdb.DuckDBPyConnection, suite: str | None, unchanged: list[FileOutcome], fresh: list[FileOutcome],
    previous: dict[str, _Version], lake_dir: Path, step: str, run_id: str, options: ParseOptions,
    timings: Timings, on_file: Callable[[FileOutcome], None] | None = None,
) -> tuple[list[FileOutcome], list[SuiteResult]]:
    """What `parse_source` gave, on the working database `con`: the parsed files judged by the batch
    suite, those that pass renamed into the lake, and every file's audit rows recorded. A file
    another load recorded meanwhile, with the same bytes parsed the same way, is left as that load
    recorded it (two runs loading one new file at once: it is loaded once)."""
    fresh, meanwhile = _loaded_meanwhile(con, fresh, lake_dir, options)
    unchanged = unchanged + meanwhile
    results = _judge_and_promote(con, suite, fresh, lake_dir, timings, step)
    for outcome in sorted(fresh, key=lambda o: o.file_name):
        _settle(outcome, previous.get(outcome.file_name))
        if on_file:
            on_file(outcome)
    outcomes = unchanged + fresh
    with timings.measure("write"):
        _record(con, outcomes, run_id, options.fingerprint)
    return sorted(outcomes, key=lambda o: o.file_name), results


def _loaded_meanwhile(
    con: duckdb.DuckDBPyConnection, fresh: list[FileOutcome], lake_dir: LakeRoot, options: ParseOptions
) -> tuple[list[FileOutcome], list[FileOutcome]]:
    """`fresh` split into the files to settle and, as `unchanged`, those the working database now
    holds loaded as this load parsed them (another load settled them while this one parsed
    without the lock): `_is_unchanged` asked again, of the versions now recorded."""
    if not fresh:
        return fresh, []
    now = previous_versions(con, fresh[0].source)
    settle, meanwhile = [], []
    for outcome in fresh:
        version = now.get(outcome.file_name)
        if outcome.outcome == "loaded" and _is_unchanged(
            outcome.source, outcome.file_name, outcome.sha256, version, lake_dir, options
        ):
            meanwhile.append(FileOutcome(
                outcome.source, outcome.file_name, outcome.sha256, outcome.batch_date, "unchanged",
                rows_in_lake=version.rows_loaded,
            ))
        else:
            settle.append(outcome)
    return settle, meanwhile


def _sort_out(
    source: str, raw_dir: Path, lake_dir: Path, options: ParseOptions, previous: dict, select: Callable[[str], bool] | None
) -> tuple[list[FileOutcome], list[tuple[RawFile, str]]]:
    """The source's files whose bytes were loaded before (`unchanged`, one hash each), and the
    others to read, with their digests. An events file never loaded under its name cannot be
    unchanged: its digest (None here) is taken while it loads (`_load_events`)."""
    unchanged: list[FileOutcome] = []
    todo: list[tuple[RawFile, str | None]] = []
    for raw in discover(raw_dir, source, keep=select):
        if source in AGGREGATED and raw.name not in previous:
            todo.append((raw, None))
            continue
        digest = sha256(raw.path)
        if _is_unchanged(raw.source, raw.name, digest, previous.get(raw.name), lake_dir, options):
            unchanged.append(
                FileOutcome(
                    source, raw.name, digest, _batch_date_or_none(raw), "unchanged",
                    rows_in_lake=previous[raw.name].rows_loaded,
                )
            )
        else:
            todo.append((raw, digest))
    return unchanged, todo


def _parse_all(
    source: str, todo: list[tuple[RawFile, str]], lake_dir: Path, options: ParseOptions, timings: Timings,
    suite: str | None, step: str,
) -> list[FileOutcome]:
    """Every file of `todo` read, parsed and written pending (or failed), a window at a time."""
    workers = max(1, min(len(todo), os.cpu_count() or 1))
    fresh: list[FileOutcome] = []
    gx_wanted = suite is not None
    for ready in _chunks(todo, workers, timings, options.limits):
        if isinstance(ready, _Read):
            fresh.append(FileOutcome(source, ready.raw.name, ready.digest, ready.batch, "failed", error=ready.error))
            continue
        if gx_wanted and any(r.grid.rows.height for r in ready):
            # rows to judge, most likely: unless the GX worker judges them (a small run, which
            # `taobao-ops run` started it for), GX imports for the batch suite in a thread while
            # they parse (a daily run's orders step, 305,000 rows: 3.56-4.80 s against 3.86-5.26 s)
            if not gx_worker.running():
                install_meanwhile()
            gx_wanted = False
        fresh.extend(_parse_chunk(ready, lake_dir, options, timings, step))
    return fresh


# Events files are judged one after another and their users keyed together, in one opening of the
# working database, up to this many lines judged (their groups wait in memory until then: 100 M
# events make 8.6 M groups, keyed alone). The sample's 86 files, keyed one by one, opened it 83
# times, 3.4 s of a 7.9 s step on a loaded machine.
EVENTS_KEYED_TOGETHER = 20_000_000


def _load_events(
    con: duckdb.DuckDBPyConnection, database: Database, todo: list[tuple[RawFile, str | None]], lake_dir: Path,
    options: ParseOptions, timings: Timings, step: str,
) -> list[FileOutcome]:
    """Every events file of `todo` streamed through DuckDB (`con`) into its pending lake file (or
    failed), one after another: each one's reading uses every core (assets/lib/events.py); the users
    of the files judged are keyed on the working database `database` opens, several files at once
    (EVENTS_KEYED_TOGETHER). A file's digest still to take is taken in a thread meanwhile (hashlib
    lets go of the GIL): 100 M events, 3.66 GB, loaded in 22.1-22.5 s so against 23.1-26.3 s hashed
    first."""
    fresh: list[FileOutcome] = []
    waiting: list[tuple[RawFile, str | None, events.Judged]] = []

    def failed(raw: RawFile, digest: str | None, error: str) -> FileOutcome:
        return FileOutcome(raw.source, raw.name, digest, _batch_date_or_none(raw), "failed", error=error)

    def key_and_write() -> None:
        if not waiting:
            return
        keyed = []
        with database() as working:
            for raw, digest, judged in waiting:
                try:
                    keyed.append((raw, digest, judged, events.user_keys(working, judged)))
                except FileError as exc:
                    keyed.append((raw, digest, judged, str(exc)))
        waiting.clear()
        for raw, digest, judged, keys in keyed:
            try:
                if isinstance(keys, str):
                    raise FileError(keys)
                with timings.measure("parse"):
                    loaded = events.write_file(con, judged, keys, lake_dir, step)
            except FileError as exc:
                con.execute(f"drop table if exists {judged.table}")
                fresh.append(failed(raw, digest, str(exc)))
                continue
            fresh.append(FileOutcome(
                raw.source, raw.name, digest, judged.window["batch_date"], "loaded", rows_read=loaded.rows_read,
                rows_loaded=loaded.rows_loaded, rows_rejected=loaded.rejects.height, rejects=loaded.rejects,
            ))

    with ThreadPoolExecutor(max_workers=1) as hasher:
        for index, (raw, digest) in enumerate(todo):
            hashing = hasher.submit(sha256, raw.path) if digest is None else None
            try:
                with timings.measure("parse"):
                    judged = events.judge_file(con, raw, batch_date(raw.name), options, table=f"event_groups_{index}")
            except FileError as exc:
                key_and_write()  # the files before it, so that the outcomes keep the files' order
                fresh.append(failed(raw, hashing.result() if hashing else digest, str(exc)))
                continue
            waiting.append((raw, hashing.result() if hashing else digest, judged))
            if sum(j.typed_lines for _, _, j in waiting) >= EVENTS_KEYED_TOGETHER:
                key_and_write()
    if waiting:
        key_and_write()
    return fresh


def _settle(outcome: FileOutcome, before) -> None:
    """A parsed file's rows in the lake after this run, and what its outcome should warn of."""
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


def _judge_and_promote(
    con: duckdb.DuckDBPyConnection, suite: str | None, fresh: list[FileOutcome], lake_dir: Path, timings: Timings,
    step: str,
) -> list[SuiteResult]:
    """Hold back the parsed files whose rows fail the suite; rename the others into the lake (the
    held-back files' pending copies go with the load's pending folder: pending.pending_step)."""
    parsed = [o for o in fresh if o.outcome == "loaded"]
    results: list[SuiteResult] = []
    if suite is not None and parsed:
        with timings.measure("validate"):
            held_back, results = validate_pending(con, suite, parsed, lake_dir, step)
        for outcome in parsed:
            if outcome.file_name in held_back:
                _hold_back(outcome, held_back[outcome.file_name])
    with timings.measure("write"):
        for outcome in parsed:
            if outcome.outcome == "loaded":
                promote(lake_dir, outcome.source, outcome.file_name, step)
    return results


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
