-- A merge into staging.paid_orders, step 1: drop the orders whose current row came from the
-- files merged into staging.orders since paid_orders was built (`touched_files`).
delete from staging.paid_orders as p
using staging.orders as o
where o.shop_id = p.shop_id
    and o.order_id = p.order_id
    and o.file_name in (select file_name from touched_files)
