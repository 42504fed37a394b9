-- marts.quarterly_shop_kpis: the headline numbers of a shop's quarter (contract §6).
-- Order facts land in the quarter of paid_at; traffic in the quarter of its date; targets of the
-- quarter's months. One row per (quarter, shop) that has any order, traffic or target data; the
-- rows of the quarters in build_quarters, which read the quarter before and a year before (QoQ,
-- YoY); buyers from staging.buyer_quarters, which knows each buyer's first quarter (returning buyers).
create or replace temp table mart_rows as
with

-- The quarters computed, and those their growth rates compare with.
read_quarters as (
    select quarter_start from build_quarters
    union
    select (quarter_start - interval 3 month)::date from build_quarters
    union
    select (quarter_start - interval 12 month)::date from build_quarters
),

-- The distinct-buyer numbers come from the buyer state, not from a count over the quarter's orders:
-- a day's new orders change the state of their buyers only.
buyer_kpis as (
    select
        shop_id,
        quarter_start,
        metric_state_paid_buyers(buyer_key) as paid_buyers,
        metric_state_buyer_days(paid_days) as buyer_days,
        metric_repeat_buyers(paid_days) as repeat_buyers,
        metric_returning_buyers(first_quarter_start, quarter_start) as returning_buyers
    from staging.buyer_quarters
    where quarter_start in (select quarter_start from build_quarters)
    group by shop_id, quarter_start
),

-- From the paid orders summed per day, shop, category and device (staging.paid_days).
order_kpis as (
    select
        shop_id,
        quarter_start,
        metric_gmv(gmv) as gmv,
        metric_refund_amount(refund_amount) as refund_amount,
        metric_state_paid_orders(paid_orders) as paid_orders,
        metric_mobile_gmv(gmv, is_mobile) as mobile_gmv,
        metric_device_known_gmv(gmv, is_mobile) as device_known_gmv
    from staging.paid_days
    where quarter_start in (select quarter_start from read_quarters)
    group by shop_id, quarter_start
),

traffic_kpis as (
    select
        shop_id,
        quarter_start(date, $fiscal_start_month) as quarter_start,
        sum(pv) as pv,
        sum(uv) as uv_days,
        metric_bounced_visits(bounced_visits) as bounced_visits,
        metric_bounce_base_visits(visits, bounced_visits) as bounce_base_visits,
        metric_mobile_uv_days(uv, device) as mobile_uv_days,
        metric_device_uv_days(uv, device) as device_uv_days,
        sum(ad_spend) as ad_spend
    from staging.traffic
    where quarter_start(date, $fiscal_start_month) in (select quarter_start from read_quarters)
    group by shop_id, quarter_start(date, $fiscal_start_month)
),

target_kpis as (
    select
        shop_id,
        quarter_start(month, $fiscal_start_month) as quarter_start,
        case when count(distinct month) = 3 then sum(target_gmv) end as target_gmv
    from staging.targets
    where quarter_start(month, $fiscal_start_month) in (select quarter_start from read_quarters)
    group by shop_id, quarter_start(month, $fiscal_start_month)
),

shop_quarters as (
    select shop_id, quarter_start from order_kpis
    union
    select shop_id, quarter_start from traffic_kpis
    union
    select shop_id, quarter_start from target_kpis
),

base as (
    select
        k.quarter_start,
        k.shop_id,
        coalesce(o.gmv, 0)::decimal(18, 2) as gmv,
        coalesce(o.refund_amount, 0)::decimal(18, 2) as refund_amount,
        coalesce(o.paid_orders, 0) as paid_orders,
        coalesce(b.paid_buyers, 0) as paid_buyers,
        coalesce(b.buyer_days, 0)::bigint as buyer_days,
        coalesce(t.pv, 0)::bigint as pv,
        coalesce(t.uv_days, 0)::bigint as uv_days,
        t.bounced_visits,
        t.bounce_base_visits,
        t.mobile_uv_days,
        t.device_uv_days,
        o.mobile_gmv,
        o.device_known_gmv,
        coalesce(b.repeat_buyers, 0) as repeat_buyers,
        coalesce(b.returning_buyers, 0) as returning_buyers,
        coalesce(t.ad_spend, 0)::decimal(18, 2) as ad_spend,
        g.target_gmv::decimal(18, 2) as target_gmv
    from shop_quarters as k
    left join order_kpis as o using (shop_id, quarter_start)
    left join buyer_kpis as b using (shop_id, quarter_start)
    left join traffic_kpis as t using (shop_id, quarter_start)
    left join target_kpis as g using (shop_id, quarter_start)
),

final as (
    select
        quarter_label(cur.quarter_start, $fiscal_start_month) as quarter,
        cur.shop_id,
        cur.gmv,
        cur.refund_amount,
        metric_net_sales(cur.gmv, cur.refund_amount) as net_sales,
        rate_refund(cur.refund_amount, cur.gmv) as refund_rate,
        cur.paid_orders,
        cur.paid_buyers,
        rate_aov(cur.gmv, cur.paid_buyers) as aov,
        rate_avg_order_value(cur.gmv, cur.paid_orders) as avg_order_value,
        cur.buyer_days,
        cur.pv,
        cur.uv_days,
        rate_conversion(cur.buyer_days, cur.uv_days) as conversion_rate,
        rate_uv_value(cur.gmv, cur.uv_days) as uv_value,
        rate_bounce(cur.bounced_visits, cur.bounce_base_visits) as bounce_rate,
        rate_mobile_uv_share(cur.mobile_uv_days, cur.device_uv_days) as mobile_uv_share,
        rate_mobile_gmv_share(cur.mobile_gmv, cur.device_known_gmv) as mobile_gmv_share,
        cur.repeat_buyers,
        rate_repurchase(cur.repeat_buyers, cur.paid_buyers) as repurchase_rate,
        cur.returning_buyers,
        metric_new_buyers(cur.paid_buyers, cur.returning_buyers) as new_buyers,
        cur.ad_spend,
        rate_roi(cur.gmv, cur.ad_spend) as roi,
        cur.target_gmv,
        rate_target_completion(cur.gmv, cur.target_gmv) as target_completion,
        rate_growth(cur.gmv, prev.gmv) as gmv_qoq,
        rate_growth(cur.gmv, last_year.gmv) as gmv_yoy
    from base as cur
    left join base as prev
        on prev.shop_id = cur.shop_id
        and prev.quarter_start = (cur.quarter_start - interval 3 month)::date
    left join base as last_year
        on last_year.shop_id = cur.shop_id
        and last_year.quarter_start = (cur.quarter_start - interval 12 month)::date
    where cur.quarter_start in (select quarter_start from build_quarters)
    order by cur.quarter_start, cur.shop_id
)

select * from final
