-- A merge into staging.paid_orders, step 0b: a key for each buyer of a paid order among the rows of
-- orders_of_touched_files who has none yet, numbered after the last key in buyer_id order.
insert into staging.buyers
select
    n.buyer_id,
    (coalesce((select max(buyer_key) from staging.buyers), 0) + row_number() over (order by n.buyer_id))::bigint
from (
    select distinct t.buyer_id
    from orders_of_touched_files as t
    anti join staging.buyers as b using (buyer_id)
    where t.paid_at is not null
) as n
