-- A merge into staging.region_buyers, step 2: their rows again, from their paid orders as they are now.
insert into staging.region_buyers
select * from region_buyer_rows('paid_orders_of_buyers_touched')
