-- The files one run could not read at all (quarantined), with the reason.
select source, file_name, error
from audit.loads
where run_id = $run_id and outcome = 'failed'
order by source, file_name
