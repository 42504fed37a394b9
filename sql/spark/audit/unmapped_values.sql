-- Generated from sql/audit/unmapped_values.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table audit__unmapped_values
WITH courier_rows AS (
  SELECT
    'orders' AS source,
    courier_name
  FROM staging__orders
  WHERE
    NOT courier_name IS NULL
  UNION ALL
  SELECT
    'courier' AS source,
    courier_name
  FROM staging__courier
), unmapped_couriers AS (
  SELECT
    'courier' AS kind,
    r.source,
    r.courier_name AS value,
    COUNT(*) AS rows
  FROM courier_rows AS r
  JOIN staging__courier_names AS n
    USING (courier_name)
  WHERE
    NOT n.is_mapped
  GROUP BY
    r.source,
    r.courier_name
), channel_rows AS (
  SELECT
    'orders' AS source,
    channel
  FROM staging__orders
  WHERE
    channel <> 'unknown'
  UNION ALL
  SELECT
    'traffic' AS source,
    channel
  FROM staging__traffic
), unmapped_channels AS (
  SELECT
    'channel' AS kind,
    r.source,
    r.channel AS value,
    COUNT(*) AS rows
  FROM channel_rows AS r
  ANTI JOIN staging__channels AS c
    ON LOWER(c.channel) = LOWER(r.channel)
  GROUP BY
    r.source,
    r.channel
), final AS (
  SELECT
    *
  FROM unmapped_couriers
  UNION ALL
  SELECT
    *
  FROM unmapped_channels
)
SELECT
  *
FROM final
ORDER BY
  kind NULLS LAST,
  source NULLS LAST,
  value NULLS LAST
