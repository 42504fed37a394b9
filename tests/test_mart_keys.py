"""Every mart's key check: one row per key, and no part of the key null but those the contract lets
be null (an order's category and address parts)."""

from __future__ import annotations

import polars as pl
import pytest

from assets.lib.expectations import key_suite, validate
from assets.lib.tables import MARTS


def _failed(result) -> set[tuple[str, str]]:
    return {(f["expectation"], str(f["column"])) for f in result.failed}


def _region_rows(**changes) -> pl.DataFrame:
    rows = {
        "quarter": ["2024Q3", "2024Q3"], "shop_id": ["A", "A"], "province": ["浙江省", "浙江省"],
        "city": ["杭州市", "杭州市"], "district": ["西湖区", "余杭区"], "gmv": [1.0, 2.0],
    }
    return pl.DataFrame({**rows, **changes})


def test_distinct_keys_pass_and_a_null_address_part_is_a_key_of_its_own():
    assert validate(key_suite("quarterly_region_kpis"), _region_rows()).success
    assert validate(key_suite("quarterly_region_kpis"), _region_rows(district=["西湖区", None])).success


def test_a_repeated_key_fails_even_when_its_parts_are_null():
    result = validate(key_suite("quarterly_region_kpis"), _region_rows(district=[None, None]))
    assert not result.success
    assert {e for e, _ in _failed(result)} == {"expect_columns_to_be_a_unique_key"}
    assert result.failed[0]["unexpected_count"] == 1  # one key, held by two rows


def test_a_null_in_a_part_the_contract_requires_fails():
    result = validate(key_suite("quarterly_region_kpis"), _region_rows(shop_id=["A", None]))
    assert not result.success
    assert _failed(result) == {("expect_column_values_to_not_be_null", "shop_id")}


@pytest.mark.parametrize("mart", sorted(MARTS))
def test_every_mart_key_suite_holds_its_grain(mart):
    grain = MARTS[mart]
    one = {k: ["x"] for k in grain.keys}
    assert validate(key_suite(mart), pl.DataFrame(one)).success
    twice = pl.DataFrame({k: ["x", "x"] for k in grain.keys})
    assert not validate(key_suite(mart), twice).success
    for part in grain.never_null:
        result = validate(key_suite(mart), pl.DataFrame({**one, part: pl.Series([None], dtype=pl.String)}))
        assert _failed(result) == {("expect_column_values_to_not_be_null", part)}, (mart, part)


@pytest.mark.slow
def test_a_failing_mart_check_keeps_the_last_good_warehouse(built, monkeypatch):
    """The marts' checks are judged in one step: one of them failing still stops the publish."""
    from decimal import Decimal

    from assets.lib import expectations

    def impossible(gx):  # a key check that no row passes
        return [gx.expectations.ExpectColumnValuesToBeNull(column="quarter")]

    monkeypatch.setitem(expectations.SUITES, key_suite("quarterly_category_kpis"), impossible)
    built.drop(
        "orders/orders_2024-07-20.csv",
        "order_id,shop_id,buyer_id,status,created_at,paid_at,total_amount,paid_amount\n"
        "o9,A,b9,paid,2024-07-20 09:00,2024-07-20 09:01,1000,1000\n",
    )
    result = built.run()
    assert not result.success
    evaluations = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert evaluations[key_suite("quarterly_category_kpis")] is False
    assert evaluations[key_suite("quarterly_shop_kpis")] is True  # judged in the same step
    shop_a = "select gmv from marts.quarterly_shop_kpis where quarter = '2024Q3' and shop_id = 'A'"
    assert built.query(shop_a) == [(Decimal("430.00"),)]  # the warehouse as it was
    monkeypatch.undo()
    assert built.run().success
    assert built.query(shop_a) == [(Decimal("1430.00"),)]
