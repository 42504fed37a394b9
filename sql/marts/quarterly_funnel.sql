-- marts.quarterly_funnel: the Taobao funnel (浏览 → 收藏/加购 → 购买) of each shop's quarter from its
-- behaviour event logs (contract §6, §8), for the quarters in build_quarters. Every count is of
-- distinct users (exactly de-duplicated over the quarter) but pv, which counts pv events; it is read
-- from staging.event_user_quarters, the users' state, not from the quarter's events.
create or replace temp table mart_rows as
with

users as (
    select
        shop_id,
        quarter_start,
        sum(pv)::bigint as pv,
        metric_event_users(user_key) as uv,
        metric_users_with(cart) as cart_users,
        metric_users_with(fav) as fav_users,
        metric_users_with(buy) as buyers,
        metric_repeat_buyers(buy_days) as repeat_buyers
    from staging.event_user_quarters
    where quarter_start in (select quarter_start from build_quarters)
    group by shop_id, quarter_start
),

final as (
    select
        quarter_label(quarter_start, $fiscal_start_month) as quarter,
        shop_id,
        pv,
        uv,
        cart_users,
        fav_users,
        buyers,
        rate_funnel_conversion(buyers, uv) as conversion_rate,
        repeat_buyers,
        rate_repurchase(repeat_buyers, buyers) as repurchase_rate
    from users
    order by quarter_start, shop_id
)

select * from final
