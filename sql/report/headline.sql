-- The headline numbers of one shop ($shop) or of all shops ($shop null), for every quarter up to
-- $quarter. One shop: its mart row. All shops: the shops' additive columns added up, with the
-- same rate macros as the mart; buyers (and what is built on them) are counted again across shops
-- from staging with the same metric macros, since a buyer of two shops is one buyer.
with all_shops as (
    select
        quarter_label(quarter_start, $fiscal_start_month) as quarter,
        metric_paid_buyers(buyer_key) as paid_buyers,
        rate_aov(metric_gmv(paid_amount), metric_paid_buyers(buyer_key)) as aov,
        rate_mobile_gmv_share(metric_mobile_gmv(paid_amount, is_mobile), metric_device_known_gmv(paid_amount, is_mobile))
            as mobile_gmv_share
    from staging.paid_orders
    where $shop is null
    group by quarter_start
),
all_shop_repeat as (
    select quarter, rate_repurchase(metric_repeat_buyers(paid_days), metric_state_paid_buyers(buyer_key)) as repurchase_rate
    from (
        -- one row per buyer and quarter, as staging.buyer_quarters has per shop
        select quarter_label(quarter_start, $fiscal_start_month) as quarter, buyer_key, count(distinct paid_day) as paid_days
        from staging.paid_orders
        where $shop is null
        group by quarter_start, buyer_key
    )
    group by quarter
),
all_shop_traffic as (
    select
        quarter_label(quarter_start(date, $fiscal_start_month), $fiscal_start_month) as quarter,
        rate_bounce(metric_bounced_visits(bounced_visits), metric_bounce_base_visits(visits, bounced_visits)) as bounce_rate
    from staging.traffic
    where $shop is null
    group by 1
),
per_quarter as (
    select
        quarter,
        count(*) as shops,
        sum(gmv) as gmv,
        -- all shops have a target only when every shop has one (as a quarter has one only when
        -- every month has): a shop without one would count its GMV against nobody's target
        case when count(target_gmv) = count(*) then sum(target_gmv) end as target_gmv,
        sum(refund_amount) as refund_amount,
        sum(net_sales) as net_sales,
        sum(paid_orders) as paid_orders,
        sum(buyer_days) as buyer_days,
        sum(uv_days) as uv_days,
        sum(ad_spend) as ad_spend,
        any_value(paid_buyers) as paid_buyers,
        any_value(aov) as aov,
        any_value(bounce_rate) as bounce_rate,
        any_value(mobile_gmv_share) as mobile_gmv_share,
        any_value(repurchase_rate) as repurchase_rate,
        any_value(gmv_qoq) as gmv_qoq,
        any_value(gmv_yoy) as gmv_yoy
    from marts.quarterly_shop_kpis
    where ($shop is null or shop_id = $shop) and quarter <= $quarter
    group by quarter
)
select
    quarter,
    gmv,
    target_gmv,
    rate_target_completion(gmv, target_gmv) as target_completion,
    case when $shop is not null then gmv_qoq else rate_growth(gmv, lag(gmv, 1) over (order by quarter)) end as gmv_qoq,
    case when $shop is not null then gmv_yoy else rate_growth(gmv, lag(gmv, 4) over (order by quarter)) end as gmv_yoy,
    net_sales,
    refund_amount,
    rate_refund(refund_amount, gmv) as refund_rate,
    paid_orders,
    case when $shop is not null then q.paid_buyers else a.paid_buyers end as paid_buyers,
    case when $shop is not null then q.aov else a.aov end as aov,
    rate_avg_order_value(gmv, paid_orders) as avg_order_value,
    uv_days,
    rate_conversion(buyer_days, uv_days) as conversion_rate,
    case when $shop is not null then q.bounce_rate else t.bounce_rate end as bounce_rate,
    case when $shop is not null then q.mobile_gmv_share else a.mobile_gmv_share end as mobile_gmv_share,
    case when $shop is not null then q.repurchase_rate else r.repurchase_rate end as repurchase_rate,
    ad_spend,
    rate_roi(gmv, ad_spend) as roi
from per_quarter as q
left join all_shops as a using (quarter)
left join all_shop_repeat as r using (quarter)
left join all_shop_traffic as t using (quarter)
order by quarter
