"""The suites themselves, on tiny frames."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from assets.lib.expectations import validate
from assets.lib.parse import LAKE_SCHEMAS, LINEAGE_SCHEMA


def orders_batch(**changes) -> pl.DataFrame:
    row = {
        "shop_id": "A", "order_id": "1", "buyer_id": "a" * 64, "status": "paid",
        "created_at": dt.datetime(2024, 7, 1, 9), "paid_at": dt.datetime(2024, 7, 1, 9, 5),
        "shipped_at": None, "completed_at": None, "total_amount": Decimal("10.00"),
        "paid_amount": Decimal("10.00"), "refund_amount": Decimal("0.00"), "item_count": 1,
        "category": None, "channel": None, "is_mobile": True, "province": None, "city": None,
        "district": None, "courier": None, "tracking_no": None, "rural_station_id": None,
        "batch_date": dt.date(2024, 7, 1), "file_name": "f.csv", "line": 2,
    }
    row.update(changes)
    return pl.DataFrame([row], schema={**LAKE_SCHEMAS["orders"], **LINEAGE_SCHEMA})


def test_a_good_batch_passes():
    result = validate("orders_batch", orders_batch())
    assert result.success and result.failed == []


def test_a_clear_text_buyer_and_shipping_before_payment_fail_with_samples():
    result = validate("orders_batch", orders_batch(buyer_id="tb_小明", shipped_at=dt.datetime(2024, 7, 1, 8)))
    failed = {(f["expectation"], str(f["column"])): f for f in result.failed}
    assert not result.success
    assert failed[("expect_column_values_to_match_regex", "buyer_id")]["sample"] == ["tb_小明"]
    assert ("expect_column_pair_values_a_to_be_greater_than_b", "shipped_at") in failed


def test_a_repeated_key_in_a_file_only_warns():
    batch = pl.concat([orders_batch(), orders_batch(line=3)])
    result = validate("orders_batch", batch)
    assert result.success
    assert [(f["expectation"], f["severity"]) for f in result.failed] == [("expect_compound_columns_to_be_unique", "warning")]


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


def test_layer_checks_stream_batches_that_never_split_a_key(monkeypatch, tmp_path):
    # 40 keys, each on 1 to 4 rows (100 rows), in batches of about 10: every key must land in one
    # batch, so that a uniqueness expectation on the key sees all its rows at once.
    import duckdb

    from assets.lib import sql

    con = duckdb.connect()
    con.execute("create table t as select k as a, r from range(40) as k(k), range(1 + k % 4) as r(r) order by random()")
    monkeypatch.setattr(sql, "sql_text", lambda name: "select a, r from t")
    scratch = tmp_path / "state" / "scratch" / "check"  # folders that do not exist yet
    batches = list(sql.query_batches(con, "any", None, ("a",), 10, scratch))
    assert sum(b.height for b in batches) == 100
    assert sorted(pl.concat(batches).rows()) == con.execute("select a, r from t order by all").fetchall()
    assert not scratch.exists()  # the spilled batches are removed
    owners = {}
    for i, batch in enumerate(batches):
        for a in batch["a"].to_list():
            assert owners.setdefault(a, i) == i
    assert len(owners) == 40 and len(batches) >= 5
    assert sql.query_fingerprint(con, "any") == sql.query_fingerprint(con, "any")
    assert sql.query_fingerprint(con, "any").startswith("100:")
