"""`taobao-ops export`: the quarter's marts as a workbook, CSV or Parquet files, read back with a
reader library and held to the warehouse's rows, and to hand-worked numbers of tests/fixtures/tiny."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from click.testing import CliRunner

from assets.lib.export import DEFINITIONS, display_width, export_quarter, read_marts
from assets.lib.report import write_report
from assets.lib.tables import MARTS

QUARTER = "2024Q3"
# Each mart's rows of the tiny fixture's 2024Q3, written out here: the months of the quarter by name.
ROWS_OF_QUARTER = "select * from marts.{} where quarter = '2024Q3' order by all"
MONTHS_OF_QUARTER = "select * from marts.monthly_target_tracking where month in ('2024-07', '2024-08', '2024-09') order by all"


def mart_query(name: str) -> str:
    return MONTHS_OF_QUARTER if name == "monthly_target_tracking" else ROWS_OF_QUARTER.format(name)


@pytest.fixture(scope="module")
def warehouse(tiny_published, tmp_path_factory):
    """The tiny warehouse with two behaviour funnel rows of 2024Q3 (it has no events), so that every
    mart the quarter shows has rows: A pv 100, uv 40, …, conversion 25.0%; B pv 50, uv 10, … 50.0%."""
    path = tmp_path_factory.mktemp("export") / "warehouse.duckdb"
    shutil.copyfile(tiny_published.warehouse, path)
    with duckdb.connect(str(path)) as con:
        con.executemany(
            "insert into marts.quarterly_funnel (quarter, shop_id, pv, uv, fav_users, cart_users, buyers,"
            " conversion_rate, repeat_buyers, repurchase_rate) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [("2024Q3", "A", 100, 40, 8, 12, 10, 0.25, 4, 0.4), ("2024Q3", "B", 50, 10, 3, 6, 5, 0.5, 1, 0.2)],
        )
    return path


def warehouse_rows(warehouse, name: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        result = con.execute(mart_query(name))
        return [d[0] for d in result.description], result.fetchall()


@pytest.fixture(scope="module")
def book(warehouse, tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    (path,) = export_quarter(warehouse, QUARTER, out, "xlsx")
    assert path == out / QUARTER / "taobao-ops-2024Q3.xlsx"
    return openpyxl.load_workbook(path)


def test_a_chinese_character_is_two_columns_wide():
    assert display_width("支付金额") == 8 and display_width("gmv") == 3 and display_width("2024Q3 双11") == 11


@pytest.mark.slow
def test_one_sheet_per_mart_then_the_definitions(book):
    assert book.sheetnames == [*MARTS, DEFINITIONS]


@pytest.mark.slow
def test_two_header_rows_chinese_above_the_column_name_frozen_with_a_filter(book, warehouse):
    sheet = book["quarterly_shop_kpis"]
    assert [c.value for c in sheet[1]][:5] == ["季度", "店铺", "支付金额", "退款金额", "净销售额"]
    columns, rows = warehouse_rows(warehouse, "quarterly_shop_kpis")
    assert [c.value for c in sheet[2]] == columns
    assert all(c.font.bold for c in sheet[1] + sheet[2])
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == f"A2:AB{2 + len(rows)}" and len(columns) == 28  # AB: the 28th column
    # the funnel's columns are named as that table means them (events, not orders)
    assert [c.value for c in book["quarterly_funnel"][1]][:8] == [
        "季度", "店铺", "浏览量", "访客数", "加购人数", "收藏人数", "购买人数", "购买转化率"]


@pytest.mark.slow
def test_every_value_is_the_warehouse_value(book, warehouse):
    for name in MARTS:
        _, rows = warehouse_rows(warehouse, name)
        sheet = [tuple(c.value for c in row) for row in book[name].iter_rows(min_row=3)]
        assert len(sheet) == len(rows), name
        for got, want in zip(sheet, rows):
            assert got == tuple(as_stored(v) for v in want), name


def as_stored(value):
    """A warehouse value as a workbook holds it: a number of 16 significant digits (openpyxl writes
    %.16g; Excel itself keeps 15), a day as a date-time at midnight (Excel has no date type)."""
    if isinstance(value, (Decimal, float)):
        return pytest.approx(float(value), rel=1e-15, abs=0)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return value


@pytest.mark.slow
def test_numbers_stay_numbers_formatted_by_their_kind(book):
    shop = {c.value: i for i, c in enumerate(book["quarterly_shop_kpis"][2])}
    a = book["quarterly_shop_kpis"][3]  # shop A: paid 200 + 100 + 50 + 80, o2 refunded in full
    assert a[shop["shop_id"]].value == "A"
    gmv = a[shop["gmv"]]
    assert (gmv.value, gmv.data_type, gmv.number_format) == (430, "n", "#,##0.00")  # DECIMAL(18,2) in the mart
    assert (a[shop["refund_amount"]].value, a[shop["refund_amount"]].number_format) == (100, "#,##0.00")
    assert (a[shop["paid_orders"]].value, a[shop["paid_orders"]].number_format) == (4, "#,##0")
    assert a[shop["refund_rate"]].value == pytest.approx(100 / 430) and a[shop["refund_rate"]].number_format == "0.0%"
    assert a[shop["roi"]].number_format == "0.00" and a[shop["quarter"]].number_format == "General"
    # the months of the quarter: A's July 430.00 against a target of 100.00, 430.0% of it
    months = [[c.value for c in row] for row in book["monthly_target_tracking"].iter_rows(min_row=3, max_col=5)]
    assert [m[:2] for m in months] == [["2024-07", "A"], ["2024-07", "B"], ["2024-08", "A"], ["2024-09", "A"]]
    assert months[0][2:] == [430, 100, 4.3]
    assert book["monthly_target_tracking"]["E3"].number_format == "0.0%"
    funnel = book["quarterly_funnel"]
    assert [c.value for c in funnel[3]] == ["2024Q3", "A", 100, 40, 12, 8, 10, 0.25, 4, 0.4]
    assert [c.number_format for c in funnel[3]][2:] == ["#,##0"] * 5 + ["0.0%", "#,##0", "0.0%"]


@pytest.mark.slow
def test_the_months_of_a_fiscal_quarter(warehouse):
    """Fiscal years from February: FY2025Q2 is May, June and July 2024, of which the tiny fixture has
    A's June (its order of 2024-06-20) and A's and B's July. The quarter-keyed marts carry calendar
    labels in this warehouse, so none has a row of FY2025Q2."""
    marts = read_marts(warehouse, "FY2025Q2", 2)
    assert marts["monthly_target_tracking"].select("month", "shop_id").rows() == [
        ("2024-06", "A"), ("2024-07", "A"), ("2024-07", "B")]
    assert {name: frame.height for name, frame in marts.items() if name != "monthly_target_tracking"} == dict.fromkeys(
        [name for name in MARTS if name != "monthly_target_tracking"], 0)


@pytest.mark.slow
def test_columns_are_as_wide_as_their_text(book):
    sheet = book["monthly_target_tracking"]
    # "年累计支付金额" is 7 wide characters, the widest of its column: 14 + 2
    assert sheet.column_dimensions["F"].width == 16
    assert sheet.column_dimensions["A"].width == len("2024-07") + 2


@pytest.mark.slow
def test_the_definitions_sheet_says_what_each_column_means(book):
    sheet = book[DEFINITIONS]
    assert [c.value for c in sheet[1]] == ["表 table", "列 column", "中文", "定义 meaning", "宏 macro"]
    assert sheet.freeze_panes == "A2"
    rows = {(r[0], r[1] or ""): r[2:] for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert rows[("marts.quarterly_shop_kpis", "")][0] == "季度店铺指标"
    assert rows[("marts.quarterly_shop_kpis", "gmv")] == (
        "支付金额", "Σ paid_amount of paid orders (paid_at set), in the quarter of paid_at. CNY.", "metric_gmv")
    assert rows[("marts.quarterly_funnel", "pv")][:2] == ("浏览量", "pv events in the quarter.")
    assert len(rows) == sum(1 + len(book[name][2]) for name in MARTS)  # every mart and every column


@pytest.mark.slow
@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_a_file_per_mart_with_the_warehouse_rows(warehouse, tmp_path, file_format):
    files = export_quarter(warehouse, QUARTER, tmp_path, file_format)
    assert files == [tmp_path / QUARTER / file_format / f"{name}.{file_format}" for name in MARTS]
    for name, path in zip(MARTS, files):
        with duckdb.connect(str(warehouse), read_only=True) as con:
            want = con.sql(mart_query(name)).pl()
        got = pl.read_parquet(path) if file_format == "parquet" else pl.read_csv(path, schema=want.schema)
        assert got.equals(want), name
    assert [p.name for p in (tmp_path / QUARTER / file_format).iterdir() if p.name.startswith(".")] == []


@pytest.mark.slow
def test_the_csv_files_are_utf8_with_a_byte_order_mark_for_excel(warehouse, tmp_path):
    export_quarter(warehouse, QUARTER, tmp_path, "csv")
    text = (tmp_path / QUARTER / "csv" / "quarterly_shop_kpis.csv").read_bytes()
    assert text.startswith(b"\xef\xbb\xbfquarter,shop_id,gmv,")
    assert b"\n2024Q3,A,430.00," in text


@pytest.mark.slow
def test_a_failed_write_leaves_the_last_workbook_and_no_half_file(warehouse, tmp_path, monkeypatch):
    (path,) = export_quarter(warehouse, QUARTER, tmp_path, "xlsx")
    before = path.read_bytes()

    def save_half(self, filename):
        Path(filename).write_bytes(b"PK half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(openpyxl.Workbook, "save", save_half)
    with pytest.raises(OSError, match="disk full"):
        export_quarter(warehouse, QUARTER, tmp_path, "xlsx")
    assert path.read_bytes() == before
    assert list(path.parent.iterdir()) == [path]


@pytest.mark.slow
def test_the_report_writes_the_workbook_and_links_it(warehouse, tmp_path):
    files = write_report(warehouse, QUARTER, tmp_path)
    assert tmp_path / QUARTER / "taobao-ops-2024Q3.xlsx" in files
    alone = export_quarter(warehouse, QUARTER, tmp_path / "alone", "xlsx")[0]
    assert openpyxl.load_workbook(tmp_path / QUARTER / alone.name).sheetnames == openpyxl.load_workbook(alone).sheetnames
    assert '<a href="taobao-ops-2024Q3.xlsx">Excel 工作簿 Workbook</a>' in (tmp_path / QUARTER / "index.html").read_text(encoding="utf-8")
    assert "[Excel 工作簿 Workbook](taobao-ops-2024Q3.xlsx)" in (tmp_path / QUARTER / "report.md").read_text(encoding="utf-8")
    assert '<a href="../taobao-ops-2024Q3.xlsx">' in (tmp_path / QUARTER / "A" / "index.html").read_text(encoding="utf-8")
    assert "](../taobao-ops-2024Q3.xlsx)" in (tmp_path / QUARTER / "A" / "report.md").read_text(encoding="utf-8")
    for page in [f for f in files if f.name in ("index.html", "report.md")]:
        text = page.read_text(encoding="utf-8")
        link = "taobao-ops-2024Q3.xlsx" if page.parent.name == QUARTER else "../taobao-ops-2024Q3.xlsx"
        assert link in text and (page.parent / link).is_file(), page


@pytest.mark.slow
def test_the_cli_writes_each_format_and_names_what_is_wrong(warehouse, tmp_path):
    from pipelines.cli import main

    def export(*args):
        return CliRunner().invoke(main, ["export", *args, "--out", str(tmp_path)])

    done = export("2024q3", "--warehouse", str(warehouse))
    assert done.exit_code == 0, done.output
    assert "taobao-ops-2024Q3.xlsx" in done.output and (tmp_path / QUARTER / "taobao-ops-2024Q3.xlsx").is_file()
    done = export(QUARTER, "--format", "parquet", "--warehouse", str(warehouse))
    assert done.exit_code == 0 and "Wrote 9 file(s)" in done.output, done.output

    missing = tmp_path / "none.duckdb"
    for args, message in (
        ((QUARTER, "--warehouse", str(missing)), f"{missing} does not exist: run the pipeline first"),
        (("2024-07", "--warehouse", str(warehouse)), "quarter must look like 2024Q3"),
        (("2023Q1", "--warehouse", str(warehouse)), f"{warehouse} has no data for 2023Q1 (quarters in it: 2024Q2, 2024Q3)"),
        ((QUARTER, "--format", "xls", "--warehouse", str(warehouse)), "format must be one of xlsx, csv, parquet, not 'xls'"),
    ):
        done = export(*args)
        assert done.exit_code == 1 and message in " ".join(done.output.split()), (args, done.output)
    assert not (tmp_path / "2023Q1").exists()
