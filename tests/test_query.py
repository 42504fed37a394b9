"""`taobao-ops query`: SQL on the published file, read-only, in four formats; the marts listed
without SQL; and an error that says what went wrong for a write, bad SQL, an unknown table or a
missing file."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelines.cli import main

PROJECT = Path(__file__).resolve().parents[1]
SQL = "select quarter, shop_id, gmv, target_completion from marts.quarterly_shop_kpis order by all"


def query(warehouse: Path, *arguments: str):
    return CliRunner().invoke(main, ["query", "--warehouse", str(warehouse), *arguments])


def make_query(deployment, sql: str) -> subprocess.CompletedProcess:
    """`make query Q=<sql> FORMAT=csv` on the deployment's published file; it must succeed."""
    result = subprocess.run(
        ["make", "-s", "query", f"Q={sql}", "FORMAT=csv"], cwd=PROJECT, capture_output=True, text=True, timeout=120,
        env=deployment.environment(),
    )
    assert result.returncode == 0, result.stderr
    return result


def test_the_rows_in_each_format(tiny_published):
    expected = tiny_published.query(SQL)
    assert len(expected) >= 3
    as_csv = query(tiny_published.warehouse, "--format", "csv", SQL)
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.reader(io.StringIO(as_csv.output)))
    assert rows[0] == ["quarter", "shop_id", "gmv", "target_completion"]
    assert rows[1:] == [[q, s, str(g), "" if c is None else str(c)] for q, s, g, c in expected]

    as_json = json.loads(query(tiny_published.warehouse, "--format", "json", SQL).output)
    assert [(r["quarter"], r["shop_id"], Decimal(str(r["gmv"])), r["target_completion"]) for r in as_json] == expected
    assert all(isinstance(r["gmv"], float) for r in as_json)  # money stays a number for scripts

    markdown = query(tiny_published.warehouse, "--format", "markdown", SQL).output.splitlines()
    assert markdown[:2] == ["| quarter | shop_id | gmv | target_completion |", "|---|---|---|---|"]
    assert len(markdown) == 2 + len(expected)

    table = query(tiny_published.warehouse, SQL)
    assert table.exit_code == 0 and f"{len(expected)} rows" in table.output
    assert str(expected[0][2]) in table.output


def test_without_sql_the_marts_with_their_descriptions(tiny_published):
    listed = query(tiny_published.warehouse, "--format", "csv")
    assert listed.exit_code == 0, listed.output
    rows = {r[0]: r[1:] for r in list(csv.reader(io.StringIO(listed.output)))[1:]}
    marts = {f"marts.{t}" for (t,) in tiny_published.query(
        "select table_name from duckdb_tables() where schema_name = 'marts'")}
    assert set(rows) == marts and len(marts) == 9
    zh, en, count = rows["marts.quarterly_shop_kpis"]
    assert zh == "季度店铺指标" and en.startswith("One row per (quarter, shop_id)")
    assert int(count) == tiny_published.query("select count(*) from marts.quarterly_shop_kpis")[0][0]


@pytest.mark.parametrize("sql, message", [
    ("delete from marts.quarterly_shop_kpis", "is read-only here: the pipeline writes it, a query only reads it"),
    ("create table marts.mine as select 1", "is read-only here"),
    ("selec 1", "the SQL does not parse: Parser Error: syntax error at or near \"selec\""),
    ("select * from marts.nope", "Table with name nope does not exist"),
])
def test_a_write_bad_sql_or_an_unknown_table_is_said(tiny_published, sql, message):
    before = tiny_published.query("select count(*) from marts.quarterly_shop_kpis")
    result = query(tiny_published.warehouse, sql)
    assert result.exit_code == 1
    assert message in result.output
    assert tiny_published.query("select count(*) from marts.quarterly_shop_kpis") == before


def test_a_missing_file_is_said(tmp_path):
    result = query(tmp_path / "none.duckdb", "select 1")
    assert result.exit_code == 1
    assert f"{tmp_path / 'none.duckdb'} does not exist: run the pipeline first (taobao-ops run)" in result.output


def test_make_query_passes_the_sql_as_typed(tiny_published):
    """`make query Q="…"`: quotes inside the SQL reach DuckDB unchanged."""
    sql = "select shop_id, 'it''s \"quoted\"' as said from marts.quarterly_shop_kpis where quarter = '2024Q3' order by 1"
    result = make_query(tiny_published, sql)
    assert result.stdout.splitlines() == ["shop_id,said", 'A,"it\'s ""quoted"""', 'B,"it\'s ""quoted"""']


def test_nested_values_nan_and_maps_keyed_by_dates_are_json(tiny_published):
    sql = ("select map([date '2024-01-01'], [1]) as m, 1 / 0 as i, [1.50::decimal(4, 2), null] as l, "
           "{'a': date '2024-01-02'} as s")
    as_json = query(tiny_published.warehouse, "--format", "json", sql)
    assert as_json.exit_code == 0, as_json.output  # a date-keyed map was a traceback
    assert json.loads(as_json.output) == [{"m": {"2024-01-01": 1}, "i": None, "l": [1.5, None], "s": {"a": "2024-01-02"}}]
    as_csv = query(tiny_published.warehouse, "--format", "csv", sql)
    assert list(csv.reader(io.StringIO(as_csv.output)))[1] == ['{"2024-01-01": 1}', "inf", "[1.5, null]", '{"a": "2024-01-02"}']


def test_make_query_keeps_dollars_and_a_leading_comment(tiny_published):
    result = make_query(tiny_published, "-- the shops\nselect $$x$$ as b, '$1' as c")
    assert result.stdout.splitlines() == ["b,c", "x,$1"]
