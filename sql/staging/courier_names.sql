-- staging.courier_names: every courier name seen in orders and courier files, with its code
-- (courier_names_mapped over every lake file).
create or replace table staging.courier_names as
select *
from courier_names_mapped
order by courier_name
