-- A merge of new files into staging.orders, step 1: drop the rows a newer row of the new files
-- replaces (greater batch date, file name, line). A row of a late file of an earlier batch loses.
delete from staging.orders as o
using orders_new as n
where o.shop_id = n.shop_id
    and o.order_id = n.order_id
    -- a null batch date ranks lowest, as it does (nulls last, descending) in orders_current
    and (coalesce(o.batch_date, date '0001-01-01'), o.file_name, o.line)
        < (coalesce(n.batch_date, date '0001-01-01'), n.file_name, n.line)
