"""Every quarterly table of contract §6 on tests/fixtures/marts, expected rows worked out by hand.

Shop A, 2024Q3, paid orders:
  m1 b1 09-01 100.00 直通车 浙江 杭州 西湖区, 2 items 茶叶, ZTO shipped +6 h, completed +48 h
  m2 b2 09-02  50.00 手淘搜索 (refund 10) same region, 1 item 茶叶, YUNDA +2 h, +48 h
  m3 b3 09-29  30.00 no channel, 河南 周口 郸城县 via 村淘1号站, 3 items 茶具, not shipped
  m4 b3 09-30  20.00 `Weird Channel` (unmapped), same county via 村淘2号站, 1 item 茶具,
     courier `Pigeon Post` (unmapped) +12 h, not completed
Traffic 09-01: 直通车 pv 100 uv 40 spend 50; 手淘搜索 pv 200 uv 60.
Courier: 中通 华东 100 parcels over 09-29..10-05 (7 days): Q3 gets round(100·2/7) = 29, Q4 71;
  delivered 70 -> 20 | 50; returned 7 -> 2 | 5; late 3 -> 1 | 2. For the peak day the 100 are spread
  evenly, 100/7 a day, so the earliest day of each quarter wins the tie.
  韵达 华东 10 on 09-30 and 40 on 10-01 (no delivered); 中通快递 华北 5 on 10-03 (delivered 5).
Campaign 秋促 09-29..09-30 (reference/campaigns.csv). Targets: 2024-08 100, 2024-09 300, 2025-01 50.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import pytest

from conftest import FIXTURES, Deployment

pytestmark = pytest.mark.slow
D = Decimal


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    deployment = Deployment(tmp_path_factory.mktemp("marts"))
    shutil.copytree(FIXTURES / "marts", deployment.raw)
    assert deployment.run().success
    return deployment


def table(deployment, name, order="all"):
    return deployment.rows(f"select * from marts.{name} order by {order}")


def assert_rows(actual: list[dict], expected: list[dict]):
    assert len(actual) == len(expected), actual
    for got, want in zip(actual, expected):
        assert list(got) == list(want), "columns differ"
        for column, value in want.items():
            if isinstance(value, float):
                assert got[column] == pytest.approx(value, rel=1e-12), column
            else:
                assert got[column] == value, (column, got)


def test_channel_kpis(published):
    base = {"quarter": "2024Q3", "shop_id": "A"}
    assert_rows(table(published, "quarterly_channel_kpis", "channel_group, channel"), [
        {**base, "channel_group": "other", "channel": "Weird Channel", "pv": 0, "uv_days": 0, "uv_share": 0.0,
         "ad_spend": D("0.00"), "gmv": D("20.00"), "paid_buyers": 1, "buyer_days": 1, "conversion_rate": None, "roi": None},
        {**base, "channel_group": "other", "channel": "unknown", "pv": 0, "uv_days": 0, "uv_share": 0.0,
         "ad_spend": D("0.00"), "gmv": D("30.00"), "paid_buyers": 1, "buyer_days": 1, "conversion_rate": None, "roi": None},
        {**base, "channel_group": "paid", "channel": "直通车", "pv": 100, "uv_days": 40, "uv_share": 0.4,
         "ad_spend": D("50.00"), "gmv": D("100.00"), "paid_buyers": 1, "buyer_days": 1, "conversion_rate": 1 / 40, "roi": 2.0},
        {**base, "channel_group": "search", "channel": "手淘搜索", "pv": 200, "uv_days": 60, "uv_share": 0.6,
         "ad_spend": D("0.00"), "gmv": D("50.00"), "paid_buyers": 1, "buyer_days": 1, "conversion_rate": 1 / 60, "roi": None},
    ])


def test_the_unmapped_channel_and_courier_are_reported(published):
    assert published.query("select kind, source, value, rows from audit.unmapped_values order by all") == [
        ("channel", "orders", "Weird Channel", 1),
        ("courier", "orders", "Pigeon Post", 1),
    ]


def test_monthly_target_tracking_with_calendar_years(published):
    assert_rows(table(published, "monthly_target_tracking", "month"), [
        {"month": "2024-08", "shop_id": "A", "gmv": D("0.00"), "target_gmv": D("100.00"), "target_completion": 0.0,
         "ytd_gmv": D("0.00"), "ytd_target_gmv": D("100.00")},
        {"month": "2024-09", "shop_id": "A", "gmv": D("200.00"), "target_gmv": D("300.00"), "target_completion": 2 / 3,
         "ytd_gmv": D("200.00"), "ytd_target_gmv": D("400.00")},
        {"month": "2025-01", "shop_id": "A", "gmv": D("0.00"), "target_gmv": D("50.00"), "target_completion": 0.0,
         "ytd_gmv": D("0.00"), "ytd_target_gmv": D("50.00")},  # a new year starts the sums again
    ])


def test_campaign_kpis(published):
    # baseline: 09-01..09-28 (28 days, none in a campaign) sold 100 + 50 -> 150 / 28 a day
    assert_rows(table(published, "quarterly_campaign_kpis"), [
        {"quarter": "2024Q3", "shop_id": "A", "campaign": "秋促", "campaign_days": 2, "gmv": D("50.00"),
         "paid_orders": 2, "baseline_daily_gmv": 150 / 28, "uplift": (50 / 2) / (150 / 28),
         "collected": 14 + 15 + 10},
    ])


def test_courier_kpis_split_a_period_across_the_quarter_boundary(published):
    rows = table(published, "quarterly_courier_kpis", "quarter, courier, region")
    common = {"complaints": 0}
    assert_rows(rows, [
        {"quarter": "2024Q3", "courier": "YUNDA", "region": "华东", "collected": 10, "delivered": None,
         "returned": 0, "late": 0, **common, "collected_share": 10 / 39, "peak_day": dt.date(2024, 9, 30),
         "peak_day_collected": 10.0, "avg_daily_collected": 10.0, "peak_ratio": 1.0, "late_rate": None, "return_rate": None},
        {"quarter": "2024Q3", "courier": "ZTO", "region": "华东", "collected": 29, "delivered": 20,
         "returned": 2, "late": 1, **common, "collected_share": 29 / 39, "peak_day": dt.date(2024, 9, 29),
         "peak_day_collected": 100 / 7, "avg_daily_collected": 14.5, "peak_ratio": (100 / 7) / 14.5, "late_rate": 0.05,
         "return_rate": 0.1},
        {"quarter": "2024Q4", "courier": "YUNDA", "region": "华东", "collected": 40, "delivered": None,
         "returned": 0, "late": 0, **common, "collected_share": 40 / 111, "peak_day": dt.date(2024, 10, 1),
         "peak_day_collected": 40.0, "avg_daily_collected": 40.0, "peak_ratio": 1.0, "late_rate": None, "return_rate": None},
        {"quarter": "2024Q4", "courier": "ZTO", "region": "华东", "collected": 71, "delivered": 50,
         "returned": 5, "late": 2, **common, "collected_share": 71 / 111, "peak_day": dt.date(2024, 10, 1),
         "peak_day_collected": 100 / 7, "avg_daily_collected": 71 / 5, "peak_ratio": (100 / 7) / (71 / 5), "late_rate": 0.04,
         "return_rate": 0.1},
        {"quarter": "2024Q4", "courier": "ZTO", "region": "华北", "collected": 5, "delivered": 5,
         "returned": 0, "late": 0, **common, "collected_share": 1.0, "peak_day": dt.date(2024, 10, 3),
         "peak_day_collected": 5.0, "avg_daily_collected": 5.0, "peak_ratio": 1.0, "late_rate": 0.0, "return_rate": 0.0},
    ])
    # the quarters of a split period add up to its total
    assert published.query(
        "select sum(collected) from marts.quarterly_courier_kpis where courier = 'ZTO' and region = '华东'"
    ) == [(100,)]


def test_courier_service(published):
    assert_rows(table(published, "quarterly_courier_service", "courier"), [
        {"quarter": "2024Q3", "courier": "Pigeon Post", "shipped_orders": 1, "median_hours_paid_to_shipped": 12.0,
         "median_hours_shipped_to_completed": None},
        {"quarter": "2024Q3", "courier": "YUNDA", "shipped_orders": 1, "median_hours_paid_to_shipped": 2.0,
         "median_hours_shipped_to_completed": 48.0},
        {"quarter": "2024Q3", "courier": "ZTO", "shipped_orders": 1, "median_hours_paid_to_shipped": 6.0,
         "median_hours_shipped_to_completed": 48.0},
    ])


def test_region_kpis_with_rural_stations(published):
    base = {"quarter": "2024Q3", "shop_id": "A"}
    assert_rows(table(published, "quarterly_region_kpis", "province"), [
        {**base, "province": "河南省", "city": "周口市", "district": "郸城县", "paid_orders": 2, "gmv": D("50.00"),
         "paid_buyers": 1, "rural_paid_orders": 2, "rural_gmv": D("50.00"), "rural_paid_buyers": 1, "rural_station_count": 2},
        {**base, "province": "浙江省", "city": "杭州市", "district": "西湖区", "paid_orders": 2, "gmv": D("150.00"),
         "paid_buyers": 2, "rural_paid_orders": 0, "rural_gmv": D("0.00"), "rural_paid_buyers": 0, "rural_station_count": 0},
    ])


def test_category_kpis(published):
    assert_rows(table(published, "quarterly_category_kpis", "category"), [
        {"quarter": "2024Q3", "shop_id": "A", "category": "茶具", "paid_orders": 2, "items": 4, "gmv": D("50.00"),
         "refund_rate": 0.0},
        {"quarter": "2024Q3", "shop_id": "A", "category": "茶叶", "paid_orders": 2, "items": 3, "gmv": D("150.00"),
         "refund_rate": 10 / 150},
    ])


def test_one_definition_per_metric_across_tables(published):
    """The shop's gmv equals the sum over its channels, regions and categories."""
    for other in ("quarterly_channel_kpis", "quarterly_region_kpis", "quarterly_category_kpis"):
        assert published.query(
            f"select (select sum(gmv) from marts.quarterly_shop_kpis) = (select sum(gmv) from marts.{other})"
        ) == [(True,)], other


def test_every_published_table_and_column_carries_a_bilingual_comment(published):
    missing = published.query(
        "select table_name || '.' || column_name from duckdb_columns() "
        "where schema_name = 'marts' and (comment is null or comment not like '% — %')"
    )
    assert missing == []
    tables = published.query("select table_name, comment from duckdb_tables() where schema_name = 'marts'")
    assert len(tables) == 9 and all(" — " in (c or "") for _, c in tables)


def test_fiscal_years_to_date_follow_the_setting(tmp_path):
    deployment = Deployment(tmp_path)
    shutil.copytree(FIXTURES / "marts", deployment.raw)
    assert deployment.run(fiscal_year_start_month=4).success
    rows = deployment.query("select month, ytd_gmv, ytd_target_gmv from marts.monthly_target_tracking order by month")
    assert rows == [("2024-08", D("0.00"), D("100.00")), ("2024-09", D("200.00"), D("400.00")),
                    ("2025-01", D("200.00"), D("450.00"))]  # FY2025 runs 2024-04 .. 2025-03
    quarters = {q for (q,) in deployment.query("select quarter from marts.quarterly_courier_kpis")}
    assert quarters == {"FY2025Q2", "FY2025Q3"}


def test_a_channel_spelled_in_two_cases_counts_once(tmp_path):
    deployment = Deployment(tmp_path)
    deployment.drop("traffic/a_2024-07-01.csv", "date,shop_id,channel,pv,uv\n2024-07-01,A,iFashion,80,50\n")
    deployment.drop("traffic/b_2024-07-01.csv", "date,shop_id,channel,pv,uv\n2024-07-01,A,IFASHION,90,50\n")
    assert deployment.run().success
    assert deployment.query("select uv_days, pv from marts.quarterly_shop_kpis") == [(50, 90)]  # b.csv wins


def test_the_peak_day_spreads_a_period_evenly(tmp_path):
    deployment = Deployment(tmp_path)
    deployment.drop("courier/week_2024-07-07.csv", "period_start,period_end,courier,collected\n2024-07-01,2024-07-07,中通,10\n")
    assert deployment.run().success
    assert deployment.query("select peak_day, peak_day_collected, peak_ratio from marts.quarterly_courier_kpis") == [
        (dt.date(2024, 7, 1), pytest.approx(10 / 7), pytest.approx(1.0))
    ]


def test_a_shop_with_traffic_but_no_sales_still_gets_its_campaign_rows(tmp_path):
    deployment = Deployment(tmp_path)
    deployment.drop("traffic/t_2024-11-12.csv", "date,shop_id,channel,pv,uv\n2024-11-11,B,直通车,10,5\n")
    assert deployment.run().success
    rows = deployment.query("select quarter, shop_id, campaign, gmv, uplift from marts.quarterly_campaign_kpis order by all")
    assert rows == [("2024Q4", "B", "双11", D("0.00"), None), ("2024Q4", "B", "双12", D("0.00"), None)]
