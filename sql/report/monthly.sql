-- Monthly GMV against target in the months of $quarter, for one shop or all ($shop null). All shops
-- have a month's target only when every shop with a row that month has one: a shop without one
-- would count its GMV against nobody's target.
with months as (
    select
        month,
        sum(gmv) as gmv,
        case when count(target_gmv) = count(*) then sum(target_gmv) end as target_gmv
    from marts.monthly_target_tracking
    where ($shop is null or shop_id = $shop)
        and quarter_label(quarter_start(strptime(month, '%Y-%m'), $fiscal_start_month), $fiscal_start_month) = $quarter
    group by month
)
select month, gmv, target_gmv, rate_target_completion(gmv, target_gmv) as target_completion
from months
order by month
