-- Generated from sql/staging/targets.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__targets
WITH mapped AS (
  SELECT
    t.month,
    t.target_gmv,
    t.batch_date,
    t.file_name,
    t.line,
    COALESCE(s.shop_id, t.shop_id) AS shop_id
  FROM lake_targets AS t
  LEFT JOIN staging__shops AS s
    ON s.alias = t.shop_id
), latest AS (
  SELECT
    MAX(STRUCT(file_name AS file_name, line AS line)) AS version
  FROM mapped
  GROUP BY
    shop_id,
    month
), current_rows AS (
  SELECT
    m.*
  FROM mapped AS m
  SEMI JOIN latest AS l
    ON l.version.file_name = m.file_name AND l.version.line = m.line
), final AS (
  SELECT
    shop_id,
    month,
    target_gmv,
    file_name,
    line
  FROM current_rows
)
SELECT
  *
FROM final
