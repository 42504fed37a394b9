-- What a table holds, as a row count and an order-independent hash of its rows: a table built
-- from it is rebuilt when this changes.
select count(*) as row_count, coalesce(sum(hash(t)::hugeint), 0) as digest
from query_table($table) as t
