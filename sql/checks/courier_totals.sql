-- Per (courier, region), parcels collected over all quarters against the source rows: the split
-- across quarters must neither lose nor invent a parcel.
with

mart as (
    select courier, region, sum(collected) as collected
    from marts.quarterly_courier_kpis
    group by all
),

source as (
    select courier, region, sum(collected) as collected
    from staging.courier
    group by all
),

final as (
    select
        coalesce(m.courier, s.courier) as courier,
        coalesce(m.region, s.region) as region,
        coalesce(m.collected, 0)::bigint as mart_value,
        coalesce(s.collected, 0)::bigint as source_value
    from mart as m
    full join source as s on s.courier = m.courier and s.region = m.region
)

select * from final
