"""Every metric of marts.quarterly_shop_kpis on the tiny fixture, worked out by hand.

Shop A, 2024Q3 — paid orders after the latest version of each order wins:
  o1 b1 07-01 200.00 mobile | o2 b2 07-01 100.00 pc, fully refunded later (交易关闭 -> refunded)
  o4 b2 07-01  50.00 device unknown | o6 b2 07-15 80.00 mobile
  (o3 is unpaid; o5 is rejected: refund 90 above paid 70; o0 b1 was paid 2024-06-20, in Q2)
Traffic of A in Q3 (the `all` row of the split 手淘搜索 day and the 汇总 row left out):
  手淘搜索 mobile pv 100 uv 40 visits 50 bounced 20 | 手淘搜索 pc 30/10/12, bounce 50% -> 6
  直通车 all 60/25/30, no bounce figure, spend 100 | 07-02 直通车 all 40/25/25, bounced 5, spend 50
Targets of A: Jul 100 + Aug 200 + Sep 300 = 600; June alone for Q2 (incomplete -> null).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

pytestmark = pytest.mark.slow


def kpis(deployment, quarter: str, shop: str) -> dict:
    (row,) = deployment.rows(
        "select * from marts.quarterly_shop_kpis where quarter = ? and shop_id = ?", [quarter, shop]
    )
    return row


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    import shutil

    from conftest import FIXTURES, Deployment

    deployment = Deployment(tmp_path_factory.mktemp("tiny"))
    shutil.copytree(FIXTURES / "tiny", deployment.raw)
    result = deployment.run()
    assert result.success
    return deployment


def test_shop_a_2024q3_every_metric(published):
    row = kpis(published, "2024Q3", "A")
    expected = {
        "quarter": "2024Q3",
        "shop_id": "A",
        "gmv": Decimal("430.00"),
        "refund_amount": Decimal("100.00"),
        "net_sales": Decimal("330.00"),
        "refund_rate": 100 / 430,
        "paid_orders": 4,
        "paid_buyers": 2,
        "aov": 215.0,
        "avg_order_value": 107.5,
        "buyer_days": 3,  # 07-01: b1, b2; 07-15: b2
        "pv": 230,
        "uv_days": 100,
        "conversion_rate": 0.03,
        "uv_value": 4.3,
        "bounce_rate": 31 / 87,  # (20 + 6 + 5) / (50 + 12 + 25)
        "mobile_uv_share": 0.8,  # 40 / (40 + 10)
        "mobile_gmv_share": 280 / 380,  # (200 + 80) / (200 + 100 + 80)
        "repeat_buyers": 1,  # b2 paid on 07-01 and 07-15
        "repurchase_rate": 0.5,
        "returning_buyers": 1,  # b1 paid in June
        "new_buyers": 1,
        "ad_spend": Decimal("150.00"),
        "roi": 430 / 150,
        "target_gmv": Decimal("600.00"),
        "target_completion": 430 / 600,
        "gmv_qoq": 430 / 100 - 1,
        "gmv_yoy": None,
    }
    for name, value in expected.items():
        if isinstance(value, float):
            assert row[name] == pytest.approx(value, rel=1e-12), name
        else:
            assert row[name] == value, name


def test_previous_quarter_and_incomplete_target(published):
    row = kpis(published, "2024Q2", "A")
    assert (row["gmv"], row["paid_orders"], row["paid_buyers"], row["new_buyers"]) == (Decimal("100.00"), 1, 1, 1)
    assert row["returning_buyers"] == 0
    assert row["target_gmv"] is None and row["target_completion"] is None  # only June has a target
    assert row["gmv_qoq"] is None  # no 2024Q1 row


def test_shop_with_traffic_only_has_zero_sums_and_null_rates(published):
    row = kpis(published, "2024Q3", "B")
    assert row["gmv"] == Decimal("0.00") and row["paid_orders"] == 0 and row["paid_buyers"] == 0
    assert row["conversion_rate"] == 0.0  # 0 buyer-days over 5 visitor-days
    assert row["mobile_uv_share"] == 1.0
    for rate in ("aov", "avg_order_value", "refund_rate", "repurchase_rate", "roi", "mobile_gmv_share",
                 "target_completion", "gmv_qoq"):
        assert row[rate] is None, rate


def test_one_row_per_quarter_and_shop(published):
    keys = published.query("select quarter, shop_id from marts.quarterly_shop_kpis order by all")
    assert keys == [("2024Q2", "A"), ("2024Q3", "A"), ("2024Q3", "B")]


def test_every_column_has_a_bilingual_comment(published):
    comments = published.query(
        "select column_name, comment from duckdb_columns() "
        "where schema_name = 'marts' and table_name = 'quarterly_shop_kpis'"
    )
    missing = [name for name, comment in comments if not comment or " — " not in comment]
    assert missing == []


def test_fiscal_quarters_relabel_and_regroup(tiny):
    """April start: 2024-04..06 is FY2025Q1 and 2024-07..09 is FY2025Q2; QoQ follows."""
    assert tiny.run(fiscal_year_start_month=4).success
    rows = {(q, s): g for q, s, g in tiny.query("select quarter, shop_id, gmv from marts.quarterly_shop_kpis")}
    assert rows == {("FY2025Q1", "A"): Decimal("100.00"), ("FY2025Q2", "A"): Decimal("430.00"), ("FY2025Q2", "B"): Decimal("0.00")}
    assert kpis(tiny, "FY2025Q2", "A")["gmv_qoq"] == pytest.approx(3.3)


BUYER_STATE = (
    "select quarter_start::varchar as q, paid_days, first_quarter_start::varchar as first "
    "from staging.buyer_quarters where shop_id = 'A' order by all"
)


def test_the_buyer_state_of_shop_a_by_hand(published):
    # b1: o0 on 06-20 (Q2), o1 on 07-01 (Q3); b2: o2 and o4 on 07-01, o6 on 07-15 (Q3, two days)
    assert published.query(BUYER_STATE) == [
        ("2024-04-01", 1, "2024-04-01"),  # b1 in Q2
        ("2024-07-01", 1, "2024-04-01"),  # b1 in Q3, first paid in Q2: returning
        ("2024-07-01", 2, "2024-07-01"),  # b2 in Q3: a repeat buyer, new
    ]


def test_a_late_first_payment_moves_the_buyer_state_and_the_later_quarter(tiny):
    from conftest import build_modes

    # A late batch: b2 paid once on 06-25, so b2 is a Q2 buyer too and returning in Q3. The merge
    # counts b2 again (staging.paid_orders merges), and Q3, which reads Q2, is computed again.
    built = tiny
    assert built.run().success
    built.drop(
        "orders/orders_2024-06-25.csv",
        "order_id,shop_id,buyer_id,status,created_at,paid_at,total_amount,paid_amount,refund_amount,is_mobile\n"
        "o7,A,b2,paid,2024-06-25 09:00,2024-06-25 10:00,30.00,30.00,0,true\n",
    )
    result = built.run()
    assert result.success
    assert build_modes(result)["staging/paid_orders"] == "merge"
    assert built.query(BUYER_STATE) == [
        ("2024-04-01", 1, "2024-04-01"),  # b1
        ("2024-04-01", 1, "2024-04-01"),  # b2's late payment
        ("2024-07-01", 1, "2024-04-01"),  # b1
        ("2024-07-01", 2, "2024-04-01"),  # b2, first paid in Q2 now
    ]
    q2, q3 = kpis(built, "2024Q2", "A"), kpis(built, "2024Q3", "A")
    assert (q2["paid_buyers"], q2["buyer_days"], q2["returning_buyers"]) == (2, 2, 0)
    assert (q3["paid_buyers"], q3["buyer_days"], q3["repeat_buyers"]) == (2, 3, 1)
    assert (q3["returning_buyers"], q3["new_buyers"]) == (2, 0)  # was 1 and 1
