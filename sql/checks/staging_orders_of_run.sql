-- The current rows of staging.orders that came from files this run loaded.
select *
from staging.orders
where file_name in (
    select file_name from audit.loads where run_id = $run_id and source = 'orders' and outcome = 'loaded'
)
