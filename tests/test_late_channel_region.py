"""Buyers by channel and by region, worked out by hand on the tiny fixture plus one late file that
reaches the marts through the merge path of staging.paid_orders.

Shop A's paid orders before the late file (tests/fixtures/tiny): o0 b1 06-20 (Q2); o1 b1, o2 b2,
o4 b2 on 07-01 and o6 b2 on 07-15 (Q3); no channel and no region on any of them. The late file:
  o8  b1 07-20 直通车   浙江省 杭州市 西湖区, no station
  o9  b1 07-21 直通车   浙江省 杭州市 西湖区, station S1
  o10 b5 07-21 手淘搜索 浙江省 杭州市 西湖区, station S1
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

LATE = (
    "order_id,shop_id,buyer_id,status,created_at,paid_at,total_amount,paid_amount,refund_amount,is_mobile,"
    "channel,province,city,district,rural_station_id\n"
    "o8,A,b1,paid,2024-07-20 09:00,2024-07-20 10:00,60.00,60.00,0,true,直通车,浙江省,杭州市,西湖区,\n"
    "o9,A,b1,paid,2024-07-21 09:00,2024-07-21 10:00,40.00,40.00,0,true,直通车,浙江省,杭州市,西湖区,S1\n"
    "o10,A,b5,paid,2024-07-21 11:00,2024-07-21 11:30,30.00,30.00,0,true,手淘搜索,浙江省,杭州市,西湖区,S1\n"
)


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    import shutil

    from conftest import FIXTURES, Deployment, build_modes

    deployment = Deployment(tmp_path_factory.mktemp("late-file"))
    shutil.copytree(FIXTURES / "tiny", deployment.raw)
    assert deployment.run().success
    deployment.drop("orders/orders_2024-07-21.csv", LATE)
    result = deployment.run()
    assert result.success
    assert build_modes(result)["staging/paid_orders"] == "merge"
    return deployment


def test_buyers_and_buyer_days_by_channel(merged):
    kpis = {
        channel: (buyers, days)
        for channel, buyers, days in merged.query(
            "select channel, paid_buyers, buyer_days from marts.quarterly_channel_kpis "
            "where quarter = '2024Q3' and shop_id = 'A' and (paid_buyers > 0 or buyer_days > 0)"
        )
    }
    no_channel = set(kpis) - {"直通车", "手淘搜索"}
    assert len(no_channel) == 1  # the orders without a channel, under one name
    (unknown,) = no_channel
    # unknown: b1 on 07-01, b2 on 07-01 and 07-15; 直通车: b1 on 07-20 and 07-21; 手淘搜索: b5 on 07-21
    assert kpis == {unknown: (2, 3), "直通车": (1, 2), "手淘搜索": (1, 1)}


def test_buyers_and_rural_buyers_by_region(merged):
    rows = merged.rows(
        "select district, paid_orders, paid_buyers, rural_paid_orders, rural_paid_buyers, rural_station_count "
        "from marts.quarterly_region_kpis where quarter = '2024Q3' and shop_id = 'A' order by district nulls first"
    )
    assert rows == [
        # the orders without a region are a region of their own: o1, o2, o4, o6 of b1 and b2
        {"district": None, "paid_orders": 4, "paid_buyers": 2, "rural_paid_orders": 0,
         "rural_paid_buyers": 0, "rural_station_count": 0},
        # b1 (o8 without a station, o9 through S1) and b5 (o10 through S1)
        {"district": "西湖区", "paid_orders": 3, "paid_buyers": 2, "rural_paid_orders": 2,
         "rural_paid_buyers": 2, "rural_station_count": 1},
    ]
