"""What the published file reflects, so that a run with nothing new can leave it as it is.

Publishing records, beside the working database, the version of the code and settings it ran with,
the load history's marker (`sql/audit/loads_marker.sql`) and the file it wrote. The published file
is current while all three still hold and every raw file is loaded: a run then has nothing to do.
A run that loaded anything and did not publish (a failed check) moves the marker, so the next run
does the whole refresh again.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import duckdb

from .sql import fetch_sql, table_exists

RECORD = "published.json"
PROJECT = Path(__file__).resolve().parents[2]
# What decides the content of the marts besides the data: the code and its SQL.
CODE = ("assets", "pipelines", "sql")


@cache
def code_version() -> str:
    digest = hashlib.sha256()
    for folder in CODE:
        for path in sorted((PROJECT / folder).rglob("*")):
            if path.suffix in (".py", ".sql", ".csv") and path.is_file():
                digest.update(str(path.relative_to(PROJECT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def deployment_version(settings) -> str:
    """The code and every setting that changes what a run publishes (the PII key through the
    parse fingerprint, an HMAC of it), and the engine: the tables one engine left are not the other's
    (Spark's staging is views of its Parquet), so a run after a switch builds every table; and the
    storage format, so that a run after it changed converts the working database and publishes
    (lib/storage.py), even with nothing new."""
    parts = [
        code_version(), settings.parse_options().fingerprint, repr(sorted(settings.sql_params().items())),
        str(settings.raw), str(settings.warehouse), settings.engine, settings.warehouse_storage_version,
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def loads_marker(con: duckdb.DuckDBPyConnection) -> str:
    if not table_exists(con, "audit", "loads"):
        return ""
    return fetch_sql(con, "audit/loads_marker")[0][0]


def _file_version(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


@dataclass(frozen=True)
class Publication:
    run_id: str
    version: str
    loads: str
    warehouse: list[int] | None


def record(settings, con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Called once the warehouse is in place."""
    entry = Publication(run_id, deployment_version(settings), loads_marker(con), _file_version(settings.warehouse))
    target = Path(settings.state_dir) / RECORD
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(vars(entry)), encoding="utf-8")
    os.replace(tmp, target)


def last(settings, con: duckdb.DuckDBPyConnection) -> Publication | None:
    """The last publication, when the warehouse still holds everything the working database does
    (same code, settings and load history, the file untouched since); else None."""
    try:
        entry = Publication(**json.loads((Path(settings.state_dir) / RECORD).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    if (
        entry.version != deployment_version(settings)
        or entry.loads != loads_marker(con)
        or entry.warehouse is None
        or entry.warehouse != _file_version(settings.warehouse)
    ):
        return None
    return entry
