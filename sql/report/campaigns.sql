-- Campaign days of $quarter and their uplift over the days before, shop by shop.
select shop_id, campaign, campaign_days, gmv, paid_orders, baseline_daily_gmv, uplift
from marts.quarterly_campaign_kpis
where ($shop is null or shop_id = $shop) and quarter = $quarter
order by campaign, shop_id
