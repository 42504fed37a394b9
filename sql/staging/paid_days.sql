-- staging.paid_days: the paid orders of each day, shop, category and device, summed (the sales side
-- of marts.quarterly_shop_kpis, quarterly_category_kpis, quarterly_campaign_kpis and
-- monthly_target_tracking, which read these few rows instead of every paid order of their
-- quarters). Built whole with staging.paid_orders, and moved by each merge into it
-- (paid_days_changes). Sums only (a null counted as 0, so that a merge can add to it): a distinct
-- count does not add up (channel_quarters keeps those).
create or replace table staging.paid_days as
select
    paid_day,
    quarter_start,
    quarter,
    shop_id,
    category,
    is_mobile,
    metric_paid_orders(order_id) as paid_orders,
    coalesce(sum(item_count), 0) as items,
    coalesce(sum(paid_amount), 0) as gmv,
    coalesce(sum(refund_amount), 0) as refund_amount
from staging.paid_orders
group by all
