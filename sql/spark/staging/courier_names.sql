-- Generated from sql/staging/courier_names.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__courier_names
SELECT
  *
FROM courier_names_mapped
ORDER BY
  courier_name NULLS LAST
