-- A merge into staging.paid_orders, step 2: drop the rows of step 1.
delete from staging.paid_orders as p
using paid_orders_replaced as r
where p.shop_id = r.shop_id
    and p.order_id = r.order_id
