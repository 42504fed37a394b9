-- A merge of new files into staging.orders, step 1: the rows a newer row of the new files replaces
-- (greater batch date, file name, line), kept for the delete and for the month digests. A row of a
-- late file of an earlier batch loses.
create or replace temp table orders_replaced as
select o.*
from staging.orders as o
semi join orders_new as n
    on o.shop_id = n.shop_id
    and o.order_id = n.order_id
    -- a null batch date ranks lowest, as it does in orders_current
    and (coalesce(o.batch_date, date '0001-01-01'), o.file_name, o.line)
        < (coalesce(n.batch_date, date '0001-01-01'), n.file_name, n.line)
