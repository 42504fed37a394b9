-- A merge into staging.buyer_quarters, step 3: their rows again, from their paid orders as they are now.
insert into staging.buyer_quarters
select * from buyer_quarter_rows('paid_orders_of_buyers_touched')
