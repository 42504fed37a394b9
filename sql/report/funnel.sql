-- The behaviour funnel of $quarter (浏览 → 收藏/加购 → 购买) from marts.quarterly_funnel: one shop's
-- row ($shop), or ($shop null) all shops first, shop_id null, then each shop. An event user_id is
-- the shop's own, so the users of two shops are different people: all shops' users are the shops'
-- sums, not counted again, and every rate is recomputed from the sums with the mart's macros (not
-- the shops' rates averaged). No row when the quarter has no events.
with shops as (
    select shop_id, pv, uv, fav_users, cart_users, buyers, repeat_buyers
    from marts.quarterly_funnel
    where ($shop is null or shop_id = $shop) and quarter = $quarter
),

sums as (
    select
        shop_id,
        sum(pv)::bigint as pv,
        sum(uv)::bigint as uv,
        sum(fav_users)::bigint as fav_users,
        sum(cart_users)::bigint as cart_users,
        sum(buyers)::bigint as buyers,
        sum(repeat_buyers)::bigint as repeat_buyers
    from shops
    group by grouping sets ((shop_id), ())
    -- the all-shops row only on the all-shops page, and only over some shop's row
    having (grouping(shop_id) = 0 or $shop is null) and count(*) > 0
),

final as (
    select
        shop_id,
        pv,
        uv,
        fav_users,
        rate_fav(fav_users, uv) as fav_rate,
        cart_users,
        rate_cart(cart_users, uv) as cart_rate,
        buyers,
        rate_funnel_conversion(buyers, uv) as conversion_rate,
        repeat_buyers,
        rate_repurchase(repeat_buyers, buyers) as repurchase_rate
    from sums
    order by shop_id nulls first
)

select * from final
