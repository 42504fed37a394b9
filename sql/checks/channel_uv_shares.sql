-- Per (quarter, shop) with traffic, the sum of its channels' uv_share (must be 1).
select quarter, shop_id, sum(uv_share) as uv_share_sum
from marts.quarterly_channel_kpis
group by quarter, shop_id
having sum(uv_days) > 0
