"""The definition of every published table and column, in Chinese and English (contract §6).

One entry per name: a metric means the same in every table that has it. The comments in the
analysts' file and the glossary in docs/ are both made from this module.
"""

from __future__ import annotations

from typing import NamedTuple

import duckdb

from .sql import fetch_sql, identifier, string_literal


class Column(NamedTuple):
    """A published column: its name in Chinese, its definition in English, the macro of
    sql/setup/create_metrics.sql that computes it (a metric's one definition: the marts, the report
    and the checks use it; `metric_state_x` counts the same as `metric_x` from a state table), and
    how the report and the terminal show its values (a key of assets/lib/formats.py's FORMATS)."""

    zh: str
    en: str
    defined_by: str | None = None
    shown_as: str = "text"

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
    "marts.quarterly_funnel": (
        "行为漏斗",
        "One row per (quarter, shop_id) with behaviour event logs (events/): the funnel 浏览 → 收藏/加购 → 购买, "
        "users exactly de-duplicated over the quarter (China days).",
    ),
    "staging.event_days": (
        "行为日汇总", "Loaded events per (China day, shop, user key) and file: pv, cart, fav and buy events."),
    "staging.event_user_quarters": (
        "行为用户季度状态",
        "One row per (shop_id, quarter_start, user_key) with any event: the user's events of each behaviour and "
        "buy days, kept with staging.event_days for the funnel.",
    ),
    "staging.event_traffic": (
        "行为日流量", "pv events and distinct users per (China day, shop) of the event logs, kept with staging.event_days."),
    "staging.event_users": (
        "行为用户编号", "One row per pseudonymised event user_id: the integer user_key the events lake and staging store."),
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

COLUMNS: dict[str, Column] = {
    "quarter": Column("季度", "Quarter label: `2024Q3` (calendar) or `FY2025Q1` (fiscal year setting)."),
    "quarter_start": Column("季度开始日", "First day of the quarter.", shown_as="day"),
    "shop_id": Column("店铺", "Shop id after reference/shops.csv aliases; `default` when a file has none."),
    "gmv": Column("支付金额", "Σ paid_amount of paid orders (paid_at set), in the quarter of paid_at. CNY.", defined_by="metric_gmv", shown_as="money"),
    "refund_amount": Column("退款金额", "Σ refund_amount of those orders, counted in the quarter of payment. CNY.", defined_by="metric_refund_amount", shown_as="money"),
    "net_sales": Column("净销售额", "gmv − refund_amount. CNY.", defined_by="metric_net_sales", shown_as="money"),
    "refund_rate": Column("退款率", "refund_amount / gmv; by amount and quarter of payment, unlike 生意参谋's.", defined_by="rate_refund", shown_as="percent"),
    "paid_orders": Column("支付订单数", "Count of paid orders.", defined_by="metric_paid_orders", shown_as="count"),
    "paid_buyers": Column("支付买家数", "Distinct buyers with ≥ 1 paid order in the quarter.", defined_by="metric_paid_buyers", shown_as="count"),
    "aov": Column("客单价", "gmv / paid_buyers.", defined_by="rate_aov", shown_as="money"),
    "avg_order_value": Column("笔单价", "gmv / paid_orders.", defined_by="rate_avg_order_value", shown_as="money"),
    "buyer_days": Column("支付买家天数", "Σ over days of the distinct buyers who paid that day.", defined_by="metric_buyer_days", shown_as="count"),
    "pv": Column("浏览量", "Σ pv of the quarter's traffic rows.", shown_as="count"),
    "uv_days": Column(
        "访客数(日累计)",
        "Σ uv of the quarter's traffic rows: visitor-days per channel and device, not de-duplicated "
        "across days or channels (生意参谋's exports cannot be).",
        shown_as="count",
    ),
    "conversion_rate": Column("支付转化率", "buyer_days / uv_days.", defined_by="rate_conversion", shown_as="percent"),
    "uv_value": Column("UV价值", "gmv / uv_days.", defined_by="rate_uv_value", shown_as="money"),
    "bounce_rate": Column("跳失率", "Σ bounced_visits / Σ visits over the rows that give a bounce figure.", defined_by="rate_bounce", shown_as="percent"),
    "mobile_uv_share": Column("无线访客占比", "uv_days of mobile rows / uv_days of mobile and pc rows.", defined_by="rate_mobile_uv_share", shown_as="percent"),
    "mobile_gmv_share": Column("无线成交占比", "gmv of mobile orders / gmv of orders whose device is known.", defined_by="rate_mobile_gmv_share", shown_as="percent"),
    "buyer_key": Column("买家编号", "Integer key of the buyer in staging.buyers (one per pseudonymised buyer_id)."),
    "paid_days": Column("支付天数", "Distinct days (China time) the buyer paid on in the quarter.", shown_as="count"),
    "first_quarter_start": Column("首购季度", "First day of the quarter of the buyer's first paid order in the shop.", shown_as="day"),
    "repeat_buyers": Column("复购买家数", "Paid buyers who paid on ≥ 2 distinct days in the quarter.", defined_by="metric_repeat_buyers", shown_as="count"),
    "repurchase_rate": Column("复购率", "repeat_buyers / paid_buyers.", defined_by="rate_repurchase", shown_as="percent"),
    "returning_buyers": Column("老买家数", "Paid buyers with a paid order in the same shop before the quarter began.", defined_by="metric_returning_buyers", shown_as="count"),
    "new_buyers": Column("新买家数", "paid_buyers − returning_buyers.", defined_by="metric_new_buyers", shown_as="count"),
    "ad_spend": Column("推广花费", "Σ ad_spend of the quarter's traffic rows. CNY.", shown_as="money"),
    "roi": Column("投入产出比", "gmv / ad_spend; the plan's healthy band is 3–5.", defined_by="rate_roi", shown_as="ratio"),
    "target_gmv": Column("目标", "Σ of the quarter's monthly targets when every month has one, else null. CNY.", shown_as="money"),
    "target_completion": Column("目标完成率", "gmv / target_gmv.", defined_by="rate_target_completion", shown_as="percent"),
    "gmv_qoq": Column("环比", "gmv / gmv of the previous quarter − 1; null without that quarter or when it is 0.", defined_by="rate_growth", shown_as="percent"),
    "gmv_yoy": Column("同比", "gmv / gmv of the same quarter a year earlier − 1; null without it or when it is 0.", defined_by="rate_growth", shown_as="percent"),
    "channel": Column("渠道", "Channel name (the reference spelling when mapped); `unknown` for orders without one."),
    "channel_group": Column("渠道分组", "search, paid, content, recommendation, promotion, external, direct, or other."),
    "uv_share": Column("访客占比", "uv_days of the channel / uv_days of the shop in the quarter.", defined_by="rate_uv_share", shown_as="percent"),
    "month": Column("月份", "Calendar month, `YYYY-MM`."),
    "ytd_gmv": Column("年累计支付金额", "Σ gmv of the (fiscal) year's months up to this one. CNY.", shown_as="money"),
    "ytd_target_gmv": Column("年累计目标", "Σ of the (fiscal) year's monthly targets up to this month. CNY.", shown_as="money"),
    "campaign": Column("活动", "Campaign name from staging.campaigns (双11, 双12, 618 by default)."),
    "campaign_days": Column("活动天数", "Days of the campaign in the quarter.", shown_as="count"),
    "baseline_daily_gmv": Column(
        "日常日均支付金额",
        "Mean daily gmv of the 28 calendar days before the campaign starts, leaving out days inside any "
        "campaign; a day without sales counts as 0.",
        defined_by="metric_baseline_daily_gmv",
        shown_as="money",
    ),
    "uplift": Column("活动提升倍数", "(gmv / campaign_days) / baseline_daily_gmv.", defined_by="rate_uplift", shown_as="ratio"),
    "collected": Column("揽收量", "Parcels collected (for a campaign: on its days, all couriers and regions).", shown_as="count"),
    "delivered": Column("派送量", "Parcels delivered.", shown_as="count"),
    "returned": Column("退件数", "Parcels returned.", shown_as="count"),
    "late": Column("超时件数", "Parcels delivered late.", shown_as="count"),
    "complaints": Column("投诉数", "Complaints.", shown_as="count"),
    "courier": Column("快递公司", "Courier code (ZTO, YTO, STO, YUNDA, BEST, SF, EMS …), or the name as given when unmapped."),
    "region": Column("区域", "Region of the courier figures; 全国 when the file gives none."),
    "collected_share": Column("揽收占比", "collected / collected of all couriers in the same region and quarter.", defined_by="rate_collected_share", shown_as="percent"),
    "peak_day": Column("峰值日", "The day with the most parcels collected (a period spread evenly over its days; earliest on a tie).", shown_as="day"),
    "peak_day_collected": Column("峰值日揽收量", "Parcels collected on peak_day.", shown_as="count"),
    "avg_daily_collected": Column("日均揽收量", "collected / distinct days covered by the rows in the quarter.", defined_by="rate_avg_daily_collected", shown_as="ratio"),
    "peak_ratio": Column("峰值倍数", "peak_day_collected / avg_daily_collected.", defined_by="rate_peak_ratio", shown_as="ratio"),
    "late_rate": Column("超时率", "late / delivered, over the rows that give delivered.", defined_by="rate_late", shown_as="percent"),
    "return_rate": Column("退件率", "returned / delivered, over the rows that give delivered.", defined_by="rate_return", shown_as="percent"),
    "shipped_orders": Column("发货订单数", "Orders shipped in the quarter (by shipped_at) with the courier.", shown_as="count"),
    "median_hours_paid_to_shipped": Column("付款到发货时长中位数", "Median hours from paid_at to shipped_at.", shown_as="hours"),
    "median_hours_shipped_to_completed": Column("发货到收货时长中位数", "Median hours from shipped_at to completed_at, over orders completed.", shown_as="hours"),
    "province": Column("省份", "Province of the delivery address, by its full official name."),
    "city": Column("城市", "City of the delivery address."),
    "district": Column("区县", "District or county of the delivery address."),
    "rural_paid_orders": Column("村淘订单数", "Paid orders placed through a rural service station.", shown_as="count"),
    "rural_gmv": Column("村淘支付金额", "gmv of those orders. CNY.", shown_as="money"),
    "rural_gmv_share": Column("村淘成交占比", "rural_gmv / gmv.", defined_by="rate_rural_gmv_share", shown_as="percent"),
    "rural_paid_buyers": Column("村淘买家数", "Distinct buyers of those orders.", shown_as="count"),
    "rural_station_count": Column("村淘服务站数", "Distinct rural service stations with a paid order.", shown_as="count"),
    "category": Column("类目", "Product category as exported."),
    "items": Column("商品件数", "Σ item_count of paid orders.", shown_as="count"),
    "uv": Column("访客数", "Distinct users with any event, exactly de-duplicated over the period.", defined_by="metric_event_users", shown_as="count"),
    "cart_users": Column("加购人数", "Distinct users who added to cart (加购).", defined_by="metric_users_with", shown_as="count"),
    "fav_users": Column("收藏人数", "Distinct users who added to favourites (收藏).", defined_by="metric_users_with", shown_as="count"),
    "buyers": Column("购买人数", "Distinct users with a buy event.", defined_by="metric_users_with", shown_as="count"),
    "user_key": Column("用户编号", "Integer key of the event user in staging.event_users (one per pseudonymised user_id)."),
    "buy_days": Column("购买天数", "Distinct China days with a buy event in the quarter.", shown_as="count"),
}

# Columns whose name a table gives another meaning than COLUMNS' (the contract's names): the funnel's
# are counted from event logs, per distinct user, where the shop KPIs' are from orders and traffic.
TABLE_COLUMNS: dict[str, dict[str, Column]] = {
    "marts.quarterly_funnel": {
        "pv": Column("浏览量", "pv events in the quarter.", shown_as="count"),
        "uv": Column("访客数", "Distinct users with any event in the quarter, exactly de-duplicated.", defined_by="metric_event_users", shown_as="count"),
        "cart_users": Column("加购人数", "Distinct users with a cart event in the quarter.", defined_by="metric_users_with", shown_as="count"),
        "fav_users": Column("收藏人数", "Distinct users with a fav event in the quarter.", defined_by="metric_users_with", shown_as="count"),
        "buyers": Column("购买人数", "Distinct users with a buy event in the quarter.", defined_by="metric_users_with", shown_as="count"),
        "conversion_rate": Column("购买转化率", "buyers / uv.", defined_by="rate_funnel_conversion", shown_as="percent"),
        "repeat_buyers": Column(
            "复购人数", "Buyers with buy events on ≥ 2 distinct China days in the quarter.",
            defined_by="metric_repeat_buyers", shown_as="count",
        ),
        "repurchase_rate": Column("复购率", "repeat_buyers / buyers.", defined_by="rate_repurchase", shown_as="percent"),
    },
}


def column_of(table: str, name: str) -> Column | None:
    """The definition of column `name` in `table` (schema.name): the table's own, else the shared one."""
    return TABLE_COLUMNS.get(table, {}).get(name) or COLUMNS.get(name)


def comment_text(zh: str, en: str, defined_by: str | None = None, shown_as: str | None = None) -> str:
    """The comment of a table or column in the analysts' file (shown_as is the report's business)."""
    return f"{zh} — {en}" + (f" Macro: {defined_by}." if defined_by else "")


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
            elif (defined := column_of(qualified, column)) is None:
                undefined[qualified].append(column)
            else:
                text = comment_text(*defined)
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
    lines += ["", "## Columns", "", "Macros are those of `sql/setup/create_metrics.sql`: the analysts' file carries them too.",
              "", "| column | 中文 | definition | macro |", "|---|---|---|---|"]
    lines += [f"| `{name}` | {c.zh} | {c.en} | {f'`{c.defined_by}`' if c.defined_by else ''} |" for name, c in COLUMNS.items()]
    for table, columns in TABLE_COLUMNS.items():
        lines += ["", f"### In `{table}`", "", "These columns mean, in this table, what is said here rather than above.",
                  "", "| column | 中文 | definition | macro |", "|---|---|---|---|"]
        lines += [f"| `{name}` | {c.zh} | {c.en} | {f'`{c.defined_by}`' if c.defined_by else ''} |" for name, c in columns.items()]
    return "\n".join(lines) + "\n"
