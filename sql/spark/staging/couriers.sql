-- Generated from sql/staging/couriers.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__couriers
WITH user_rows AS (
  SELECT
    alias,
    courier,
    ROW_NUMBER() OVER (PARTITION BY LOWER(alias) ORDER BY file_name DESC, line DESC) AS version_rank,
    ROW_NUMBER() OVER (ORDER BY file_name NULLS LAST, line NULLS LAST) AS position
  FROM lake_couriers
), user_aliases AS (
  SELECT
    alias,
    UPPER(courier) AS courier,
    position AS priority,
    'reference/couriers.csv' AS defined_in
  FROM user_rows
  WHERE
    version_rank = 1
), default_aliases AS (
  SELECT
    d.alias,
    d.courier,
    100000 + d.priority AS priority,
    'default' AS defined_in
  FROM default_couriers AS d
  ANTI JOIN user_aliases AS u
    ON LOWER(u.alias) = LOWER(d.alias)
), codes AS (
  SELECT
    courier AS alias,
    courier,
    200000 + ROW_NUMBER() OVER (ORDER BY courier NULLS LAST) AS priority,
    'code' AS defined_in
  FROM default_courier_codes
), final AS (
  SELECT
    *
  FROM user_aliases
  UNION ALL
  SELECT
    *
  FROM default_aliases
  UNION ALL
  SELECT
    *
  FROM codes
)
SELECT
  *
FROM final
ORDER BY
  priority NULLS LAST
