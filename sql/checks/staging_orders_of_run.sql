-- The current rows of staging.orders from files loaded since this check last passed: the batch
-- still to validate (a batch that failed is validated again until it passes).
with

last_pass as (
    select coalesce(max(validated_at), '-infinity'::timestamp) as passed_at
    from audit.validations
    where check_name = 'staging_orders_expectations' and passed
),

new_files as (
    select distinct file_name, batch_date
    from audit.loads
    where source = 'orders' and outcome = 'loaded' and loaded_at > (select passed_at from last_pass)
)

-- Joined on the batch date as well (a file's rows have its date, here as in audit.loads; `is not
-- distinct from` keeps a null one): DuckDB filters the scan by the few dates instead of comparing
-- the file name of every row.
select o.*
from staging.orders as o
semi join new_files as n on n.file_name = o.file_name and n.batch_date is not distinct from o.batch_date
