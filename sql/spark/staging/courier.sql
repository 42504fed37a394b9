-- Generated from sql/staging/courier.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__courier
WITH mapped AS (
  SELECT
    c.period_start,
    c.period_end,
    c.region,
    c.collected,
    c.delivered,
    c.returned,
    c.late,
    c.complaints,
    c.batch_date,
    c.file_name,
    c.line,
    n.courier,
    c.courier AS courier_name
  FROM lake_courier AS c
  JOIN staging__courier_names AS n
    ON n.courier_name = c.courier
), latest AS (
  SELECT
    MAX(
      STRUCT(
        COALESCE(batch_date, CAST('0001-01-01' AS DATE)) AS batch_date,
        file_name AS file_name,
        line AS line
      )
    ) AS version
  FROM mapped
  GROUP BY
    period_start,
    period_end,
    courier,
    region
), current_rows AS (
  SELECT
    m.*
  FROM mapped AS m
  SEMI JOIN latest AS l
    ON l.version.file_name = m.file_name AND l.version.line = m.line
), final AS (
  SELECT
    period_start,
    period_end,
    courier,
    courier_name,
    region,
    collected,
    delivered,
    returned,
    late,
    complaints,
    batch_date,
    file_name,
    line
  FROM current_rows
)
SELECT
  *
FROM final
