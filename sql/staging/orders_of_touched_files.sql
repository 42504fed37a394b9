-- A merge into staging.paid_orders, step 0: the rows of staging.orders whose current version came
-- from the files merged into it since paid_orders was built (`touched_files`: file name and batch
-- date). One row per order, so these are also every row those orders have there. A table, not a
-- view: the merge reads them three times, and each read of a view scanned staging.orders again.
-- Joined on the batch date as well (every row of a file has the file's date; `is not distinct
-- from` keeps a null date, which orders never have, as `file_name in (...)` did): DuckDB turns the
-- few dates into a filter on the scan, which then skips most rows instead of comparing every file
-- name (84 -> 26 ms with 365 days of history; one day among 10 M orders 0.69 -> 0.09 s).
create or replace temp table orders_of_touched_files as
select o.*
from staging.orders as o
semi join touched_files as t on t.file_name = o.file_name and t.batch_date is not distinct from o.batch_date
