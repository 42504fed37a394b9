-- Generated from sql/staging/courier_names_mapped.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- view courier_names_mapped
WITH names AS (
  SELECT DISTINCT
    courier AS courier_name
  FROM courier_name_source
  WHERE
    NOT courier IS NULL
), matched AS (
  SELECT
    n.courier_name,
    MIN_BY(c.courier, c.priority) AS courier
  FROM names AS n
  JOIN staging__couriers AS c
    ON STARTSWITH(LOWER(n.courier_name), LOWER(c.alias))
  GROUP BY
    n.courier_name
), final AS (
  SELECT
    n.courier_name,
    COALESCE(m.courier, n.courier_name) AS courier,
    NOT m.courier IS NULL AS is_mapped
  FROM names AS n
  LEFT JOIN matched AS m
    USING (courier_name)
)
SELECT
  *
FROM final
