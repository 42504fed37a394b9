-- The headline numbers of one shop ($shop) or of all shops ($shop null), for every quarter up to
-- $quarter. Totals add up the shops' additive columns and apply the same rate macros as the mart;
-- numbers that do not add up across shops (buyers and what is built on them, shares of traffic
-- the mart does not carry parts of) are given for one shop only.
with per_quarter as (
    select
        quarter,
        count(*) as shops,
        sum(gmv) as gmv,
        sum(target_gmv) as target_gmv,
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
    case when $shop is not null then paid_buyers end as paid_buyers,
    case when $shop is not null then aov end as aov,
    rate_avg_order_value(gmv, paid_orders) as avg_order_value,
    uv_days,
    rate_conversion(buyer_days, uv_days) as conversion_rate,
    case when $shop is not null then bounce_rate end as bounce_rate,
    case when $shop is not null then mobile_gmv_share end as mobile_gmv_share,
    case when $shop is not null then repurchase_rate end as repurchase_rate,
    ad_spend,
    rate_roi(gmv, ad_spend) as roi
from per_quarter
order by quarter
