-- Names that no reference row maps, for the load report.
select kind, source, value, rows
from audit.unmapped_values
order by kind, rows desc, value
