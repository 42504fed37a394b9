-- A merge of new files into staging.orders, step 1: each new current row against the order's row
-- in the table, by its row id, and whether the new row replaces it (greater batch date, file name,
-- line; a row of a late file of an earlier batch loses). One join over the table's keys, which the
-- steps after read instead of joining the table again.
create or replace temp table orders_matches as
select
    n.shop_id,
    n.order_id,
    o.rowid as old_row,
    -- a null batch date ranks lowest, as it does in orders_current
    (coalesce(o.batch_date, date '0001-01-01'), o.file_name, o.line)
        < (coalesce(n.batch_date, date '0001-01-01'), n.file_name, n.line) as replaces
from orders_new as n
left join staging.orders as o
    on o.shop_id = n.shop_id
    and o.order_id = n.order_id
