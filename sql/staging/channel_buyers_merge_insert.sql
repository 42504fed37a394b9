-- A merge into staging.channel_buyers, step 2: their rows again, from their paid orders as they are now.
insert into staging.channel_buyers
select * from channel_buyer_rows('paid_orders_of_buyers_touched')
