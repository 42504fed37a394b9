-- A merge into staging.paid_orders, step 4: those orders again, as they are now (if paid).
create or replace temp table paid_orders_added as
select *
from paid_order_rows('orders_of_touched_files', 'buyers_of_touched_files', $fiscal_start_month)
