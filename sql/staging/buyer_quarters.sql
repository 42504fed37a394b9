-- staging.buyer_quarters: the distinct-buyer state of every quarter (buyer_quarter_rows over all of
-- staging.paid_orders), kept up to date by the merges of staging.paid_orders.
create or replace table staging.buyer_quarters as
select * from buyer_quarter_rows('staging.paid_orders')
