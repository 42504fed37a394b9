"""The definition of every published table and column, in Chinese and English (contract §6).

One entry per name: a metric means the same in every table that has it. The comments in the
analysts' file and the glossary in docs/ are both made from this module.
"""

from __future__ import annotations

import duckdb

TABLES: dict[str, tuple[str, str]] = {
    "marts.quarterly_shop_kpis": (
        "季度店铺指标",
        "One row per (quarter, shop_id) with any order, traffic or target data. Order facts land in "
        "the quarter of paid_at, traffic in the quarter of its date.",
    ),
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
}


def comment_text(zh: str, en: str) -> str:
    return f"{zh} — {en}"


def _literal(text: str) -> str:
    # COMMENT ON takes no bound parameters; the text is ours, quoted as a SQL string literal.
    return "'" + text.replace("'", "''") + "'"


def apply_comments(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """Comment a table and every column the glossary defines; returns the columns it does not."""
    zh, en = TABLES[f"{schema}.{table}"]
    con.execute(f'comment on table "{schema}"."{table}" is {_literal(comment_text(zh, en))}')
    columns = [
        r[0]
        for r in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    ]
    undefined = []
    for column in columns:
        if column not in COLUMNS:
            undefined.append(column)
            continue
        text = comment_text(*COLUMNS[column])
        con.execute(f'comment on column "{schema}"."{table}"."{column}" is {_literal(text)}')
    return undefined
