-- paid_order_rows(orders, buyers, fiscal_start_month): the paid orders (paid_at set) among the rows
-- of `orders` (staging.orders, or its rows from some files) with the day and (fiscal) quarter of
-- payment, the grain every order metric of the marts is aggregated from. The buyer is the buyer's
-- key in `buyers` (staging.buyers, or the keys of those files' buyers), which must hold every buyer
-- of a paid order of `orders` (the build checks that no key is missing); the pseudonym itself stays in staging.orders and
-- staging.buyers (at 10 M paid orders it took 328 of the table's 563 MB).
create or replace temp macro paid_order_rows(orders, buyers, fiscal_start_month) as table
select
    shop_id,
    order_id,
    b.buyer_key,
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
from query_table(orders) as o
left join query_table(buyers) as b on b.buyer_id = o.buyer_id
where paid_at is not null
