-- Generated from sql/staging/shops.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__shops
WITH ranked AS (
  SELECT
    alias,
    shop_id,
    ROW_NUMBER() OVER (PARTITION BY alias ORDER BY file_name DESC, line DESC) AS version_rank
  FROM lake_shops
), final AS (
  SELECT
    alias,
    shop_id
  FROM ranked
  WHERE
    version_rank = 1
)
SELECT
  *
FROM final
ORDER BY
  alias NULLS LAST
