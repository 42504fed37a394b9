-- The current rows among the new files only, materialised once for the two merge steps.
create or replace temp table orders_new as
select * from orders_current
