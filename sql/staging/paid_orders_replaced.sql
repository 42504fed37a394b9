-- A merge into staging.paid_orders, step 1: the rows of the orders whose current row came from the
-- files merged into staging.orders since paid_orders was built (orders_of_touched_files), as they
-- were.
create or replace temp table paid_orders_replaced as
select p.*
from staging.paid_orders as p
semi join orders_of_touched_files as t on t.shop_id = p.shop_id and t.order_id = p.order_id
