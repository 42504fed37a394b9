-- Channel mix of $quarter: visitors' share, sales and, for channels with ad spend, ROI.
with rows as (
    select channel_group, channel, sum(uv_days) as uv_days, sum(gmv) as gmv, sum(ad_spend) as ad_spend,
        sum(buyer_days) as buyer_days
    from marts.quarterly_channel_kpis
    where ($shop is null or shop_id = $shop) and quarter = $quarter
    group by channel_group, channel
)
select
    channel_group,
    channel,
    uv_days,
    rate_uv_share(uv_days, sum(uv_days) over ()) as uv_share,
    gmv,
    ad_spend,
    rate_conversion(buyer_days, uv_days) as conversion_rate,
    case when ad_spend > 0 then rate_roi(gmv, ad_spend) end as roi
from rows
order by uv_days desc, channel
