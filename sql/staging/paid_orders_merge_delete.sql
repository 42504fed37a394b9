-- A merge into staging.paid_orders, step 3: drop the rows of step 2 (by row id: the same
-- transaction, nothing moved since step 1).
delete from staging.paid_orders
where rowid in (select old_row from paid_orders_matches)
