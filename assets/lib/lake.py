"""The lake: one Parquet file per raw file, so a re-dropped file replaces exactly what it gave.

Its layout, naming and schemas are an interface other engines read (docs/lake.md). Its root is a
local folder or an object-store URL (`s3://bucket/prefix`, through fsspec); every file operation
on it is here, done by the root's store (`_Folder` or `_ObjectStore`), and a lake path is a string
(a local path or a URL), as DuckDB and audit.staging_inputs take it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: the settings import this module, and a plan of a run needs neither
    import duckdb
    import polars as pl

# A local folder, or the URL of a prefix on an object store (`s3://bucket/lake`).
LakeRoot = Path | str


def is_url(location: LakeRoot) -> bool:
    return "://" in str(location)


def lake_path(lake_dir: LakeRoot, source: str, file_name: str) -> str:
    return _join(lake_dir, source, lake_name(file_name))


def lake_name(file_name: str) -> str:
    """A readable name, plus a hash of the exact raw name so two raw files never share a lake file."""
    safe = re.sub(r"[^\w.\-]+", "_", file_name.replace("/", "__"))
    digest = hashlib.sha1(file_name.encode("utf-8")).hexdigest()[:10]
    return f"{safe}.{digest}.parquet"


def lake_names(lake_dir: LakeRoot, source: str) -> set[str]:
    """The names of a source's lake files, from one listing of its folder (a run asks about every
    raw file of the history: one `stat` each cost 0.3 s for a year of daily files)."""
    return set(_store(lake_dir).names(_join(lake_dir, source)))


def batch_files(lake_dir: LakeRoot, source: str) -> list[str]:
    return sorted(_join(lake_dir, source, name) for name in lake_names(lake_dir, source))


def file_versions(lake_dir: LakeRoot, source: str) -> dict[str, str]:
    """Every lake file of a source with its version, which changes when the file is replaced
    (docs/lake.md: local, size, mtime and inode; on an object store, size and ETag)."""
    folder = _join(lake_dir, source)
    versions = _store(lake_dir).versions(folder)
    return {f"{folder}/{name}": versions[name] for name in sorted(versions)}


def in_lake(lake_dir: LakeRoot, source: str, file_name: str) -> bool:
    return _store(lake_dir).exists(lake_path(lake_dir, source, file_name))


def attach(con: duckdb.DuckDBPyConnection, lake_dir: LakeRoot) -> None:
    """Let `con` read and write the lake's files: an object store's filesystem is registered on it
    (once); DuckDB reads a local folder itself."""
    _store(lake_dir).attach(con)


def attach_files(con: duckdb.DuckDBPyConnection, paths: Iterable[str]) -> None:
    """`attach` for these lake files, whose folders are listed now: DuckDB's questions about each
    file it opens are answered from the listing (_ObjectStore), not asked of the store one by one."""
    for folder in {path.rsplit("/", 1)[0] for path in paths}:
        store = _store(folder)
        store.attach(con)
        store.list_ahead(folder)


def register_lake(con: duckdb.DuckDBPyConnection, lake_dir: LakeRoot, source: str) -> None:
    """Expose every batch of a source to SQL as the view `lake_<source>` (typed even when empty)."""
    from .parse import empty_rows

    attach(con, lake_dir)
    files = batch_files(lake_dir, source)
    relation = con.read_parquet(files, union_by_name=True) if files else empty_rows(source)
    con.register(f"lake_{source}", relation)


# New lake files wait here until their batch suite passed: `batch_files` lists `<source>/*.parquet`
# only, so nothing reads a file before it counts.
PENDING = "_pending"


def pending_path(lake_dir: LakeRoot, source: str, file_name: str, step: str = "") -> str:
    """Where a file waits; in `step`'s own folder of _pending when given (lib/pending.py)."""
    return _join(lake_dir, source, PENDING, *_step(step), lake_name(file_name))


def _step(step: str) -> tuple[str, ...]:
    return (step,) if step else ()


def pending_target(
    con: duckdb.DuckDBPyConnection, lake_dir: LakeRoot, source: str, file_name: str, step: str = ""
) -> str:
    """Where `con` may `COPY ... TO` a raw file's pending lake file: its folder made, its store attached."""
    target = pending_path(lake_dir, source, file_name, step)
    _store(lake_dir).make_parent(target)
    attach(con, lake_dir)
    return target


# zstd's fastest level: a 250,000-row chunk of orders wrote in 0.12 s against 0.18 s at Polars'
# default level (3), for 2 % more bytes, and DuckDB reads it back as fast.
LAKE_ZSTD_LEVEL = 1


def write_pending(lake_dir: LakeRoot, source: str, file_name: str, rows: pl.DataFrame, step: str = "") -> str:
    target = pending_path(lake_dir, source, file_name, step)
    _store(lake_dir).write(target, rows)
    return target


def parquet_schema(path: str) -> dict[str, pl.DataType]:
    """The columns and types in a lake file's footer."""
    return _store(path).schema(path)


def promote(lake_dir: LakeRoot, source: str, file_name: str, step: str = "") -> str:
    """A pending file into the lake, in place of the file of the same raw name if there is one:
    locally one atomic rename; on an object store a copy (atomic for its readers) and then a delete
    of the pending file, which a crash between the two leaves behind for the next run to clear."""
    target = lake_path(lake_dir, source, file_name)
    _store(lake_dir).replace(pending_path(lake_dir, source, file_name, step), target)
    return target


def clear_pending(lake_dir: LakeRoot, source: str, step: str = "") -> None:
    """Drop what a run left pending (`step`'s folder only, when given): held-back files, or
    everything when a run crashed mid-way."""
    _store(lake_dir).remove_folder(_join(lake_dir, source, PENDING, *_step(step)))


def _join(root: LakeRoot, *parts: str) -> str:
    """A lake path: for a local root the string `Path(root, *parts)` gives."""
    return "/".join((str(root).rstrip("/"), *parts))


def _store(location: LakeRoot) -> _Folder | _ObjectStore:
    return _object_store(str(location).split("://", 1)[0]) if is_url(location) else _FOLDER


class _Folder:
    """A local folder, through `os` as the lake always was. fsspec's local filesystem makes the same
    calls, but would cost its import (57 ms), version files by float seconds and have Polars write
    through a Python file object rather than by path."""

    def names(self, folder: str) -> list[str]:
        try:
            with os.scandir(folder) as entries:
                return [e.name for e in entries if e.name.endswith(".parquet") and e.is_file()]
        except (FileNotFoundError, NotADirectoryError):
            return []

    def versions(self, folder: str) -> dict[str, str]:
        versions = {}
        for name in self.names(folder):
            stat = os.stat(f"{folder}/{name}")
            versions[name] = f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}"  # a reload is a new file
        return versions

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def make_parent(self, path: str) -> None:
        os.makedirs(os.path.dirname(path), exist_ok=True)

    def write(self, path: str, rows: pl.DataFrame) -> None:
        self.make_parent(path)
        rows.write_parquet(path, compression="zstd", compression_level=LAKE_ZSTD_LEVEL)

    def schema(self, path: str) -> dict[str, pl.DataType]:
        import polars as pl

        return dict(pl.read_parquet_schema(path))

    def replace(self, source: str, target: str) -> None:
        os.replace(source, target)

    def remove_folder(self, folder: str) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    def attach(self, con: duckdb.DuckDBPyConnection) -> None:
        pass

    def list_ahead(self, folder: str) -> None:
        pass


_FOLDER = _Folder()


@functools.cache
def _object_store(protocol: str) -> _ObjectStore:
    """One filesystem per protocol and process; it takes its endpoint and credentials from the
    standard environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ... for s3: docs/lake.md)."""
    import fsspec

    return _ObjectStore(fsspec.filesystem(protocol))


class _ObjectStore:
    """A prefix on an object store, through its fsspec filesystem (s3fs for s3://). There are no
    folders there: a file's key holds its whole path, and a listing of a prefix finds it.

    Every listing here is taken afresh (another process may have written since) and kept: DuckDB
    asks the filesystem about each file it opens, 18 HEAD requests a file, which the kept listing
    answers: a read of the sample's 552 orders files from a local S3 took 50-60 s, 14 s with it."""

    def __init__(self, fs) -> None:
        self.fs = fs

    def names(self, folder: str) -> list[str]:
        return list(self.versions(folder))

    def versions(self, folder: str) -> dict[str, str]:
        """From one listing. The ETag is the object's checksum (or, for some uploads, a token of
        that write): an object written with other bytes has another one."""
        return {
            e["name"].rsplit("/", 1)[-1]: f"{e['size']}:{e.get('ETag') or e.get('mtime')}"
            for e in self.list_ahead(folder)
            if e["type"] == "file" and e["name"].endswith(".parquet")
        }

    def list_ahead(self, folder: str) -> list[dict]:
        """The folder's entries, listed afresh and kept for the questions about its files to come."""
        try:
            return self.fs.ls(folder, detail=True, refresh=True)
        except FileNotFoundError:
            return []

    def exists(self, path: str) -> bool:
        try:
            self.fs.info(path, refresh=True)
        except FileNotFoundError:
            return False
        return True

    def make_parent(self, path: str) -> None:
        pass

    def write(self, path: str, rows: pl.DataFrame) -> None:
        with self.fs.open(path, "wb") as file:
            rows.write_parquet(file, compression="zstd", compression_level=LAKE_ZSTD_LEVEL)

    def schema(self, path: str) -> dict[str, pl.DataType]:
        import polars as pl

        with self.fs.open(path, "rb") as file:
            return dict(pl.read_parquet_schema(file))

    def replace(self, source: str, target: str) -> None:
        # file to file: `copy` and `rm` would first list both paths as possible folders
        self.fs.cp_file(source, target)
        self.fs.rm_file(source)

    def remove_folder(self, folder: str) -> None:
        try:
            self.fs.rm(folder, recursive=True)
        except FileNotFoundError:
            pass

    def attach(self, con: duckdb.DuckDBPyConnection) -> None:
        if _protocol(self.fs) not in con.list_filesystems():
            con.register_filesystem(self.fs)


def _protocol(fs) -> str:
    """The name DuckDB lists a registered fsspec filesystem by: its first protocol."""
    return fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
