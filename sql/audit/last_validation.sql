-- Whether a check last passed on content with this fingerprint.
select count(*) > 0
from audit.validations
where check_name = $check_name and fingerprint = $fingerprint and passed
