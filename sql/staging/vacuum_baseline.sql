-- The deleted rows a table still stored after its last vacuum or rebuild (none if not recorded).
select coalesce((select deleted_rows from audit.vacuum_baselines where table_name = $table_name), 0)
