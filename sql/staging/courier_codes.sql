-- staging.courier_codes: each courier code with its Chinese name and group (四通一达).
create or replace table staging.courier_codes as
select courier, courier_name_zh, courier_group
from default_courier_codes
order by courier
