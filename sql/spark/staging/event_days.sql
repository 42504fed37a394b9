-- Generated from sql/staging/event_days.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__event_days
SELECT
  *
FROM event_days_added
