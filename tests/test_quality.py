"""The suites themselves, on tiny frames."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import polars as pl

from assets.lib.expectations import validate
from assets.lib.parse import LAKE_SCHEMAS, LINEAGE_SCHEMA, lake_schema
from conftest import orders_batch


def test_a_good_batch_passes():
    result = validate("orders_batch", orders_batch())
    assert result.success and result.failed == []


def test_a_clear_text_buyer_and_shipping_before_payment_fail_with_samples():
    result = validate("orders_batch", orders_batch(buyer_id="tb_小明", shipped_at=dt.datetime(2024, 7, 1, 8)))
    failed = {(f["expectation"], str(f["column"])): f for f in result.failed}
    assert not result.success
    assert failed[("expect_column_values_to_match_regex", "buyer_id")]["sample"] == ["tb_小明"]
    pair = failed[("expect_column_pair_values_a_to_be_not_below_b", "shipped_at")]
    assert (pair["unexpected_count"], pair["sample"]) == (1, ["2024-07-01 08:00:00 < 2024-07-01 09:05:00"])


def test_a_repeated_key_in_a_file_only_warns():
    batch = pl.concat([orders_batch(), orders_batch(line=3)])
    result = validate("orders_batch", batch)
    assert result.success
    assert [(f["expectation"], f["severity"]) for f in result.failed] == [("expect_columns_to_be_a_unique_key", "warning")]
    (repeated,) = result.failed
    assert repeated["column"] == ["file_name", "shop_id", "order_id"]
    assert (repeated["unexpected_count"], repeated["sample"]) == (1, ["f.csv, A, 1 (x2)"])


def test_a_repeated_key_fails_with_each_key_and_its_copies():
    batch = pl.concat([orders_batch(), orders_batch(), orders_batch(line=3), orders_batch(line=4, order_id="2")])
    result = validate("orders_batch", batch)
    failed = {tuple(f["column"]): f for f in result.failed if f["expectation"] == "expect_columns_to_be_a_unique_key"}
    assert not result.success
    assert (failed[("file_name", "line")]["unexpected_count"], failed[("file_name", "line")]["sample"]) == (1, ["f.csv, 2 (x2)"])
    assert failed[("file_name", "shop_id", "order_id")]["sample"] == ["f.csv, A, 1 (x3)"]


def test_columns_and_types_are_checked_against_the_lake_schema():
    result = validate("orders_batch", orders_batch().with_columns(pl.col("line").cast(pl.String)))
    assert not result.success
    assert result.failed[0]["expectation"] == "columns_and_types"
    assert result.failed[0]["sample"] == ["line: String (want Int64)"]


def test_traffic_total_rows_are_not_judged():
    row = {c: None for c in {**LAKE_SCHEMAS["traffic"], **LINEAGE_SCHEMA}}
    row.update(date=dt.date(2024, 7, 1), shop_id="A", channel="汇总", device="all", pv=1, uv=5, visits=5,
               ad_spend=Decimal("0.00"), is_total=True, batch_date=dt.date(2024, 7, 1), file_name="t.csv", line=2)
    frame = pl.DataFrame([row], schema={**LAKE_SCHEMAS["traffic"], **LINEAGE_SCHEMA})
    assert validate("traffic_batch", frame).success
    assert not validate("traffic_batch", frame.with_columns(is_total=pl.lit(False))).success


def staging_orders(**changes) -> pl.DataFrame:
    row = {"shop_id": "A", "order_id": "1", "buyer_id": "a" * 64, "status": "paid", "category": "茶叶",
           "channel": "直通车", "province": "浙江", "city": "杭州", "district": "西湖区",
           "rural_station_id": None, "courier_name": "中通"}
    row.update(changes)
    return pl.DataFrame([row], schema=dict.fromkeys(row, pl.String))


def test_a_phone_number_in_a_text_column_fails_in_duckdb_sql():
    # GX 1.24 has no regex for DuckDB's dialect; without gx_sql's fix both regex expectations
    # raised instead of judging. The pattern searches: 11 digits starting 13-19, not inside a longer number.
    assert validate("staging_orders", staging_orders(city="杭州 12345678901", district="订单号 138123456789")).success
    result = validate("staging_orders", staging_orders(city="杭州 13812345678", courier_name="13900001111"))
    failed = {str(f["column"]): f for f in result.failed}
    assert not result.success and set(failed) == {"city", "courier_name"}
    assert (failed["city"]["expectation"], failed["city"]["unexpected_count"], failed["city"]["sample"]) == (
        "expect_column_values_to_not_match_regex", 1, ["杭州 13812345678"]
    )
    assert all(f["error"] is None for f in result.failed)


def test_the_length_test_before_a_regex_search_never_hides_a_match():
    # gx_sql searches only values at least as long as the pattern's shortest match
    from assets.lib.gx_sql import min_match_length
    from assets.lib.text import PHONE

    assert [min_match_length(r) for r in (PHONE, r"^[0-9a-f]{64}$", r"a*", r"(?<=")] == [11, 64, 0, 0]
    values = ["13812345678", "x13812345678y", "杭州13812345678", "电话：13812345678。", "1381234567", "杭州市", "", None]
    con = duckdb.connect()
    rows = con.execute(
        "select regexp_matches(v, $p), case when length(v) < $w then false else regexp_matches(v, $p) end "
        "from unnest($values) as t(v)",
        {"p": PHONE, "w": min_match_length(PHONE), "values": values},
    ).fetchall()
    assert [searched for searched, _ in rows] == [True, True, True, True, False, False, False, None]
    assert [guarded for _, guarded in rows] == [searched for searched, _ in rows]


def test_a_reconciliation_off_by_one_cent_fails_with_its_count():
    frame = pl.DataFrame(
        {"key": ["a", "b", "c"], "mart_value": [Decimal("1.00"), Decimal("2.00"), Decimal("3.00")],
         "source_value": [Decimal("1.00"), Decimal("2.01"), Decimal("3.00")]},
        schema={"key": pl.String, "mart_value": pl.Decimal(18, 2), "source_value": pl.Decimal(18, 2)},
    )
    result = validate("reconciliation", frame)
    (failed,) = result.failed
    assert (result.success, result.rows, failed["unexpected_count"]) == (False, 3, 1)
    assert validate("reconciliation", frame.with_columns(source_value=pl.col("mart_value"))).success


def test_a_passing_suite_asks_only_pass_or_fail_and_a_failing_one_lists_only_its_failures():
    """The sample queries of an expectation scan (or group) the whole batch again: they run only for
    expectations that failed, in a second pass; a key's GROUP BY runs once when it passes."""
    import sqlalchemy
    from sqlalchemy import event

    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(sqlalchemy.engine.Engine, "before_cursor_execute", record)
    try:
        assert validate("orders_batch", orders_batch()).success
        assert [s for s in statements if "unexpected_values" in s] == []
        assert len([s for s in statements if "having count(*) > 1" in s]) == 2  # two keys, one count each
        statements.clear()
        result = validate("orders_batch", orders_batch(buyer_id="tb_小明"))
        listing = [s for s in statements if "unexpected_values" in s]
        assert len(listing) == 1 and "buyer_id" in listing[0]
        statements.clear()
        validate("orders_batch", pl.concat([orders_batch(), orders_batch()]))
        # a row twice repeats both keys: for each, the first pass's count, then the second pass's
        # count and a sample of at most 20 keys
        assert len([s for s in statements if "having count(*) > 1" in s]) == 6
        assert len([s for s in statements if "having count(*) > 1 limit 20" in s]) == 2
    finally:
        event.remove(sqlalchemy.engine.Engine, "before_cursor_execute", record)
    assert [f["sample"] for f in result.failed] == [["tb_小明"]]


def test_gx_is_imported_with_the_collector_paused_and_its_objects_frozen(monkeypatch):
    import gc

    from assets.lib import gx_sql

    seen = {}

    def fake_install():
        seen["enabled during the import"] = gc.isenabled()
        seen["made"] = [[] for _ in range(1000)]  # objects the collector tracks, made by the "import"

    monkeypatch.setattr(gx_sql, "_installed", False)
    monkeypatch.setattr(gx_sql, "_install", fake_install)
    gc.unfreeze()
    assert gc.isenabled()
    try:
        gx_sql.install()
        assert seen["enabled during the import"] is False
        assert gc.isenabled()  # on again after it
        assert gc.get_freeze_count() >= 1000  # what the import made is out of later collections
        assert gx_sql._installed
    finally:
        gc.unfreeze()



def test_gx_installs_once_when_a_thread_is_installing_it_ahead_of_need(monkeypatch):
    # ingest starts GX's import in a thread while files parse; the suite's own install() must wait
    # for it, not patch GX a second time
    import threading
    import time

    from assets.lib import gx_sql

    inside = threading.Event()
    calls = []

    def slow_install():
        calls.append(threading.current_thread().name)
        inside.set()
        time.sleep(0.3)

    monkeypatch.setattr(gx_sql, "_installed", False)
    monkeypatch.setattr(gx_sql, "_install", slow_install)
    ahead = gx_sql.install_meanwhile()
    assert inside.wait(timeout=60)
    gx_sql.install()  # while the thread is still inside
    ahead.result(timeout=60)
    assert len(calls) == 1 and calls[0].startswith("gx-import")
    assert gx_sql._installed


def events_batch(**changes) -> pl.DataFrame:
    """One events lake row (per China day, shop and user key) of a file dated 2017-12-03."""
    row = {
        "date": dt.date(2017, 12, 1), "shop_id": "shop-1", "user_key": 7, "pv": 3, "cart": 1, "fav": 0, "buy": 1,
        "window_start": dt.date(2017, 11, 2), "batch_date": dt.date(2017, 12, 3), "file_name": "shop-1/e_2017-12-03.csv",
        **changes,
    }
    return pl.DataFrame([row], schema=lake_schema("events"))


def test_the_events_batch_suite_holds_days_to_their_file_window_and_ids_present():
    assert validate("events_batch", events_batch()).success
    # a pair check names its first column: batch_date ≥ date, date ≥ window_start
    for bad, column in ((events_batch(date=dt.date(2017, 12, 4)), "batch_date"), (events_batch(date=dt.date(2017, 11, 1)), "date"),
                        (events_batch(user_key=None), "user_key"), (events_batch(pv=-1), "pv")):
        result = validate("events_batch", bad)
        assert not result.success
        assert any(column in (f["column"] or "") for f in result.errors), result.errors
    # the behaviours are the lake's count columns: a batch without one of them fails its schema
    result = validate("events_batch", events_batch().drop("fav"))
    assert not result.success and result.errors[0]["expectation"] == "columns_and_types"


def test_the_funnel_suite_fails_a_step_with_more_users_than_visitors():
    row = {"quarter": "2017Q4", "shop_id": "shop-1", "pv": 90, "uv": 10, "cart_users": 4, "fav_users": 3, "buyers": 2,
           "conversion_rate": 0.2, "repeat_buyers": 1, "repurchase_rate": 0.5}
    assert validate("quarterly_funnel", pl.DataFrame([row])).success
    result = validate("quarterly_funnel", pl.DataFrame([{**row, "cart_users": 11}]))
    assert [(f["column"], f["unexpected_count"]) for f in result.errors] == [("uv", 1)]
    assert not validate("quarterly_funnel", pl.DataFrame([{**row, "repeat_buyers": 3}])).success
    assert not validate("quarterly_funnel", pl.DataFrame([{**row, "conversion_rate": 1.5}])).success
