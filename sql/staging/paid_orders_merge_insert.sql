-- A merge into staging.paid_orders, step 5: add the rows of step 4.
insert into staging.paid_orders
select * from paid_orders_added
