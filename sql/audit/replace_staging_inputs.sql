-- Forget what a staging table was built from (the new inputs are inserted next).
delete from audit.staging_inputs
where table_name = $table_name
