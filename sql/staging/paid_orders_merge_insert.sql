-- A merge into staging.paid_orders, step 4: add the rows of step 3.
insert into staging.paid_orders
select * from paid_orders_added
