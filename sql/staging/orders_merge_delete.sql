-- A merge of new files into staging.orders, step 3: drop the rows step 2 found replaced (by row id:
-- the same transaction, nothing moved since step 1).
delete from staging.orders
where rowid in (select old_row from orders_matches where replaces)
