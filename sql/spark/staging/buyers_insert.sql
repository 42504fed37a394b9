-- Generated from sql/staging/buyers_insert.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- insert staging__buyers
SELECT
  n.buyer_id,
  CAST((
    COALESCE((
      SELECT
        MAX(buyer_key)
      FROM staging__buyers
    ), 0) + ROW_NUMBER() OVER (ORDER BY MONOTONICALLY_INCREASING_ID() NULLS LAST)
  ) AS BIGINT)
FROM (
  SELECT DISTINCT
    t.buyer_id
  FROM staging__orders AS t
  WHERE
    NOT t.paid_at IS NULL
) AS n
ANTI JOIN staging__buyers AS b
  USING (buyer_id)
