-- marts.quarterly_channel_kpis: traffic and the sales attributed to each channel (contract §6).
-- Orders meet traffic on the channel name (reference spelling when mapped); orders without one
-- count under `unknown` / `other`. The rows of the quarters in build_quarters.
create or replace temp table mart_rows as
with

traffic as (
    select
        quarter_start(date, $fiscal_start_month) as quarter_start,
        shop_id,
        channel_group,
        channel,
        sum(pv) as pv,
        sum(uv) as uv_days,
        sum(ad_spend) as ad_spend
    from staging.traffic
    where quarter_start(date, $fiscal_start_month) in (select quarter_start from build_quarters)
    group by all
),

-- The sales side, kept per quarter, shop and channel with staging.paid_orders (channel_quarters.sql).
orders as (
    select quarter_start, shop_id, channel_group, channel, gmv, paid_buyers, buyer_days
    from staging.channel_quarters
    where quarter_start in (select quarter_start from build_quarters)
),

shop_traffic as (
    select quarter_start, shop_id, sum(uv_days) as shop_uv_days
    from traffic
    group by all
),

channels as (
    select quarter_start, shop_id, channel_group, channel from traffic
    union
    select quarter_start, shop_id, channel_group, channel from orders
),

final as (
    select
        quarter_label(k.quarter_start, $fiscal_start_month) as quarter,
        k.shop_id,
        k.channel_group,
        k.channel,
        coalesce(t.pv, 0)::bigint as pv,
        coalesce(t.uv_days, 0)::bigint as uv_days,
        rate_uv_share(coalesce(t.uv_days, 0), s.shop_uv_days) as uv_share,
        coalesce(t.ad_spend, 0)::decimal(18, 2) as ad_spend,
        coalesce(o.gmv, 0)::decimal(18, 2) as gmv,
        coalesce(o.paid_buyers, 0) as paid_buyers,
        coalesce(o.buyer_days, 0) as buyer_days,
        rate_conversion(coalesce(o.buyer_days, 0), coalesce(t.uv_days, 0)) as conversion_rate,
        rate_roi(coalesce(o.gmv, 0), coalesce(t.ad_spend, 0)) as roi
    from channels as k
    left join traffic as t using (quarter_start, shop_id, channel_group, channel)
    left join orders as o using (quarter_start, shop_id, channel_group, channel)
    left join shop_traffic as s using (quarter_start, shop_id)
    order by k.quarter_start, k.shop_id, k.channel_group, k.channel
)

select * from final
