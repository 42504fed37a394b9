"""Each accepted value form of contract §1, and forms that must be refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from assets.lib import values as v
from assets.lib.text import clean_text, normalize_header


def parse(parser, *texts):
    frame = pl.DataFrame({"s": list(texts)}, schema={"s": pl.String})
    return frame.select(parser(clean_text(pl.col("s")))).to_series().to_list()


def test_ids_accept_the_spreadsheet_wrappers_and_refuse_scientific_notation():
    assert parse(v.parse_id, '="1234567890"', "'1234567890", "\t1234567890", "1234567890") == ["1234567890"] * 4
    assert parse(v.parse_id, "1.23457E+18", "1.2e18") == [None, None]
    assert parse(v.is_scientific_id, "1.23457E+18", "123") == [True, False]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1,234.50", Decimal("1234.50")),
        ("¥99", Decimal("99.00")),
        ("¥ 99", Decimal("99.00")),
        ("￥99.5", Decimal("99.50")),
        ("109.50元", Decimal("109.50")),
        ("0.005", Decimal("0.01")),  # half away from zero
        ("-0.005", Decimal("-0.01")),
        ("12.344", Decimal("12.34")),
        ("abc", None),
        ("1.2.3", None),
        ("-", None),
        ("--", None),
        ("", None),
    ],
)
def test_money(text, expected):
    assert parse(v.parse_money, text) == [expected]


def test_counts_take_thousands_separators_and_units_scale_them():
    assert parse(v.parse_int, "1,234", "7", "7.0", "7.5", "x") == [1234, 7, 7, None, None]
    frame = pl.DataFrame({"s": ["12.5", "3", "0.00004"]})
    assert frame.select(v.parse_scaled_int(pl.col("s"), 10_000)).to_series().to_list() == [125_000, 30_000, 0]


def test_rates_are_percent_text_or_a_fraction():
    assert parse(v.parse_rate, "45.3%", "0.25", "1", "2", "NaN%", "x") == [
        pytest.approx(0.453), 0.25, 1.0, None, None, None,
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024-07-01", dt.datetime(2024, 7, 1)),
        ("2024/7/1", dt.datetime(2024, 7, 1)),
        ("2024/7/1 9:05", dt.datetime(2024, 7, 1, 9, 5)),
        ("2024-07-01 09:05:07", dt.datetime(2024, 7, 1, 9, 5, 7)),
        ("2024-07-01T09:05:07", dt.datetime(2024, 7, 1, 9, 5, 7)),  # no offset: already China time
        ("2024-07-01T01:05:07Z", dt.datetime(2024, 7, 1, 9, 5, 7)),
        ("2024-06-30T20:05:07-05:00", dt.datetime(2024, 7, 1, 9, 5, 7)),
        ("2024-07-01T09:05:07+0800", dt.datetime(2024, 7, 1, 9, 5, 7)),
        ("1719795907", dt.datetime(2024, 7, 1, 9, 5, 7)),  # Unix seconds, UTC
        ("1719795907000", dt.datetime(2024, 7, 1, 9, 5, 7)),  # Unix milliseconds
        ("2024-02-30", None),
        ("07/01/2024", None),
        ("yesterday", None),
    ],
)
def test_timestamps_become_china_time(text, expected):
    assert parse(v.parse_timestamp, text) == [expected]


def test_booleans_and_taobaos_mobile_marker():
    assert parse(v.parse_bool, "1", "0", "true", "FALSE", "是", "否", "Y", "n", "手机订单", "maybe") == [
        True, False, True, False, True, False, True, False, True, None,
    ]


def test_devices():
    assert parse(v.parse_device, "无线端", "APP", "PC端", "电脑", "所有终端", "", "tablet") == [
        "mobile", "mobile", "pc", "pc", "all", "all", None,
    ]


def test_text_is_nfkc_normalised_and_trimmed():
    assert parse(lambda e: e, " ＡＢ ", "买家已付款，等待卖家发货", "-") == ["AB", "买家已付款,等待卖家发货", None]


def test_headers_ignore_case_bom_and_a_trailing_unit():
    assert normalize_header("\ufeffOrder_ID") == ("order_id", None)
    assert normalize_header("花费(元)") == ("花费", "元")
    assert normalize_header("揽收量（万件）") == ("揽收量", "万件")


def test_money_too_large_for_decimal_18_2_is_refused_not_wrapped():
    # 16 integer digits fit; more would overflow DECIMAL(18,2) or wrap around silently
    assert parse(v.parse_money, "9999999999999999.99", "100000000000000000", "184467440737095517") == [
        Decimal("9999999999999999.99"), None, None,
    ]


def test_misplaced_thousands_separators_are_refused():
    assert parse(v.parse_money, "1,2,3", "12,34.5", "1,234,567.8") == [None, None, Decimal("1234567.80")]
    assert parse(v.parse_int, "1,2,3", "12,345") == [None, 12345]
