-- A merge into staging.event_user_quarters, step 2: each touched (shop, quarter, user) moved by what
-- the merged rows add to it (a user new to the quarter gets a row). Rows are updated in place, never
-- deleted: the state needs no vacuum.
merge into staging.event_user_quarters as q
using event_user_quarters_changes as c
    on q.shop_id = c.shop_id and q.quarter_start = c.quarter_start and q.user_key = c.user_key
when matched then update set
    pv = q.pv + c.pv,
    cart = q.cart + c.cart,
    fav = q.fav + c.fav,
    buy = q.buy + c.buy,
    buy_days = q.buy_days + c.buy_days
when not matched then insert by name
