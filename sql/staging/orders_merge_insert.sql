-- A merge of new files into staging.orders, step 4: add the rows of step 3.
insert into staging.orders
select * from orders_added
