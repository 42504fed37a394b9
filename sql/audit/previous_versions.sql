-- The version of each file of a source that is now in the lake:
-- (file name, sha256, rows loaded, the parse fingerprint it was loaded with).
select
    file_name,
    arg_max(sha256, loaded_at) as sha256,
    arg_max(rows_loaded, loaded_at) as rows_loaded,
    arg_max(parse_fingerprint, loaded_at) as parse_fingerprint
from audit.loads
where source = $source and outcome = 'loaded'
group by file_name
