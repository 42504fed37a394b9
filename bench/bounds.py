"""What parts of a run cost at the least on this machine, measured without the pipeline: the lower
bounds that the rebuild and daily-run targets are read against (docs/benchmarks.md).

    make bench-bounds            # after `make bench`, on its full deployment
    python bench/bounds.py [--work bench/out] [--repeat N]

It reads the full deployment `make bench` leaves in its work folder: the raw folder (`full/raw`)
and the working database the pipeline built from it (`full/state/pipeline.duckdb`), copied before
use so that nothing here writes to it. Prints one line per bound (the median of N runs) and a Markdown
table. Each bound is a part the issue's design keeps, done with no rule, check or bookkeeping:

- the per-file lake: every orders file read and written as its own Parquet file, by Polars (cells
  as text, as the pipeline reads them) and by DuckDB (typed, as the floor reads them);
- the current version of every order: DuckDB copying the built staging.orders and
  staging.paid_orders into new tables, at the pipeline's DuckDB memory limit (1 GB);
- the distinct counts: the region and channel states' SQL over every paid order (what a rebuild
  counts; a daily run moves them by what changed), and the courier-service mart's SQL for the
  current quarter (a daily run recomputes the quarter it touches), on the built working database;
- fixed costs of a process: importing Dagster and the project's definitions, and GX as the
  pipeline imports it (gx_sql.install first), each a whole `python -c` from start to exit.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import click

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from floor_duckdb import ORDER_COLUMNS, files  # noqa: E402
from run import PIPELINE_DUCKDB_LIMIT, measure  # noqa: E402

from pipelines.settings import VALUE_DEFAULTS  # noqa: E402

# The pipeline's DuckDB configuration: its default memory limit, DuckDB's default threads.
PIPELINE_DUCKDB = {"memory_limit": PIPELINE_DUCKDB_LIMIT}


def lake_polars(raw: Path, out: Path) -> float:
    import polars as pl

    started = time.perf_counter()
    for i, path in enumerate(files(raw / "orders")):
        pl.read_csv(path, infer_schema=False).write_parquet(out / f"{i}.parquet")
    return time.perf_counter() - started


def lake_duckdb(raw: Path, out: Path) -> float:
    import duckdb

    con = duckdb.connect(config={"preserve_insertion_order": False})
    started = time.perf_counter()
    con.execute(
        "copy (select * from read_csv($files, filename = true, header = true, auto_detect = false, "
        "columns = $columns)) to $out (format parquet, partition_by (filename), overwrite_or_ignore)",
        {"files": files(raw / "orders"), "columns": ORDER_COLUMNS, "out": str(out)},
    )
    return time.perf_counter() - started


def copy_table(database: Path, table: str) -> float:
    import duckdb

    con = duckdb.connect(str(database), config=PIPELINE_DUCKDB)
    try:
        started = time.perf_counter()
        con.execute(f"create or replace table bound_copy as select * from {table}")  # noqa: S608 - fixed names
        con.execute("checkpoint")
        seconds = time.perf_counter() - started
        con.execute("drop table bound_copy")
        con.execute("checkpoint")
        return seconds
    finally:
        con.close()


def sql_seconds(database: Path, name: str, current_quarter: bool = False) -> float:
    """The project's SQL file `name` run on the copy: a mart's for the current quarter (its
    build_quarters), a staging state's over every paid order."""
    import duckdb

    from assets.lib.sql import sql_text

    con = duckdb.connect(str(database), config=PIPELINE_DUCKDB)
    try:
        if current_quarter:
            con.execute(
                "create or replace temp table build_quarters as "
                "select distinct quarter_start, quarter from staging.paid_orders "
                "where quarter_start = (select max(quarter_start) from staging.paid_orders)"
            )
        sql = sql_text(name)
        fiscal = int(VALUE_DEFAULTS["TAOBAO_OPS_FISCAL_YEAR_START_MONTH"])  # as `make bench` runs
        params = {"fiscal_start_month": fiscal} if "$fiscal_start_month" in sql else None
        started = time.perf_counter()
        con.execute(sql, params)
        return time.perf_counter() - started
    finally:
        con.close()


def python_seconds(code: str) -> float:
    return measure([sys.executable, "-c", code], cwd=PROJECT).seconds


@click.command()
@click.option("--work", type=click.Path(file_okay=False, path_type=Path), default=PROJECT / "bench" / "out",
              show_default=True, help="The work folder of a finished `make bench`.")
@click.option("--repeat", type=int, default=1, show_default=True, help="Runs per bound (the median is reported).")
def main(work: Path, repeat: int) -> None:
    raw, working_db = work / "full" / "raw", work / "full" / "state" / "pipeline.duckdb"
    if not (raw / "orders").is_dir() or not working_db.is_file():
        raise click.ClickException(f"no full deployment in {work}: run `make bench` first")
    with tempfile.TemporaryDirectory(prefix="bounds-") as tmp:
        database = Path(tmp) / "working.duckdb"
        shutil.copyfile(working_db, database)
        lake = Path(tmp) / "lake"

        def fresh_lake() -> Path:
            shutil.rmtree(lake, ignore_errors=True)
            lake.mkdir()
            return lake

        bounds = {
            "per-file lake, Polars (text cells, no rule)": lambda: lake_polars(raw, fresh_lake()),
            "per-file lake, DuckDB (typed, no rule)": lambda: lake_duckdb(raw, fresh_lake()),
            "staging.orders copied": lambda: copy_table(database, "staging.orders"),
            "staging.paid_orders copied": lambda: copy_table(database, "staging.paid_orders"),
            "region state SQL, every paid order": lambda: sql_seconds(database, "staging/region_quarters"),
            "channel state SQL, every paid order": lambda: sql_seconds(database, "staging/channel_quarters"),
            "courier-service mart SQL, current quarter": lambda: sql_seconds(
                database, "marts/quarterly_courier_service", current_quarter=True
            ),
            "process: Dagster + the definitions": lambda: python_seconds("import pipelines.definitions"),
            "process: GX as the pipeline imports it": lambda: python_seconds(
                "from assets.lib import gx_sql; gx_sql.install(); import great_expectations"
            ),
            "process: Python alone": lambda: python_seconds("pass"),
        }
        rows = []
        for name, bound in bounds.items():
            runs = [bound() for _ in range(repeat)]
            rows.append((name, statistics.median(runs), runs))
            click.echo(f"{statistics.median(runs):8.2f} s  {name}", err=True)
    click.echo("| bound | seconds (median) | runs |\n| --- | ---: | --- |")
    for name, seconds, runs in rows:
        click.echo(f"| {name} | {seconds:.3f} | {', '.join(f'{r:.3f}' for r in runs)} |")


if __name__ == "__main__":
    main()
