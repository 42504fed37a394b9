-- Generated from sql/staging/orders_current.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- view orders_current
WITH mapped AS (
  SELECT
    COALESCE(s.shop_id, o.shop_id) AS shop_id,
    o.order_id,
    o.buyer_id,
    o.status,
    o.created_at,
    o.paid_at,
    o.shipped_at,
    o.completed_at,
    o.total_amount,
    o.paid_amount,
    o.refund_amount,
    o.item_count,
    o.category,
    o.channel,
    o.is_mobile,
    o.province,
    o.city,
    o.district,
    o.courier,
    o.tracking_no,
    o.rural_station_id,
    o.batch_date,
    o.file_name,
    o.line,
    o.file_index,
    o.row_id
  FROM orders_source AS o
  LEFT JOIN staging__shops AS s
    ON s.alias = o.shop_id
), file_ranks AS (
  SELECT
    file_index,
    RANK() OVER (
      ORDER BY COALESCE(batch_date, CAST('0001-01-01' AS DATE)) NULLS LAST, file_name NULLS LAST
    ) AS file_rank
  FROM (
    SELECT
      file_index,
      MIN(batch_date) AS batch_date,
      MIN(file_name) AS file_name
    FROM orders_source
    GROUP BY
      file_index
  )
), latest AS (
  SELECT
    MAX_BY(
      m.row_id,
      (
        CAST(f.file_rank AS DECIMAL(38, 0)) * 18446744073709551616
      ) + m.line
    ) AS row_id
  FROM mapped AS m
  JOIN file_ranks AS f
    USING (file_index)
  GROUP BY
    m.shop_id,
    m.order_id
), current_rows AS (
  SELECT
    m.*
  FROM mapped AS m
  SEMI JOIN latest AS l
    ON l.row_id = m.row_id
), final AS (
  SELECT
    r.shop_id,
    r.order_id,
    r.buyer_id,
    r.status,
    r.created_at,
    r.paid_at,
    r.shipped_at,
    r.completed_at,
    r.total_amount,
    r.paid_amount,
    r.refund_amount,
    r.item_count,
    r.category,
    COALESCE(ch.channel, r.channel, 'unknown') AS channel,
    COALESCE(ch.channel_group, 'other') AS channel_group,
    r.is_mobile,
    r.province,
    r.city,
    r.district,
    n.courier,
    r.courier AS courier_name,
    r.tracking_no,
    r.rural_station_id,
    r.batch_date,
    r.file_name,
    r.line
  FROM current_rows AS r
  LEFT JOIN staging__courier_names AS n
    ON n.courier_name = r.courier
  LEFT JOIN staging__channels AS ch
    ON LOWER(ch.channel) = LOWER(r.channel)
)
SELECT
  *
FROM final
