-- Rows of marts.quarterly_shop_kpis that break the table's invariants: (quarter, shop_id, problem).
with

duplicate_keys as (
    select quarter, shop_id, 'duplicate key' as problem
    from marts.quarterly_shop_kpis
    group by quarter, shop_id
    having count(*) > 1
),

shares_out_of_range as (
    select quarter, shop_id, 'a share outside [0, 1]' as problem
    from marts.quarterly_shop_kpis
    where not (
        coalesce(refund_rate, 0) between 0 and 1
        and coalesce(bounce_rate, 0) between 0 and 1
        and coalesce(mobile_uv_share, 0) between 0 and 1
        and coalesce(mobile_gmv_share, 0) between 0 and 1
        and coalesce(repurchase_rate, 0) between 0 and 1
    )
),

final as (
    select * from duplicate_keys
    union all
    select * from shares_out_of_range
)

select * from final
order by quarter, shop_id
