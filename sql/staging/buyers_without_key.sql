-- Paid orders among `paid` (staging.paid_orders, or the rows a merge adds) whose buyer has no key in
-- staging.buyers: none, or the buyer counts would miss them.
select count(*) as orders_without_key
from query_table($paid)
where buyer_key is null
