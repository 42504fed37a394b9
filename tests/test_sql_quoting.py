"""Names spliced into SQL text are quoted by construction (sql.identifier / sql.string_literal), so a
table or column name with a quote in it is a name, never SQL."""

from __future__ import annotations

import duckdb

from assets.lib import restatements
from assets.lib.sql import identifier, string_literal
from pipelines.summary import mart_sizes


def test_identifier_and_literal_double_their_quotes():
    assert identifier('a"b') == '"a""b"'
    assert string_literal("it's") == "'it''s'"
    with duckdb.connect() as con:
        assert con.execute(f"select {string_literal(chr(39) + '; drop table x; --')}").fetchone()[0] == "'; drop table x; --"


def test_mart_sizes_counts_a_mart_whose_name_has_a_quote(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute('create schema marts; create table marts."odd""name" as select 1 as x union all select 2')
    assert mart_sizes(path) == 'Published marts: odd"name 2'


def test_a_changed_column_with_a_quote_in_its_name_is_reported_by_name():
    with duckdb.connect() as con:
        con.execute("create schema marts")
        con.execute("""create table marts.m as select '2024Q3' as quarter, 'A' as shop_id, 1 as "it's" """)
        assert restatements.keep_previous(con, "m")
        con.execute("""update marts.m set "it's" = 2""")
        changed = restatements.changed_quarters(con, "m", ("quarter", "shop_id"), "quarter", "2024Q4", 1)
    assert changed == [("2024Q3", "changed: it's")]
