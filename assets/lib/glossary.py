"""The definition of every published table and column, in Chinese and English (contract §6).

One entry per name: a metric means the same in every table that has it. The comments in the
analysts' file and the glossary in docs/ are both made from this module.
"""

from __future__ import annotations

import duckdb

from .sql import fetch_sql, identifier, string_literal

TABLES: dict[str, tuple[str, str]] = {
    "marts.quarterly_shop_kpis": (
        "季度店铺指标",
        "One row per (quarter, shop_id) with any order, traffic or target data. Order facts land in "
        "the quarter of paid_at, traffic in the quarter of its date.",
    ),
    "marts.quarterly_channel_kpis": (
        "季度渠道指标",
        "One row per (quarter, shop_id, channel_group, channel): the channel's traffic and the paid "
        "orders attributed to it (matched on the channel name).",
    ),
    "marts.monthly_target_tracking": (
        "月度目标跟踪",
        "One row per (month, shop_id): sales against the monthly target, and the (fiscal) year to date.",
    ),
    "marts.quarterly_campaign_kpis": (
        "大促活动指标",
        "One row per (quarter, shop_id, campaign) for campaign days in a quarter where the shop has any "
        "order, traffic or target data: sales on campaign days against the 28 days before.",
    ),
    "marts.quarterly_courier_kpis": (
        "快递揽派指标",
        "One row per (quarter, courier, region) from courier files; multi-day periods split by days in "
        "whole parcels.",
    ),
    "marts.quarterly_courier_service": (
        "快递服务时效",
        "One row per (quarter, courier) from orders shipped in the quarter (by shipped_at) with it.",
    ),
    "marts.quarterly_region_kpis": (
        "地域与农村淘宝",
        "One row per (quarter, shop_id, province, city, district): sales by delivery region, and "
        "through rural service stations (村淘服务站).",
    ),
    "marts.quarterly_category_kpis": ("类目指标", "One row per (quarter, shop_id, category)."),
    "staging.paid_orders": (
        "支付订单", "Paid orders with their day and (fiscal) quarter of payment; the buyer as buyer_key."),
    "staging.buyers": (
        "买家编号",
        "One row per buyer with a paid order: the pseudonymised buyer_id and the integer buyer_key the "
        "marts count distinct buyers by.",
    ),
    "staging.buyer_quarters": (
        "买家季度状态",
        "One row per (shop_id, quarter_start, buyer_key) with a paid order: the distinct-buyer state the "
        "shop KPIs count buyers from, updated for the buyers whose paid orders changed.",
    ),
    "staging.channel_quarters": (
        "渠道季度销售状态",
        "One row per (quarter_start, shop_id, channel_group, channel) with a paid order: its sales and "
        "distinct buyers, kept with staging.paid_orders (moved by what each merge changed) for the channel KPIs.",
    ),
    "staging.region_quarters": (
        "地区季度销售状态",
        "One row per (quarter, shop_id, province, city, district) with a paid order: its sales, buyers and "
        "rural stations, kept with staging.paid_orders (moved by what each merge changed) for the region KPIs.",
    ),
    "staging.paid_days": (
        "日销售状态",
        "One row per (paid_day, shop_id, category, is_mobile) with a paid order: its orders, items, gmv and "
        "refunds summed, kept with staging.paid_orders (moved by what each merge changed) for the shop, "
        "category, campaign and target marts.",
    ),
    "staging.courier_days": ("快递日分摊", "Courier rows spread over their days in whole parcels."),
    "staging.channels": ("渠道分组", "Channel -> group: defaults replaced by reference/channels.csv."),
    "staging.couriers": ("快递别名", "Courier aliases in the order they are tried."),
    "staging.courier_codes": ("快递公司", "Courier codes with their Chinese name and group (四通一达)."),
    "staging.courier_names": ("快递名称映射", "Every courier name seen, with its code."),
    "staging.campaigns": ("大促日历", "Campaign days: defaults replaced by reference/campaigns.csv."),
    "staging.shops": ("店铺别名", "Other spellings of a shop -> its shop_id."),
    "audit.unmapped_values": ("未映射值", "Courier names and channels no reference row maps, with row counts."),
    "audit.restatements": ("重述记录", "Per run, each quarter of a mart whose published numbers changed, and why."),
    "staging.orders": ("订单当前状态", "Each order's current state: its latest loaded row."),
    "staging.traffic": ("流量明细", "Daily traffic per shop, channel and device, de-duplicated."),
    "staging.courier": ("快递揽派", "Parcel counts per courier, region and period, de-duplicated."),
    "staging.targets": ("月度目标", "Monthly sales target per shop."),
    "audit.loads": ("加载记录", "One row per file seen by each run; rows_read = rows_loaded + rows_rejected."),
    "audit.rejects": ("拒收行", "Rows that broke a contract rule, with file, line, reason and masked raw line."),
}

COLUMNS: dict[str, tuple[str, str]] = {
    "quarter": ("季度", "Quarter label: `2024Q3` (calendar) or `FY2025Q1` (fiscal year setting)."),
    "quarter_start": ("季度开始日", "First day of the quarter."),
    "shop_id": ("店铺", "Shop id after reference/shops.csv aliases; `default` when a file has none."),
    "gmv": ("支付金额", "Σ paid_amount of paid orders (paid_at set), in the quarter of paid_at. CNY."),
    "refund_amount": ("退款金额", "Σ refund_amount of those orders, counted in the quarter of payment. CNY."),
    "net_sales": ("净销售额", "gmv − refund_amount. CNY."),
    "refund_rate": ("退款率", "refund_amount / gmv; by amount and quarter of payment, unlike 生意参谋's."),
    "paid_orders": ("支付订单数", "Count of paid orders."),
    "paid_buyers": ("支付买家数", "Distinct buyers with ≥ 1 paid order in the quarter."),
    "aov": ("客单价", "gmv / paid_buyers."),
    "avg_order_value": ("笔单价", "gmv / paid_orders."),
    "buyer_days": ("支付买家天数", "Σ over days of the distinct buyers who paid that day."),
    "pv": ("浏览量", "Σ pv of the quarter's traffic rows."),
    "uv_days": (
        "访客数(日累计)",
        "Σ uv of the quarter's traffic rows: visitor-days per channel and device, not de-duplicated "
        "across days or channels (生意参谋's exports cannot be).",
    ),
    "conversion_rate": ("支付转化率", "buyer_days / uv_days."),
    "uv_value": ("UV价值", "gmv / uv_days."),
    "bounce_rate": ("跳失率", "Σ bounced_visits / Σ visits over the rows that give a bounce figure."),
    "mobile_uv_share": ("无线访客占比", "uv_days of mobile rows / uv_days of mobile and pc rows."),
    "mobile_gmv_share": ("无线成交占比", "gmv of mobile orders / gmv of orders whose device is known."),
    "buyer_key": ("买家编号", "Integer key of the buyer in staging.buyers (one per pseudonymised buyer_id)."),
    "paid_days": ("支付天数", "Distinct days (China time) the buyer paid on in the quarter."),
    "first_quarter_start": ("首购季度", "First day of the quarter of the buyer's first paid order in the shop."),
    "repeat_buyers": ("复购买家数", "Paid buyers who paid on ≥ 2 distinct days in the quarter."),
    "repurchase_rate": ("复购率", "repeat_buyers / paid_buyers."),
    "returning_buyers": ("老买家数", "Paid buyers with a paid order in the same shop before the quarter began."),
    "new_buyers": ("新买家数", "paid_buyers − returning_buyers."),
    "ad_spend": ("推广花费", "Σ ad_spend of the quarter's traffic rows. CNY."),
    "roi": ("投入产出比", "gmv / ad_spend; the plan's healthy band is 3–5."),
    "target_gmv": ("目标", "Σ of the quarter's monthly targets when every month has one, else null. CNY."),
    "target_completion": ("目标完成率", "gmv / target_gmv."),
    "gmv_qoq": ("环比", "gmv / gmv of the previous quarter − 1; null without that quarter or when it is 0."),
    "gmv_yoy": ("同比", "gmv / gmv of the same quarter a year earlier − 1; null without it or when it is 0."),
    "channel": ("渠道", "Channel name (the reference spelling when mapped); `unknown` for orders without one."),
    "channel_group": ("渠道分组", "search, paid, content, recommendation, promotion, external, direct, or other."),
    "uv_share": ("访客占比", "uv_days of the channel / uv_days of the shop in the quarter."),
    "month": ("月份", "Calendar month, `YYYY-MM`."),
    "ytd_gmv": ("年累计支付金额", "Σ gmv of the (fiscal) year's months up to this one. CNY."),
    "ytd_target_gmv": ("年累计目标", "Σ of the (fiscal) year's monthly targets up to this month. CNY."),
    "campaign": ("活动", "Campaign name from staging.campaigns (双11, 双12, 618 by default)."),
    "campaign_days": ("活动天数", "Days of the campaign in the quarter."),
    "baseline_daily_gmv": (
        "日常日均支付金额",
        "Mean daily gmv of the 28 calendar days before the campaign starts, leaving out days inside any "
        "campaign; a day without sales counts as 0.",
    ),
    "uplift": ("活动提升倍数", "(gmv / campaign_days) / baseline_daily_gmv."),
    "collected": ("揽收量", "Parcels collected (for a campaign: on its days, all couriers and regions)."),
    "delivered": ("派送量", "Parcels delivered."),
    "returned": ("退件数", "Parcels returned."),
    "late": ("超时件数", "Parcels delivered late."),
    "complaints": ("投诉数", "Complaints."),
    "courier": ("快递公司", "Courier code (ZTO, YTO, STO, YUNDA, BEST, SF, EMS …), or the name as given when unmapped."),
    "region": ("区域", "Region of the courier figures; 全国 when the file gives none."),
    "collected_share": ("揽收占比", "collected / collected of all couriers in the same region and quarter."),
    "peak_day": ("峰值日", "The day with the most parcels collected (a period spread evenly over its days; earliest on a tie)."),
    "peak_day_collected": ("峰值日揽收量", "Parcels collected on peak_day."),
    "avg_daily_collected": ("日均揽收量", "collected / distinct days covered by the rows in the quarter."),
    "peak_ratio": ("峰值倍数", "peak_day_collected / avg_daily_collected."),
    "late_rate": ("超时率", "late / delivered, over the rows that give delivered."),
    "return_rate": ("退件率", "returned / delivered, over the rows that give delivered."),
    "shipped_orders": ("发货订单数", "Orders shipped in the quarter (by shipped_at) with the courier."),
    "median_hours_paid_to_shipped": ("付款到发货时长中位数", "Median hours from paid_at to shipped_at."),
    "median_hours_shipped_to_completed": ("发货到收货时长中位数", "Median hours from shipped_at to completed_at, over orders completed."),
    "province": ("省份", "Province of the delivery address, by its full official name."),
    "city": ("城市", "City of the delivery address."),
    "district": ("区县", "District or county of the delivery address."),
    "rural_paid_orders": ("村淘订单数", "Paid orders placed through a rural service station."),
    "rural_gmv": ("村淘支付金额", "gmv of those orders. CNY."),
    "rural_paid_buyers": ("村淘买家数", "Distinct buyers of those orders."),
    "rural_station_count": ("村淘服务站数", "Distinct rural service stations with a paid order."),
    "category": ("类目", "Product category as exported."),
    "items": ("商品件数", "Σ item_count of paid orders."),
}


def comment_text(zh: str, en: str) -> str:
    return f"{zh} — {en}"


def apply_comments(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """Comment a table and every column the glossary defines; returns the columns it does not.

    Only comments that differ are written: a comment changes the table's catalog entry, and the
    next checkpoint then rewrites the metadata of every commented table (0.65 s for publish's
    checkpoint at 10 M orders when every table was commented again, 0.00 s when none was)."""
    return apply_all_comments(con, [f"{schema}.{table}"])[f"{schema}.{table}"]


def apply_all_comments(con: duckdb.DuckDBPyConnection, tables: list[str]) -> dict[str, list[str]]:
    """`apply_comments` for each of `tables` (schema.name) that exists, from one read of the
    catalog; returns each one's columns the glossary does not define."""
    catalog: dict[str, list[tuple[str | None, str | None]]] = {}
    for schema, table, column, comment, _ in fetch_sql(con, "audit/catalog_comments", {"tables": list(tables)}):
        catalog.setdefault(f"{schema}.{table}", []).append((column, comment))
    undefined: dict[str, list[str]] = {}
    for qualified in tables:
        if qualified not in catalog:
            continue
        schema, table = qualified.split(".")
        undefined[qualified] = []
        for column, comment in catalog[qualified]:
            if column is None:
                text = comment_text(*TABLES[qualified])
                if comment != text:
                    con.execute(f"comment on table {identifier(schema)}.{identifier(table)} is {string_literal(text)}")
            elif column not in COLUMNS:
                undefined[qualified].append(column)
            else:
                text = comment_text(*COLUMNS[column])
                if comment != text:
                    con.execute(
                        f"comment on column {identifier(schema)}.{identifier(table)}.{identifier(column)} is {string_literal(text)}"
                    )
    return undefined


def markdown() -> str:
    """docs/metrics.md: the same definitions the published file carries as comments."""
    lines = [
        "# Metric glossary (指标口径)",
        "",
        "Generated by `taobao-ops glossary` from `assets/lib/glossary.py`, the module that also writes",
        "the comments of every published table and column; a test fails when this page and the code differ.",
        "",
        "## Tables",
        "",
        "| table | 中文 | definition |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | {zh} | {en} |" for name, (zh, en) in TABLES.items()]
    lines += ["", "## Columns", "", "| column | 中文 | definition |", "|---|---|---|"]
    lines += [f"| `{name}` | {zh} | {en} |" for name, (zh, en) in COLUMNS.items()]
    return "\n".join(lines) + "\n"
