"""One definition per metric: every rate and derived number of the marts, the report and the checks
comes from a macro of sql/setup/create_metrics.sql, the one the glossary names, and the report's
all-shops numbers (a buyer of two shops is one buyer) are the hand-computed ones."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assets.lib.formats import show
from assets.lib.glossary import COLUMNS, TABLE_COLUMNS, column_of
from assets.lib.report import write_report
from assets.lib.sql import sql_text
from conftest import Deployment

SQL = Path(__file__).resolve().parents[1] / "sql"
# Where the published numbers are computed. Staging spreads and joins rows (a courier period's
# parcels over its days) but computes no metric; setup holds the definitions themselves.
COMPUTING = ("marts", "report", "checks")
MACRO_CALL = re.compile(r"\b((?:metric|rate)_\w+)\s*\(")
DEFINED = set(re.findall(r"create or replace macro (\w+)\(", sql_text("setup/create_metrics")))


def _files(*folders: str) -> list[str]:
    return sorted(f"{folder}/{path.stem}" for folder in folders for path in (SQL / folder).glob("*.sql"))


def _code(name: str) -> str:
    """The SQL of sql/<name>.sql without its comments."""
    return re.sub(r"--[^\n]*", "", sql_text(name))


def _items(code: str):
    """(alias, expression) of every `expression as alias` in a statement: the expression runs back
    from `as` to the comma, `select` or `(` that opens it at the same depth of parentheses."""
    for match in re.finditer(r"\bas\s+(\w+)", code):
        depth, start = 0, match.start()
        while start > 0:
            char = code[start - 1]
            if char == ")":
                depth += 1
            elif char == "(":
                if depth == 0:
                    break
                depth -= 1
            elif char == "," and depth == 0:
                break
            elif depth == 0 and re.search(r"\bselect\s*$", code[max(0, start - 7):start], re.IGNORECASE):
                break
            start -= 1
        yield match.group(1), code[start:match.start()]


def _table_of(name: str) -> str | None:
    """The table whose glossary entries define the columns of sql/<name>.sql: a mart's own table, or
    the one table with columns of its own (glossary TABLE_COLUMNS) that a report query reads; None
    where the shared entries do (COLUMNS)."""
    folder, stem = name.split("/")
    if folder == "marts":
        return f"marts.{stem}"
    read = [table for table in TABLE_COLUMNS if re.search(rf"\bfrom\s+{re.escape(table)}\b", _code(name))]
    return read[0] if folder == "report" and len(read) == 1 else None


def _defined_by(column: str, table: str | None) -> str | None:
    defined = column_of(table, column)
    return defined.defined_by if defined else None


def _may_define(column: str, macro: str, table: str | None = None) -> bool:
    """A column's macro (in `table`, where it gives the column its own), or its twin counting the
    same from a state table (metric_state_x)."""
    defined_by = _defined_by(column, table)
    return macro == defined_by or macro == defined_by.replace("metric_", "metric_state_", 1)


# A division: safe_div, or `/` between two operands, however the lines are broken around it.
DIVISION = re.compile(r"\bsafe_div\s*\(|[\w)]\s*/\s*[\w(]")


def divisions(code: str) -> list[str]:
    """Each division in SQL `code` (comments removed; string literals are not looked in), with a
    little of what surrounds it."""
    code = re.sub(r"'(?:[^']|'')*'", "''", code)
    return [" ".join(code[max(0, m.start() - 30):m.end() + 30].split()) for m in DIVISION.finditer(code)]


def test_no_sql_computes_a_rate_outside_the_metric_macros():
    found = [(name, hit) for name in _files(*COMPUTING) for hit in divisions(_code(name))]
    assert found == []


def test_the_scan_finds_a_division_however_it_is_written():
    """The scan above is not blind: the pre-macro all-shops repurchase rate, and a division split
    over lines, are each found."""
    assert len(divisions("select safe_div(count(*) filter (where paid_days >= 2), count(*)) as repurchase_rate")) == 1
    assert len(divisions("select gmv\n    /\n    uv_days as uv_value, sum(a)/sum(b) as c from t")) == 2
    assert divisions("select metric_gmv(paid_amount) as gmv, '2024/07' as month_text from t") == []


def test_every_rate_in_the_glossary_names_a_macro_that_exists():
    for columns in (COLUMNS, *TABLE_COLUMNS.values()):
        for name, column in columns.items():
            if column.shown_as in ("percent", "ratio"):
                assert column.defined_by, f"{name} is a rate but the glossary names no macro for it"
            if column.defined_by:
                assert column.defined_by in DEFINED, f"{name}: {column.defined_by} is not in sql/setup/create_metrics.sql"


def test_a_column_computed_with_macros_uses_the_one_its_glossary_entry_names():
    checked = 0
    for name in _files(*COMPUTING, "staging"):
        table = _table_of(name)
        for alias, expression in _items(_code(name)):
            macros = MACRO_CALL.findall(expression)
            if _defined_by(alias, table) and macros:
                assert any(_may_define(alias, m, table) for m in macros), (name, alias, expression.strip())
                checked += 1
    assert checked >= 40  # the scan sees the marts' and the report's columns


def test_the_item_scanner_reads_nested_and_multi_line_expressions():
    code = "select a, rate_mobile_gmv_share(metric_mobile_gmv(x, y),\n metric_device_known_gmv(x, y))\n as mobile_gmv_share, b as c"
    assert dict(_items(code)) == {
        "mobile_gmv_share": " rate_mobile_gmv_share(metric_mobile_gmv(x, y),\n metric_device_known_gmv(x, y))\n ",
        "c": " b ",
    }


@pytest.mark.slow
def test_every_defined_mart_column_is_computed_by_its_macro(tiny_published):
    """Each column a mart publishes whose glossary entry names a macro is the alias of an expression
    using that macro, in the mart's SQL or in the staging state it reads."""
    marts = [m for (m,) in tiny_published.query(
        "select table_name from duckdb_tables() where schema_name = 'marts' order by 1")]
    assert len(marts) == 9
    computed: dict[str, set[str]] = {}
    for name in _files("marts", "staging"):
        table = _table_of(name)
        for alias, expression in _items(_code(name)):
            if _defined_by(alias, table):
                if any(_may_define(alias, m, table) for m in MACRO_CALL.findall(expression)):
                    computed.setdefault(alias, set()).add(name)
    missing = [
        (mart, column)
        for mart in marts
        for (column,) in tiny_published.query(
            "select column_name from duckdb_columns() where schema_name = 'marts' and table_name = ?", [mart])
        if _defined_by(column, f"marts.{mart}") and column not in computed
    ]
    assert missing == []


def test_the_terminal_and_the_report_show_a_value_alike():
    assert show("repurchase_rate", 1 / 3) == "33.3%"
    assert show("aov", 200 / 3) == "66.67"
    assert show("roi", 3.456) == "3.46"
    assert show("paid_orders", 12345) == "12,345"
    assert show("gmv", None) == "–"
    assert show(None, 7) == "7" and show(None, "orders") == "orders"


# Two shops sharing a buyer, worked out by hand:
# - paid orders A: o1 b1 100.00 mobile 07-01, o4 b3 20.00 mobile 07-04; B: o2 b1 50.00 pc 07-02,
#   o3 b2 30.00 device unknown 07-03. GMV 200.00.
# - buyers of all shops: b1, b2, b3 = 3 (the shops' own counts add up to 4): AOV 200 / 3 = 66.67.
# - repurchase: b1 paid on two days (07-01 at A, 07-02 at B) = 1 of 3 = 33.3% (0% in each shop).
# - mobile share: mobile 100 + 20 = 120 of the device-known 100 + 50 + 20 = 170 = 70.6%.
# - bounce: bounced 20 (A mobile) + 4 (B pc) of the 50 + 30 visits that give a figure = 30.0%;
#   A's pc row (20 visits) gives none and is left out (it would make it 24.0%).
ORDERS = """order_id,shop_id,buyer_id,status,created_at,paid_at,total_amount,paid_amount,refund_amount,is_mobile
o1,A,b1,paid,2024-07-01 09:00,2024-07-01 09:05,100.00,100.00,0,true
o2,B,b1,paid,2024-07-02 10:00,2024-07-02 10:01,50.00,50.00,0,false
o3,B,b2,paid,2024-07-03 11:00,2024-07-03 11:00,30.00,30.00,0,
o4,A,b3,paid,2024-07-04 12:00,2024-07-04 12:30,20.00,20.00,0,true
"""
TRAFFIC = """date,shop_id,channel,device,pv,uv,visits,bounced_visits,bounce_rate,ad_spend
2024-07-01,A,手淘搜索,mobile,100,40,50,20,,0
2024-07-01,A,手淘搜索,pc,30,15,20,,,0
2024-07-02,B,手淘搜索,pc,60,25,30,4,,0
"""
# One courier in two regions on one day; the south gives late and returned parcels but no delivered,
# so they count in neither rate (the rates are over the rows that give delivered): late 5 / 50 =
# 10.0%, returned 2 / 50 = 4.0%. Summing every region's late parcels gave 9 / 50 = 18.0% and 6.0%.
COURIER = """period_start,period_end,courier,region,collected,delivered,returned,late,complaints
2024-07-01,2024-07-01,ZTO,华东,100,50,2,5,0
2024-07-01,2024-07-01,ZTO,华南,40,,1,4,0
"""


@pytest.fixture(scope="module")
def two_shops(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("two-shops"))
    deployment.drop("orders/orders_2024-07-05.csv", ORDERS)
    deployment.drop("traffic/traffic_2024-07-05.csv", TRAFFIC)
    deployment.drop("courier/zto_2024-07-01.csv", COURIER)
    assert deployment.run().success
    out = deployment.root / "reports"
    write_report(deployment.warehouse, "2024Q3", out)
    return deployment, (out / "2024Q3" / "report.md").read_text(encoding="utf-8")


def _table(markdown: str, heading: str) -> list[list[str]]:
    section = markdown.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines() if line.startswith("|")][2:]


@pytest.mark.slow
def test_the_all_shops_headline_counts_a_shared_buyer_once(two_shops):
    deployment, markdown = two_shops
    rows = {cells[0]: cells[1] for cells in _table(markdown, "核心指标 Headline")}
    assert {k: rows[k] for k in (
        "支付金额 GMV", "支付买家数 Paid buyers", "客单价 Average order value per buyer", "复购率 Repurchase rate",
        "无线支付占比 Mobile share of GMV", "跳失率 Bounce rate",
    )} == {
        "支付金额 GMV": "200.00",
        "支付买家数 Paid buyers": "3",
        "客单价 Average order value per buyer": "66.67",
        "复购率 Repurchase rate": "33.3%",
        "无线支付占比 Mobile share of GMV": "70.6%",
        "跳失率 Bounce rate": "30.0%",
    }
    # each shop on its own: no repeat buyer, two buyers each
    assert deployment.query(
        "select shop_id, paid_buyers, repeat_buyers from marts.quarterly_shop_kpis where quarter = '2024Q3' order by 1"
    ) == [("A", 2, 0), ("B", 2, 0)]


@pytest.mark.slow
def test_the_report_courier_rates_are_the_marts_definition(two_shops):
    deployment, markdown = two_shops
    (zto,) = _table(markdown, "快递 Courier volume and service")
    assert zto[:7] == ["ZTO", "140", "100.0%", "2024-07-01", "140", "10.0%", "4.0%"]
    assert deployment.query(
        "select region, late, late_rate, return_rate from marts.quarterly_courier_kpis order by region"
    ) == [("华东", 5, 0.1, 0.04), ("华南", 4, None, None)]
