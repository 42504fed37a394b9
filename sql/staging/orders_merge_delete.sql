-- A merge of new files into staging.orders, step 1: drop the rows a newer row of the new files
-- replaces (greater batch date, file name, line). A row of a late file of an earlier batch loses.
delete from staging.orders as o
using orders_new as n
where o.shop_id = n.shop_id
    and o.order_id = n.order_id
    and (o.batch_date, o.file_name, o.line) < (n.batch_date, n.file_name, n.line)
