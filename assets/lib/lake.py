"""The lake: one Parquet file per raw file, so a re-dropped file replaces exactly what it gave."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import polars as pl


def lake_path(lake_dir: Path, source: str, file_name: str) -> Path:
    """A readable name, plus a hash of the exact raw name so two raw files never share a lake file."""
    safe = re.sub(r"[^\w.\-]+", "_", file_name.replace("/", "__"))
    digest = hashlib.sha1(file_name.encode("utf-8")).hexdigest()[:10]
    return lake_dir / source / f"{safe}.{digest}.parquet"


def write_batch(lake_dir: Path, source: str, file_name: str, rows: pl.DataFrame) -> Path:
    """Write atomically: a reader sees the old file or the new one, never half of one."""
    target = lake_path(lake_dir, source, file_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".parquet.tmp")
    rows.write_parquet(tmp)
    os.replace(tmp, target)
    return target


def batch_files(lake_dir: Path, source: str) -> list[str]:
    folder = lake_dir / source
    return sorted(str(p) for p in folder.glob("*.parquet")) if folder.is_dir() else []


def register_lake(con, lake_dir: Path, source: str) -> None:
    """Expose every batch of a source to SQL as the view `lake_<source>` (typed even when empty)."""
    from .parse import empty_rows

    files = batch_files(lake_dir, source)
    relation = con.read_parquet(files, union_by_name=True) if files else empty_rows(source)
    con.register(f"lake_{source}", relation)
