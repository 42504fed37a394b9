-- paid_order_rows(orders, fiscal_start_month): the paid orders (paid_at set) among the rows of
-- `orders` (staging.orders, or the view of its rows from some files) with the day and (fiscal)
-- quarter of payment, the grain every order metric of the marts is aggregated from.
create or replace temp macro paid_order_rows(orders, fiscal_start_month) as table
select
    shop_id,
    order_id,
    buyer_id,
    paid_at,
    paid_at::date as paid_day,
    quarter_start(paid_at, fiscal_start_month) as quarter_start,
    quarter_label(quarter_start(paid_at, fiscal_start_month), fiscal_start_month) as quarter,
    paid_amount,
    refund_amount,
    item_count,
    is_mobile,
    category,
    channel,
    channel_group,
    province,
    city,
    district,
    rural_station_id
from query_table(orders)
where paid_at is not null
