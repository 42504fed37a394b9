-- A merge into staging.paid_orders, step 3: those orders again, as they are now (if paid).
create or replace temp table paid_orders_added as
select p.*
from paid_order_rows($fiscal_start_month) as p
semi join (
    select shop_id, order_id from staging.orders where file_name in (select file_name from touched_files)
) as t on t.shop_id = p.shop_id and t.order_id = p.order_id
