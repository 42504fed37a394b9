-- A merge of new files into staging.orders, step 2: add the new current rows (new orders, and
-- those whose older row step 1 dropped).
insert into staging.orders
select n.*
from orders_new as n
anti join staging.orders as o on o.shop_id = n.shop_id and o.order_id = n.order_id
