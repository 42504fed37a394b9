"""Staging and marts on Apache Spark (TAOBAO_OPS_ENGINE=spark), from the same lake and the same SQL.

Spark runs the statements of sql/spark/ (translated from the DuckDB SQL, assets/lib/spark_sql.py),
each table built whole from the whole lake, and keeps every table it builds as Parquet under its
work folder (`<state>/spark/<schema>/<table>/`), read back as a temporary view named
`<schema>__<table>`. The working DuckDB database then reads those folders: staging as views (the
checks and the publication read them as they would the tables), the marts copied in (they are
small), so audit, checks and publication work as with DuckDB.

pyspark is an optional extra (`pip install 'taobao-ops[spark]'`); it is imported when a Spark build
runs, never by the definitions.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .defaults import default_frames
from .sql import create_parquet_view, fetch_sql, identifier, table_exists
from .incremental import DIGESTED, forget_build, inputs_of
from .lake import LakeRoot, batch_files
from .parse import empty_rows
from .spark_plan import SPARK_DIR, mart_steps, staging_steps

# `-- <action> <relation>` above each statement of a sql/spark file
_DIRECTIVE = re.compile(r"^-- (table|view|insert|table_if_missing) (\w+)\n", re.MULTILINE)
_PARAMETER = re.compile(r":(\w+)")
_sessions: dict[str, object] = {}
_lock = threading.Lock()


def spark_statements(name: str) -> list[tuple[str, str, str]]:
    """(action, relation, query) of sql/spark/<name>.sql."""
    path = SPARK_DIR / f"{name}.sql"
    if not path.exists():
        raise FileNotFoundError(f"{path}: no Spark form of sql/{name}.sql; run `make lineage`")
    return _statements(path)


@cache  # read once a process: each staging step of a DuckDB build asks which tables Spark would write
def _statements(path: Path) -> list[tuple[str, str, str]]:
    parts = _DIRECTIVE.split(path.read_text(encoding="utf-8"))[1:]
    return [(parts[i], parts[i + 1], parts[i + 2].strip().removesuffix(";").strip()) for i in range(0, len(parts), 3)]


def session(master: str, work_dir: Path, conf: str = ""):
    """One SparkSession per process and master: Spark starts in seconds, a run has ~30 steps.
    `conf`: more of Spark's settings, `key=value` separated by spaces (TAOBAO_OPS_SPARK_CONF)."""
    from pyspark.sql import SparkSession

    with _lock:
        if master not in _sessions:
            builder = SparkSession.builder.appName("taobao-ops")
            if master.startswith("sc://"):
                builder = builder.remote(master)
            else:
                builder = (
                    builder.master(master)
                    .config("spark.ui.enabled", "false")
                    .config("spark.ui.showConsoleProgress", "false")
                    .config("spark.sql.warehouse.dir", str(work_dir / "warehouse"))
                )
            builder = builder.config("spark.sql.session.timeZone", "UTC")
            for key, _, value in (item.partition("=") for item in conf.split()):
                builder = builder.config(key, value)
            spark = builder.getOrCreate()
            if not master.startswith("sc://"):
                spark.sparkContext.setLogLevel("ERROR")
            _sessions[master] = spark
        return _sessions[master]


def _hadoop_path(path: str) -> str:
    """A lake file as Spark names it: Hadoop reads S3 through its S3A connector, `s3a://`
    (docs/scale-out.md: the connector's package and settings)."""
    return "s3a://" + path.removeprefix("s3://") if path.startswith("s3://") else path


def spark_build(settings) -> SparkBuild:
    return SparkBuild(settings.spark_master, settings.lake_dir, settings.spark_dir, settings.spark_conf)


@dataclass
class SparkBuild:
    """The Spark side of a run: its session, the lake it reads, the folder its tables go to."""

    master: str
    lake_dir: LakeRoot
    work_dir: Path
    conf: str = ""

    @property
    def spark(self):
        return session(self.master, self.work_dir, self.conf)

    def table_dir(self, relation: str) -> Path:
        schema, _, table = relation.partition("__")
        return self.work_dir / schema / table

    # --- what the statements read -------------------------------------------------------------

    def _view(self, relation: str) -> None:
        """A table an earlier step built (maybe in another process), as its view."""
        self.spark.read.parquet(str(self.table_dir(relation))).createOrReplaceTempView(relation)

    def _lake(self, source: str):
        """A source's lake files, read with the lake's schema: a file written before a column was
        added reads it as null (DuckDB's union by name), and no job merges the files' footers."""
        empty = self.work_dir / "empty" / f"{source}.parquet"
        empty.parent.mkdir(parents=True, exist_ok=True)
        empty_rows(source).write_parquet(empty)
        schema = self.spark.read.parquet(str(empty)).schema
        files = [_hadoop_path(f) for f in batch_files(self.lake_dir, source)] or [str(empty)]
        return self.spark.read.schema(schema).parquet(*files)

    def _register_inputs(self, steps: tuple[str, ...], text: str) -> None:
        from pyspark.sql import functions as F

        for source in set(re.findall(r"\blake_(\w+)\b", text)):
            self._lake(source).createOrReplaceTempView(f"lake_{source}")
        for relation in set(re.findall(r"\b((?:staging|audit|marts)__\w+)\b", text)):
            if self.table_dir(relation).exists():
                self._view(relation)
        if "default_" in text:
            for view, rows in default_frames().items():
                self._frame(view, rows).createOrReplaceTempView(view)
        if "orders_source" in text:
            files = batch_files(self.lake_dir, "orders")
            index = {os.path.basename(f): i for i, f in enumerate(files)}
            orders = self._lake("orders")
            name = F.element_at(F.split(F.col("_metadata.file_path"), "/"), -1)
            mapping = F.create_map(*[x for k, i in index.items() for x in (F.lit(k), F.lit(i).cast("bigint"))]) if index else None
            file_index = mapping[name] if mapping is not None else F.lit(None).cast("bigint")
            orders = orders.select("*", file_index.alias("file_index"), F.col("_metadata.row_index").alias("_row"))
            orders = orders.withColumn("row_id", F.shiftleft(F.col("file_index"), 32).bitwiseOR(F.col("_row"))).drop("_row")
            orders.createOrReplaceTempView("orders_source")
        if "courier_name_source" in text:
            self._lake("orders").select("courier").unionAll(self._lake("courier").select("courier")) \
                .createOrReplaceTempView("courier_name_source")
        if "event_day_source" in text:
            self._lake("events").createOrReplaceTempView("event_day_source")

    def _frame(self, view: str, rows):
        path = self.work_dir / "reference" / f"{view}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        rows.write_parquet(path)
        return self.spark.read.parquet(str(path))

    # --- running them -------------------------------------------------------------------------

    def _write(self, relation: str, frame) -> None:
        target = self.table_dir(relation)
        staged = target.with_name(target.name + ".new")
        shutil.rmtree(staged, ignore_errors=True)
        frame.write.mode("overwrite").parquet(str(staged))
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staged, target)
        self._view(relation)
        self._record_months(relation)

    def run(self, steps: tuple[str, ...], params: dict) -> list[str]:
        """Run these statements; the tables they wrote (`<schema>__<table>`)."""
        written = []
        statements = [s for name in steps for s in spark_statements(name)]
        self._register_inputs(steps, "\n".join(q for _, _, q in statements))
        for action, relation, query in statements:
            bound = {k: v for k, v in params.items() if k in _PARAMETER.findall(query)} or None
            rows = self.spark.sql(query, args=bound)
            if action == "view":
                rows.createOrReplaceTempView(relation)
            elif action == "table":
                self._write(relation, rows)
            elif action == "table_if_missing":
                if not self.table_dir(relation).exists():
                    self._write(relation, rows)
            elif action == "insert":
                before = self.spark.table(relation)
                self._write(relation, before.unionAll(rows.toDF(*before.columns)).localCheckpoint())
            if action != "view":
                written.append(relation)
        return list(dict.fromkeys(written))

    def build_staging(self, name: str, params: dict) -> list[str]:
        """staging.<name> (and the tables built with it) whole; the tables written."""
        if name == "paid_orders":  # its buyers' keys are made afresh with it, as in a rebuild
            shutil.rmtree(self.table_dir("staging__buyers"), ignore_errors=True)
        return self.run(staging_steps(name), params)

    def build_mart(self, name: str, params: dict) -> Path:
        """marts.<name>, every quarter, as Parquet; its folder."""
        steps = mart_steps(name)
        months = self._months_read(steps)
        self.run(steps, {**params, "months": months, "touched_months": months, "reaches_later": False})
        self._write(f"marts__{name}", self.spark.table("mart_rows"))
        return self.table_dir(f"marts__{name}")

    def _months_read(self, steps: tuple[str, ...]) -> list[dt.date]:
        """Every month of the staging tables a mart reads by month (the mart is computed whole)."""
        months: set[str] = set()
        for table in inputs_of(steps).upstream:
            if table in DIGESTED and self._months_file(f"staging__{table}").exists():
                months.update(json.loads(self._months_file(f"staging__{table}").read_text()))
        return [dt.date.fromisoformat(m) for m in sorted(months)]

    def _months_file(self, relation: str) -> Path:
        return self.table_dir(relation).with_suffix(".months.json")

    def _record_months(self, relation: str) -> None:
        """The months of a staging table the marts read by month, kept beside it (one job when the
        table is built, not one per mart reading it)."""
        from pyspark.sql import functions as F

        table = relation.partition("__")[2]
        if relation.startswith("staging__") and table in DIGESTED:
            month = F.trunc(F.col(DIGESTED[table]).cast("date"), "month")
            rows = self.spark.table(relation).select(month).distinct().collect()
            self._months_file(relation).write_text(json.dumps(sorted(str(r[0]) for r in rows if r[0] is not None)))


# --- the working DuckDB database's side ---------------------------------------------------------


def expose(con, build: SparkBuild, relations: list[str], built: str) -> None:
    """Each table Spark wrote as a view of the working database over its Parquet, in place of a
    table of that name an earlier DuckDB build left; what DuckDB recorded of its own build of
    `built` (audit.staging_inputs, as recorded_as names it) forgotten, so that engine `duckdb`
    builds it again."""
    forget_build(con, built)
    for relation in relations:
        schema, _, table = relation.partition("__")
        if table_exists(con, schema, table) and not is_view(con, schema, table):
            con.execute(f"drop table {identifier(schema)}.{identifier(table)}")
        create_parquet_view(con, f"{schema}.{table}", [str(build.table_dir(relation) / "*.parquet")])


def is_view(con, schema: str, table: str) -> bool:
    return bool(fetch_sql(con, "audit/is_view", {"schema": schema, "table": table}))


def tables_built(steps: tuple[str, ...]) -> list[str]:
    """The tables (`<schema>__<table>`) these statements write."""
    return list(dict.fromkeys(r for name in steps for action, r, _ in spark_statements(name) if action != "view"))


def drop_spark_views(con, steps: tuple[str, ...]) -> None:
    """The views a Spark build of these statements' tables left, dropped before DuckDB builds
    the tables again (engine `duckdb` after `spark`)."""
    for relation in tables_built(steps):
        schema, _, table = relation.partition("__")
        if is_view(con, schema, table):
            con.execute(f"drop view {identifier(schema)}.{identifier(table)}")
