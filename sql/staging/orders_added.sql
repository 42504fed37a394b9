-- A merge of new files into staging.orders, step 4: the new current rows (new orders, and those
-- whose older row step 3 dropped), kept for the insert and for the month digests.
create or replace temp table orders_added as
select n.*
from orders_new as n
semi join orders_matches as m
    on m.shop_id = n.shop_id
    and m.order_id = n.order_id
    and (m.old_row is null or m.replaces)
