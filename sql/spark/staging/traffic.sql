-- Generated from sql/staging/traffic.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__traffic
WITH mapped AS (
  SELECT
    t.date,
    t.device,
    t.pv,
    t.uv,
    t.visits,
    t.bounced_visits,
    t.ad_spend,
    t.cart_users,
    t.fav_users,
    t.is_total,
    t.batch_date,
    t.file_name,
    t.line,
    COALESCE(s.shop_id, t.shop_id) AS shop_id,
    COALESCE(ch.channel, t.channel) AS channel,
    COALESCE(ch.channel_group, 'other') AS channel_group
  FROM lake_traffic AS t
  LEFT JOIN staging__shops AS s
    ON s.alias = t.shop_id
  LEFT JOIN staging__channels AS ch
    ON LOWER(ch.channel) = LOWER(t.channel)
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
    date,
    shop_id,
    channel,
    device
), current_rows AS (
  SELECT
    m.*
  FROM mapped AS m
  SEMI JOIN latest AS l
    ON l.version.file_name = m.file_name AND l.version.line = m.line
  WHERE
    NOT m.is_total
), split_by_device AS (
  SELECT DISTINCT
    date,
    shop_id,
    channel
  FROM current_rows
  WHERE
    device IN ('mobile', 'pc')
), final AS (
  SELECT
    c.date,
    c.shop_id,
    c.channel,
    c.channel_group,
    c.device,
    c.pv,
    c.uv,
    c.visits,
    c.bounced_visits,
    c.ad_spend,
    c.cart_users,
    c.fav_users,
    c.batch_date,
    c.file_name,
    c.line
  FROM current_rows AS c
  ANTI JOIN split_by_device AS s
    ON c.date = s.date
    AND c.shop_id = s.shop_id
    AND c.channel = s.channel
    AND c.device = 'all'
), covered AS (
  SELECT DISTINCT
    date,
    shop_id
  FROM mapped
), from_events AS (
  SELECT
    e.date,
    e.shop_id,
    'unknown' AS channel,
    COALESCE(ch.channel_group, 'other') AS channel_group,
    'all' AS device,
    e.pv,
    e.uv,
    CAST(NULL AS BIGINT) AS visits,
    CAST(NULL AS BIGINT) AS bounced_visits,
    CAST(NULL AS DECIMAL(18, 2)) AS ad_spend,
    CAST(NULL AS BIGINT) AS cart_users,
    CAST(NULL AS BIGINT) AS fav_users,
    CAST(NULL AS DATE) AS batch_date,
    'events' AS file_name,
    CAST(NULL AS BIGINT) AS line
  FROM staging__event_traffic AS e
  LEFT JOIN staging__channels AS ch
    ON LOWER(ch.channel) = 'unknown'
  ANTI JOIN covered AS c
    ON c.date = e.date AND c.shop_id = e.shop_id
)
SELECT
  *
FROM final
UNION ALL
SELECT
  *
FROM from_events
