-- A merge into staging.buyer_quarters, step 1: the (shop, buyer) pairs of the paid orders the merge
-- into staging.paid_orders removed or added, and every paid order of theirs as it is now.
create or replace temp table buyers_touched as
select shop_id, buyer_key from paid_orders_replaced
union
select shop_id, buyer_key from paid_orders_added;

create or replace temp view paid_orders_of_buyers_touched as
select p.shop_id, p.quarter_start, p.buyer_key, p.paid_day
from staging.paid_orders as p
semi join buyers_touched as b
    on b.shop_id = p.shop_id
    and b.buyer_key = p.buyer_key
