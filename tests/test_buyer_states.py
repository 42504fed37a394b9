"""The distinct-buyer states by channel and by region, worked out by hand on the tiny fixture plus
one late file, reached through the merge path of staging.paid_orders.

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

    deployment = Deployment(tmp_path_factory.mktemp("states"))
    shutil.copytree(FIXTURES / "tiny", deployment.raw)
    assert deployment.run().success
    deployment.drop("orders/orders_2024-07-21.csv", LATE)
    result = deployment.run()
    assert result.success
    assert build_modes(result)["staging/paid_orders"] == "merge"
    return deployment


def test_the_channel_state_and_the_channel_kpis(merged):
    state = merged.query(
        "select quarter_start::varchar, channel, buyer_id, paid_days from staging.channel_buyers "
        "where shop_id = 'A' order by all"
    )
    no_channel = {channel for _, channel, _, _ in state} - {"直通车", "手淘搜索"}
    assert len(no_channel) == 1  # the orders without a channel, under one name
    (unknown,) = no_channel
    b1, b2, b5 = (merged.query("select buyer_id from staging.paid_orders where order_id = ?", [o])[0][0]
                  for o in ("o1", "o2", "o10"))
    assert sorted(state) == sorted([
        ("2024-04-01", unknown, b1, 1),  # o0
        ("2024-07-01", unknown, b1, 1),  # o1
        ("2024-07-01", unknown, b2, 2),  # o2, o4 on 07-01; o6 on 07-15
        ("2024-07-01", "直通车", b1, 2),  # o8 07-20, o9 07-21
        ("2024-07-01", "手淘搜索", b5, 1),  # o10
    ])
    kpis = {
        channel: (buyers, days)
        for channel, buyers, days in merged.query(
            "select channel, paid_buyers, buyer_days from marts.quarterly_channel_kpis "
            "where quarter = '2024Q3' and shop_id = 'A' and (paid_buyers > 0 or buyer_days > 0)"
        )
    }
    assert kpis == {unknown: (2, 3), "直通车": (1, 2), "手淘搜索": (1, 1)}


def test_the_region_state_and_the_region_kpis(merged):
    state = merged.query(
        "select quarter_start::varchar, district, rural from staging.region_buyers "
        "where shop_id = 'A' order by all"
    )
    assert state == [
        ("2024-04-01", None, False),  # b1: o0
        ("2024-07-01", "西湖区", True),  # b1: o8 without a station, o9 through S1
        ("2024-07-01", "西湖区", True),  # b5: o10 through S1
        ("2024-07-01", None, False),  # b1: o1
        ("2024-07-01", None, False),  # b2: o2, o4, o6
    ]
    rows = merged.rows(
        "select district, paid_orders, paid_buyers, rural_paid_orders, rural_paid_buyers, rural_station_count "
        "from marts.quarterly_region_kpis where quarter = '2024Q3' and shop_id = 'A' order by district nulls first"
    )
    assert rows == [
        # the orders without a region are a region of their own: o1, o2, o4, o6 of b1 and b2
        {"district": None, "paid_orders": 4, "paid_buyers": 2, "rural_paid_orders": 0,
         "rural_paid_buyers": 0, "rural_station_count": 0},
        {"district": "西湖区", "paid_orders": 3, "paid_buyers": 2, "rural_paid_orders": 2,
         "rural_paid_buyers": 2, "rural_station_count": 1},
    ]
