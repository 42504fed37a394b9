-- A merge into staging.paid_orders, step 0: the rows of staging.orders whose current version came
-- from the files merged into it since paid_orders was built (`touched_files`). One row per order,
-- so these are also every row those orders have there. A table, not a view: the merge reads them
-- three times, and each read of a view scanned staging.orders again.
create or replace temp table orders_of_touched_files as
select *
from staging.orders
where file_name in (select file_name from touched_files)
