"""The shared SQL definitions of quarters and rates (sql/setup/create_macros.sql)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from assets.lib.sql import run_script


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    run_script(con, "setup/create_macros")
    run_script(con, "setup/create_metrics")
    yield con
    con.close()


@pytest.mark.parametrize(
    "day, start_month, start, label",
    [
        ("2024-07-01", 1, dt.date(2024, 7, 1), "2024Q3"),
        ("2024-09-30", 1, dt.date(2024, 7, 1), "2024Q3"),
        ("2024-12-31", 1, dt.date(2024, 10, 1), "2024Q4"),
        ("2024-04-01", 4, dt.date(2024, 4, 1), "FY2025Q1"),
        ("2024-03-31", 4, dt.date(2024, 1, 1), "FY2024Q4"),
        ("2025-01-15", 4, dt.date(2025, 1, 1), "FY2025Q4"),
        ("2024-12-31", 4, dt.date(2024, 10, 1), "FY2025Q3"),
        ("2024-02-01", 2, dt.date(2024, 2, 1), "FY2025Q1"),
        ("2024-01-31", 2, dt.date(2023, 11, 1), "FY2024Q4"),
    ],
)
def test_quarter_start_and_label(con, day, start_month, start, label):
    got = con.execute(
        "select quarter_start($d::date, $m), quarter_label(quarter_start($d::date, $m), $m)",
        {"d": day, "m": start_month},
    ).fetchone()
    assert got == (start, label)


def _first_day_of_quarter(day: dt.date, start_month: int) -> dt.date:
    """The quarter's first day by counting back: months since the fiscal year began, mod 3."""
    back = (day.month - start_month) % 3
    month, year = day.month - back, day.year
    if month < 1:
        month, year = month + 12, year - 1
    return dt.date(year, month, 1)


@pytest.mark.parametrize("start_month", range(1, 13))
def test_quarter_start_of_every_day_and_time_for_every_fiscal_start(con, start_month):
    days = [dt.date(1990, 1, 1) + dt.timedelta(days=n) for n in range((dt.date(2060, 12, 31) - dt.date(1990, 1, 1)).days + 1)]
    got = con.execute(
        "select d, quarter_start(d, $m), quarter_start(d + interval 23 hour + interval 59 minute, $m) "
        "from unnest($days::date[]) as t(d) order by d",
        {"days": days, "m": start_month},
    ).fetchall()
    assert len(got) == len(days)
    wrong = [(d, a, b) for d, a, b in got if a != _first_day_of_quarter(d, start_month) or b != a]
    assert wrong == []
    assert con.execute("select quarter_start(null::date, $m)", {"m": start_month}).fetchone() == (None,)


def test_a_rate_over_zero_or_null_is_null(con):
    assert con.execute("select safe_div(1, 0), safe_div(1, null), safe_div(0, 5), safe_div(1, 4)").fetchone() == (
        None, None, 0.0, 0.25,
    )


def test_hash_grouped_marts_stop_rather_than_merge_two_groups(con):
    # the region and channel states group by a hash of their text columns; fewer hash groups than
    # groups means two shared a hash, and their counts would have been added together
    assert con.execute("select hash_groups_apart(280, 280)").fetchone() == (True,)
    with pytest.raises(duckdb.Error, match=r"share a 64-bit hash \(279 hashes for 280 groups\)"):
        con.execute("select hash_groups_apart(279, 280)").fetchone()


@pytest.mark.parametrize("state", ["region_quarters", "channel_quarters"])
def test_the_hash_grouped_states_check_their_groups(state):
    from assets.lib.sql import sql_text

    assert "hash_groups_apart(" in sql_text(f"staging/{state}")


def test_a_distinct_count_moves_only_when_a_thing_appears_or_goes(con):
    # (rows now, rows added less removed) -> move of the count
    cases = {(1, 1): 1, (None, -1): -1, (0, -2): -1, (2, 1): 0, (1, -1): 0, (3, 3): 1, (None, 1): 0}
    for (now, delta), move in cases.items():
        assert con.execute("select distinct_move(?, ?)", [now, delta]).fetchone() == (move,), (now, delta)


def test_a_script_runs_every_statement_in_order_and_stops_at_the_first_that_fails(tmp_path, monkeypatch):
    # DuckDB's parser splits the script: a semicolon and line feed inside a string literal or a
    # comment ends no statement; after the failing third statement the second's row stays (each
    # statement runs on its own) and the fourth never runs.
    from assets.lib import sql

    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "script.sql").write_text(
        "-- a comment;\n-- and its second line\ncreate table a as select 'x;\ny' as v;\n"
        "insert into a values ('z');\n"
        "insert into missing values (1);\n"
        "create table b (v int);\n-- trailing comment\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(sql, "SQL_DIR", tmp_path)
    sql.sql_text.cache_clear()
    try:
        with duckdb.connect() as db:
            with pytest.raises(duckdb.CatalogException, match="missing"):
                sql.run_script(db, "t/script")
            assert db.execute("select v from a order by v").fetchall() == [("x;\ny",), ("z",)]
            assert db.execute("select count(*) from duckdb_tables() where table_name = 'b'").fetchone() == (0,)
    finally:
        sql.sql_text.cache_clear()
