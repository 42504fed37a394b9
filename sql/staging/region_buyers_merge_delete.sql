-- A merge into staging.region_buyers, step 1 (after buyer_quarters_touched): drop every row of the
-- buyers whose paid orders the merge into staging.paid_orders removed or added.
delete from staging.region_buyers as r
using buyers_touched as b
where r.shop_id = b.shop_id
    and r.buyer_id = b.buyer_id
