-- staging.courier_names, merged: the names of the new lake files it does not hold yet.
insert into staging.courier_names
select m.*
from courier_names_mapped as m
anti join staging.courier_names as n using (courier_name)
order by m.courier_name
