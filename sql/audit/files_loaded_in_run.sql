-- The files of a source that one run loaded (new or changed versions).
select file_name
from audit.loads
where run_id = $run_id and source = $source and outcome = 'loaded'
order by file_name
