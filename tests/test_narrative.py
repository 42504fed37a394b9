"""The 数据总结 rules (assets/lib/narrative.py) on hand-made page rows: each rule where it fires, with
the exact sentence worked out by hand, and where it must stay silent."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from assets.lib.narrative import SummaryRules, draft, growth, shift_month, shift_quarter
from assets.lib.sql import run_script

D = Decimal


def headline(quarter, gmv, **columns):
    row = {"quarter": quarter, "gmv": D(gmv), "target_gmv": None, "target_completion": None, "gmv_qoq": None,
           "gmv_yoy": None, "paid_buyers": None, "aov": None, "conversion_rate": None, "bounce_rate": None,
           "repurchase_rate": None, "refund_rate": None}
    row.update(columns)
    return row


def month(label, gmv, target=None):
    return {"month": label, "gmv": D(gmv), "target_gmv": None if target is None else D(target),
            "target_completion": None if target is None else float(D(gmv) / D(target))}


def channel(group, name, uv_share, roi=None):
    return {"channel_group": group, "channel": name, "uv_share": uv_share, "roi": roi}


def courier(name, share, peak_day, peak, late, returned):
    return {"courier": name, "collected_share": share, "peak_day": peak_day, "peak_day_collected": peak,
            "late_rate": late, "return_rate": returned}


# A shop's 2024Q4 with a year of history. By hand:
#   QoQ (2024Q3 -> 2024Q4): gmv +10%, aov +10%, bounce 40% -> 50% (+25% of itself, +10 pp), refund
#   5% -> 4% (−20%, −1 pp); buyers, conversion, repurchase unchanged.
#   YoY (2023Q4 -> 2024Q4): repurchase 20% -> 30% (+50%), bounce +25%, conversion 2.0% -> 2.5% (+25%),
#   gmv +21%, refund −20%, buyers +10%, aov +10%.
#   Months: 40,000 of 40,000; 50,000 of 45,000; 31,000 of 40,000 (77.5%, 9,000 short): 121,000 of
#   125,000 (96.8%, 4,000 short).
SHOP = {
    "headline": [
        headline("2023Q4", "100000.00", paid_buyers=1000, aov=100.0, conversion_rate=0.02, bounce_rate=0.40,
                 repurchase_rate=0.20, refund_rate=0.05),
        headline("2024Q3", "110000.00", paid_buyers=1100, aov=100.0, conversion_rate=0.025, bounce_rate=0.40,
                 repurchase_rate=0.30, refund_rate=0.05),
        headline("2024Q4", "121000.00", target_gmv=D("125000.00"), target_completion=0.968, gmv_qoq=0.10,
                 gmv_yoy=0.21, paid_buyers=1100, aov=110.0, conversion_rate=0.025, bounce_rate=0.50,
                 repurchase_rate=0.30, refund_rate=0.04),
    ],
    "monthly": [month("2024-10", "40000.00", "40000.00"), month("2024-11", "50000.00", "45000.00"),
                month("2024-12", "31000.00", "40000.00")],
    "monthly_year_before_next": [month("2024-01", "30000.00"), month("2024-02", "20000.00"), month("2024-03", "25000.00")],
    "channels": [channel("search", "手淘搜索", 0.40), channel("content", "淘宝直播", 0.10), channel("content", "逛逛", 0.05),
                 channel("paid", "直通车", 0.30, roi=2.5), channel("paid", "淘宝客", 0.15, roi=4.0)],
    "channels_previous": [channel("search", "手淘搜索", 0.45), channel("content", "淘宝直播", 0.05),
                          channel("content", "逛逛", 0.05), channel("paid", "直通车", 0.30, roi=2.0),
                          channel("paid", "淘宝客", 0.15, roi=4.5)],
    "campaigns": [
        {"shop_id": "s1", "campaign": "双11", "campaign_days": 1, "gmv": D("5000.00"), "baseline_daily_gmv": 1000.0, "uplift": 5.0},
        {"shop_id": "s1", "campaign": "618", "campaign_days": 1, "gmv": D("800.00"), "baseline_daily_gmv": None, "uplift": None},
    ],
    "couriers": [courier("ZTO", 0.6, dt.date(2024, 11, 11), 1200.0, 0.06, 0.01),
                 courier("YTO", 0.4, dt.date(2024, 11, 12), 800.0, 0.02, 0.01)],
    "quality": [{"source": "orders", "files_failed": 1, "rows_rejected": 3, "rows_read": 100},
                {"source": "traffic", "files_failed": 0, "rows_rejected": 0, "rows_read": 50}],
    "checks": [{"check_name": "staging_orders_expectations", "passed": False},
               {"check_name": "quarterly_shop_kpis_key", "passed": True}],
}


def summary(tables=None, shop="s1", rules=None, **changes) -> dict[str, list]:
    tables = {**(SHOP if tables is None else tables), **changes}
    return {p.topic: list(p.sentences) for p in draft("2024Q4", shop, tables, rules or SummaryRules())}


def zh(sentences) -> list[str]:
    return [s.zh for s in sentences]


def en(sentences) -> list[str]:
    return [s.en for s in sentences]


def test_sales_against_target_names_the_months_that_missed_and_by_how_much():
    sales = summary()["sales"]
    assert zh(sales) == [
        "本季度支付金额 ¥121,000.00，目标 ¥125,000.00，目标完成率 96.8%。",
        "未达成目标的月份：2024-12 完成 77.5%（¥31,000.00 / 目标 ¥40,000.00，差 ¥9,000.00）。",
    ]
    assert en(sales) == [
        "GMV was ¥121,000.00 against a target of ¥125,000.00: 96.8% of target.",
        "Months below target: 2024-12 at 77.5% (¥31,000.00 of ¥40,000.00, ¥9,000.00 short).",
    ]
    assert str(sales[0].sources[0]) == "marts.quarterly_shop_kpis [quarter=2024Q4, shop_id=s1]: gmv, target_gmv, target_completion"
    assert str(sales[1].sources[0]) == "marts.monthly_target_tracking [month=2024-12, shop_id=s1]: gmv, target_gmv, target_completion"
    assert sales[1].formulas == ("差 shortfall = target_gmv − gmv",)


def test_sales_without_a_target_says_nothing_about_one_and_every_month_met_is_said():
    now = headline("2024Q4", "121000.00")
    sales = summary(headline=[now], monthly=[month("2024-10", "50000.00")])["sales"]
    assert zh(sales) == ["本季度支付金额 ¥121,000.00。"]  # a month without target is not judged
    met = summary(monthly=[month("2024-10", "40000.00", "40000.00")])["sales"]
    assert zh(met)[1] == "各月均达成目标。"


def test_what_moved_names_the_largest_changes_qoq_and_yoy():
    moves = summary()["moves"]
    assert zh(moves) == [
        "与上季度（2024Q3）相比，跳失率上升 10.0 个百分点（40.0% → 50.0%）；退款率下降 1.0 个百分点（5.0% → 4.0%）；"
        "客单价增长 10.0%（¥100.00 → ¥110.00）。",
        "与去年同期（2023Q4）相比，复购率上升 10.0 个百分点（20.0% → 30.0%）；跳失率上升 10.0 个百分点（40.0% → 50.0%）；"
        "支付转化率上升 0.5 个百分点（2.0% → 2.5%）。",
    ]
    assert en(moves)[0] == ("Against the previous quarter (2024Q3): bounce rate rose 10.0 pp (40.0% → 50.0%); refund rate "
                            "fell 1.0 pp (5.0% → 4.0%); AOV rose 10.0% (¥100.00 → ¥110.00).")
    assert [str(s) for s in moves[0].sources] == [
        "marts.quarterly_shop_kpis [quarter=2024Q4, shop_id=s1]: bounce_rate, refund_rate, aov",
        "marts.quarterly_shop_kpis [quarter=2024Q3, shop_id=s1]: bounce_rate, refund_rate, aov",
    ]


def test_what_moved_follows_its_thresholds():
    one = summary(rules=SummaryRules(top_changes=1))["moves"]
    assert zh(one)[0] == "与上季度（2024Q3）相比，跳失率上升 10.0 个百分点（40.0% → 50.0%）。"
    calm = summary(rules=SummaryRules(large_change=0.6))["moves"]
    assert zh(calm) == [
        "与上季度（2024Q3）相比，各项指标变化均小于 60.0%，变化最大的是跳失率上升 10.0 个百分点（40.0% → 50.0%）。",
        "与去年同期（2023Q4）相比，各项指标变化均小于 60.0%，变化最大的是复购率上升 10.0 个百分点（20.0% → 30.0%）。",
    ]


def test_without_last_year_nothing_is_said_about_yoy_and_without_a_previous_quarter_nothing_moved():
    no_year = summary(headline=SHOP["headline"][1:])
    assert [s.zh[:7] for s in no_year["moves"]] == ["与上季度（20"]
    assert not any("同比" in s.zh or "去年" in s.zh for p in no_year.values() for s in p if "下季度" not in s.zh)
    alone = summary(headline=SHOP["headline"][2:])
    assert "moves" not in alone
    # a metric missing in either quarter is left out, never shown as 0%
    gap = dict(SHOP["headline"][1], bounce_rate=None)
    moves = summary(headline=[SHOP["headline"][0], gap, SHOP["headline"][2]])["moves"]
    assert "跳失率" not in moves[0].zh and not re.search(r"(?<![\d.])0\.0%", moves[0].zh)


def test_channels_large_share_moves_roi_outside_the_band_and_content_share():
    channels = summary()["channels"]
    assert zh(channels) == [
        "与上季度相比，访客占比变化较大的渠道：淘宝直播上升 5.0 个百分点（5.0% → 10.0%）；手淘搜索下降 5.0 个百分点（45.0% → 40.0%）。",
        "付费渠道 ROI 不在健康区间 3–5：直通车 2.50。",
        "内容渠道访客占比合计 15.0%（淘宝直播 10.0%、逛逛 5.0%）。",
    ]
    assert str(channels[1].sources[0]) == "marts.quarterly_channel_kpis [quarter=2024Q4, shop_id=s1, channel_group=paid, channel=直通车]: roi"


def test_channels_below_the_thresholds_and_without_a_previous_quarter():
    calm = summary(rules=SummaryRules(channel_shift=0.06, roi_low=2.0))["channels"]
    assert zh(calm)[:2] == ["各渠道访客占比与上季度相比变化均小于 6.0 个百分点，上升最多的是淘宝直播，下降最多的是手淘搜索。",
                            "付费渠道 ROI 均在健康区间 2–5 内。"]
    flat = [dict(c, uv_share=p["uv_share"]) for c, p in zip(SHOP["channels"], SHOP["channels_previous"])]
    assert zh(summary(channels=flat)["channels"])[0] == "各渠道访客占比与上季度相比变化均小于 2.0 个百分点。"
    assert str(calm[0].sources[0]) == "marts.quarterly_channel_kpis [quarter=2024Q4, shop_id=s1]: uv_share"
    first = summary(channels_previous=[])["channels"]
    assert zh(first)[0].startswith("付费渠道 ROI")
    unpaid = summary(channels=[channel("search", "手淘搜索", 1.0)], channels_previous=[])
    assert "channels" not in unpaid  # no paid, no content channel, nothing to compare


def test_campaigns_a_shop_and_all_shops_and_none_without_a_baseline():
    assert zh(summary()["campaigns"]) == ["双11（1 天）支付金额 ¥5,000.00，是日常日均 ¥1,000.00 的 5.00 倍。"]
    rows = [dict(SHOP["campaigns"][0]), dict(SHOP["campaigns"][0], shop_id="s2", uplift=2.25)]
    assert zh(summary(shop=None, campaigns=rows)["campaigns"]) == ["双11 活动日销售额相对日常日均的提升：s1 5.00 倍、s2 2.25 倍。"]
    assert "campaigns" not in summary(campaigns=SHOP["campaigns"][1:])


def test_logistics_shares_peaks_and_alarms():
    logistics = summary()["logistics"]
    assert zh(logistics) == [
        "各快递揽收占比（快递数据不分店铺）：ZTO 60.0%（峰值日 2024-11-11，1,200 件）、YTO 40.0%（峰值日 2024-11-12，800 件）。",
        "超时率高于 5.0% 的快递：ZTO 6.0%。",
        "各快递退件率均不高于 3.0%。",
    ]
    calm = summary(shop=None, rules=SummaryRules(late_rate_alarm=0.1))["logistics"]
    assert zh(calm)[0].startswith("各快递揽收占比：ZTO")
    assert zh(calm)[1] == "各快递超时率均不高于 10.0%，退件率均不高于 3.0%。"
    no_peak = summary(couriers=[dict(SHOP["couriers"][0], peak_day=None, peak_day_collected=None)])["logistics"][0]
    assert no_peak.zh == "各快递揽收占比（快递数据不分店铺）：ZTO 60.0%。"
    assert str(no_peak.sources[0]) == "staging.courier_days [quarter=2024Q4, courier=ZTO]: collected_share"
    unrated = [dict(c, late_rate=None, return_rate=None) for c in SHOP["couriers"]]
    assert len(summary(couriers=unrated)["logistics"]) == 1  # no rate, no word on rates
    assert "logistics" not in summary(couriers=[])


def test_problems_gather_every_threshold_crossed():
    assert zh(summary()["risks"]) == [
        "季度目标未完成：¥121,000.00 / 目标 ¥125,000.00，完成率 96.8%，差 ¥4,000.00。",
        "环比恶化：跳失率上升 10.0 个百分点（40.0% → 50.0%）。",
        "同比恶化：跳失率上升 10.0 个百分点（40.0% → 50.0%）。",
        "付费渠道投入产出偏离健康区间 3–5：直通车 2.50。",
        "超时率高于 5.0% 的快递：ZTO 6.0%。",
        "orders 有 1 个文件被隔离、3 行被拒绝（共读取 100 行，文件不分店铺）。",
        "未通过的数据检查：staging_orders_expectations。",
    ]


def test_a_file_problem_names_only_what_happened():
    risks = summary(shop=None, quality=[{"source": "traffic", "files_failed": 0, "rows_rejected": 2, "rows_read": 40}],
                    checks=[])["risks"]
    assert zh(risks)[-1] == "traffic 有 2 行被拒绝（共读取 40 行）。"
    assert en(risks)[-1] == "traffic: 2 row(s) rejected of 40 read."


def test_no_problem_is_said_as_such():
    now = headline("2024Q4", "121000.00", target_gmv=D("120000.00"), target_completion=121 / 120)
    risks = summary({"headline": [now]})["risks"]
    assert zh(risks) == ["未发现超出阈值的问题。"]
    assert "late_rate_alarm = 5.0%" in risks[0].provenance


def test_next_quarters_targets_by_the_stated_rule():
    assert zh(summary()["plan"]) == [
        "下季度（2025Q1）建议目标按 去年同期 × (1 + 本季同比)（21.0%）计：2025-01 ¥36,300.00（2024-01 ¥30,000.00）、"
        "2025-02 ¥24,200.00（2024-02 ¥20,000.00）、2025-03 ¥30,250.00（2024-03 ¥25,000.00）。"
    ]
    # without the same quarter a year before the next one: this quarter's months × (1 + QoQ)
    assert zh(summary(monthly_year_before_next=[])["plan"]) == [
        "下季度（2025Q1）建议目标按 本季同位月 × (1 + 本季环比)（10.0%）计：2025-01 ¥44,000.00（2024-10 ¥40,000.00）、"
        "2025-02 ¥55,000.00（2024-11 ¥50,000.00）、2025-03 ¥34,100.00（2024-12 ¥31,000.00）。"
    ]
    # neither growth known (a first quarter): no target is proposed
    now = dict(SHOP["headline"][2], gmv_qoq=None, gmv_yoy=None)
    assert "plan" not in summary(headline=[now])
    # a base month without sales proposes no target (it would be ¥0.00); the rule proposing the most
    # months is taken, here this quarter's three against last year's two
    quiet = [month("2024-01", "30000.00"), month("2024-02", "0.00"), month("2024-03", "25000.00")]
    assert zh(summary(monthly_year_before_next=quiet)["plan"])[0].startswith("下季度（2025Q1）建议目标按 本季同位月")
    assert "2025-02" not in summary(monthly_year_before_next=quiet, monthly=[month("2024-10", "40000.00")])["plan"][0].zh
    # a fall of 100% proposes nothing either
    gone = dict(SHOP["headline"][2], gmv_yoy=-1.0, gmv_qoq=None)
    assert "plan" not in summary(headline=[gone])


def test_a_rate_change_too_small_to_show_is_not_named():
    # refund 0.10% -> 0.12% is +20% of itself, but both show as 0.1%: naming it would read "0.0 个百分点"
    rows = [dict(SHOP["headline"][1], refund_rate=0.0010), dict(SHOP["headline"][2], refund_rate=0.0012)]
    assert "退款率" not in summary(headline=rows)["moves"][0].zh


def test_channel_shifts_at_the_threshold_new_and_dropped_channels_and_the_largest_first():
    # 0.12 − 0.10 is 0.0199999… in floating point: still 2 points
    edge = summary(channels=[channel("search", "A", 0.12), channel("search", "B", 0.88)],
                   channels_previous=[channel("search", "A", 0.10), channel("search", "B", 0.90)])["channels"]
    assert zh(edge) == ["与上季度相比，访客占比变化较大的渠道：A上升 2.0 个百分点（10.0% → 12.0%）；B下降 2.0 个百分点（90.0% → 88.0%）。"]
    # a channel without a row had no visitors; falls come largest first; at most top_changes
    moved = summary(
        channels=[channel("search", "A", 0.50), channel("content", "New", 0.30), channel("paid", "C", 0.20)],
        channels_previous=[channel("search", "A", 0.60), channel("paid", "C", 0.25), channel("other", "Gone", 0.15)],
        rules=SummaryRules(top_changes=3),
    )["channels"][0]
    assert moved.zh == ("与上季度相比，访客占比变化较大的渠道：New上升 30.0 个百分点（无访客 → 30.0%）；Gone下降 15.0 个百分点（15.0% → 无访客）；"
                        "A下降 10.0 个百分点（60.0% → 50.0%）。")
    assert moved.en.startswith("Channels whose visitor share moved most since the previous quarter: New up 30.0 pp (none → 30.0%)")
    assert str(moved.sources[1]) == "marts.quarterly_channel_kpis [quarter=2024Q3, shop_id=s1]: uv_share"  # no row: every row


def test_a_month_with_a_target_of_zero_is_not_judged():
    months = [month("2024-10", "40000.00", "40000.00"), dict(month("2024-11", "5.00"), target_gmv=D("0.00"))]
    assert zh(summary(monthly=months)["sales"])[1] == "各月均达成目标。"
    assert len(summary(monthly=months)["sales"][1].sources) == 1


def test_couriers_that_report_no_rate_are_not_vouched_for():
    partial = [SHOP["couriers"][0] | {"late_rate": 0.01}, SHOP["couriers"][1] | {"late_rate": None, "return_rate": None}]
    assert zh(summary(couriers=partial)["logistics"])[1] == "各快递超时率均不高于 5.0%，退件率均不高于 3.0%（YTO 无此数据）。"


def test_an_empty_page_has_no_summary():
    assert draft("2024Q4", None, {}, SummaryRules()) == []


def test_every_sentence_names_a_source_or_its_thresholds():
    for sentences in summary().values():
        for sentence in sentences:
            assert sentence.sources or sentence.formulas, sentence.zh
            assert sentence.zh.endswith("。") and sentence.en.endswith("."), sentence


@pytest.mark.parametrize("now, before", [(110, 100), (0, 100), (5, 0), (None, 1), (1, None), (-5, 10), (0.5, 0.4)])
def test_growth_is_the_warehouses_rate_growth(now, before):
    con = duckdb.connect()
    run_script(con, "setup/create_macros")
    run_script(con, "setup/create_metrics")
    (expected,) = con.execute("select rate_growth($a::double, $b::double)", {"a": now, "b": before}).fetchone()
    got = growth(now, before)
    assert got == pytest.approx(expected) if expected is not None else got is None


@pytest.mark.parametrize("label, n, shifted", [
    ("2024Q4", 1, "2025Q1"), ("2024Q1", -1, "2023Q4"), ("2024Q4", -4, "2023Q4"), ("FY2025Q1", -1, "FY2024Q4"),
    ("2024Q2", -3, "2023Q3"),
])
def test_shift_quarter(label, n, shifted):
    assert shift_quarter(label, n) == shifted


def test_shift_month():
    assert (shift_month("2024-10", 3), shift_month("2024-01", 12), shift_month("2024-12", 1)) == ("2025-01", "2025-01", "2025-01")


def test_the_band_must_be_a_band():
    with pytest.raises(ValueError, match="high end 5.0 is below its low end 6.0"):
        SummaryRules(roi_low=6)


def test_docs_list_every_threshold_with_its_variable_and_default():
    from assets.lib.settings import VARIABLES

    text = (Path(__file__).resolve().parents[1] / "docs" / "report.md").read_text(encoding="utf-8")
    for name, field in SummaryRules.model_fields.items():
        row = f"| `report_{name}` | `{VARIABLES['report_' + name]}` | `{field.default}` |"
        assert row in text, row
