-- Generated from sql/staging/channels.sql by `make lineage` (assets/lib/spark_sql.py): do not edit.
-- table staging__channels
WITH user_rows AS (
  SELECT
    channel,
    channel_group,
    ROW_NUMBER() OVER (PARTITION BY LOWER(channel) ORDER BY file_name DESC, line DESC) AS version_rank
  FROM lake_channels
), user_channels AS (
  SELECT
    channel,
    channel_group,
    'reference/channels.csv' AS defined_in
  FROM user_rows
  WHERE
    version_rank = 1
), defaults AS (
  SELECT
    d.channel,
    d.channel_group,
    'default' AS defined_in
  FROM default_channels AS d
  ANTI JOIN user_channels AS u
    ON LOWER(u.channel) = LOWER(d.channel)
), final AS (
  SELECT
    *
  FROM user_channels
  UNION ALL
  SELECT
    *
  FROM defaults
)
SELECT
  *
FROM final
ORDER BY
  channel_group NULLS LAST,
  channel NULLS LAST
