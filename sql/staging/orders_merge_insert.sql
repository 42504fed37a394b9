-- A merge of new files into staging.orders, step 5: add the rows of step 4.
insert into staging.orders
select * from orders_added
