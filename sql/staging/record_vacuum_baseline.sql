-- After a vacuum (or a rebuild): the deleted rows the table still stores ($deleted_rows).
insert or replace into audit.vacuum_baselines values ($table_name, $deleted_rows)
