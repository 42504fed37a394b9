insert into audit.validations (check_name, fingerprint, passed, run_id, validated_at)
values ($check_name, $fingerprint, $passed, $run_id, now()::timestamp)
