-- What a staging table was last built from: lake files with their version, and `reference`.
select input, version
from audit.staging_inputs
where table_name = $table_name
