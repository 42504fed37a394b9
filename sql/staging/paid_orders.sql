-- staging.paid_orders: every paid order (paid_order_rows over all of staging.orders).
create or replace table staging.paid_orders as
select * from paid_order_rows('staging.orders', 'staging.buyers', $fiscal_start_month)
