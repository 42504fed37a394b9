-- buyer_quarter_rows(paid): one row per (shop, quarter of payment, buyer) of the paid orders in the
-- relation named `paid` (staging.paid_orders, or every paid order of some buyers): the distinct
-- days the buyer paid on in that quarter, and the quarter of the buyer's first payment at the shop.
-- The marts count paid buyers, buyer-days, repeat and returning buyers from these rows.
create or replace temp macro buyer_quarter_rows(paid) as table
with

buyer_quarters as (
    select
        shop_id,
        quarter_start,
        buyer_id,
        count(distinct paid_day)::integer as paid_days
    from query_table(paid)
    group by shop_id, quarter_start, buyer_id
),

final as (
    select
        shop_id,
        quarter_start,
        buyer_id,
        paid_days,
        min(quarter_start) over (partition by shop_id, buyer_id) as first_quarter_start
    from buyer_quarters
)

select * from final
