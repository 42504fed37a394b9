-- What a staging table is now built from (registered as `new_staging_inputs`).
insert into audit.staging_inputs
select table_name, input, version
from new_staging_inputs
