-- build_quarters: the quarters of a mart a run computes. $touched_months are the months whose rows
-- changed in a staging table the mart reads (every month, when the mart is built whole), $months
-- every month it reads, now or when last built. A touched quarter is computed again; with
-- $reaches_later, so is every quarter after it that has data (the mart reads earlier quarters:
-- QoQ and YoY, returning buyers, years to date, the baseline before a campaign).
create or replace temp table build_quarters as
with

months as (
    select distinct quarter_start(month, $fiscal_start_month) as quarter_start
    from (select unnest($months::date[]) as month)
),

touched as (
    select distinct quarter_start(month, $fiscal_start_month) as quarter_start
    from (select unnest($touched_months::date[]) as month)
),

final as (
    select
        quarter_start,
        quarter_label(quarter_start, $fiscal_start_month) as quarter
    from months
    where quarter_start in (select quarter_start from touched)
        or ($reaches_later and quarter_start > (select min(quarter_start) from touched))
)

select * from final
order by quarter_start
