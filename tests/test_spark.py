"""Engine `spark`: the Spark SQL of sql/spark/ is the translation of the DuckDB SQL (never a second
copy), every staging table and mart has it, and Spark's marts equal DuckDB's value for value on the
shipped sample and on the hand-made fixtures.

The Spark runs need pyspark (`make test` installs the `spark` extra) and Java 17+; they skip saying
which is missing. They share one Spark session (one JVM) per test process."""

from __future__ import annotations

import importlib.util
import math
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlglot

from assets.lib import spark_sql
from assets.lib.spark_engine import spark_statements
from assets.lib.spark_plan import SPARK_DIR, SPARK_FILES, mart_steps, staging_steps
from assets.lib.tables import MARTS, TABLES
from conftest import FIXTURES, Deployment

PROJECT = Path(__file__).resolve().parents[1]
# What the tests ask of Spark: two cores, and a JVM that compiles less (the tests' queries run once
# each; Spark's planning and code generation, not the data, is most of their time).
TEST_SPARK = dict(
    engine="spark", spark_master="local[2]",
    spark_conf="spark.sql.shuffle.partitions=2 spark.sql.adaptive.enabled=false "
    "spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1",
)


def spark_or_skip() -> None:
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed: `pip install 'taobao-ops[spark]'` (make test installs it)")
    java = shutil.which("java")
    if java is None:
        pytest.skip("no `java` on PATH: the Spark engine needs Java 17 or later")
    version = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    if not any(f'version "{v}' in version for v in range(17, 30)):
        pytest.skip(f"the Spark engine needs Java 17 or later, found: {version.splitlines()[0]}")


# --- the translation -----------------------------------------------------------------------------


def test_every_staging_table_and_mart_has_a_spark_form():
    for name in MARTS:
        actions = [(a, r) for step in mart_steps(name) for a, r, _ in spark_statements(step)]
        assert ("view", "mart_rows") in actions, f"marts.{name} has no Spark form"
    for name in TABLES:
        written = {r for step in staging_steps(name) for a, r, _ in spark_statements(step) if a != "view"}
        prefix = TABLES[name].key_prefix
        assert f"{prefix}__{name}" in written, f"{prefix}.{name} has no Spark form"


def test_a_mart_without_its_spark_file_is_named(monkeypatch, tmp_path):
    monkeypatch.setattr("assets.lib.spark_engine.SPARK_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"no Spark form of sql/marts/quarterly_funnel.sql; run `make lineage`"):
        spark_statements("marts/quarterly_funnel")


def test_the_spark_sql_is_the_translation_of_the_duckdb_sql():
    stale = [name for name in SPARK_FILES if (SPARK_DIR / f"{name}.sql").read_text(encoding="utf-8") != spark_sql.generated(name)]
    assert not stale, f"sql/spark/ is stale for {stale}: run `make lineage`"
    committed = {str(p.relative_to(SPARK_DIR).with_suffix("")) for p in SPARK_DIR.rglob("*.sql")}
    assert committed == set(SPARK_FILES), "sql/spark/ holds a file no table is built by: run `make lineage`"


def _spark(duckdb_sql: str) -> str:
    tree = spark_sql._expand_macros(sqlglot.parse_one(duckdb_sql, read="duckdb"))
    for rule in spark_sql.RULES:
        tree = tree.transform(rule)
    return tree.sql(dialect="spark")


def test_a_macro_is_its_definition_with_the_arguments_in_place():
    assert _spark("select safe_div(a, b + 1) from t") == (
        "SELECT (CASE WHEN (b + 1) IS NULL OR (b + 1) = 0 THEN NULL "
        "ELSE CAST((a) AS DOUBLE) / CAST((b + 1) AS DOUBLE) END) FROM t"
    )


def test_duckdb_words_spark_lacks_become_ones_with_the_same_meaning():
    # a 128-bit shift: the same product in 38 digits
    assert _spark("select (x::hugeint << 64) + y from t") == "SELECT (CAST(x AS DECIMAL(38, 0)) * 18446744073709551616) + y FROM t"
    # the bits of the days set, counted: the distinct days
    assert _spark("select bit_count(bit_or(1::hugeint << d) filter (where b > 0)) from t") == (
        "SELECT COUNT(DISTINCT d) FILTER(WHERE b > 0) FROM t"
    )
    # (null, 'a') and ('a', null) hash apart, as in DuckDB
    assert _spark("select hash(a, b) from t") == "SELECT XXHASH64(a, a IS NULL, b, b IS NULL) FROM t"
    # seconds between two times, to the microsecond
    assert _spark("select epoch(b - a) from t") == (
        "SELECT CAST((UNIX_MICROS(CAST(b AS TIMESTAMP)) - UNIX_MICROS(CAST(a AS TIMESTAMP))) AS DOUBLE) / 1000000 FROM t"
    )
    assert _spark("select row_number() over () from t") == "SELECT ROW_NUMBER() OVER (ORDER BY MONOTONICALLY_INCREASING_ID() NULLS LAST) FROM t"
    assert _spark("select unnest(generate_series(a, b, interval 1 day))::date as d from t") == (
        "SELECT EXPLODE(CAST(SEQUENCE(a, b, INTERVAL '1' DAY) AS ARRAY<DATE>)) AS d FROM t"
    )


def test_exclude_names_the_other_columns_of_a_lake():
    assert _spark("select t.* exclude (shop_id, line) from lake_targets as t") == (
        "SELECT t.month, t.target_gmv, t.batch_date, t.file_name FROM lake_targets AS t"
    )


def test_union_by_name_of_columns_in_another_order_is_refused():
    with pytest.raises(ValueError, match="UNION BY NAME of columns in another order"):
        _spark("select 1 as a, 2 as b union all by name select 2 as b, 1 as a")


# --- Spark's marts against DuckDB's ----------------------------------------------------------------


def _marts(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {name: con.execute(f"select * from marts.{name} order by all").fetchall() for name in MARTS}  # noqa: S608


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b and type(a) is type(b)


def assert_same_marts(duckdb_warehouse: Path, spark_warehouse: Path) -> int:
    """Every mart the same rows, value for value (money exact: Decimal against Decimal); the rows compared."""
    expected, actual = _marts(duckdb_warehouse), _marts(spark_warehouse)
    compared = 0
    for name in MARTS:
        assert len(actual[name]) == len(expected[name]), f"marts.{name}: {len(actual[name])} rows, DuckDB {len(expected[name])}"
        for want, got in zip(expected[name], actual[name]):
            assert all(_same(w, g) for w, g in zip(want, got)), f"marts.{name}: Spark {got} against DuckDB {want}"
        compared += len(expected[name])
    return compared


def _run_both(tmp_path: Path, raw: Path) -> tuple[Deployment, Deployment]:
    both = []
    for engine in ("duckdb", "spark"):
        deployment = Deployment(tmp_path / engine)
        shutil.copytree(raw, deployment.raw)
        result = deployment.run(**(TEST_SPARK if engine == "spark" else {}))
        assert result.success, f"the {engine} run failed"
        both.append(deployment)
    return both[0], both[1]


@pytest.mark.slow
def test_spark_marts_equal_duckdbs_on_the_golden_fixture_and_duckdb_takes_over_again(tmp_path):
    """Then back on duckdb: Spark left views of its Parquet in the working database and DuckDB's
    build records forgotten, and the next DuckDB run builds its own tables, equal to those of a
    deployment that never left DuckDB."""
    spark_or_skip()
    golden = FIXTURES / "marts"
    with_duckdb, with_spark = _run_both(tmp_path, golden)
    assert assert_same_marts(with_duckdb.warehouse, with_spark.warehouse) > 0
    first = sorted((golden / "orders").iterdir())[0]
    for deployment in (with_duckdb, with_spark):
        deployment.drop(f"orders/{first.name.replace('2024', '2025')}", first.read_bytes())
        assert deployment.run().success
    with duckdb.connect(str(with_spark.state / "pipeline.duckdb"), read_only=True) as con:
        assert con.execute("select view_name from duckdb_views() where schema_name = 'staging'").fetchall() == []
    assert assert_same_marts(with_duckdb.warehouse, with_spark.warehouse) > 0


@pytest.mark.slow
def test_spark_marts_equal_duckdbs_on_the_shipped_sample(tmp_path):
    spark_or_skip()
    with_duckdb, with_spark = _run_both(tmp_path, PROJECT / "data" / "raw")
    assert assert_same_marts(with_duckdb.warehouse, with_spark.warehouse) > 300
    # the staging tables Spark built are what the working database reads, and they are published
    with duckdb.connect(str(with_spark.warehouse), read_only=True) as con:
        paid = con.execute("select count(*), sum(paid_amount) from staging.paid_orders").fetchone()
    with duckdb.connect(str(with_duckdb.warehouse), read_only=True) as con:
        assert paid == con.execute("select count(*), sum(paid_amount) from staging.paid_orders").fetchone()
    assert isinstance(paid[1], Decimal)
