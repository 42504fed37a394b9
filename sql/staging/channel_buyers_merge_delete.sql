-- A merge into staging.channel_buyers, step 1 (after buyer_quarters_touched): drop every row of the
-- buyers whose paid orders the merge into staging.paid_orders removed or added.
delete from staging.channel_buyers as c
using buyers_touched as b
where c.shop_id = b.shop_id
    and c.buyer_id = b.buyer_id
