-- staging.region_buyers: the distinct-buyer state of every quarter by delivery region
-- (region_buyer_rows over all of staging.paid_orders), kept up to date by the merges of
-- staging.paid_orders.
create or replace table staging.region_buyers as
select * from region_buyer_rows('staging.paid_orders')
