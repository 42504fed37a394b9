-- A merge of new files into staging.orders, step 2: drop the rows step 1 found replaced.
delete from staging.orders as o
using orders_replaced as r
where o.shop_id = r.shop_id
    and o.order_id = r.order_id
