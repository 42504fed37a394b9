-- A merge of new files into staging.orders, step 3: the new current rows (new orders, and those
-- whose older row step 2 dropped), kept for the insert and for the month digests.
create or replace temp table orders_added as
select n.*
from orders_new as n
anti join staging.orders as o on o.shop_id = n.shop_id and o.order_id = n.order_id
