"""Which DuckDB storage format the working database, and so the analysts' file, is written in.

The analysts' file is a byte copy of the working database (lib/publish_file.py), so it is
readable by exactly the clients that read the working database's format. DuckDB 2.0 writes its
own format (storage version 69) by default, which no 1.x client opens: the DuckDB shell from the
package registry (`pip install duckdb-cli`, 1.5.6), and the JDBC, R and Node clients of the 1.x
line, refuse it ("can only read versions between 64 and 68"). DuckDB 2.0 still writes older
formats on request, and the setting `warehouse_storage_version` names the one to write:
`v1.5.0` by default (the newest the registry's shell reads), or `latest` for 2.0's own.

A new working database is made in that format (ATTACH … (STORAGE_VERSION …)). One in another
format, made before the setting or under another value of it, is converted once, under the
working database's lock: copied whole into a new file of the format (COPY FROM DATABASE keeps
tables, views, macros and comments), which then replaces it. DuckDB cannot lower the format of a
file in place.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from functools import cache
from pathlib import Path

import duckdb

from .sql import identifier, string_literal

LATEST = "latest"
DEFAULT = "v1.5.0"  # the newest format the registry's duckdb-cli (1.5.6) reads
VERSION = re.compile(r"^v\d+\.\d+\.\d+$")
CONVERTING = "__converting"


def attach_options(storage_version: str) -> str:
    """The ATTACH options that make a new file in `storage_version` (none for DuckDB's own)."""
    return "" if storage_version == LATEST else f" (storage_version {string_literal(storage_version)})"


def file_version(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """The storage version of the database attached as `name`, as DuckDB tags it: 'v1.5.0+'."""
    return con.execute(
        "select tags['storage_version'] from duckdb_databases() where database_name = ?", [name]
    ).fetchone()[0]


@cache
def tag_of(storage_version: str) -> str:
    """How DuckDB tags a file written in `storage_version`: the first release of its format
    (v1.5.6 writes 'v1.5.0+', v1.1.3 'v1.0.0+'), found by making one; ValueError for a version
    this DuckDB cannot write."""
    with tempfile.TemporaryDirectory() as folder:
        con = duckdb.connect()
        try:
            con.execute(f"attach {string_literal(Path(folder) / 'probe.duckdb')} as probe{attach_options(storage_version)}")
            return file_version(con, "probe")
        except duckdb.Error as exc:
            raise ValueError(f"DuckDB {duckdb.__version__} cannot write storage version {storage_version}: {exc}") from None
        finally:
            con.close()


def latest_version() -> str:
    """The storage version DuckDB writes by default (its own, the newest it knows)."""
    return tag_of(LATEST)


def is_in(con: duckdb.DuckDBPyConnection, name: str, storage_version: str) -> bool:
    """The file attached as `name` is in the format `storage_version` writes. A file tagged with the
    version itself (the default's case: v1.5.0 writes 'v1.5.0+') is, without making a probe file."""
    tag = file_version(con, name)
    return tag == f"{storage_version}+" or tag == tag_of(storage_version)


def convert(con: duckdb.DuckDBPyConnection, path: Path, storage_version: str, log) -> None:
    """Replace the database attached (and in use) as `path.stem` by a copy in `storage_version`,
    attached and in use under the same name when it returns."""
    name, started = path.stem, time.perf_counter()
    before = file_version(con, name)
    converted = path.with_name(path.name + ".converting")
    converted.unlink(missing_ok=True)  # what a conversion that died left
    con.execute(f"attach {string_literal(converted)} as {CONVERTING}{attach_options(storage_version)}")
    try:
        con.execute(f"copy from database {identifier(name)} to {CONVERTING}")
    finally:
        con.execute("use memory")
        con.execute(f"detach {CONVERTING}")  # a failed copy: the caller detaches the original (db._attach)
    con.execute(f"detach {identifier(name)}")
    os.replace(converted, path)
    con.execute(f"attach {string_literal(path)} as {identifier(name)}")
    con.execute(f"use {identifier(name)}")
    log.info(
        f"Converted the working database {path} from storage version {before} to {file_version(con, name)} "
        f"(setting warehouse_storage_version = {storage_version}) in {time.perf_counter() - started:.1f}s; "
        "the next publication is in that format"
    )
