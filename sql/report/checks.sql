-- The latest result of each data-quality check recorded in the warehouse.
select check_name, arg_max(passed, validated_at) as passed, max(validated_at) as validated_at
from audit.validations
group by check_name
order by check_name
