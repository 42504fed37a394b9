-- marts.quarterly_category_kpis: sales per product category, per shop and quarter (contract §6).
create or replace table marts.quarterly_category_kpis as
select
    quarter,
    shop_id,
    category,
    metric_paid_orders(order_id) as paid_orders,
    coalesce(sum(item_count), 0) as items,
    metric_gmv(paid_amount) as gmv,
    rate_refund(metric_refund_amount(refund_amount), metric_gmv(paid_amount)) as refund_rate
from staging.paid_orders
group by quarter_start, quarter, shop_id, category
order by quarter_start, shop_id, category
