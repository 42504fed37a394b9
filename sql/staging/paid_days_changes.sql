-- A merge into staging.paid_days, step 1: how each (day, shop, category, device) the merge into
-- staging.paid_orders touched moves: its rows added counted +1, those it replaced -1.
create or replace temp table paid_days_changes as
with

changes as (
    select paid_day, quarter_start, quarter, shop_id, category, is_mobile,
        1 as n, item_count, paid_amount, refund_amount
    from paid_orders_added
    union all
    select paid_day, quarter_start, quarter, shop_id, category, is_mobile,
        -1 as n, -item_count, -paid_amount, -refund_amount
    from paid_orders_replaced
)

select
    paid_day, quarter_start, quarter, shop_id, category, is_mobile,
    sum(n) as paid_orders,
    coalesce(sum(item_count), 0) as items,
    coalesce(sum(paid_amount), 0) as gmv,
    coalesce(sum(refund_amount), 0) as refund_amount
from changes
group by all
