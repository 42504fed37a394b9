-- A merge into staging.paid_orders, step 2: those rows as they were.
create or replace temp table paid_orders_replaced as
select p.*
from staging.paid_orders as p
where p.rowid in (select old_row from paid_orders_matches)
