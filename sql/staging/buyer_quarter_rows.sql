-- buyer_quarter_rows(paid): one row per (shop, quarter of payment, buyer) of the paid orders in the
-- relation named `paid` (staging.paid_orders, or every paid order of some buyers): the distinct
-- days the buyer paid on in that quarter, and the quarter of the buyer's first payment at the shop.
-- The marts count paid buyers, buyer-days, repeat and returning buyers from these rows.
create or replace temp macro buyer_quarter_rows(paid) as table
with

-- Distinct days first, then counted: a grouped count(distinct) keeps a set per group and took
-- 1.9x as long (10 M paid orders, 4.5 M buyers: 30.3 s against 16.3 s for the whole statement).
buyer_days as (
    select distinct shop_id, quarter_start, buyer_key, paid_day
    from query_table(paid)
),

buyer_quarters as (
    select
        shop_id,
        quarter_start,
        buyer_key,
        count(*)::integer as paid_days
    from buyer_days
    group by shop_id, quarter_start, buyer_key
),

final as (
    select
        shop_id,
        quarter_start,
        buyer_key,
        paid_days,
        min(quarter_start) over (partition by shop_id, buyer_key) as first_quarter_start
    from buyer_quarters
)

select * from final
