-- Per source, what one run did with the files it saw.
select
    source,
    count(*) filter (where outcome = 'loaded') as loaded,
    count(*) filter (where outcome = 'unchanged') as unchanged,
    count(*) filter (where outcome = 'failed') as failed,
    sum(rows_read) as rows_read,
    sum(rows_loaded) as rows_loaded,
    sum(rows_rejected) as rows_rejected
from audit.loads
where run_id = $run_id
group by source
order by source
