-- What one run restated: (table, quarter, reason).
select table_name, quarter, reason
from audit.restatements
where run_id = $run_id
order by table_name, quarter
