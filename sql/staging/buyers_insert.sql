-- A key for each buyer of a paid order among the rows of $orders (staging.orders, at a rebuild; a
-- merge numbers its new buyers in buyers_of_touched_files) who has none yet, numbered after the
-- last key (in no particular order: sorting 4.5 M pseudonyms added 1.0-1.6 s to a 10 M-order rebuild).
insert into staging.buyers
select
    n.buyer_id,
    (coalesce((select max(buyer_key) from staging.buyers), 0) + row_number() over ())::bigint
from (
    select distinct t.buyer_id
    from query_table($orders) as t
    where t.paid_at is not null
) as n
anti join staging.buyers as b using (buyer_id)
