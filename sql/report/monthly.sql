-- Monthly GMV against target in the months of $quarter, for one shop or all ($shop null).
select
    month,
    sum(gmv) as gmv,
    sum(target_gmv) as target_gmv,
    rate_target_completion(sum(gmv), sum(target_gmv)) as target_completion
from marts.monthly_target_tracking
where ($shop is null or shop_id = $shop)
    and quarter_label(quarter_start(strptime(month, '%Y-%m'), $fiscal_start_month), $fiscal_start_month) = $quarter
group by month
order by month
