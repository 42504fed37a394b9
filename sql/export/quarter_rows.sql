-- The rows of one quarter ($quarter) of a mart ($mart, schema.name) with a quarter column, in the
-- order of its key (every mart's key columns come first).
select *
from query_table($mart)
where quarter = $quarter
order by all
