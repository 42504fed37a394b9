-- staging.channel_buyers: the distinct-buyer state of every quarter by channel (channel_buyer_rows
-- over all of staging.paid_orders), kept up to date by the merges of staging.paid_orders.
create or replace table staging.channel_buyers as
select * from channel_buyer_rows('staging.paid_orders')
