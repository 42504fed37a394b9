-- A merge of new files into staging.orders, step 2: the rows a newer row of the new files replaces,
-- kept for the delete and for the month digests.
create or replace temp table orders_replaced as
select o.*
from staging.orders as o
where o.rowid in (select old_row from orders_matches where replaces)
