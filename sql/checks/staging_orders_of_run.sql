-- The current rows of staging.orders from files loaded since this check last passed: the batch
-- still to validate (a batch that failed is validated again until it passes).
with

last_pass as (
    select coalesce(max(validated_at), '-infinity'::timestamp) as passed_at
    from audit.validations
    where check_name = 'staging_orders_expectations' and passed
),

new_files as (
    select distinct file_name
    from audit.loads
    where source = 'orders' and outcome = 'loaded' and loaded_at > (select passed_at from last_pass)
)

select *
from staging.orders
where file_name in (select file_name from new_files)
