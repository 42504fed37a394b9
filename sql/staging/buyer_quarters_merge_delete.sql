-- A merge into staging.buyer_quarters, step 2: drop every row of those buyers.
delete from staging.buyer_quarters as q
using buyers_touched as b
where q.shop_id = b.shop_id
    and q.buyer_key = b.buyer_key
