-- Data quality of $quarter: the files whose batch date falls in it, as their latest load left them.
with latest as (
    select source, file_name, arg_max(outcome, loaded_at) as outcome, arg_max(rows_read, loaded_at) as rows_read,
        arg_max(rows_loaded, loaded_at) as rows_loaded, arg_max(rows_rejected, loaded_at) as rows_rejected
    from audit.loads
    where batch_date is not null and outcome <> 'unchanged'
        and quarter_label(quarter_start(batch_date, $fiscal_start_month), $fiscal_start_month) = $quarter
    group by source, file_name
)
select
    source,
    count(*) filter (where outcome <> 'failed') as files_loaded,
    count(*) filter (where outcome = 'failed') as files_failed,
    coalesce(sum(rows_read), 0) as rows_read,
    coalesce(sum(rows_loaded), 0) as rows_loaded,
    coalesce(sum(rows_rejected), 0) as rows_rejected
from latest
group by source
order by source
