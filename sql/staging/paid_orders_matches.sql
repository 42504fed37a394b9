-- A merge into staging.paid_orders, step 1: the row ids of the rows of the orders whose current row
-- came from the files merged into staging.orders since paid_orders was built (orders_of_touched_files).
-- One join over the table's keys, which the two steps after read instead of joining the table again.
create or replace temp table paid_orders_matches as
select p.rowid as old_row
from staging.paid_orders as p
semi join orders_of_touched_files as t on t.shop_id = p.shop_id and t.order_id = p.order_id
